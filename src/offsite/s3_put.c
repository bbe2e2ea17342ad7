/* Uploads: PutObject, or a multipart upload streamed part by part from file
 * offsets (aborted on any failure); both checked by a HEAD afterwards. */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbbackupd/log.h"

#define HASH_BUF     (1024 * 1024)
#define COMPLETE_MAX (4 * 1024 * 1024)

/* The digests of one body. */
struct sums {
	char hex[65];     /* SHA-256, lower-case hex: x-amz-content-sha256 */
	char sha_b64[48]; /* SHA-256, base64: x-amz-checksum-sha256 */
	char md5_b64[32]; /* MD5, base64: Content-MD5 */
};

/* Everything one upload owns. */
struct upload {
	struct dbb_s3 *s3;
	const char *key;
	int fd;
	uint64_t size;
	char what[200]; /* the key, printable, for messages */
	CURL *curl;
	unsigned char *buf;
	EVP_MD_CTX *sha, *md5, *send;
};

/* Allocates what one thread of an upload uses; false when out of memory
 * (upload_close frees what was allocated). */
static bool upload_open(struct upload *u)
{
	u->curl = curl_easy_init();
	u->buf = malloc(HASH_BUF);
	u->sha = EVP_MD_CTX_new();
	u->md5 = EVP_MD_CTX_new();
	u->send = EVP_MD_CTX_new();
	return u->curl && u->buf && u->sha && u->md5 && u->send;
}

static void upload_close(struct upload *u)
{
	if (u->curl)
		curl_easy_cleanup(u->curl);
	free(u->buf);
	EVP_MD_CTX_free(u->sha);
	EVP_MD_CTX_free(u->md5);
	EVP_MD_CTX_free(u->send);
	u->curl = NULL;
	u->buf = NULL;
	u->sha = u->md5 = u->send = NULL;
}

static dbb_code md_init(EVP_MD_CTX *ctx, const EVP_MD *md, struct dbb_s3_error *err)
{
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1)
		return s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL, "S3: digest init failed");
	return DBB_OK;
}

static bool md_final(EVP_MD_CTX *ctx, unsigned char *raw, unsigned int want)
{
	unsigned int n = 0;
	return EVP_DigestFinal_ex(ctx, raw, &n) == 1 && n == want;
}

static void to_hex(const unsigned char *raw, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = digits[raw[i] >> 4];
		hex[2 * i + 1] = digits[raw[i] & 15];
	}
	hex[2 * n] = '\0';
}

/* Reads [off, off + len) of the file once, feeding the body's digests. */
static dbb_code hash_body(struct upload *u, uint64_t off, uint64_t len, struct sums *out,
                          struct dbb_s3_error *err)
{
	dbb_code rc = md_init(u->sha, EVP_sha256(), err);
	if (!rc && u->s3->checksum == DBB_S3_CHECKSUM_MD5)
		rc = md_init(u->md5, EVP_md5(), err);
	if (rc)
		return rc;
	uint64_t done = 0;
	while (done < len) {
		if (u->s3->cancel && atomic_load(u->s3->cancel))
			return s3_fail(err, DBB_S3_FAULT_CANCELLED, DBB_ERR_SHUTTING_DOWN,
			               "S3 upload %s: cancelled (shutting down)", u->what);
		size_t want = len - done < HASH_BUF ? (size_t)(len - done) : HASH_BUF;
		ssize_t got = pread(u->fd, u->buf, want, (off_t)(off + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL,
			               "S3 upload %s: reading the local file failed: %s", u->what,
			               strerror(errno));
		if (got == 0)
			return s3_fail(err, DBB_S3_FAULT_INTEGRITY, DBB_ERR_INVALID_BACKUP,
			               "S3 upload %s: the local file shrank while it was read",
			               u->what);
		if (EVP_DigestUpdate(u->sha, u->buf, (size_t)got) != 1 ||
		    (u->s3->checksum == DBB_S3_CHECKSUM_MD5 &&
		     EVP_DigestUpdate(u->md5, u->buf, (size_t)got) != 1))
			return s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL,
			               "S3: digest update failed");
		done += (uint64_t)got;
	}
	unsigned char raw[32];
	if (!md_final(u->sha, raw, 32))
		return s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL, "S3: digest failed");
	to_hex(raw, 32, out->hex);
	EVP_EncodeBlock((unsigned char *)out->sha_b64, raw, 32);
	out->md5_b64[0] = '\0';
	if (u->s3->checksum == DBB_S3_CHECKSUM_MD5) {
		if (!md_final(u->md5, raw, 16))
			return s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL,
			               "S3: digest failed");
		EVP_EncodeBlock((unsigned char *)out->md5_b64, raw, 16);
	}
	return DBB_OK;
}

/* The body's checksum header (S3 checks it before it stores anything). */
static void add_checksum(struct s3_req *rq, const struct dbb_s3 *s3, const struct sums *s)
{
	if (s3->checksum == DBB_S3_CHECKSUM_MD5)
		s3_req_header(rq, "Content-MD5", s->md5_b64);
	else
		s3_req_header(rq, "x-amz-checksum-sha256", s->sha_b64);
}

/* Sends [off, off + len) of the file with rq, hashing it again on the way:
 * a file that changed between the two reads is an error. */
static dbb_code send_body(struct upload *u, struct s3_req *rq, struct s3_resp *rs, uint64_t off,
                          uint64_t len, const struct sums *sums, struct dbb_s3_error *err)
{
	dbb_code rc = md_init(u->send, EVP_sha256(), err);
	if (rc)
		return rc;
	rq->fd = u->fd;
	rq->offset = off;
	rq->length = len;
	rq->send_md = u->send;
	rq->payload_hash = sums->hex;
	rq->data_transfer = true;
	rc = s3_perform(u->s3, u->curl, rq, rs, err);
	if (rc)
		return rc;
	unsigned char raw[32];
	char hex[65];
	if (!md_final(u->send, raw, 32))
		return s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL, "S3: digest failed");
	to_hex(raw, 32, hex);
	if (strcmp(hex, sums->hex) != 0)
		return s3_fail(err, DBB_S3_FAULT_INTEGRITY, DBB_ERR_INVALID_BACKUP,
		               "S3 %s %s: the local file changed during the upload", rq->op,
		               u->what);
	return DBB_OK;
}

static dbb_code put_single(struct upload *u, const char *expected, struct dbb_s3_put_result *res,
                           struct dbb_s3_error *err)
{
	struct sums sums;
	dbb_code rc = hash_body(u, 0, u->size, &sums, err);
	if (rc)
		return rc;
	if (expected && strcmp(sums.hex, expected) != 0)
		return s3_fail(
		    err, DBB_S3_FAULT_INTEGRITY, DBB_ERR_INVALID_BACKUP,
		    "S3 upload %s: the local file's SHA-256 (%s) is not the recorded one "
		    "(%s); nothing was uploaded",
		    u->what, sums.hex, expected);
	struct s3_req rq;
	struct s3_resp rs;
	s3_req_init(&rq, u->s3, "PutObject", "PUT", u->key);
	s3_req_header(&rq, "Content-Type", "application/octet-stream");
	s3_req_header(&rq, "x-amz-meta-sha256", sums.hex);
	add_checksum(&rq, u->s3, &sums);
	if (u->s3->storage_class[0])
		s3_req_header(&rq, "x-amz-storage-class", u->s3->storage_class);
	s3_resp_init(&rs);
	rc = send_body(u, &rq, &rs, 0, u->size, &sums, err);
	if (rc == DBB_OK) {
		snprintf(res->etag, sizeof(res->etag), "%s", rs.etag);
		memcpy(res->sha256, sums.hex, 65);
	} else if (err && err->fault == DBB_S3_FAULT_INTEGRITY && rs.status / 100 == 2) {
		/* stored, but not what the file held when hashed: take it away */
		struct dbb_s3_error derr;
		if (dbb_s3_delete(u->s3, u->key, &derr))
			dbb_warn("S3 could not delete %s after a failed check: %s", u->what,
			         derr.base.message);
	}
	s3_resp_free(&rs);
	return rc;
}

/* ---- multipart ---- */

struct part {
	char etag[80];
	char sha_b64[48];
};

static void xml_escape(struct dbb_dynbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			dbb_dynbuf_adds(b, "&amp;");
			break;
		case '<':
			dbb_dynbuf_adds(b, "&lt;");
			break;
		case '>':
			dbb_dynbuf_adds(b, "&gt;");
			break;
		case '"':
			dbb_dynbuf_adds(b, "&quot;");
			break;
		default:
			dbb_dynbuf_add(b, s, 1);
		}
	}
}

static dbb_code create_upload(struct upload *u, const char *sha_hex, char *upload_id, size_t cap,
                              struct dbb_s3_error *err)
{
	struct s3_req rq;
	struct s3_resp rs;
	s3_req_init(&rq, u->s3, "CreateMultipartUpload", "POST", u->key);
	s3_req_query(&rq, "uploads", "");
	s3_req_header(&rq, "Content-Type", "application/octet-stream");
	s3_req_header(&rq, "x-amz-meta-sha256", sha_hex);
	if (u->s3->checksum == DBB_S3_CHECKSUM_SHA256)
		s3_req_header(&rq, "x-amz-checksum-algorithm", "SHA256");
	if (u->s3->storage_class[0])
		s3_req_header(&rq, "x-amz-storage-class", u->s3->storage_class);
	s3_resp_init(&rs);
	dbb_code rc = s3_perform(u->s3, u->curl, &rq, &rs, err);
	if (rc == DBB_OK) {
		const char *end = rs.body.data ? rs.body.data + rs.body.len : NULL;
		bool ok =
		    rs.body.data && dbb_xml_get(rs.body.data, end, "UploadId", upload_id, cap);
		for (const char *p = upload_id; ok && *p; p++)
			ok = *p > 0x20 && *p < 0x7f;
		if (!ok || !upload_id[0])
			rc =
			    s3_fail(err, DBB_S3_FAULT_OTHER, DBB_ERR_INTERNAL,
			            "S3 CreateMultipartUpload %s: no usable UploadId in the answer",
			            u->what);
	}
	s3_resp_free(&rs);
	return rc;
}

static dbb_code complete_upload(struct upload *u, const char *upload_id, const struct part *parts,
                                unsigned n, struct dbb_s3_put_result *res, struct dbb_s3_error *err)
{
	dbb_code rc = DBB_OK;
	struct dbb_dynbuf xml;
	struct s3_req rq;
	struct s3_resp rs;
	dbb_dynbuf_init(&xml, COMPLETE_MAX);
	s3_resp_init(&rs);
	dbb_dynbuf_adds(&xml, "<CompleteMultipartUpload "
	                      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (unsigned i = 0; i < n; i++) {
		dbb_dynbuf_addf(&xml, "<Part><PartNumber>%u</PartNumber><ETag>", i + 1);
		xml_escape(&xml, parts[i].etag);
		dbb_dynbuf_adds(&xml, "</ETag>");
		if (u->s3->checksum == DBB_S3_CHECKSUM_SHA256)
			dbb_dynbuf_addf(&xml, "<ChecksumSHA256>%s</ChecksumSHA256>",
			                parts[i].sha_b64);
		dbb_dynbuf_adds(&xml, "</Part>");
	}
	dbb_dynbuf_adds(&xml, "</CompleteMultipartUpload>");
	if (xml.failed) {
		rc = s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL, "S3: out of memory");
		goto out;
	}
	s3_req_init(&rq, u->s3, "CompleteMultipartUpload", "POST", u->key);
	s3_req_query(&rq, "uploadId", upload_id);
	s3_req_header(&rq, "Content-Type", "application/xml");
	rq.body = xml.data;
	rq.body_len = xml.len;
	rc = s3_perform(u->s3, u->curl, &rq, &rs, err);
	if (rc)
		goto out;
	/* S3 may answer 200 and then report a failure in the body */
	const char *body = rs.body.data ? rs.body.data : "";
	const char *end = body + rs.body.len, *c;
	size_t cl;
	if (dbb_xml_find(body, end, "Error", &c, &cl, NULL)) {
		rc = s3_fail_answer(err, &rq, rs.status, c, cl, rs.request_id);
		goto out;
	}
	if (!dbb_xml_find(body, end, "CompleteMultipartUploadResult", &c, &cl, NULL)) {
		rc = s3_fail(err, DBB_S3_FAULT_OTHER, DBB_ERR_INTERNAL,
		             "S3 CompleteMultipartUpload %s: the answer is not a result", u->what);
		goto out;
	}
	char etag[80];
	if (dbb_xml_get(c, c + cl, "ETag", etag, sizeof(etag)))
		s3_printable(res->etag, sizeof(res->etag), etag, strlen(etag));
out:
	s3_resp_free(&rs);
	dbb_dynbuf_free(&xml);
	return rc;
}

static dbb_code upload_part(struct upload *u, const char *upload_id, unsigned number, uint64_t off,
                            uint64_t len, struct part *part, struct dbb_s3_error *err)
{
	struct sums sums;
	dbb_code rc = hash_body(u, off, len, &sums, err);
	if (rc)
		return rc;
	char num[16];
	snprintf(num, sizeof(num), "%u", number);
	struct s3_req rq;
	struct s3_resp rs;
	s3_req_init(&rq, u->s3, "UploadPart", "PUT", u->key);
	s3_req_query(&rq, "partNumber", num);
	s3_req_query(&rq, "uploadId", upload_id);
	add_checksum(&rq, u->s3, &sums);
	s3_resp_init(&rs);
	rc = send_body(u, &rq, &rs, off, len, &sums, err);
	if (rc == DBB_OK && !rs.etag[0])
		rc = s3_fail(err, DBB_S3_FAULT_OTHER, DBB_ERR_INTERNAL,
		             "S3 UploadPart %s part %u: the answer has no ETag", u->what, number);
	if (rc == DBB_OK) {
		snprintf(part->etag, sizeof(part->etag), "%s", rs.etag);
		memcpy(part->sha_b64, sums.sha_b64, sizeof(part->sha_b64));
	}
	s3_resp_free(&rs);
	return rc;
}

/* The parts of one upload, shared by the threads that send them. */
struct part_pool {
	const char *upload_id;
	uint64_t psize;
	unsigned n;
	struct part *parts;
	pthread_mutex_t lock;
	unsigned next; /* the next part to send, 0-based */
	bool failed;
	struct dbb_s3_error err; /* the first failure */
};

/* One sending thread: its own handle, buffer and digests. */
struct sender {
	struct part_pool *pool;
	struct upload u;
	pthread_t tid;
	bool started;
};

static void pool_fail(struct part_pool *p, const struct dbb_s3_error *e)
{
	pthread_mutex_lock(&p->lock);
	if (!p->failed) {
		p->failed = true;
		p->err = *e;
	}
	pthread_mutex_unlock(&p->lock);
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	struct part_pool *p = s->pool;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		unsigned i = p->next;
		bool stop = p->failed || i >= p->n;
		if (!stop)
			p->next++;
		pthread_mutex_unlock(&p->lock);
		if (stop)
			break;
		uint64_t off = (uint64_t)i * p->psize;
		uint64_t len = s->u.size - off < p->psize ? s->u.size - off : p->psize;
		struct dbb_s3_error e;
		memset(&e, 0, sizeof(e));
		if (upload_part(&s->u, p->upload_id, i + 1, off, len, &p->parts[i], &e) != DBB_OK) {
			pool_fail(p, &e);
			break;
		}
	}
	return NULL;
}

/* Sends every part on up to upload_threads threads. With expected, the
 * calling thread meanwhile reads the whole file in order and compares its
 * SHA-256 (the parts are read out of order, and SHA-256 cannot be combined). */
static dbb_code send_parts(struct upload *u, struct part_pool *p, const char *expected,
                           struct dbb_s3_error *err)
{
	unsigned k = u->s3->upload_threads < p->n ? u->s3->upload_threads : p->n;
	unsigned started = 0;
	struct sender *senders = calloc(k, sizeof(*senders));
	if (!senders)
		return s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL, "S3: out of memory");
	for (unsigned i = 0; i < k; i++) {
		struct sender *s = &senders[i];
		s->pool = p;
		s->u = (struct upload){.s3 = u->s3, .key = u->key, .fd = u->fd, .size = u->size};
		memcpy(s->u.what, u->what, sizeof(s->u.what));
		if (upload_open(&s->u) && pthread_create(&s->tid, NULL, sender_main, s) == 0) {
			s->started = true;
			started++;
		}
	}
	if (started == 0) {
		struct dbb_s3_error e;
		s3_fail(&e, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL, "S3 upload %s: no thread to send",
		        u->what);
		pool_fail(p, &e);
	}
	if (expected && started) {
		struct sums whole;
		struct dbb_s3_error e;
		memset(&e, 0, sizeof(e));
		if (hash_body(u, 0, u->size, &whole, &e) != DBB_OK) {
			pool_fail(p, &e);
		} else if (strcmp(whole.hex, expected) != 0) {
			s3_fail(
			    &e, DBB_S3_FAULT_INTEGRITY, DBB_ERR_INVALID_BACKUP,
			    "S3 upload %s: the local file's SHA-256 (%s) is not the recorded one "
			    "(%s); the multipart upload was not completed",
			    u->what, whole.hex, expected);
			pool_fail(p, &e);
		}
	}
	for (unsigned i = 0; i < k; i++) {
		if (senders[i].started)
			pthread_join(senders[i].tid, NULL);
		upload_close(&senders[i].u);
	}
	free(senders);
	if (p->failed) {
		*err = p->err;
		return err->base.code ? err->base.code : DBB_ERR_INTERNAL;
	}
	return DBB_OK;
}

static dbb_code put_multipart(struct upload *u, const char *expected, struct dbb_s3_put_result *res,
                              struct dbb_s3_error *err)
{
	dbb_code rc;
	struct sums whole;
	char upload_id[256] = "";
	struct part_pool pool = {0};
	pool.psize = u->s3->part_size;
	if ((u->size + pool.psize - 1) / pool.psize > DBB_S3_MAX_PARTS) {
		uint64_t mib = 1024 * 1024;
		pool.psize =
		    ((u->size + DBB_S3_MAX_PARTS - 1) / DBB_S3_MAX_PARTS + mib - 1) / mib * mib;
	}
	pool.n = (unsigned)((u->size + pool.psize - 1) / pool.psize);

	if (expected) { /* checked while the parts are sent */
		memcpy(whole.hex, expected, 65);
	} else {
		rc = hash_body(u, 0, u->size, &whole, err);
		if (rc)
			return rc;
	}
	pool.parts = calloc(pool.n, sizeof(*pool.parts));
	if (!pool.parts)
		return s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL, "S3: out of memory");
	rc = create_upload(u, whole.hex, upload_id, sizeof(upload_id), err);
	if (rc)
		goto out;
	pool.upload_id = upload_id;
	snprintf(res->upload_id, sizeof(res->upload_id), "%s", upload_id);
	pthread_mutex_init(&pool.lock, NULL);
	rc = send_parts(u, &pool, expected, err);
	pthread_mutex_destroy(&pool.lock);
	if (rc == DBB_OK)
		rc = complete_upload(u, upload_id, pool.parts, pool.n, res, err);
	if (rc == DBB_OK) {
		memcpy(res->sha256, whole.hex, 65);
		res->parts = pool.n;
		goto out;
	}
	struct dbb_s3_error aerr;
	if (dbb_s3_abort_upload(u->s3, u->key, upload_id, &aerr) != DBB_OK) {
		snprintf(res->leftover_upload_id, sizeof(res->leftover_upload_id), "%s", upload_id);
		dbb_warn("S3 multipart upload of %s failed and could not be aborted (abort it "
		         "later): %s",
		         u->what, aerr.base.message);
	}
out:
	free(pool.parts);
	return rc;
}

/* The stored object is the file: its size and recorded SHA-256. */
static dbb_code verify_stored(struct upload *u, const struct dbb_s3_put_result *res,
                              struct dbb_s3_error *err)
{
	struct dbb_s3_object obj;
	dbb_code rc = dbb_s3_head(u->s3, u->key, &obj, err);
	if (rc) {
		dbb_error_prefix(&err->base, "S3 upload %s: checking the stored object", u->what);
		return rc;
	}
	if (obj.size != u->size || strcmp(obj.sha256, res->sha256) != 0)
		return s3_fail(
		    err, DBB_S3_FAULT_INTEGRITY, DBB_ERR_INVALID_BACKUP,
		    "S3 upload %s: the stored object (%llu bytes, x-amz-meta-sha256 %s) is "
		    "not the file (%llu bytes, %s)",
		    u->what, (unsigned long long)obj.size, obj.sha256[0] ? obj.sha256 : "missing",
		    (unsigned long long)u->size, res->sha256);
	return DBB_OK;
}

static bool hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

dbb_code dbb_s3_put_file(struct dbb_s3 *s3, const char *key, int fd, const char *expected_sha256,
                         struct dbb_s3_put_result *res, struct dbb_s3_error *err)
{
	struct dbb_s3_error local;
	if (!err)
		err = &local;
	memset(err, 0, sizeof(*err));
	memset(res, 0, sizeof(*res));
	if (!s3_key_valid(key))
		return s3_fail(err, DBB_S3_FAULT_OTHER, DBB_ERR_INVALID_PARAMETER,
		               "S3 upload: empty, too long or control characters in the key");
	if (expected_sha256 && !hex64(expected_sha256))
		return s3_fail(err, DBB_S3_FAULT_OTHER, DBB_ERR_INVALID_PARAMETER,
		               "S3 upload: the expected SHA-256 is not 64 lower-case hex digits");
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL,
		               "S3 upload: the source is not a regular file");
	struct upload u = {.s3 = s3, .key = key, .fd = fd, .size = (uint64_t)st.st_size};
	s3_printable(u.what, sizeof(u.what), key, strlen(key));
	dbb_code rc = DBB_OK;
	if (!upload_open(&u)) {
		rc = s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL, "S3 upload: out of memory");
		goto out;
	}
	if (u.size <= s3->part_size)
		rc = put_single(&u, expected_sha256, res, err);
	else
		rc = put_multipart(&u, expected_sha256, res, err);
	if (rc == DBB_OK) {
		res->size = u.size;
		rc = verify_stored(&u, res, err);
	}
out:
	upload_close(&u);
	return rc;
}
