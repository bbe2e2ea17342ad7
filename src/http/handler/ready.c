/* GET /ready: can the daemon do its work now? Every target's database
 * answers its driver's health check, a file can be created in its backups
 * directory, and token verification keys are loaded. 200 or 503.
 * ?target=NAME checks that target only (404 unknown_target).
 *
 * No token needed, and then the answer is only {"status":"ready"} or
 * {"status":"not_ready"}: the database's own error text, its type and the
 * free bytes are for a viewer token or METRICS_TOKEN (a token that does not
 * verify is a 401). The checks run at most once every
 * DBB_READY_CACHE_SECONDS per target and one at a time: callers meanwhile
 * get the last result, so a flood of probes opens no more database
 * sessions than one; /metrics's dbbackupd_database_up reads the same. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbbackupd/log.h"
#include "http/internal.h"

void dbb_health_cache_init(struct dbb_health_cache *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
}

void dbb_health_cache_destroy(struct dbb_health_cache *c)
{
	pthread_mutex_destroy(&c->mu);
}

static bool fresh(const struct dbb_health_cache *c)
{
	struct timespec now;
	if (!c->valid)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double age =
	    (double)(now.tv_sec - c->at.tv_sec) + (double)(now.tv_nsec - c->at.tv_nsec) / 1e9;
	return age >= 0 && age < DBB_READY_CACHE_SECONDS;
}

void dbb_target_health(struct dbb_server_target *t, struct dbb_ops_health *out)
{
	struct dbb_health_cache *c = &t->health;
	pthread_mutex_lock(&c->mu);
	if (!fresh(c)) {
		dbb_ops_health(t->ops, &c->health);
		clock_gettime(CLOCK_MONOTONIC, &c->at);
		c->valid = true;
		dbb_debug("readiness checked (target %s): database %s, backups directory %s",
		          t->cfg->name, c->health.db_ok ? "ok" : "failing",
		          c->health.dir_ok ? "ok" : "failing");
	}
	*out = c->health;
	pthread_mutex_unlock(&c->mu);
}

static json_t *check(bool ok, const char *message)
{
	json_t *o = json_pack("{s:b}", "ok", ok);
	if (o && !ok)
		json_object_set_new(o, "message", dbb_json_text(message));
	return o;
}

static json_t *target_checks(const struct dbb_ops_health *h)
{
	json_t *dir = check(h->dir_ok, h->dir_message);
	if (dir && h->dir_ok)
		json_object_set_new(dir, "free_bytes", json_integer((json_int_t)h->free_bytes));
	return json_pack("{s:o, s:o}", "database", check(h->db_ok, h->db_message), "backup_dir",
	                 dir);
}

/* ?target=NAME: that target only; else every target. */
enum MHD_Result dbb_handle_ready(struct dbb_request *req)
{
	struct dbb_server *srv = req->srv;
	struct dbb_error err = {0};
	const char *name = NULL;
	if (dbb_query_value(req, "target", &name, &err))
		return dbb_reply_err(req, &err);
	size_t first = 0, end = srv->ntargets;
	if (name) {
		const struct dbb_server_target *t = dbb_server_target_find(srv, name);
		if (!t) {
			char msg[160];
			snprintf(msg, sizeof(msg),
			         "no target named \"%.40s\"; GET /targets lists them", name);
			return dbb_reply_error(req, DBB_ERR_UNKNOWN_TARGET, msg,
			                       json_pack("{s:o}", "target", dbb_json_text(name)));
		}
		first = (size_t)(t - srv->targets);
		end = first + 1;
	}
	struct dbb_ops_health *h = calloc(end - first, sizeof(*h));
	if (!h)
		return dbb_reply_error(req, DBB_ERR_INTERNAL, "out of memory", NULL);
	bool auth_ok = dbb_auth_ready(srv->auth), ready = auth_ok;
	for (size_t i = first; i < end; i++) {
		dbb_target_health(&srv->targets[i], &h[i - first]);
		ready = ready && h[i - first].db_ok && h[i - first].dir_ok;
	}
	const char *status = ready ? "ready" : "not_ready";
	bool details =
	    req->authenticated && (req->by_metrics_token || req->who.role >= DBB_ROLE_VIEWER);
	json_t *body;
	if (!details) {
		body = json_pack("{s:s}", "status", status);
	} else {
		/* the first target's checks as before targets existed, and with
		 * several checked, each target's */
		json_t *checks = target_checks(&h[0]);
		if (checks)
			json_object_set_new(checks, "auth",
			                    check(auth_ok, "no token verification keys are loaded "
			                                   "(JWKS source unreachable?)"));
		body = json_pack("{s:s, s:s, s:o}", "status", status, "database_type",
		                 dbb_ops_database_type(srv->targets[first].ops), "checks", checks);
		json_t *list = end - first > 1 ? json_array() : NULL;
		for (size_t i = first; list && i < end; i++)
			json_array_append_new(
			    list,
			    json_pack("{s:s, s:s, s:b, s:o}", "name", srv->targets[i].cfg->name,
			              "database_type", dbb_ops_database_type(srv->targets[i].ops),
			              "ready", h[i - first].db_ok && h[i - first].dir_ok, "checks",
			              target_checks(&h[i - first])));
		if (body && list)
			json_object_set_new(body, "targets", list);
		else
			json_decref(list);
	}
	free(h);
	return dbb_reply_json(req, ready ? 200 : 503, body);
}
