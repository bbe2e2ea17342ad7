/* Interfaces shared by the files of the offsite module (src/offsite only): a
 * growable buffer with a hard maximum (after curl's dynbuf), a bounded
 * extractor for the few elements of S3's XML answers, and URI encoding. */
#ifndef DBBACKUPD_OFFSITE_INTERNAL_H
#define DBBACKUPD_OFFSITE_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- growable buffer ----
 * Always NUL-terminated once anything was added. Once an add fails (out of
 * memory or past max) the buffer stays failed: every later add fails too, so
 * a caller may add several pieces and check once. */
struct dbb_dynbuf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* most bytes it may hold, NUL excluded */
	bool failed;
};

void dbb_dynbuf_init(struct dbb_dynbuf *b, size_t max);
bool dbb_dynbuf_add(struct dbb_dynbuf *b, const void *p, size_t n);
bool dbb_dynbuf_adds(struct dbb_dynbuf *b, const char *s);
bool dbb_dynbuf_addf(struct dbb_dynbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The contents ("" when empty); NULL once failed. */
const char *dbb_dynbuf_str(const struct dbb_dynbuf *b);
/* Hands the malloc'd string to the caller (NULL once failed; "" malloc'd
 * when empty) and resets the buffer. */
char *dbb_dynbuf_take(struct dbb_dynbuf *b);
void dbb_dynbuf_reset(struct dbb_dynbuf *b);
/* Overwrites the contents with zeros before freeing them. */
void dbb_dynbuf_free(struct dbb_dynbuf *b);

/* ---- URI encoding (AWS's rule: every byte but A-Z a-z 0-9 - . _ ~ as %XX,
 * upper-case hex; '/' kept when keep_slash) ---- */
bool dbb_uri_encode(struct dbb_dynbuf *out, const char *s, size_t n, bool keep_slash);
/* Percent-decodes n bytes into out (cap bytes, NUL-terminated); '+' is a
 * space when plus_is_space (S3's encoding-type=url answers), else itself.
 * False on a malformed escape, an encoded NUL, or when it does not fit. */
bool dbb_uri_decode(const char *s, size_t n, char *out, size_t cap, bool plus_is_space);

/* ---- bounded XML extraction ----
 * Not a parser: it finds elements by name in a document that S3 (or a
 * compatible store) sent, which never nests an element inside one of the same
 * name. Every search stays inside [p, end). */

/* Finds the first element <name> (attributes allowed) or <name/> in [p, end);
 * sets its content [*content, *content + *len) and *after (just past its end
 * tag). False when there is none or it is not closed before end. */
bool dbb_xml_find(const char *p, const char *end, const char *name, const char **content,
                  size_t *len, const char **after);

/* Decodes the character data of an element (the five named entities and
 * &#N; / &#xN; references below 128; others are rejected) into out (cap
 * bytes, NUL-terminated). False when malformed or too long. */
bool dbb_xml_text(const char *content, size_t len, char *out, size_t cap);

/* dbb_xml_find + dbb_xml_text of the first <name> in [p, end). */
bool dbb_xml_get(const char *p, const char *end, const char *name, char *out, size_t cap);

/* ---- the S3 client's shared parts (s3.c, s3_put.c, s3_list.c) ---- */

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "dbbackupd/s3.h"
#include "dbbackupd/sigv4.h"

#define S3_ERROR_BODY_MAX (64 * 1024)       /* an error document */
#define S3_XML_BODY_MAX   (8 * 1024 * 1024) /* a listing page (1000 keys) */

struct dbb_s3 {
	char scheme[8]; /* "http" or "https" */
	char host[300]; /* endpoint host[:port], as sent in Host: (bucket not included) */
	char bucket[64];
	char region[64];
	char access_key_id[129];
	char *secret; /* malloc'd; cleansed by dbb_s3_free */
	char storage_class[32];
	char *ca_file; /* NULL: the system's */
	enum dbb_s3_addressing addressing;
	enum dbb_s3_checksum checksum;
	uint64_t part_size;
	unsigned upload_threads;
	long connect_timeout_s;
	long request_timeout_s;
	long stall_timeout_s;
	uint64_t max_send_speed;
	const atomic_bool *cancel;
};

#define S3_MAX_QUERY   6
#define S3_MAX_HEADERS 10

/* One request. Its body is empty, in memory (body/body_len) or a range of a
 * file (fd >= 0). */
struct s3_req {
	const char *op;     /* "PutObject": named in messages */
	const char *method; /* "GET", "PUT", "POST", "DELETE", "HEAD" */
	const char *key;    /* NULL: the bucket itself */
	const char *bucket; /* for messages */
	struct dbb_sigv4_param query[S3_MAX_QUERY];
	size_t nq;
	struct dbb_sigv4_header hdr[S3_MAX_HEADERS]; /* signed, besides host and x-amz-* */
	size_t nh;
	const char *payload_hash; /* NULL: the empty body's */
	const char *body;
	size_t body_len;
	int fd; /* -1: no file body */
	uint64_t offset, length;
	EVP_MD_CTX *send_md;   /* hashes the file range as it is sent; optional */
	struct dbb_sink *sink; /* a 2xx answer's body goes here, else into resp.body */
	EVP_MD_CTX *recv_md;   /* hashes what goes to sink; optional */
	bool data_transfer;    /* the stall timeout, not the request timeout, bounds it */
};

struct s3_resp {
	long status;
	struct dbb_dynbuf body; /* the answer's body when not streamed (bounded) */
	char etag[80];
	char meta_sha256[65];
	char request_id[96];
	uint64_t content_length;
	bool has_length;
	time_t last_modified;
	uint64_t received; /* bytes given to the sink */
	/* private to s3.c */
	uint64_t sent;
	bool read_failed;
	int read_errno;
	bool sink_failed;
	struct dbb_error sink_err;
	bool too_large;
};

void s3_req_init(struct s3_req *rq, const struct dbb_s3 *s3, const char *op, const char *method,
                 const char *key);
void s3_req_query(struct s3_req *rq, const char *name, const char *value);
void s3_req_header(struct s3_req *rq, const char *name, const char *value);

void s3_resp_init(struct s3_resp *rs);
void s3_resp_free(struct s3_resp *rs);

/* Sends rq on curl (reset first, so one handle serves a call's requests)
 * and fills rs. Any answer outside 2xx, and any failure to get one, is an
 * error in err. */
dbb_code s3_perform(struct dbb_s3 *s3, CURL *curl, const struct s3_req *rq, struct s3_resp *rs,
                    struct dbb_s3_error *err);

/* Fills err from an S3 error document (or an answer without one). */
dbb_code s3_fail_answer(struct dbb_s3_error *err, const struct s3_req *rq, long status,
                        const char *xml, size_t len, const char *request_id);
/* Sets err with a fault and a formatted message. */
dbb_code s3_fail(struct dbb_s3_error *err, enum dbb_s3_fault fault, dbb_code code, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));

bool s3_key_valid(const char *key);

/* ---- the view of the store lent to the operation layer (remote.c, issue 18) ---- */
#include "dbbackupd/ops.h"
struct dbb_offsite_view {
	struct dbb_s3 *s3;
	const char *bucket, *prefix;
};
/* struct dbb_ops_remote's list and fetch; cls: a struct dbb_offsite_view */
dbb_code dbb_offsite_remote_list(void *cls, size_t max, dbb_ops_remote_fn fn, void *ud,
                                 bool *truncated, struct dbb_error *err);
dbb_code dbb_offsite_remote_fetch(void *cls, const char *name, int fd, uint64_t max_bytes,
                                  struct dbb_remote_fetch *out, struct dbb_error *err);
dbb_code dbb_offsite_remote_verified(void *cls, const char *name, bool *has_sha256,
                                     struct dbb_error *err);
dbb_code dbb_offsite_remote_remove(void *cls, const char *name, struct dbb_error *err);
/* "2026-11-25T21:00:00.000Z" to a time_t; 0 when malformed. */
time_t s3_parse_iso8601(const char *s);
/* Copies printable ASCII of s (n bytes) into out, anything else as '?'. */
void s3_printable(char *out, size_t cap, const char *s, size_t n);

#endif
