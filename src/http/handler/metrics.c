/* GET /metrics: Prometheus text format. Counters come from the metrics
 * observer each target's ops reports to (dbb_ops_observe_metrics); what is
 * on disk is read through each target's ops per scrape, and whether its
 * database answers from /ready's health cache (at most 2 s old). */
#include <stdlib.h>

#include "http/internal.h"

enum MHD_Result dbb_handle_metrics(struct dbb_request *req)
{
	size_t len = 0;
	struct dbb_metrics_disk *disk = calloc(req->srv->ntargets, sizeof(*disk));
	if (!disk)
		return dbb_reply_error(req, DBB_ERR_INTERNAL, "out of memory", NULL);
	for (size_t i = 0; i < req->srv->ntargets; i++) {
		struct dbb_ops_health h;
		dbb_ops_disk_usage(req->srv->targets[i].ops, &disk[i]);
		dbb_target_health(&req->srv->targets[i], &h); /* /ready's, cached */
		disk[i].database_up = h.db_ok ? 1 : 0;
	}
	char *text = dbb_metrics_render(req->srv->metrics, disk, &len);
	free(disk);
	if (!text)
		return dbb_reply_error(req, DBB_ERR_INTERNAL, "out of memory", NULL);
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	return dbb_reply_queue(req, 200, resp);
}
