/* POST /backup/restore/{filename}?create_safety_backup=: restore a listed
 * backup. Also builds the restore replies shared with restore-upload. */
#include <stdio.h>

#include "http/internal.h"

static json_t *safety_fields(const struct dbb_restore_result *res)
{
	json_t *o = json_pack("{s:b, s:o}", "safety_backup_created", res->safety_backup_created,
	                      "safety_backup_filename",
	                      res->safety_backup_created ? json_string(res->safety_backup_filename)
	                                                 : json_null());
	if (o && res->rollback_attempted) {
		json_object_set_new(o, "rollback_performed", json_true());
		json_object_set_new(o, "rollback_succeeded", json_boolean(res->rollback_succeeded));
	}
	return o;
}

enum MHD_Result dbb_reply_restore(struct dbb_request *req, dbb_code rc, const struct dbb_error *err,
                                  const struct dbb_restore_result *res, const char *what)
{
	if (rc)
		return dbb_reply_error(req, rc, err->message, safety_fields(res));
	char msg[320];
	snprintf(msg, sizeof(msg), "Database restored successfully from%s", what);
	json_t *body = json_pack("{s:b, s:o}", "success", 1, "message", dbb_json_text(msg));
	json_t *extra = safety_fields(res);
	if (body && extra)
		json_object_update(body, extra);
	json_decref(extra);
	return dbb_reply_json(req, 200, body);
}

enum MHD_Result dbb_handle_restore(struct dbb_request *req)
{
	struct dbb_error err = {0};
	struct dbb_restore_result res = {0};
	bool safety = true;
	if (dbb_query_bool(req, "create_safety_backup", true, &safety, &err))
		return dbb_reply_err(req, &err);
	/* a file only in the object store is fetched first (issue 18) */
	dbb_code rc = dbb_ops_restore_any(req->tgt->ops, req->param, safety, &res, &err);
	char what[DBB_NAME_MAX + 16];
	snprintf(what, sizeof(what), ": %s", req->param);
	return dbb_reply_restore(req, rc, &err, &res, what);
}
