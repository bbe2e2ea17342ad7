/* GET /targets: the targets this daemon serves (docs/targets.md) that the
 * token may view, each with its database type, its health (the driver's
 * check and the backups directory, as GET /ready), its newest backup, and
 * whether it has offsite copies. */
#include <stdlib.h>
#include <time.h>

#include "http/internal.h"

static json_t *last_backup_json(struct dbb_ops *ops)
{
	struct dbb_storage_stamp stamp;
	struct dbb_backup_info *items = NULL;
	size_t n = 0;
	struct dbb_error err = {0};
	json_t *o = json_null();
	if (dbb_ops_list(ops, &stamp, &items, &n, &err))
		return json_pack("{s:o}", "error", dbb_json_text(err.message));
	for (size_t i = 0; i < n; i++) {
		if (items[i].safety)
			continue;
		char ts[32];
		struct tm tm;
		gmtime_r(&items[i].created_at, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		o = json_pack("{s:s, s:s, s:I}", "filename", items[i].name, "created_at", ts,
		              "size_bytes", (json_int_t)items[i].size_bytes);
		break;
	}
	free(items);
	return o;
}

static json_t *target_json(const struct dbb_server_target *t)
{
	struct dbb_ops_health h;
	dbb_ops_health(t->ops, &h);
	json_t *health = json_pack("{s:b, s:b, s:b}", "ok", h.db_ok && h.dir_ok, "database_ok",
	                           h.db_ok, "backup_dir_ok", h.dir_ok);
	if (health && !h.db_ok)
		json_object_set_new(health, "database_message", dbb_json_text(h.db_message));
	if (health && !h.dir_ok)
		json_object_set_new(health, "backup_dir_message", dbb_json_text(h.dir_message));
	/* offsite: S3_BUCKET is set, so ?location=remote|all can be asked
	 * (the dashboard, issue 21) */
	return json_pack("{s:s, s:s, s:b, s:b, s:o, s:o}", "name", t->cfg->name, "type",
	                 dbb_ops_database_type(t->ops), "default", t->cfg->is_default, "offsite",
	                 t->cfg->offsite.bucket[0] != '\0', "health", health ? health : json_null(),
	                 "last_backup", last_backup_json(t->ops));
}

enum MHD_Result dbb_handle_targets(struct dbb_request *req)
{
	json_t *list = json_array();
	for (size_t i = 0; list && i < req->srv->ntargets; i++) {
		const struct dbb_server_target *t = &req->srv->targets[i];
		if (dbb_principal_role(&req->who, t->cfg->name) < DBB_ROLE_VIEWER)
			continue; /* not this token's to see */
		json_array_append_new(list, target_json(t));
	}
	return dbb_reply_json(req, 200,
	                      json_pack("{s:b, s:s, s:o}", "success", 1, "default_target",
	                                req->srv->targets[0].cfg->name, "targets",
	                                list ? list : json_array()));
}
