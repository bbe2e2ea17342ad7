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
	*out = dbb_ops_default_compression(req->tgt->ops);
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

struct create_args {
	struct dbb_ops *ops;
	enum dbb_compression codec;
	struct dbb_dump_options opt;
};

/* On the request's thread, or a job's (?async=true, handler/jobs.c). */
static void create_run(void *arg, struct dbb_outcome *o)
{
	struct create_args *a = arg;
	struct dbb_backup_result res;
	if ((o->rc = dbb_ops_create_backup(a->ops, a->codec, &a->opt, &res, &o->err)))
		return;
	char msg[256];
	snprintf(o->audit_file, sizeof(o->audit_file), "%s", res.filename);
	snprintf(msg, sizeof(msg), "Backup created successfully: %s", res.filename);
	double mb = round((double)res.size_bytes / 1048576.0 * 100.0) / 100.0;
	o->body = json_pack("{s:b, s:s, s:s, s:f, s:I, s:s}", "success", 1, "message", msg,
	                    "filename", res.filename, "size_mb", mb, "size_bytes",
	                    (json_int_t)res.size_bytes, "sha256", res.sha256);
}

enum MHD_Result dbb_handle_create(struct dbb_request *req)
{
	struct dbb_error err = {0};
	struct create_args a = {.ops = req->tgt->ops};
	if (query_codec(req, &a.codec, &err) ||
	    dbb_query_bool(req, "use_apoc", false, &a.opt.use_apoc, &err))
		return dbb_reply_err(req, &err);
	return dbb_run_or_start(req, DBB_JOB_CREATE, NULL, DBB_ROLE_OPERATOR, create_run, &a,
	                        sizeof(a), NULL);
}
