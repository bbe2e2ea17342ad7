/* GET /metrics: Prometheus text format. Counters come from the metrics
 * observer ops reports to (dbb_ops_observe_metrics); what is on disk is read
 * through ops per scrape. */
#include <stdlib.h>

#include "http/internal.h"

enum MHD_Result dbb_handle_metrics(struct dbb_request *req)
{
	struct dbb_metrics_disk disk;
	size_t len = 0;
	dbb_ops_disk_usage(req->srv->ops, &disk);
	char *text = dbb_metrics_render(req->srv->metrics, &disk, &len);
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
