/* The S3 client's core: configuration, one signed request over libcurl,
 * errors mapped from S3's answers; HEAD, GET, DELETE and HeadBucket. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "dbbackupd/log.h"

/* ---- errors ---- */

static const char *const fault_names[] = {
    [DBB_S3_FAULT_NONE] = "none",           [DBB_S3_FAULT_TRANSIENT] = "transient",
    [DBB_S3_FAULT_AUTH] = "auth",           [DBB_S3_FAULT_CLOCK] = "clock",
    [DBB_S3_FAULT_CONFIG] = "config",       [DBB_S3_FAULT_NOT_FOUND] = "not_found",
    [DBB_S3_FAULT_INTEGRITY] = "integrity", [DBB_S3_FAULT_LOCAL] = "local",
    [DBB_S3_FAULT_CANCELLED] = "cancelled", [DBB_S3_FAULT_OTHER] = "other",
};

const char *dbb_s3_fault_name(enum dbb_s3_fault fault)
{
	if ((unsigned)fault >= sizeof(fault_names) / sizeof(fault_names[0]))
		return "other";
	return fault_names[fault];
}

bool dbb_s3_fault_retryable(enum dbb_s3_fault fault)
{
	return fault == DBB_S3_FAULT_TRANSIENT;
}

dbb_code s3_fail(struct dbb_s3_error *err, enum dbb_s3_fault fault, dbb_code code, const char *fmt,
                 ...)
{
	if (!err)
		return code;
	va_list ap;
	va_start(ap, fmt);
	err->base.code = code;
	vsnprintf(err->base.message, sizeof(err->base.message), fmt, ap);
	va_end(ap);
	err->fault = fault;
	return code;
}

void s3_printable(char *out, size_t cap, const char *s, size_t n)
{
	size_t o = 0;
	if (cap == 0)
		return;
	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[o] = '\0';
}

/* S3's error codes that say more than their HTTP status. */
static const struct {
	const char *code;
	enum dbb_s3_fault fault;
} code_faults[] = {
    {"AccessDenied", DBB_S3_FAULT_AUTH},
    {"InvalidAccessKeyId", DBB_S3_FAULT_AUTH},
    {"SignatureDoesNotMatch", DBB_S3_FAULT_AUTH},
    {"InvalidToken", DBB_S3_FAULT_AUTH},
    {"ExpiredToken", DBB_S3_FAULT_AUTH},
    {"AccountProblem", DBB_S3_FAULT_AUTH},
    {"AllAccessDisabled", DBB_S3_FAULT_AUTH},
    {"Forbidden", DBB_S3_FAULT_AUTH},
    {"RequestTimeTooSkewed", DBB_S3_FAULT_CLOCK},
    {"NoSuchBucket", DBB_S3_FAULT_CONFIG},
    {"PermanentRedirect", DBB_S3_FAULT_CONFIG},
    {"TemporaryRedirect", DBB_S3_FAULT_CONFIG},
    {"AuthorizationHeaderMalformed", DBB_S3_FAULT_CONFIG},
    {"InvalidBucketName", DBB_S3_FAULT_CONFIG},
    {"IllegalLocationConstraintException", DBB_S3_FAULT_CONFIG},
    {"InvalidStorageClass", DBB_S3_FAULT_CONFIG},
    {"NoSuchKey", DBB_S3_FAULT_NOT_FOUND},
    {"NoSuchUpload", DBB_S3_FAULT_NOT_FOUND},
    {"NotFound", DBB_S3_FAULT_NOT_FOUND},
    {"BadDigest", DBB_S3_FAULT_INTEGRITY},
    {"InvalidDigest", DBB_S3_FAULT_INTEGRITY},
    {"XAmzContentSHA256Mismatch", DBB_S3_FAULT_INTEGRITY},
    {"IncompleteBody", DBB_S3_FAULT_TRANSIENT},
    {"RequestTimeout", DBB_S3_FAULT_TRANSIENT},
    {"SlowDown", DBB_S3_FAULT_TRANSIENT},
    {"InternalError", DBB_S3_FAULT_TRANSIENT},
    {"ServiceUnavailable", DBB_S3_FAULT_TRANSIENT},
    {"OperationAborted", DBB_S3_FAULT_TRANSIENT},
};

static enum dbb_s3_fault fault_of(long status, const char *code)
{
	for (size_t i = 0; i < sizeof(code_faults) / sizeof(code_faults[0]); i++)
		if (strcmp(code, code_faults[i].code) == 0)
			return code_faults[i].fault;
	if (status >= 500 || status == 408 || status == 429)
		return DBB_S3_FAULT_TRANSIENT;
	if (status == 401 || status == 403)
		return DBB_S3_FAULT_AUTH;
	if (status == 404)
		return DBB_S3_FAULT_NOT_FOUND;
	if (status == 301 || status == 307)
		return DBB_S3_FAULT_CONFIG;
	return DBB_S3_FAULT_OTHER;
}

static const char *hint_of(enum dbb_s3_fault fault)
{
	switch (fault) {
	case DBB_S3_FAULT_AUTH:
		return " (check S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and the bucket's "
		       "permissions)";
	case DBB_S3_FAULT_CLOCK:
		return " (this host's clock differs from the store's by more than S3 allows, "
		       "usually 15 minutes: synchronise it, e.g. with NTP)";
	case DBB_S3_FAULT_CONFIG:
		return " (check S3_ENDPOINT, S3_REGION, S3_BUCKET and S3_ADDRESSING)";
	default:
		return "";
	}
}

static dbb_code code_of(enum dbb_s3_fault fault)
{
	switch (fault) {
	case DBB_S3_FAULT_NOT_FOUND:
		return DBB_ERR_NOT_FOUND;
	case DBB_S3_FAULT_INTEGRITY:
		return DBB_ERR_INVALID_BACKUP;
	case DBB_S3_FAULT_CANCELLED:
		return DBB_ERR_SHUTTING_DOWN;
	default:
		return DBB_ERR_INTERNAL;
	}
}

static const char *what_of(const struct s3_req *rq, char *buf, size_t cap)
{
	if (!rq->key) {
		snprintf(buf, cap, "of bucket %s", rq->bucket ? rq->bucket : "");
		return buf;
	}
	s3_printable(buf, cap, rq->key, strlen(rq->key));
	return buf;
}

dbb_code s3_fail_answer(struct dbb_s3_error *err, const struct s3_req *rq, long status,
                        const char *xml, size_t len, const char *request_id)
{
	char code[64] = "", msg[320] = "", raw[320], what[200];
	const char *end = xml ? xml + len : NULL;
	if (xml && dbb_xml_get(xml, end, "Code", raw, sizeof(raw)))
		s3_printable(code, sizeof(code), raw, strlen(raw));
	if (xml && dbb_xml_get(xml, end, "Message", raw, sizeof(raw)))
		s3_printable(msg, sizeof(msg), raw, strlen(raw));
	if (!code[0]) { /* HEAD, or a store that sent no document */
		const char *c = status == 404   ? "NotFound"
		                : status == 403 ? "Forbidden"
		                : status == 400 ? "BadRequest"
		                : status == 301 ? "PermanentRedirect"
		                                : "";
		snprintf(code, sizeof(code), "%s", c);
	}
	enum dbb_s3_fault fault = fault_of(status, code);
	s3_fail(err, fault, code_of(fault), "S3 %s %s: HTTP %ld%s%s%s%s%s", rq->op,
	        what_of(rq, what, sizeof(what)), status, code[0] ? " " : "", code,
	        msg[0] ? ": " : "", msg, hint_of(fault));
	if (err) {
		err->http_status = status;
		snprintf(err->s3_code, sizeof(err->s3_code), "%s", code);
		if (request_id && !err->request_id[0])
			snprintf(err->request_id, sizeof(err->request_id), "%s", request_id);
	}
	return code_of(fault);
}

/* ---- configuration ---- */

bool s3_key_valid(const char *key)
{
	if (!key || !*key || strlen(key) > DBB_S3_KEY_MAX)
		return false;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static bool bucket_valid(const char *b, bool dns)
{
	size_t n = b ? strlen(b) : 0;
	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
		if (!dns)
			ok = ok || (c >= 'A' && c <= 'Z') || c == '_';
		if (!ok)
			return false;
	}
	return b[0] != '-' && b[0] != '.' && b[n - 1] != '-' && b[n - 1] != '.';
}

static bool token_valid(const char *s, size_t max)
{
	if (!s || !*s || strlen(s) > max)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '/')
			return false;
	return true;
}

static dbb_code parse_endpoint(struct dbb_s3 *s3, const char *endpoint, struct dbb_s3_error *err)
{
	dbb_code rc = DBB_OK;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL, *user = NULL,
	     *frag = NULL;
	CURLU *u = curl_url();
	if (!u)
		return s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL, "S3: out of memory");
	if (!endpoint || curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = s3_fail(err, DBB_S3_FAULT_CONFIG, DBB_ERR_INVALID_PARAMETER,
		             "S3_ENDPOINT is not a URL (e.g. https://s3.eu-west-1.amazonaws.com)");
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
		rc = s3_fail(err, DBB_S3_FAULT_CONFIG, DBB_ERR_INVALID_PARAMETER,
		             "S3_ENDPOINT must be an http or https URL");
		goto out;
	}
	if ((path && strcmp(path, "/") != 0 && path[0]) || query || user || frag) {
		rc = s3_fail(err, DBB_S3_FAULT_CONFIG, DBB_ERR_INVALID_PARAMETER,
		             "S3_ENDPOINT takes a scheme, a host and a port only");
		goto out;
	}
	snprintf(s3->scheme, sizeof(s3->scheme), "%s",
	         strcasecmp(scheme, "https") ? "http" : "https");
	int n =
	    snprintf(s3->host, sizeof(s3->host), "%s%s%s", host, port ? ":" : "", port ? port : "");
	if (n < 0 || (size_t)n >= sizeof(s3->host) || !host[0]) {
		rc = s3_fail(err, DBB_S3_FAULT_CONFIG, DBB_ERR_INVALID_PARAMETER,
		             "S3_ENDPOINT: host name too long");
		goto out;
	}
	for (char *p = s3->host; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_free(user);
	curl_free(frag);
	curl_url_cleanup(u);
	return rc;
}

static bool host_is_ip(const char *host)
{
	if (host[0] == '[')
		return true;
	for (const char *p = host; *p && *p != ':'; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return false;
	return true;
}

dbb_code dbb_s3_new(const struct dbb_s3_config *cfg, struct dbb_s3 **out, struct dbb_s3_error *err)
{
	*out = NULL;
	if (err)
		memset(err, 0, sizeof(*err));
	struct dbb_s3 *s3 = calloc(1, sizeof(*s3));
	if (!s3)
		return s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL, "S3: out of memory");
	dbb_code rc = parse_endpoint(s3, cfg->endpoint, err);
	if (rc)
		goto fail;
	if (!token_valid(cfg->region, sizeof(s3->region) - 1)) {
		rc = s3_fail(err, DBB_S3_FAULT_CONFIG, DBB_ERR_INVALID_PARAMETER,
		             "S3_REGION is missing or malformed (e.g. us-east-1)");
		goto fail;
	}
	bool dns = cfg->addressing == DBB_S3_ADDRESSING_VIRTUAL;
	if (!bucket_valid(cfg->bucket, dns)) {
		rc = s3_fail(err, DBB_S3_FAULT_CONFIG, DBB_ERR_INVALID_PARAMETER,
		             "S3_BUCKET is missing or not a valid bucket name%s",
		             dns ? " for virtual-hosted addressing" : "");
		goto fail;
	}
	if (dns && host_is_ip(s3->host)) {
		rc = s3_fail(
		    err, DBB_S3_FAULT_CONFIG, DBB_ERR_INVALID_PARAMETER,
		    "S3_ADDRESSING=virtual needs a host name in S3_ENDPOINT, not an IP address");
		goto fail;
	}
	if (!token_valid(cfg->access_key_id, sizeof(s3->access_key_id) - 1) ||
	    !cfg->secret_access_key || !*cfg->secret_access_key ||
	    strlen(cfg->secret_access_key) > 1024) {
		rc = s3_fail(err, DBB_S3_FAULT_CONFIG, DBB_ERR_INVALID_PARAMETER,
		             "S3_ACCESS_KEY_ID or S3_SECRET_ACCESS_KEY is missing or malformed");
		goto fail;
	}
	if (cfg->storage_class && *cfg->storage_class &&
	    !token_valid(cfg->storage_class, sizeof(s3->storage_class) - 1)) {
		rc = s3_fail(err, DBB_S3_FAULT_CONFIG, DBB_ERR_INVALID_PARAMETER,
		             "S3_STORAGE_CLASS is malformed");
		goto fail;
	}
	uint64_t part = cfg->part_size ? cfg->part_size : DBB_S3_DEFAULT_PART_SIZE;
	if (part < DBB_S3_MIN_PART_SIZE || part > DBB_S3_MAX_PART_SIZE) {
		rc = s3_fail(err, DBB_S3_FAULT_CONFIG, DBB_ERR_INVALID_PARAMETER,
		             "S3_PART_SIZE must be between 5 MiB and 5 GiB");
		goto fail;
	}
	snprintf(s3->bucket, sizeof(s3->bucket), "%s", cfg->bucket);
	snprintf(s3->region, sizeof(s3->region), "%s", cfg->region);
	snprintf(s3->access_key_id, sizeof(s3->access_key_id), "%s", cfg->access_key_id);
	snprintf(s3->storage_class, sizeof(s3->storage_class), "%s",
	         cfg->storage_class ? cfg->storage_class : "");
	s3->secret = strdup(cfg->secret_access_key);
	s3->ca_file = cfg->ca_file && *cfg->ca_file ? strdup(cfg->ca_file) : NULL;
	if (!s3->secret || (cfg->ca_file && *cfg->ca_file && !s3->ca_file)) {
		rc = s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL, "S3: out of memory");
		goto fail;
	}
	s3->addressing = cfg->addressing;
	s3->checksum = cfg->checksum;
	s3->part_size = part;
	s3->upload_threads = cfg->upload_threads ? cfg->upload_threads : 4;
	if (s3->upload_threads > 16)
		s3->upload_threads = 16;
	s3->connect_timeout_s = cfg->connect_timeout_s > 0 ? cfg->connect_timeout_s : 10;
	s3->request_timeout_s = cfg->request_timeout_s > 0 ? cfg->request_timeout_s : 60;
	s3->stall_timeout_s = cfg->stall_timeout_s > 0 ? cfg->stall_timeout_s : 60;
	s3->max_send_speed = cfg->max_send_speed;
	s3->cancel = cfg->cancel;
	*out = s3;
	return DBB_OK;
fail:
	dbb_s3_free(s3);
	return rc;
}

void dbb_s3_free(struct dbb_s3 *s3)
{
	if (!s3)
		return;
	if (s3->secret) {
		OPENSSL_cleanse(s3->secret, strlen(s3->secret));
		free(s3->secret);
	}
	free(s3->ca_file);
	OPENSSL_cleanse(s3, sizeof(*s3));
	free(s3);
}

/* ---- one request ---- */

void s3_req_init(struct s3_req *rq, const struct dbb_s3 *s3, const char *op, const char *method,
                 const char *key)
{
	memset(rq, 0, sizeof(*rq));
	rq->bucket = s3 ? s3->bucket : "";
	rq->op = op;
	rq->method = method;
	rq->key = key;
	rq->fd = -1;
}

void s3_req_query(struct s3_req *rq, const char *name, const char *value)
{
	if (rq->nq < S3_MAX_QUERY)
		rq->query[rq->nq++] = (struct dbb_sigv4_param){name, value};
}

void s3_req_header(struct s3_req *rq, const char *name, const char *value)
{
	if (rq->nh < S3_MAX_HEADERS)
		rq->hdr[rq->nh++] = (struct dbb_sigv4_header){name, value};
}

void s3_resp_init(struct s3_resp *rs)
{
	memset(rs, 0, sizeof(*rs));
	dbb_dynbuf_init(&rs->body, S3_ERROR_BODY_MAX);
}

void s3_resp_free(struct s3_resp *rs)
{
	dbb_dynbuf_free(&rs->body);
}

struct transfer {
	const struct s3_req *rq;
	struct s3_resp *rs;
	const atomic_bool *cancel;
};

static void copy_header_value(char *out, size_t cap, const char *v, size_t n)
{
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	s3_printable(out, cap, v, n);
}

static size_t on_header(char *line, size_t size, size_t nitems, void *ud)
{
	struct transfer *t = ud;
	struct s3_resp *rs = t->rs;
	size_t n = size * nitems;
	char val[128];
	if (n > 5 && memcmp(line, "HTTP/", 5) == 0) { /* a new answer (after 100 Continue) */
		const char *sp = memchr(line, ' ', n);
		rs->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		rs->etag[0] = rs->meta_sha256[0] = '\0';
		rs->has_length = false;
		rs->content_length = 0;
		rs->last_modified = 0;
		return n;
	}
	const char *colon = memchr(line, ':', n);
	if (!colon)
		return n;
	size_t nl = (size_t)(colon - line);
	const char *v = colon + 1;
	size_t vl = n - nl - 1;
#define IS(name) (nl == sizeof(name) - 1 && strncasecmp(line, name, nl) == 0)
	if (IS("etag")) {
		copy_header_value(rs->etag, sizeof(rs->etag), v, vl);
	} else if (IS("x-amz-meta-sha256")) {
		copy_header_value(val, sizeof(val), v, vl);
		if (strlen(val) == 64)
			memcpy(rs->meta_sha256, val, 65);
	} else if (IS("x-amz-request-id")) {
		copy_header_value(rs->request_id, sizeof(rs->request_id), v, vl);
	} else if (IS("content-length")) {
		copy_header_value(val, sizeof(val), v, vl);
		char *end;
		errno = 0;
		unsigned long long cl = strtoull(val, &end, 10);
		if (!errno && end != val && !*end) {
			rs->content_length = cl;
			rs->has_length = true;
		}
	} else if (IS("last-modified")) {
		copy_header_value(val, sizeof(val), v, vl);
		time_t lm = curl_getdate(val, NULL);
		rs->last_modified = lm > 0 ? lm : 0;
	}
#undef IS
	return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct transfer *t = ud;
	struct s3_resp *rs = t->rs;
	size_t n = size * nmemb;
	if (t->rq->sink && rs->status >= 200 && rs->status < 300) {
		if (t->rq->recv_md && EVP_DigestUpdate(t->rq->recv_md, data, n) != 1) {
			rs->sink_failed = true;
			dbb_fail(&rs->sink_err, DBB_ERR_INTERNAL, "SHA-256 update failed");
			return 0;
		}
		if (dbb_sink_write(t->rq->sink, data, n, &rs->sink_err) != DBB_OK) {
			rs->sink_failed = true;
			return 0;
		}
		rs->received += n;
		return n;
	}
	if (!dbb_dynbuf_add(&rs->body, data, n)) {
		rs->too_large = true;
		return 0;
	}
	return n;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
	struct transfer *t = ud;
	const struct s3_req *rq = t->rq;
	struct s3_resp *rs = t->rs;
	uint64_t left = rq->length - rs->sent;
	size_t want = size * nitems;
	if (want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	ssize_t got;
	do {
		got = pread(rq->fd, buf, want, (off_t)(rq->offset + rs->sent));
	} while (got < 0 && errno == EINTR);
	if (got <= 0) { /* an error, or the file shrank */
		rs->read_failed = true;
		rs->read_errno = got < 0 ? errno : 0;
		return CURL_READFUNC_ABORT;
	}
	if (rq->send_md && EVP_DigestUpdate(rq->send_md, buf, (size_t)got) != 1) {
		rs->read_failed = true;
		return CURL_READFUNC_ABORT;
	}
	rs->sent += (uint64_t)got;
	return (size_t)got;
}

/* curl rewinds a body to resend it on a fresh connection: only from the start. */
static int on_seek(void *ud, curl_off_t offset, int origin)
{
	struct transfer *t = ud;
	if (offset != 0 || origin != SEEK_SET)
		return CURL_SEEKFUNC_CANTSEEK;
	t->rs->sent = 0;
	if (t->rq->send_md && EVP_DigestInit_ex(t->rq->send_md, EVP_sha256(), NULL) != 1)
		return CURL_SEEKFUNC_FAIL;
	return CURL_SEEKFUNC_OK;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	const struct transfer *t = ud;
	return t->cancel && atomic_load(t->cancel) ? 1 : 0;
}

/* Builds the path to sign and the Host: value. */
static dbb_code target(const struct dbb_s3 *s3, const struct s3_req *rq, struct dbb_dynbuf *path,
                       char *host, size_t host_cap, struct dbb_s3_error *err)
{
	if (s3->addressing == DBB_S3_ADDRESSING_VIRTUAL) {
		snprintf(host, host_cap, "%s.%s", s3->bucket, s3->host);
		dbb_dynbuf_add(path, "/", 1);
	} else {
		snprintf(host, host_cap, "%s", s3->host);
		dbb_dynbuf_addf(path, "/%s", s3->bucket);
		if (rq->key)
			dbb_dynbuf_add(path, "/", 1);
	}
	if (rq->key)
		dbb_dynbuf_adds(path, rq->key);
	if (path->failed)
		return s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL, "S3: out of memory");
	return DBB_OK;
}

static dbb_code transport_error(struct dbb_s3_error *err, const struct dbb_s3 *s3,
                                const struct s3_req *rq, const struct s3_resp *rs, CURLcode cc,
                                const char *detail)
{
	char what[200];
	what_of(rq, what, sizeof(what));
	if (rs->sink_failed) {
		dbb_code c = rs->sink_err.code ? rs->sink_err.code : DBB_ERR_INTERNAL;
		return s3_fail(err, DBB_S3_FAULT_LOCAL, c,
		               "S3 %s %s: writing the download failed: %s", rq->op, what,
		               rs->sink_err.message);
	}
	if (rs->read_failed) {
		if (rs->read_errno)
			return s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL,
			               "S3 %s %s: reading the local file failed: %s", rq->op, what,
			               strerror(rs->read_errno));
		return s3_fail(err, DBB_S3_FAULT_INTEGRITY, DBB_ERR_INVALID_BACKUP,
		               "S3 %s %s: the local file changed (shrank) during the upload",
		               rq->op, what);
	}
	if (rs->too_large)
		return s3_fail(err, DBB_S3_FAULT_OTHER, DBB_ERR_INTERNAL,
		               "S3 %s %s: the answer is larger than %zu bytes", rq->op, what,
		               rs->body.max);
	if (cc == CURLE_ABORTED_BY_CALLBACK && s3->cancel && atomic_load(s3->cancel))
		return s3_fail(err, DBB_S3_FAULT_CANCELLED, DBB_ERR_SHUTTING_DOWN,
		               "S3 %s %s: cancelled (shutting down)", rq->op, what);
	const char *kind = cc == CURLE_OPERATION_TIMEDOUT ? "timed out" : "failed";
	return s3_fail(err, DBB_S3_FAULT_TRANSIENT, DBB_ERR_INTERNAL,
	               "S3 %s %s: request to %s://%s %s: %s", rq->op, what, s3->scheme, s3->host,
	               kind, detail[0] ? detail : curl_easy_strerror(cc));
}

dbb_code s3_perform(struct dbb_s3 *s3, CURL *curl, const struct s3_req *rq, struct s3_resp *rs,
                    struct dbb_s3_error *err)
{
	dbb_code rc = DBB_OK;
	char host[sizeof(s3->host) + 70], amz_date[17], detail[CURL_ERROR_SIZE] = "";
	char body_hash[65];
	struct dbb_dynbuf path, url, line;
	struct dbb_sigv4_result sig = {0};
	struct curl_slist *hdrs = NULL;
	struct dbb_sigv4_header h[S3_MAX_HEADERS + 3];
	struct dbb_error serr = {0};
	dbb_dynbuf_init(&path, 8192);
	dbb_dynbuf_init(&url, 16384);
	dbb_dynbuf_init(&line, 16384);

	if (s3->cancel && atomic_load(s3->cancel)) {
		rc = s3_fail(err, DBB_S3_FAULT_CANCELLED, DBB_ERR_SHUTTING_DOWN,
		             "S3 %s: cancelled (shutting down)", rq->op);
		goto out;
	}
	rc = target(s3, rq, &path, host, sizeof(host), err);
	if (rc)
		goto out;
	const char *payload = rq->payload_hash;
	if (!payload) {
		if (rq->body) {
			dbb_sigv4_sha256_hex(rq->body, rq->body_len, body_hash);
			payload = body_hash;
		} else {
			payload = DBB_SIGV4_EMPTY_SHA256;
		}
	}
	dbb_sigv4_amz_date(time(NULL), amz_date);
	size_t nh = 0;
	h[nh++] = (struct dbb_sigv4_header){"host", host};
	h[nh++] = (struct dbb_sigv4_header){"x-amz-content-sha256", payload};
	h[nh++] = (struct dbb_sigv4_header){"x-amz-date", amz_date};
	for (size_t i = 0; i < rq->nh; i++)
		h[nh++] = rq->hdr[i];
	struct dbb_sigv4_request sreq = {.method = rq->method,
	                                 .path = dbb_dynbuf_str(&path),
	                                 .query = rq->query,
	                                 .query_count = rq->nq,
	                                 .headers = h,
	                                 .header_count = nh,
	                                 .payload_hash = payload,
	                                 .amz_date = amz_date,
	                                 .region = s3->region,
	                                 .service = "s3"};
	struct dbb_sigv4_key key = {s3->access_key_id, s3->secret};
	if (dbb_sigv4_sign(&sreq, &key, &sig, &serr) != DBB_OK) {
		rc = s3_fail(err, DBB_S3_FAULT_OTHER, DBB_ERR_INVALID_PARAMETER, "S3 %s: %s",
		             rq->op, serr.message);
		goto out;
	}
	dbb_dynbuf_addf(&url, "%s://%s%s%s%s", s3->scheme, host, sig.canonical_uri,
	                sig.canonical_query[0] ? "?" : "", sig.canonical_query);
	for (size_t i = 0; i < nh; i++) {
		dbb_dynbuf_reset(&line);
		dbb_dynbuf_addf(&line, "%s: %s", h[i].name, h[i].value);
		struct curl_slist *n = line.failed ? NULL : curl_slist_append(hdrs, line.data);
		if (!n) {
			rc =
			    s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL, "S3: out of memory");
			goto out;
		}
		hdrs = n;
	}
	dbb_dynbuf_reset(&line);
	dbb_dynbuf_addf(&line, "Authorization: %s", sig.authorization);
	static const char *const fixed[] = {"Accept:", "Content-Type:"};
	struct curl_slist *n = line.failed ? NULL : curl_slist_append(hdrs, line.data);
	for (size_t i = 0; n && i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		bool given = false; /* a signed Content-Type replaces curl's default */
		for (size_t j = 0; j < rq->nh; j++)
			if (strncasecmp(rq->hdr[j].name, fixed[i], strlen(fixed[i]) - 1) == 0 &&
			    rq->hdr[j].name[strlen(fixed[i]) - 1] == '\0')
				given = true;
		if (!given)
			n = curl_slist_append(n, fixed[i]);
	}
	if (!n || url.failed) {
		rc = s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL, "S3: out of memory");
		goto out;
	}
	hdrs = n;

	struct transfer t = {rq, rs, s3->cancel};
	rs->status = 0;
	rs->sent = 0;
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url.data);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "dbbackupd/" DBB_VERSION);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, s3->connect_timeout_s);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, s3->stall_timeout_s);
	if (!rq->data_transfer)
		curl_easy_setopt(curl, CURLOPT_TIMEOUT, s3->request_timeout_s);
	if (s3->ca_file)
		curl_easy_setopt(curl, CURLOPT_CAINFO, s3->ca_file);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
	if (strcmp(rq->method, "HEAD") == 0) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	} else if (strcmp(rq->method, "PUT") == 0) {
		curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(curl, CURLOPT_READDATA, &t);
		curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(curl, CURLOPT_SEEKDATA, &t);
		curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
		                 (curl_off_t)(rq->fd >= 0 ? rq->length : 0));
		if (s3->max_send_speed)
			curl_easy_setopt(curl, CURLOPT_MAX_SEND_SPEED_LARGE,
			                 (curl_off_t)s3->max_send_speed);
	} else if (strcmp(rq->method, "POST") == 0) {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		                 (curl_off_t)(rq->body ? rq->body_len : 0));
	} else if (strcmp(rq->method, "GET") != 0) {
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	CURLcode cc = curl_easy_perform(curl);
	if (cc != CURLE_OK) {
		rc = transport_error(err, s3, rq, rs, cc, detail);
		if (err)
			snprintf(err->request_id, sizeof(err->request_id), "%s", rs->request_id);
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &rs->status);
	if (rs->status < 200 || rs->status >= 300) {
		rc = s3_fail_answer(err, rq, rs->status, rs->body.data, rs->body.len,
		                    rs->request_id);
		goto out;
	}
	if (rq->fd >= 0 && rs->sent != rq->length) {
		rc = s3_fail(err, DBB_S3_FAULT_OTHER, DBB_ERR_INTERNAL,
		             "S3 %s: the store answered before the whole body was sent", rq->op);
		goto out;
	}
out:
	dbb_sigv4_result_free(&sig);
	curl_slist_free_all(hdrs);
	dbb_dynbuf_free(&path);
	dbb_dynbuf_free(&url);
	dbb_dynbuf_free(&line);
	return rc;
}

/* ---- small calls ---- */

static CURL *new_handle(struct dbb_s3_error *err)
{
	CURL *c = curl_easy_init();
	if (!c)
		s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL, "S3: cannot set up libcurl");
	return c;
}

static dbb_code bad_key(struct dbb_s3_error *err, const char *op)
{
	return s3_fail(err, DBB_S3_FAULT_OTHER, DBB_ERR_INVALID_PARAMETER,
	               "S3 %s: empty, too long or control characters in the key", op);
}

static void fill_object(struct dbb_s3_object *obj, const char *key, const struct s3_resp *rs)
{
	memset(obj, 0, sizeof(*obj));
	snprintf(obj->key, sizeof(obj->key), "%s", key);
	obj->size = rs->content_length;
	snprintf(obj->etag, sizeof(obj->etag), "%s", rs->etag);
	obj->last_modified = rs->last_modified;
	snprintf(obj->sha256, sizeof(obj->sha256), "%s", rs->meta_sha256);
}

dbb_code dbb_s3_head(struct dbb_s3 *s3, const char *key, struct dbb_s3_object *obj,
                     struct dbb_s3_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
	if (!s3_key_valid(key))
		return bad_key(err, "HeadObject");
	CURL *curl = new_handle(err);
	if (!curl)
		return DBB_ERR_INTERNAL;
	struct s3_req rq;
	struct s3_resp rs;
	s3_req_init(&rq, s3, "HeadObject", "HEAD", key);
	s3_resp_init(&rs);
	dbb_code rc = s3_perform(s3, curl, &rq, &rs, err);
	if (rc == DBB_OK)
		fill_object(obj, key, &rs);
	s3_resp_free(&rs);
	curl_easy_cleanup(curl);
	return rc;
}

dbb_code dbb_s3_delete(struct dbb_s3 *s3, const char *key, struct dbb_s3_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
	if (!s3_key_valid(key))
		return bad_key(err, "DeleteObject");
	CURL *curl = new_handle(err);
	if (!curl)
		return DBB_ERR_INTERNAL;
	struct s3_req rq;
	struct s3_resp rs;
	s3_req_init(&rq, s3, "DeleteObject", "DELETE", key);
	s3_resp_init(&rs);
	dbb_code rc = s3_perform(s3, curl, &rq, &rs, err);
	s3_resp_free(&rs);
	curl_easy_cleanup(curl);
	return rc;
}

dbb_code dbb_s3_check_bucket(struct dbb_s3 *s3, struct dbb_s3_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
	CURL *curl = new_handle(err);
	if (!curl)
		return DBB_ERR_INTERNAL;
	struct s3_req rq;
	struct s3_resp rs;
	s3_req_init(&rq, s3, "HeadBucket", "HEAD", NULL);
	s3_resp_init(&rs);
	dbb_code rc = s3_perform(s3, curl, &rq, &rs, err);
	if (rc && err && err->fault == DBB_S3_FAULT_NOT_FOUND) { /* HEAD has no body: say it */
		err->fault = DBB_S3_FAULT_CONFIG;
		err->base.code = rc = DBB_ERR_INTERNAL;
		snprintf(err->s3_code, sizeof(err->s3_code), "NoSuchBucket");
		snprintf(err->base.message, sizeof(err->base.message),
		         "S3 HeadBucket: HTTP 404: bucket %s does not exist at %s://%s%s",
		         s3->bucket, s3->scheme, s3->host, hint_of(DBB_S3_FAULT_CONFIG));
	}
	s3_resp_free(&rs);
	curl_easy_cleanup(curl);
	return rc;
}

/* ---- download ---- */

dbb_code dbb_s3_get(struct dbb_s3 *s3, const char *key, struct dbb_sink *sink,
                    struct dbb_s3_get_result *res, struct dbb_s3_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
	memset(res, 0, sizeof(*res));
	if (!s3_key_valid(key))
		return bad_key(err, "GetObject");
	dbb_code rc = DBB_OK;
	unsigned char md[32];
	unsigned int mdlen = 0;
	struct s3_req rq;
	struct s3_resp rs;
	s3_req_init(&rq, s3, "GetObject", "GET", key);
	s3_resp_init(&rs);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	CURL *curl = new_handle(err);
	if (!curl || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rc = s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL,
		             "S3 GetObject: cannot start");
		goto out;
	}
	rq.sink = sink;
	rq.recv_md = ctx;
	rq.data_transfer = true;
	rc = s3_perform(s3, curl, &rq, &rs, err);
	if (rc)
		goto out;
	fill_object(&res->obj, key, &rs);
	char what[200];
	what_of(&rq, what, sizeof(what));
	if (!rs.has_length || rs.received != rs.content_length) {
		rc =
		    s3_fail(err, DBB_S3_FAULT_INTEGRITY, DBB_ERR_INVALID_BACKUP,
		            "S3 GetObject %s: received %llu bytes of %llu", what,
		            (unsigned long long)rs.received, (unsigned long long)rs.content_length);
		goto out;
	}
	res->obj.size = rs.received;
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		rc = s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL,
		             "S3 GetObject: SHA-256 failed");
		goto out;
	}
	for (unsigned i = 0; i < 32; i++)
		snprintf(res->sha256 + 2 * i, 3, "%02x", md[i]);
	if (rs.meta_sha256[0]) {
		if (strcmp(rs.meta_sha256, res->sha256) != 0) {
			rc = s3_fail(
			    err, DBB_S3_FAULT_INTEGRITY, DBB_ERR_INVALID_BACKUP,
			    "S3 GetObject %s: SHA-256 of the bytes received (%s) is not the one "
			    "stored with the object (%s)",
			    what, res->sha256, rs.meta_sha256);
			goto out;
		}
		res->verified = true;
	}
out:
	EVP_MD_CTX_free(ctx);
	if (curl)
		curl_easy_cleanup(curl);
	s3_resp_free(&rs);
	return rc;
}

dbb_code dbb_s3_get_file(struct dbb_s3 *s3, const char *key, int fd, struct dbb_s3_get_result *res,
                         struct dbb_s3_error *err)
{
	struct dbb_fd_sink sink;
	dbb_fd_sink_init(&sink, fd);
	return dbb_s3_get(s3, key, &sink.base, res, err);
}
