/* POST /backup/create?compress=: a new backup through the driver. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <strings.h>

#include "http/internal.h"

/* compress: a boolean (true: the codec COMPRESSION names, gzip by default;
 * false: none) or a codec's name, gzip or zstd. */
static dbb_code query_codec(struct dbb_request *req, enum dbb_compression *out,
                            struct dbb_error *err)
{
	const char *v;
	bool on = true;
	*out = dbb_ops_default_compression(req->srv->ops);
	dbb_code rc = dbb_query_value(req, "compress", &v, err);
	if (rc || !v)
		return rc;
	if (strcasecmp(v, "gzip") == 0 || strcasecmp(v, "zstd") == 0) {
		*out = tolower((unsigned char)v[0]) == 'g' ? DBB_COMPRESSION_GZIP
		                                           : DBB_COMPRESSION_ZSTD;
		return DBB_OK;
	}
	if (dbb_parse_bool("compress", v, &on, err))
		return dbb_fail(err, DBB_ERR_INVALID_PARAMETER,
		                "compress must be true, false, gzip or zstd, got \"%.64s\"", v);
	if (!on)
		*out = DBB_COMPRESSION_NONE;
	return DBB_OK;
}

enum MHD_Result dbb_handle_create(struct dbb_request *req)
{
	struct dbb_error err = {0};
	enum dbb_compression codec;
	struct dbb_dump_options opt = {0};
	struct dbb_backup_result res;
	if (query_codec(req, &codec, &err) ||
	    dbb_query_bool(req, "use_apoc", false, &opt.use_apoc, &err))
		return dbb_reply_err(req, &err);
	if (dbb_ops_create_backup(req->srv->ops, codec, &opt, &res, &err))
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
