/* POST /backup/restore-upload: the multipart field "file" is spooled to a
 * temporary file in the backups directory as it arrives (never held in
 * memory) by an upload session of ops (dbb_ops_upload_*), then validated and
 * restored like a listed backup. The database lock is taken only once the
 * whole body has arrived and been validated: a slow upload never keeps a backup or another
 * restore waiting, and a second upload gets its 409 at the end. While the
 * body arrives it must keep MIN_BODY_RATE (guard.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/internal.h"

struct upload {
	struct MHD_PostProcessor *pp;
	struct dbb_ops_upload *session; /* the spooled file, owned */
	bool chunked;                   /* no Content-Length: the body's size is unknown */
	bool file_seen;
	char filename[128];
	char safety_value[16];
	bool safety_given;
	struct dbb_error failure; /* first failure while receiving */
	uint64_t discarded;       /* body bytes dropped after a failure */
};

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *data, uint64_t off,
                               size_t size)
{
	struct dbb_request *req = cls;
	struct upload *up = req->state;
	if (up->failure.code)
		return MHD_NO;
	if (key && strcmp(key, "create_safety_backup") == 0) {
		size_t used = strlen(up->safety_value);
		if (used + size >= sizeof(up->safety_value)) {
			dbb_fail(&up->failure, DBB_ERR_INVALID_PARAMETER,
			         "create_safety_backup must be true or false");
			return MHD_NO;
		}
		memcpy(up->safety_value + used, data, size);
		up->safety_value[used + size] = '\0';
		up->safety_given = true;
		return MHD_YES;
	}
	if (!key || strcmp(key, "file") != 0)
		return MHD_YES; /* other fields are ignored */
	if (off == 0) {
		if (up->file_seen && dbb_ops_upload_bytes(up->session) > 0) {
			dbb_fail(&up->failure, DBB_ERR_BAD_REQUEST,
			         "send one file in the field \"file\", not several");
			return MHD_NO;
		}
		up->file_seen = true;
		snprintf(up->filename, sizeof(up->filename), "%s",
		         filename && *filename ? filename : "upload");
	}
	if (dbb_ops_upload_write(up->session, data, size, &up->failure))
		return MHD_NO;
	return MHD_YES;
}

enum MHD_Result dbb_upload_begin(struct dbb_request *req)
{
	struct dbb_error err = {0};
	bool safety;
	const char *ctype = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Type");
	if (!ctype || strncasecmp(ctype, "multipart/form-data", 19) != 0)
		return dbb_reply_error(
		    req, DBB_ERR_UNSUPPORTED_MEDIA,
		    "send the backup as multipart/form-data in the field \"file\" "
		    "(curl -F \"file=@backup.sql.gz\")",
		    NULL);
	const char *clen =
	    MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Length");
	if (clen) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(clen, &end, 10);
		/* the multipart envelope adds a little: allow 64 KiB for it */
		if (!errno && *end == '\0' && n > req->srv->cfg->max_upload_bytes + 65536)
			return dbb_reply_error(req, DBB_ERR_PAYLOAD_TOO_LARGE,
			                       "the upload is larger than MAX_UPLOAD_BYTES", NULL);
	}
	if (dbb_query_bool(req, "create_safety_backup", true, &safety, &err))
		return dbb_reply_err(req, &err);
	struct upload *up = calloc(1, sizeof(*up));
	if (!up)
		return MHD_NO;
	up->chunked = clen == NULL;
	req->state = up;
	if (dbb_ops_upload_begin(req->tgt->ops, &up->session, &err))
		return dbb_reply_err(req, &err);
	up->pp = MHD_create_post_processor(req->conn, 64 * 1024, on_part, req);
	if (!up->pp)
		return dbb_reply_error(req, DBB_ERR_UNSUPPORTED_MEDIA,
		                       "cannot parse this multipart/form-data body (no boundary?)",
		                       NULL);
	dbb_guard_body(req->srv->guard, req->conn, true);
	return MHD_YES;
}

/* libmicrohttpd 0.9.75 can only answer once the whole body has arrived (or
 * before any of it is read), so after a failure the rest of a body of known
 * length (at most MAX_UPLOAD_BYTES + 64 KiB: begin checked it) is read and
 * dropped, and the error is sent by dbb_upload_finish. A chunked body has
 * no announced end: after a failure it is answered at once on the socket
 * (dbb_reply_raw) and the connection closed; with TLS, where that is not
 * possible, the client is disconnected after MAX_UPLOAD_BYTES more. */
enum MHD_Result dbb_upload_body(struct dbb_request *req, const char *data, size_t *size)
{
	struct upload *up = req->state;
	size_t n = *size;
	*size = 0;
	dbb_guard_body_bytes(req->srv->guard, req->conn, n);
	if (up->failure.code) { /* failed earlier: drop the rest */
		up->discarded += n;
		/* a known length was bounded by begin; a chunked body only here */
		return up->chunked && up->discarded > req->srv->cfg->max_upload_bytes ? MHD_NO
		                                                                      : MHD_YES;
	}
	if (MHD_post_process(up->pp, data, n) != MHD_YES && !up->failure.code)
		dbb_fail(&up->failure, DBB_ERR_BAD_REQUEST, "malformed multipart/form-data body");
	if (up->failure.code && up->chunked &&
	    dbb_reply_raw(req, up->failure.code, up->failure.message))
		return MHD_NO; /* answered; libmicrohttpd closes the connection */
	return MHD_YES;
}

/* ?async=true: the restore of what was received, on a job's thread. */
struct upload_args {
	struct dbb_ops_upload *session; /* owned */
	bool safety;
	char filename[128];
};

static void upload_run(void *arg, struct dbb_outcome *o)
{
	struct upload_args *a = arg;
	struct dbb_error err = {0};
	struct dbb_restore_result res = {0};
	dbb_code rc = dbb_ops_upload_restore(a->session, a->safety, &res, &err);
	char what[200];
	snprintf(what, sizeof(what), " uploaded file: %s", a->filename);
	dbb_restore_outcome(o, rc, &err, &res, what);
}

static void upload_args_free(void *arg)
{
	struct upload_args *a = arg;
	dbb_ops_upload_free(a->session);
	a->session = NULL;
}

enum MHD_Result dbb_upload_finish(struct dbb_request *req)
{
	struct upload *up = req->state;
	struct dbb_error err = {0};
	struct dbb_restore_result res = {0};
	bool safety = true;
	MHD_destroy_post_processor(up->pp);
	up->pp = NULL;
	dbb_guard_body(req->srv->guard, req->conn, false);
	if (up->failure.code)
		return dbb_reply_err(req, &up->failure);
	if (!up->file_seen)
		return dbb_reply_error(req, DBB_ERR_BAD_REQUEST,
		                       "no file uploaded: send it in the multipart field \"file\"",
		                       NULL);
	if (dbb_ops_upload_bytes(up->session) == 0)
		return dbb_reply_error(req, DBB_ERR_INVALID_BACKUP,
		                       "the uploaded file is empty; the database was not touched",
		                       NULL);
	if (dbb_query_bool(req, "create_safety_backup", true, &safety, &err))
		return dbb_reply_err(req, &err);
	const char *given =
	    MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "create_safety_backup");
	/* the query wins, but a form field that is neither true nor false is a
	 * 400 either way (before an async job could accept it) */
	bool form_safety = safety;
	if (up->safety_given &&
	    dbb_parse_bool("create_safety_backup", up->safety_value, &form_safety, &err))
		return dbb_reply_err(req, &err);
	if (!given)
		safety = form_safety;
	bool async;
	enum MHD_Result r;
	if (dbb_query_async(req, &async, &r))
		return r;
	if (async) { /* the job takes the spooled file (handler/jobs.c) */
		struct upload_args a = {up->session, safety, ""};
		snprintf(a.filename, sizeof(a.filename), "%s", up->filename);
		up->session = NULL;
		return dbb_run_or_start(req, DBB_JOB_RESTORE_UPLOAD, a.filename, DBB_ROLE_OPERATOR,
		                        upload_run, &a, sizeof(a), upload_args_free);
	}
	dbb_code rc = dbb_ops_upload_restore(up->session, safety, &res, &err);
	char what[200];
	snprintf(what, sizeof(what), " uploaded file: %s", up->filename);
	snprintf(req->audit_file, sizeof(req->audit_file), "%s", up->filename);
	return dbb_reply_restore(req, rc, &err, &res, what);
}

void dbb_upload_cleanup(struct dbb_request *req)
{
	struct upload *up = req->state;
	if (!up)
		return;
	if (up->pp)
		MHD_destroy_post_processor(up->pp);
	dbb_ops_upload_free(up->session);
	free(up);
	req->state = NULL;
}
