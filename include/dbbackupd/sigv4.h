/* AWS Signature Version 4 (HMAC-SHA256, Authorization header form), as AWS
 * documents it ("Create a signed AWS API request"; for S3 "Signature
 * Calculations for the Authorization Header: Transferring Payload in a Single
 * Chunk"). OpenSSL only; no global state; thread-safe.
 *
 * The canonical request is
 *   METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n
 *   SignedHeaders \n PayloadHash
 * with S3's rules: the path is URI-encoded once, segment by segment ('/'
 * kept), and never normalised ("//", "." and ".." stay as they are: S3 keys
 * may contain them); query names and values are URI-encoded and sorted by
 * encoded name, then encoded value; header names are lower-cased, values
 * trimmed with inner runs of spaces collapsed to one, repeated names joined
 * with ',' in the order given, and headers sorted by name. The signer signs
 * exactly the headers it is given (host and x-amz-date included; for S3 also
 * x-amz-content-sha256, and x-amz-security-token with temporary credentials):
 * the caller sends the same ones, and the path and query as the signer
 * encoded them (canonical_uri, canonical_query). */
#ifndef DBBACKUPD_SIGV4_H
#define DBBACKUPD_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "dbbackupd/error.h"

/* SHA-256 of no bytes, and the payload hash of a body not signed. */
#define DBB_SIGV4_EMPTY_SHA256     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DBB_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

struct dbb_sigv4_param {
	const char *name;  /* raw bytes, not encoded */
	const char *value; /* raw; NULL or "" both sign as "name=" */
};

struct dbb_sigv4_header {
	const char *name;  /* an HTTP token (any case) */
	const char *value; /* no CR, LF or NUL */
};

struct dbb_sigv4_request {
	const char *method; /* "GET", "PUT"... */
	const char *path;   /* raw (decoded) path starting with '/' */
	const struct dbb_sigv4_param *query;
	size_t query_count;
	const struct dbb_sigv4_header *headers;
	size_t header_count;
	const char *payload_hash; /* lower-case hex SHA-256 of the body, or UNSIGNED-PAYLOAD */
	const char *amz_date;     /* "YYYYMMDDTHHMMSSZ": the x-amz-date header's value */
	const char *region;       /* "us-east-1" */
	const char *service;      /* "s3" */
};

struct dbb_sigv4_key {
	const char *access_key_id;
	const char *secret_access_key; /* never copied anywhere but cleansed scratch memory */
};

/* Everything malloc'd; dbb_sigv4_result_free releases it. */
struct dbb_sigv4_result {
	char *canonical_uri;     /* the path to send, e.g. "/bucket/a%20b" */
	char *canonical_query;   /* the query to send (without '?'), "" when none */
	char *canonical_request; /* for tests and debugging: holds no secret */
	char *string_to_sign;
	char *
	    authorization; /* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." */
};

/* Signs req. On failure (a malformed field: DBB_ERR_INVALID_PARAMETER; out of
 * memory: DBB_ERR_INTERNAL) out holds nothing to free. The secret never
 * appears in out or in err. */
dbb_code dbb_sigv4_sign(const struct dbb_sigv4_request *req, const struct dbb_sigv4_key *key,
                        struct dbb_sigv4_result *out, struct dbb_error *err);
void dbb_sigv4_result_free(struct dbb_sigv4_result *r);

/* t as "YYYYMMDDTHHMMSSZ" (UTC). */
void dbb_sigv4_amz_date(time_t t, char out[17]);

/* Lower-case hex SHA-256 of len bytes. */
void dbb_sigv4_sha256_hex(const void *buf, size_t len, char hex[65]);

#endif
