/* GET /backup/list: every backup in the directory, newest first. */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "http/internal.h"

static json_t *info_json(const struct dbb_backup_info *b)
{
	char ts[32];
	struct tm tm;
	gmtime_r(&b->created_at, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	double mb = round((double)b->size_bytes / 1048576.0 * 100.0) / 100.0;
	json_t *o = json_pack("{s:s, s:I, s:f, s:s, s:b, s:s, s:s}", "filename", b->name,
	                      "size_bytes", (json_int_t)b->size_bytes, "size_mb", mb, "created_at",
	                      ts, "compressed", b->compressed, "type",
	                      b->safety ? "safety_backup" : "backup", "database", b->db);
	if (o)
		json_object_set_new(o, "sha256",
		                    b->sha256[0] ? json_string(b->sha256) : json_null());
	return o;
}

enum MHD_Result dbb_handle_list(struct dbb_request *req)
{
	struct dbb_error err = {0};
	struct dbb_backup_info *items = NULL;
	size_t n = 0;
	if (dbb_storage_list(dbb_ops_storage(req->srv->ops), &items, &n, &err))
		return dbb_reply_err(req, &err);
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, info_json(&items[i]));
	free(items);
	json_t *body = json_pack("{s:b, s:o, s:I}", "success", 1, "backups", arr, "total_count",
	                         (json_int_t)n);
	struct dbb_interrupted_restore ir;
	if (body && dbb_ops_interrupted_restore(req->srv->ops, &ir))
		json_object_set_new(body, "interrupted_restore", dbb_interrupted_json(&ir));
	return dbb_reply_json(req, 200, body);
}
