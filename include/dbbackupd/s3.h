/* A minimal S3 client over libcurl, signed with AWS Signature V4 (sigv4.h):
 * the few calls offsite copies need, each streamed from or to a file (never a
 * whole object in memory), each checked.
 *
 *   put_file   PutObject, or multipart above the part size (Create, UploadPart
 *              streamed from file offsets on a few threads, Complete; Abort on
 *              any failure);
 *              every body sent with its SHA-256 as x-amz-content-sha256 (a
 *              signed payload) and its checksum (x-amz-checksum-sha256 or
 *              Content-MD5); the whole object's SHA-256 stored as metadata
 *              (x-amz-meta-sha256) and compared by a HEAD afterwards
 *   get_file   GetObject streamed to an fd or a sink, its SHA-256 computed on
 *              the way and compared with the stored x-amz-meta-sha256
 *   head, delete, list (ListObjectsV2, paginated, bounded),
 *   list_uploads (ListMultipartUploads), abort_upload, abort_incomplete,
 *   check_bucket (HeadBucket)
 *
 * The caller calls curl_global_init() once before the first dbb_s3_new (the
 * daemon does in main). A struct dbb_s3 is immutable once made: threads may
 * share it; every call uses its own curl handle (one connection per call,
 * reused between the requests of that call).
 *
 * Secrets: the secret access key lives only in the struct dbb_s3 (cleansed by
 * dbb_s3_free) and in the signer's scratch memory; no message, log line or
 * URL ever holds it. */
#ifndef DBBACKUPD_S3_H
#define DBBACKUPD_S3_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dbbackupd/error.h"
#include "dbbackupd/stream.h"

#define DBB_S3_MIN_PART_SIZE     (5ULL * 1024 * 1024)
#define DBB_S3_DEFAULT_PART_SIZE (64ULL * 1024 * 1024)
#define DBB_S3_MAX_PART_SIZE     (5ULL * 1024 * 1024 * 1024)
#define DBB_S3_MAX_PARTS         10000
#define DBB_S3_KEY_MAX           1024 /* bytes of a key (S3's limit) */

enum dbb_s3_addressing {
	DBB_S3_ADDRESSING_PATH,   /* http(s)://endpoint/bucket/key */
	DBB_S3_ADDRESSING_VIRTUAL /* http(s)://bucket.endpoint/key */
};

/* How each uploaded body's integrity is given to the store, besides the
 * signed payload hash: the flexible checksum most stores check today, or the
 * older Content-MD5 for stores that predate it. */
enum dbb_s3_checksum { DBB_S3_CHECKSUM_SHA256, DBB_S3_CHECKSUM_MD5 };

struct dbb_s3_config {
	const char *endpoint; /* "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:8333":
	                         scheme, host, optional port; no path, user or query */
	const char *region;   /* signing region, e.g. "us-east-1" */
	const char *bucket;
	const char *access_key_id;
	const char *secret_access_key; /* copied; the caller may wipe its own copy */
	enum dbb_s3_addressing addressing;
	enum dbb_s3_checksum checksum;
	const char *storage_class; /* x-amz-storage-class of uploads; NULL: the store's default */
	uint64_t part_size;        /* multipart above this; 0: 64 MiB; 5 MiB..5 GiB (raised when
	                              a file would need more than 10000 parts) */
	unsigned upload_threads;   /* parts of one upload sent at once; 0: 4; at most 16 */
	long connect_timeout_s;    /* 0: 10 s */
	long request_timeout_s;    /* whole request, for requests without a data body (HEAD,
	                              list, create, complete, abort, delete); 0: 60 s */
	long stall_timeout_s;      /* a data transfer slower than 1 KiB/s for this long fails;
	                              0: 60 s */
	uint64_t max_send_speed;   /* bytes/s cap of uploads (tests); 0: none */
	const char *ca_file;       /* PEM bundle to trust instead of the system's; NULL */
	const atomic_bool *cancel; /* when it becomes true, transfers stop (shutdown); NULL */
};

/* What went wrong, for the caller that must decide what to do next (retry
 * later, alert, give up). */
enum dbb_s3_fault {
	DBB_S3_FAULT_NONE = 0,
	DBB_S3_FAULT_TRANSIENT, /* no answer, timeout, 5xx, SlowDown, RequestTimeout: retry later */
	DBB_S3_FAULT_AUTH,      /* AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch... */
	DBB_S3_FAULT_CLOCK,     /* RequestTimeTooSkewed: this host's clock is off */
	DBB_S3_FAULT_CONFIG,    /* NoSuchBucket, wrong region or endpoint (redirects) */
	DBB_S3_FAULT_NOT_FOUND, /* NoSuchKey, NoSuchUpload */
	DBB_S3_FAULT_INTEGRITY, /* a checksum or size did not match (either side) */
	DBB_S3_FAULT_LOCAL,     /* reading or writing the local file failed */
	DBB_S3_FAULT_CANCELLED, /* config.cancel was set */
	DBB_S3_FAULT_OTHER,     /* anything else the store refused */
};

/* Every call's error. base is the project's usual error: its code is
 * DBB_ERR_NOT_FOUND (NOT_FOUND), DBB_ERR_INVALID_BACKUP (INTEGRITY),
 * DBB_ERR_NO_SPACE (a full local disk), DBB_ERR_INVALID_PARAMETER (a bad
 * argument), DBB_ERR_SHUTTING_DOWN (CANCELLED), else DBB_ERR_INTERNAL; its
 * message names the operation, the key, the HTTP status, S3's Code and
 * Message and, for AUTH, CLOCK and CONFIG, what to check. */
struct dbb_s3_error {
	struct dbb_error base;
	enum dbb_s3_fault fault;
	long http_status;    /* 0: no answer */
	char s3_code[64];    /* S3's <Code>, "" when none */
	char request_id[96]; /* x-amz-request-id, "" when none */
};

/* True for the faults worth retrying later without anyone changing anything
 * (TRANSIENT); AUTH, CLOCK and CONFIG need a person first. */
bool dbb_s3_fault_retryable(enum dbb_s3_fault fault);
const char *dbb_s3_fault_name(enum dbb_s3_fault fault); /* "transient", "auth"... */

struct dbb_s3;

/* Checks the configuration (endpoint URL, names, sizes) and makes a client;
 * no request is sent. */
dbb_code dbb_s3_new(const struct dbb_s3_config *cfg, struct dbb_s3 **out, struct dbb_s3_error *err);
void dbb_s3_free(struct dbb_s3 *s3);

/* One object as a listing or a HEAD describes it. */
struct dbb_s3_object {
	char key[DBB_S3_KEY_MAX + 1];
	uint64_t size;
	char etag[80];          /* as the store quotes it, e.g. "\"9b2cf5...\"" */
	time_t last_modified;   /* 0 when unknown */
	char storage_class[32]; /* listing only; "" when not given */
	char sha256[65];        /* HEAD/GET: x-amz-meta-sha256 ("" when absent) */
};

/* ---- upload ---- */

struct dbb_s3_put_result {
	char etag[80];
	char sha256[65]; /* of the whole object, as stored in x-amz-meta-sha256 */
	uint64_t size;
	unsigned parts; /* 0: a single PutObject */
	/* The multipart upload's id, "" for a single PutObject. After a success
	 * some stores still list it for a moment (or for good, when their own
	 * clean-up failed); it must not be aborted then, the object shares its
	 * parts on some of them. */
	char upload_id[256];
	/* A multipart upload that failed and whose abort failed too (the store
	 * was gone): its id, so the caller can abort it later (abort_upload or
	 * abort_incomplete); "" otherwise. */
	char leftover_upload_id[256];
};

/* Uploads the regular file open at fd (read with pread, from offset 0 to its
 * size at the call; fd's offset is not used) to key; a multipart upload sends
 * upload_threads parts at once, each thread with its own connection. expected_sha256 (lower-
 * case hex, or NULL) is what the caller knows the file's SHA-256 to be (the
 * backup's sidecar): the upload fails (INTEGRITY, nothing left under key by a
 * multipart upload) if the file does not match it; without it the file is
 * read once more first to compute it. After the upload a HEAD checks the
 * stored size and x-amz-meta-sha256. */
dbb_code dbb_s3_put_file(struct dbb_s3 *s3, const char *key, int fd, const char *expected_sha256,
                         struct dbb_s3_put_result *res, struct dbb_s3_error *err);

/* ---- download ---- */

struct dbb_s3_get_result {
	struct dbb_s3_object obj; /* size, etag, last_modified, stored sha256 */
	char sha256[65];          /* computed over the bytes received */
	bool verified;            /* the object had x-amz-meta-sha256 and it matched */
};

/* Streams the object into sink (the caller owns and finishes the sink). The
 * byte count must match Content-Length and, when the object carries
 * x-amz-meta-sha256, the SHA-256 must match it (else INTEGRITY: the caller
 * discards what the sink received). */
dbb_code dbb_s3_get(struct dbb_s3 *s3, const char *key, struct dbb_sink *sink,
                    struct dbb_s3_get_result *res, struct dbb_s3_error *err);
/* dbb_s3_get into fd (written from its current offset; not fsynced). */
dbb_code dbb_s3_get_file(struct dbb_s3 *s3, const char *key, int fd, struct dbb_s3_get_result *res,
                         struct dbb_s3_error *err);

/* ---- metadata, listing, deletion ---- */

/* HeadObject; a missing key is DBB_ERR_NOT_FOUND / NOT_FOUND. */
dbb_code dbb_s3_head(struct dbb_s3 *s3, const char *key, struct dbb_s3_object *obj,
                     struct dbb_s3_error *err);

/* DeleteObject (S3 answers success for a missing key too). */
dbb_code dbb_s3_delete(struct dbb_s3 *s3, const char *key, struct dbb_s3_error *err);

/* Called once per object; a non-zero return stops the listing (not an
 * error). */
typedef int (*dbb_s3_object_fn)(const struct dbb_s3_object *obj, void *ud);

/* ListObjectsV2 of every key starting with prefix ("" for all), in key order,
 * page by page (1000 keys each). At most max_objects are given to fn (0:
 * 100000); *truncated (optional) says whether more were left. */
dbb_code dbb_s3_list(struct dbb_s3 *s3, const char *prefix, size_t max_objects, dbb_s3_object_fn fn,
                     void *ud, bool *truncated, struct dbb_s3_error *err);

struct dbb_s3_upload {
	char key[DBB_S3_KEY_MAX + 1];
	char upload_id[256];
	time_t initiated; /* 0 when unknown */
};
typedef int (*dbb_s3_upload_fn)(const struct dbb_s3_upload *up, void *ud);

/* ListMultipartUploads of the keys starting with prefix; bounded like
 * dbb_s3_list. */
dbb_code dbb_s3_list_uploads(struct dbb_s3 *s3, const char *prefix, size_t max_uploads,
                             dbb_s3_upload_fn fn, void *ud, bool *truncated,
                             struct dbb_s3_error *err);

/* AbortMultipartUpload (NoSuchUpload counts as done). */
dbb_code dbb_s3_abort_upload(struct dbb_s3 *s3, const char *key, const char *upload_id,
                             struct dbb_s3_error *err);

/* Aborts every incomplete multipart upload of exactly key (what a crash or an
 * unreachable store left behind) except the one named except_upload_id (NULL:
 * none; the upload just completed); *aborted (optional) counts them. */
dbb_code dbb_s3_abort_incomplete(struct dbb_s3 *s3, const char *key, const char *except_upload_id,
                                 unsigned *aborted, struct dbb_s3_error *err);

/* HeadBucket: the endpoint answers, the bucket exists and the credentials
 * are accepted (for --check-config and readiness). */
dbb_code dbb_s3_check_bucket(struct dbb_s3 *s3, struct dbb_s3_error *err);

#endif
