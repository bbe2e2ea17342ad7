/* POST /backup/verify/{filename}: a test-restore of a listed backup into a
 * scratch place, never the live database (issue 20, dbb_ops_verify).
 *
 * 200 {"success":true,"verify_ok":true,...}: the backup restored and was
 * counted. 422 verify_failed, with the same fields and verify_ok false: the
 * backup failed the test (recorded; a script's `curl -f` fails, as it
 * should for a backup that would not restore). Any other error: the test
 * could not run (404 no such backup, 409 another verification runs or the
 * scratch place cannot be made, 501 no test-restore for this database,
 * 503 the server is down), and nothing was recorded. */
#include <stdio.h>
#include <stdlib.h>

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

enum MHD_Result dbb_handle_verify(struct dbb_request *req)
{
	struct dbb_error err = {0};
	struct dbb_verify_result res;
	dbb_code rc = dbb_ops_verify(req->tgt->ops, req->param, false, &res, &err);
	snprintf(req->audit_file, sizeof(req->audit_file), "%s", req->param);
	enum MHD_Result ret;
	if (rc) {
		ret = dbb_reply_err(req, &err);
	} else if (!res.verify_ok) {
		char msg[DBB_ERROR_MESSAGE_MAX + 64];
		snprintf(msg, sizeof(msg), "the test-restore failed: %s", res.reason);
		ret = dbb_reply_error(req, DBB_ERR_VERIFY_FAILED, msg,
		                      verify_fields(req->param, &res));
	} else {
		json_t *body = verify_fields(req->param, &res);
		char msg[DBB_NAME_MAX + 64];
		snprintf(msg, sizeof(msg), "Backup verified: %s", req->param);
		if (body) {
			json_object_set_new(body, "success", json_true());
			json_object_set_new(body, "message", dbb_json_text(msg));
		}
		ret = dbb_reply_json(req, 200, body);
	}
	dbb_verify_result_free(&res);
	return ret;
}
