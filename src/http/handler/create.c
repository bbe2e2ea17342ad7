/* POST /backup/create?compress=: a new backup through the driver. */
#include <math.h>
#include <stdio.h>

#include "http/internal.h"

enum MHD_Result dbb_handle_create(struct dbb_request *req)
{
	struct dbb_error err = {0};
	bool compress = true;
	struct dbb_dump_options opt = {0};
	struct dbb_backup_result res;
	if (dbb_query_bool(req, "compress", true, &compress, &err) ||
	    dbb_query_bool(req, "use_apoc", false, &opt.use_apoc, &err))
		return dbb_reply_err(req, &err);
	if (dbb_ops_create_backup(req->srv->ops, compress, &opt, &res, &err))
		return dbb_reply_err(req, &err);
	char msg[256];
	snprintf(req->audit_file, sizeof(req->audit_file), "%s", res.filename);
	snprintf(msg, sizeof(msg), "Backup created successfully: %s", res.filename);
	double mb = round((double)res.size_bytes / 1048576.0 * 100.0) / 100.0;
	return dbb_reply_json(req, 200,
	                      json_pack("{s:b, s:s, s:s, s:f, s:I, s:s}", "success", 1, "message",
	                                msg, "filename", res.filename, "size_mb", mb, "size_bytes",
	                                (json_int_t)res.size_bytes, "sha256", res.sha256));
}
