/* GET /ready: can the daemon do its work now? The database answers the
 * driver's health check, a file can be created in the backups directory,
 * and token verification keys are loaded. No auth; 200 or 503. */
#include "http/internal.h"

static json_t *check(bool ok, const char *message)
{
	json_t *o = json_pack("{s:b}", "ok", ok);
	if (o && !ok)
		json_object_set_new(o, "message", json_string(message));
	return o;
}

enum MHD_Result dbb_handle_ready(struct dbb_request *req)
{
	struct dbb_ops *ops = req->srv->ops;
	struct dbb_storage *st = dbb_ops_storage(ops);
	const struct dbb_driver *drv = dbb_ops_driver(ops);
	struct dbb_driver_ctx ctx;
	struct dbb_error derr = {0}, serr = {0};
	struct dbb_storage_tmp tmp = {0};
	uint64_t free_bytes = 0;

	dbb_ops_driver_ctx(ops, &ctx);
	bool db_ok = drv->health(&ctx, &derr) == DBB_OK;
	tmp.fd = -1;
	bool dir_ok = dbb_storage_tmp_create(st, &tmp, &serr) == DBB_OK;
	dbb_storage_tmp_discard(&tmp);
	if (dir_ok)
		dir_ok = dbb_storage_free_bytes(st, &free_bytes, &serr) == DBB_OK;
	bool auth_ok = dbb_auth_ready(req->srv->auth);
	bool ready = db_ok && dir_ok && auth_ok;

	json_t *dir = check(dir_ok, serr.message);
	if (dir && dir_ok)
		json_object_set_new(dir, "free_bytes", json_integer((json_int_t)free_bytes));
	json_t *body = json_pack(
	    "{s:s, s:s, s:{s:o, s:o, s:o}}", "status", ready ? "ready" : "not_ready",
	    "database_type", drv->name, "checks", "database", check(db_ok, derr.message),
	    "backup_dir", dir, "auth",
	    check(auth_ok, "no token verification keys are loaded (JWKS source unreachable?)"));
	return dbb_reply_json(req, ready ? 200 : 503, body);
}
