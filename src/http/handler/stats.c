/* GET /backup/stats: the driver's statistics of the live database. */
#include "http/internal.h"

enum MHD_Result dbb_handle_stats(struct dbb_request *req)
{
	struct dbb_error err = {0};
	struct dbb_driver_ctx ctx;
	const struct dbb_driver *drv = dbb_ops_driver(req->srv->ops);
	json_t *stats = NULL;
	dbb_ops_driver_ctx(req->srv->ops, &ctx);
	if (drv->stats(&ctx, &stats, &err))
		return dbb_reply_err(req, &err);
	json_t *body = json_pack("{s:b, s:s}", "success", 1, "database_type", drv->name);
	json_object_update_missing(body, stats);
	json_decref(stats);
	return dbb_reply_json(req, 200, body);
}
