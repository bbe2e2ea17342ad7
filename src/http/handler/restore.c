/* POST /backup/restore/{filename}?create_safety_backup=: restore a listed
 * backup. Also builds the restore replies shared with restore-upload. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void dbb_restore_outcome(struct dbb_outcome *o, dbb_code rc, const struct dbb_error *err,
                         const struct dbb_restore_result *res, const char *what)
{
	o->rc = rc;
	if (rc) {
		o->err = *err;
		o->body = safety_fields(res);
		return;
	}
	char msg[320];
	snprintf(msg, sizeof(msg), "Database restored successfully from%s", what);
	json_t *body = json_pack("{s:b, s:o}", "success", 1, "message", dbb_json_text(msg));
	json_t *extra = safety_fields(res);
	if (body && extra)
		json_object_update(body, extra);
	json_decref(extra);
	o->body = body;
}

enum MHD_Result dbb_reply_restore(struct dbb_request *req, dbb_code rc, const struct dbb_error *err,
                                  const struct dbb_restore_result *res, const char *what)
{
	struct dbb_outcome o;
	memset(&o, 0, sizeof(o));
	dbb_restore_outcome(&o, rc, err, res, what);
	return dbb_reply_outcome(req, &o);
}

struct restore_args {
	struct dbb_ops *ops;
	bool safety;
	char *name; /* owned */
};

static void restore_args_free(void *arg)
{
	free(((struct restore_args *)arg)->name);
}

/* On the request's thread, or a job's (?async=true, handler/jobs.c). */
static void restore_run(void *arg, struct dbb_outcome *o)
{
	struct restore_args *a = arg;
	struct dbb_error err = {0};
	struct dbb_restore_result res = {0};
	/* a file only in the object store is fetched first (issue 18) */
	dbb_code rc = dbb_ops_restore_any(a->ops, a->name, a->safety, &res, &err);
	char what[DBB_NAME_MAX + 16];
	snprintf(what, sizeof(what), ": %s", a->name);
	dbb_restore_outcome(o, rc, &err, &res, what);
}

enum MHD_Result dbb_handle_restore(struct dbb_request *req)
{
	struct dbb_error err = {0};
	struct restore_args a = {.ops = req->tgt->ops, .safety = true};
	if (dbb_query_bool(req, "create_safety_backup", true, &a.safety, &err))
		return dbb_reply_err(req, &err);
	a.name = strdup(req->param);
	if (!a.name)
		return dbb_reply_error(req, DBB_ERR_INTERNAL, "out of memory", NULL);
	return dbb_run_or_start(req, DBB_JOB_RESTORE, req->param, DBB_ROLE_OPERATOR, restore_run,
	                        &a, sizeof(a), restore_args_free);
}
