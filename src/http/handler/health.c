/* GET /health: the process is alive (no auth, no database call). An
 * interrupted restore (docs/reliability.md) is reported here too, so a
 * monitor sees it without a token: the default target's as
 * interrupted_restore, another target's under
 * interrupted_restores_of_targets.NAME. */
#include "http/internal.h"

json_t *dbb_interrupted_json(const struct dbb_interrupted_restore *ir)
{
	return json_pack("{s:o, s:s?, s:s, s:s}", "source", dbb_json_text(ir->source),
	                 "safety_backup", ir->safety_backup[0] ? ir->safety_backup : NULL,
	                 "started_at", ir->started_at, "message",
	                 ir->safety_backup[0]
	                     ? "a restore was interrupted: the database may be partial; restore "
	                       "the safety backup"
	                     : "a restore was interrupted: the database may be partial; restore a "
	                       "backup");
}

enum MHD_Result dbb_handle_health(struct dbb_request *req)
{
	json_t *body = json_pack("{s:s, s:s, s:s}", "status", "ok", "service", "dbbackupd",
	                         "version", DBB_VERSION);
	struct dbb_interrupted_restore ir;
	if (body && dbb_ops_interrupted_restore(req->srv->ops, &ir))
		json_object_set_new(body, "interrupted_restore", dbb_interrupted_json(&ir));
	/* the other targets' (docs/targets.md), by target name */
	json_t *others = NULL;
	for (size_t i = 1; body && i < req->srv->ntargets; i++) {
		if (!dbb_ops_interrupted_restore(req->srv->targets[i].ops, &ir))
			continue;
		if (!others && !(others = json_object()))
			break;
		json_object_set_new(others, req->srv->targets[i].cfg->name,
		                    dbb_interrupted_json(&ir));
	}
	if (others)
		json_object_set_new(body, "interrupted_restores_of_targets", others);
	return dbb_reply_json(req, 200, body);
}
