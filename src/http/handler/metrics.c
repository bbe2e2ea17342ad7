/* GET /metrics: Prometheus text format. Counters come from the metrics
 * module; what is on disk is read from the backups directory per scrape. */
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

static void disk_stats(struct dbb_storage *st, struct dbb_metrics_disk *d)
{
	struct dbb_error err = {0};
	struct dbb_backup_info *items = NULL;
	size_t n = 0;
	memset(d, 0, sizeof(*d));
	if (dbb_storage_list(st, &items, &n, &err) ||
	    dbb_storage_free_bytes(st, &d->free_bytes, &err))
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (items[i].safety) {
			d->safety++;
			d->safety_bytes += items[i].size_bytes;
		} else {
			d->backups++;
			d->backup_bytes += items[i].size_bytes;
			if (items[i].created_at > d->newest_backup)
				d->newest_backup = items[i].created_at;
		}
	}
	d->ok = true;
out:
	free(items);
}

enum MHD_Result dbb_handle_metrics(struct dbb_request *req)
{
	struct dbb_metrics_disk disk;
	size_t len = 0;
	disk_stats(dbb_ops_storage(req->srv->ops), &disk);
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
