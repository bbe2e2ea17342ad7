/* The route table: method, path, role, handler. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

static const struct dbb_route routes[] = {
    {.method = "GET", .path = "/health", .public = true, .finish = dbb_handle_health},
    {.method = "GET",
     .path = "/ready",
     .public = true,
     .token_optional = true, /* details for a viewer or METRICS_TOKEN */
     .role = DBB_ROLE_VIEWER,
     .metrics_token = true,
     .finish = dbb_handle_ready},
    {.method = "GET",
     .path = "/metrics",
     .role = DBB_ROLE_VIEWER,
     .action = "read metrics",
     .metrics_token = true,
     .finish = dbb_handle_metrics},
    {.method = "GET", .path = "/openapi.json", .public = true, .finish = dbb_handle_openapi},
    {.method = "GET", .path = "/docs", .public = true, .finish = dbb_handle_docs},
    {.method = "GET",
     .path = "/docs/",
     .doc_path = "/docs/{asset}",
     .has_param = true,
     .public = true,
     .finish = dbb_handle_docs_asset},
    /* issue 21: the dashboard (docs/dashboard.md) */
    {.method = "GET", .path = "/ui", .public = true, .finish = dbb_handle_ui},
    {.method = "GET", .path = "/ui/", .public = true, .finish = dbb_handle_ui},
    {.method = "GET", .path = "/ui/config.json", .public = true, .finish = dbb_handle_ui_config},
    {.method = "GET",
     .path = "/ui/assets/",
     .doc_path = "/ui/assets/{asset}",
     .has_param = true,
     .public = true,
     .finish = dbb_handle_ui_asset},
    {.method = "GET",
     .path = "/targets",
     .role = DBB_ROLE_VIEWER,
     .action = "list targets",
     .finish = dbb_handle_targets},
    {.method = "GET",
     .path = "/backup/list",
     .role = DBB_ROLE_VIEWER,
     .action = "list backups",
     .finish = dbb_handle_list},
    {.method = "GET",
     .path = "/backup/stats",
     .role = DBB_ROLE_VIEWER,
     .action = "read database statistics",
     .finish = dbb_handle_stats},
    {.method = "GET",
     .path = "/backup/download/",
     .doc_path = "/backup/download/{filename}",
     .has_param = true,
     .role = DBB_ROLE_VIEWER,
     .action = "download backups",
     .finish = dbb_handle_download},
    {.method = "POST",
     .path = "/backup/create",
     .role = DBB_ROLE_OPERATOR,
     .action = "create backups",
     .audit = "create",
     .finish = dbb_handle_create},
    {.method = "POST",
     .path = "/backup/restore/",
     .doc_path = "/backup/restore/{filename}",
     .has_param = true,
     .role = DBB_ROLE_OPERATOR,
     .action = "restore backups",
     .audit = "restore",
     .finish = dbb_handle_restore},
    /* issue 20: a test-restore into a scratch place */
    {.method = "POST",
     .path = "/backup/verify/",
     .doc_path = "/backup/verify/{filename}",
     .has_param = true,
     .role = DBB_ROLE_OPERATOR,
     .action = "verify backups",
     .audit = "verify",
     .finish = dbb_handle_verify},
    {.method = "POST",
     .path = "/backup/restore-upload",
     .role = DBB_ROLE_OPERATOR,
     .action = "restore uploaded backups",
     .audit = "restore-upload",
     .begin = dbb_upload_begin,
     .body = dbb_upload_body,
     .finish = dbb_upload_finish,
     .cleanup = dbb_upload_cleanup},
    {.method = "DELETE",
     .path = "/backup/delete/",
     .doc_path = "/backup/delete/{filename}",
     .has_param = true,
     .role = DBB_ROLE_ADMIN,
     .action = "delete backups",
     .audit = "delete",
     .finish = dbb_handle_delete},
    {.method = "GET",
     .path = "/backup/schedule",
     .role = DBB_ROLE_VIEWER,
     .action = "read the schedule",
     .finish = dbb_handle_schedule},
    /* operator for dry_run=true; the handler asks admin for a real prune */
    {.method = "POST",
     .path = "/backup/prune",
     .role = DBB_ROLE_OPERATOR,
     .action = "prune backups",
     .audit = "prune",
     .finish = dbb_handle_prune},
    /* issue 20: asynchronous jobs; each sees the jobs its role could start
     * (handler/jobs.c) */
    {.method = "GET",
     .path = "/jobs",
     .role = DBB_ROLE_VIEWER,
     .any_target = true,
     .action = "list jobs",
     .finish = dbb_handle_jobs},
    {.method = "GET",
     .path = "/jobs/",
     .param_suffix = "/events",
     .doc_path = "/jobs/{job_id}/events",
     .has_param = true,
     .role = DBB_ROLE_VIEWER,
     .any_target = true,
     .action = "read jobs",
     .finish = dbb_handle_job_events},
    {.method = "GET",
     .path = "/jobs/",
     .doc_path = "/jobs/{job_id}",
     .has_param = true,
     .role = DBB_ROLE_VIEWER,
     .any_target = true,
     .action = "read jobs",
     .finish = dbb_handle_job},
    {.method = "DELETE",
     .path = "/jobs/",
     .doc_path = "/jobs/{job_id}",
     .has_param = true,
     .role = DBB_ROLE_VIEWER,
     .any_target = true,
     .action = "cancel jobs",
     .audit = "cancel-job",
     .finish = dbb_handle_job_cancel},
};

#define ROUTE_COUNT (sizeof(routes) / sizeof(routes[0]))

const struct dbb_route *dbb_routes(size_t *count)
{
	*count = ROUTE_COUNT;
	return routes;
}

const char *dbb_route_doc_path(const struct dbb_route *r)
{
	return r->doc_path ? r->doc_path : r->path;
}

static bool path_matches(const struct dbb_route *r, const char *url, const char **param,
                         size_t *param_len)
{
	size_t n = strlen(r->path);
	if (!r->has_param)
		return strcmp(url, r->path) == 0;
	if (strncmp(url, r->path, n) != 0 || url[n] == '\0')
		return false;
	*param = url + n;
	*param_len = strlen(url + n);
	if (r->param_suffix) { /* "/jobs/{job_id}/events" */
		size_t sx = strlen(r->param_suffix);
		if (*param_len <= sx || strcmp(url + n + *param_len - sx, r->param_suffix) != 0)
			return false;
		*param_len -= sx;
	}
	return true;
}

bool dbb_route_per_target(const struct dbb_route *r)
{
	return strncmp(r->path, "/backup/", 8) == 0;
}

#define TARGETS_PREFIX "/targets/"

/* "/targets/NAME/backup/...": *name gets NAME (malloc'd), *rest points at
 * "/backup/...". False for any other URL. */
static bool split_target(const char *url, char **name, const char **rest)
{
	size_t n = strlen(TARGETS_PREFIX);
	if (strncmp(url, TARGETS_PREFIX, n) != 0)
		return false;
	const char *slash = strchr(url + n, '/');
	if (!slash || slash == url + n || strncmp(slash, "/backup/", 8) != 0)
		return false;
	*name = strndup(url + n, (size_t)(slash - (url + n)));
	*rest = slash;
	return true;
}

const struct dbb_route *dbb_route_find(const char *method, const char *url, char **param,
                                       char **target_name, unsigned *status, char *allow,
                                       size_t allow_cap, const struct dbb_route **path_route)
{
	const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
	bool path_known = false;
	size_t used = 0;
	*param = NULL;
	*target_name = NULL;
	*path_route = NULL;
	allow[0] = '\0';
	if (split_target(url, target_name, &url) && !*target_name) {
		*status = 500;
		return NULL;
	}
	for (size_t i = 0; i < ROUTE_COUNT; i++) {
		const char *p = NULL;
		size_t plen = 0;
		if (*target_name && !dbb_route_per_target(&routes[i]))
			continue;
		if (!path_matches(&routes[i], url, &p, &plen))
			continue;
		if (strcmp(routes[i].method, m) == 0) {
			if (p) {
				*param = strndup(p, plen);
				if (!*param) {
					*status = 500;
					goto fail;
				}
			}
			return &routes[i];
		}
		if (!path_known)
			*path_route = &routes[i];
		path_known = true;
		if (used < allow_cap)
			used += (size_t)snprintf(allow + used, allow_cap - used, "%s%s",
			                         used ? ", " : "", routes[i].method);
	}
	*status = path_known ? 405 : 404;
fail:
	free(*target_name);
	*target_name = NULL;
	return NULL;
}
