/* POST /backup/verify/{filename}: a test-restore of a listed backup into a
 * scratch place, never the live database (issue 20, dbb_ops_verify).
 *
 * 200 {"success":true,"verify_ok":true,...}: the backup restored and was
 * counted. 422 verify_failed, with the same fields and verify_ok false: the
 * backup failed the test (recorded; a script's `curl -f` fails, as it
 * should for a backup that would not restore). Any other error: the test
 * could not run (404 no such backup, 409 another verification runs or the
 * scratch place cannot be made, 501 no test-restore for this database,
 * 503 the server is down), and nothing was recorded. With ?async=true a
 * job runs it (handler/jobs.c) and its result is this answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

static json_t *verify_fields(const char *name, const struct dbb_verify_result *res)
{
	char at[32];
	struct tm tm;
	gmtime_r(&res->verified_at, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_t *counts = NULL;
	if (res->verify_ok) {
		char *text = dbb_verify_counts_text(res);
		counts = text ? json_loads(text, 0, NULL) : NULL;
		free(text);
	}
	return json_pack("{s:s, s:b, s:s, s:f, s:o, s:b}", "filename", name, "verify_ok",
	                 res->verify_ok, "verified_at", at, "duration_seconds",
	                 res->duration_seconds, "counts", counts ? counts : json_null(), "recorded",
	                 res->recorded);
}

struct verify_args {
	struct dbb_ops *ops;
	char *name; /* owned */
};

static void verify_args_free(void *arg)
{
	free(((struct verify_args *)arg)->name);
}

/* On the request's thread, or a job's (?async=true, handler/jobs.c). */
static void verify_run(void *arg, struct dbb_outcome *o)
{
	struct verify_args *a = arg;
	struct dbb_verify_result res;
	snprintf(o->audit_file, sizeof(o->audit_file), "%s", a->name);
	o->rc = dbb_ops_verify(a->ops, a->name, false, &res, &o->err);
	if (o->rc) {
		dbb_verify_result_free(&res); /* counts a failed run may have begun */
		return;
	}
	o->body = verify_fields(a->name, &res);
	if (!res.verify_ok) {
		o->rc = dbb_fail(&o->err, DBB_ERR_VERIFY_FAILED, "the test-restore failed: %s",
		                 res.reason);
	} else if (o->body) {
		char msg[DBB_NAME_MAX + 64];
		snprintf(msg, sizeof(msg), "Backup verified: %s", a->name);
		json_object_set_new(o->body, "success", json_true());
		json_object_set_new(o->body, "message", dbb_json_text(msg));
	}
	dbb_verify_result_free(&res);
}

enum MHD_Result dbb_handle_verify(struct dbb_request *req)
{
	struct verify_args a = {.ops = req->tgt->ops};
	a.name = strdup(req->param);
	if (!a.name)
		return dbb_reply_error(req, DBB_ERR_INTERNAL, "out of memory", NULL);
	return dbb_run_or_start(req, DBB_JOB_VERIFY, req->param, DBB_ROLE_OPERATOR, verify_run, &a,
	                        sizeof(a), verify_args_free);
}
