/* Encryption in the age format (age-encryption.org/v1), so that any backup
 * can be decrypted without dbbackupd by `age -d -i key` (or rage, or the Go
 * library), and so that the host that makes backups needs only public keys.
 *
 * Two opaque stream layers with the lifecycle of the gzip ones (stream.h):
 *   - dbb_age_sink_new encrypts what is written to it into the sink it
 *     wraps: new (writes the header and the payload nonce), write...,
 *     dbb_sink_finish (seals the final chunk), dbb_sink_free (always).
 *   - dbb_age_source_new decrypts the source it wraps: new (reads the
 *     header, unwraps the file key with the identities, checks the header
 *     MAC, reads the payload nonce), read..., dbb_source_free (always).
 * Neither owns the sink/source it wraps. Memory is bounded: one 64 KiB
 * chunk (plus its ciphertext) per layer, and a header of at most
 * DBB_AGE_HEADER_MAX bytes.
 *
 * What is supported: X25519 recipients and identities (age1..., and
 * AGE-SECRET-KEY-1...), passphrases (scrypt; decryption, and encryption for
 * tests), binary files and ASCII armor (decryption). Stanzas of other types
 * (post-quantum hybrid, plugins, ssh) are ignored, as the spec requires:
 * such a file decrypts if it also has a stanza for one of our identities.
 *
 * Errors: a file that is not a valid age file for these identities is
 * DBB_ERR_INVALID_BACKUP (422) with a message saying what is wrong; the
 * source's `failure` field tells which kind (the test vectors check it).
 * An error of the wrapped sink/source keeps its own code. Secrets (keys,
 * passphrases, file keys) are wiped when freed. */
#ifndef DBBACKUPD_AGE_H
#define DBBACKUPD_AGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbbackupd/error.h"
#include "dbbackupd/stream.h"

#define DBB_AGE_CHUNK          (64 * 1024) /* STREAM plaintext chunk */
#define DBB_AGE_TAG            16          /* Poly1305 tag per chunk */
#define DBB_AGE_HEADER_MAX     (1024 * 1024)
#define DBB_AGE_RECIPIENT_LEN  62 /* "age1" + 58: the bech32 string length */
#define DBB_AGE_IDENTITY_LEN   74 /* "AGE-SECRET-KEY-1" + 58 */
#define DBB_AGE_SCRYPT_DEFAULT 18 /* log2(N) age -p uses; our encrypt default */
/* Highest scrypt work factor decryption accepts unless told otherwise:
 * 2^20 x 1 KiB = 1 GiB of memory and a few seconds of CPU, for a moment. */
#define DBB_AGE_SCRYPT_MAX_DEFAULT 20
#define DBB_AGE_SCRYPT_MAX_LIMIT   22 /* the most it can be set to (4 GiB) */

/* ---- keys ---- */

/* An X25519 recipient: the public key a backup is encrypted to. */
struct dbb_age_recipient {
	unsigned char key[32];
};

/* An X25519 identity: the secret key, and its public key. */
struct dbb_age_identity {
	unsigned char secret[32];
	unsigned char pub[32];
};

/* What a backup is encrypted to. */
struct dbb_age_recipients {
	struct dbb_age_recipient *v;
	size_t n;
};

/* What decrypts: X25519 identities and/or one passphrase (scrypt). */
struct dbb_age_identities {
	struct dbb_age_identity *v;
	size_t n;
	unsigned char *passphrase; /* NULL: none */
	size_t passphrase_len;
	unsigned scrypt_max_log2n; /* 0: DBB_AGE_SCRYPT_MAX_DEFAULT */
};

/* "age1..." (lowercase, as age writes it) into a recipient. */
dbb_code dbb_age_recipient_parse(const char *s, size_t len, struct dbb_age_recipient *out,
                                 struct dbb_error *err);
/* Writes the "age1..." string (DBB_AGE_RECIPIENT_LEN chars and a NUL). */
void dbb_age_recipient_format(const struct dbb_age_recipient *r,
                              char out[DBB_AGE_RECIPIENT_LEN + 1]);

/* "AGE-SECRET-KEY-1..." (uppercase, as age writes it) into an identity;
 * computes the public key. The message of an error never quotes the key. */
dbb_code dbb_age_identity_parse(const char *s, size_t len, struct dbb_age_identity *out,
                                struct dbb_error *err);
/* Writes the "AGE-SECRET-KEY-1..." string (DBB_AGE_IDENTITY_LEN chars and a
 * NUL); the caller wipes it (OPENSSL_cleanse) when done. */
void dbb_age_identity_format(const struct dbb_age_identity *id, char out[DBB_AGE_IDENTITY_LEN + 1]);
void dbb_age_identity_recipient(const struct dbb_age_identity *id, struct dbb_age_recipient *out);
/* A fresh identity from the CSPRNG (RAND_bytes), like age-keygen. */
dbb_code dbb_age_keygen(struct dbb_age_identity *out, struct dbb_error *err);

/* Recipients from a list (ENCRYPT_RECIPIENTS): "age1..." separated by
 * commas and/or whitespace; at least one. Appends to *rs. */
dbb_code dbb_age_recipients_parse_list(struct dbb_age_recipients *rs, const char *list,
                                       struct dbb_error *err);
/* Recipients in age's recipients-file format (one per line, '#' comments and
 * blank lines ignored, at least one); text of len bytes. Appends to *rs. */
dbb_code dbb_age_recipients_parse_file_text(struct dbb_age_recipients *rs, const char *text,
                                            size_t len, struct dbb_error *err);
dbb_code dbb_age_recipients_load_file(struct dbb_age_recipients *rs, const char *path,
                                      struct dbb_error *err);
void dbb_age_recipients_free(struct dbb_age_recipients *rs);

/* Identities in age's identity-file format (what age-keygen writes: one
 * AGE-SECRET-KEY-1... per line, '#' comments and blank lines ignored, at
 * least one). Appends to *ids. */
dbb_code dbb_age_identities_parse_file_text(struct dbb_age_identities *ids, const char *text,
                                            size_t len, struct dbb_error *err);
/* Refuse a file that others than its owner may read, or that another user
 * owns (AGE_IDENTITY_FILE must be 0600 and the daemon's). */
#define DBB_AGE_FILE_PRIVATE 1u
dbb_code dbb_age_identities_load_file(struct dbb_age_identities *ids, const char *path,
                                      unsigned flags, struct dbb_error *err);
/* Sets the passphrase (copied; an earlier one is wiped and replaced). */
dbb_code dbb_age_identities_set_passphrase(struct dbb_age_identities *ids, const void *pass,
                                           size_t len, struct dbb_error *err);
/* A passphrase file (AGE_PASSPHRASE_FILE): its first line, without the line
 * end; flags as above. */
dbb_code dbb_age_identities_load_passphrase_file(struct dbb_age_identities *ids, const char *path,
                                                 unsigned flags, struct dbb_error *err);
/* Wipes and frees everything; safe twice. */
void dbb_age_identities_free(struct dbb_age_identities *ids);

/* Writes a new identity file at path (created 0600, never over an existing
 * file) in age-keygen's format, and the identity's recipient into
 * recipient_out: what `dbbackupd keygen` does. */
dbb_code dbb_age_keygen_file(const char *path, char recipient_out[DBB_AGE_RECIPIENT_LEN + 1],
                             struct dbb_error *err);

/* ---- encryption: a layer that wraps a sink ----
 * Encrypts to the recipients (at least one): writes the header and the
 * payload nonce into next at once, then the chunks as data comes.
 * dbb_sink_finish seals the final chunk (empty only if nothing was
 * written); it must be called once on success: a file without it is
 * refused as truncated. dbb_sink_free wipes the keys and frees, finished
 * or not. On failure *out is NULL and nothing is left to free. */
dbb_code dbb_age_sink_new(struct dbb_sink *next, const struct dbb_age_recipients *to,
                          struct dbb_sink **out, struct dbb_error *err);
/* Encrypts with a passphrase (one scrypt stanza, work factor log2n; 0 means
 * DBB_AGE_SCRYPT_DEFAULT). */
dbb_code dbb_age_sink_new_passphrase(struct dbb_sink *next, const void *pass, size_t len,
                                     unsigned log2n, struct dbb_sink **out, struct dbb_error *err);

/* ---- decryption: a source that wraps a source ---- */

/* What the wrapped source holds. */
enum dbb_age_input {
	DBB_AGE_INPUT_DETECT = 0,   /* a binary or an armored age file */
	DBB_AGE_INPUT_BINARY,       /* a binary age file only */
	DBB_AGE_INPUT_ARMORED,      /* an armored age file only */
	DBB_AGE_INPUT_DETECT_PLAIN, /* DETECT, but anything that is not an age
	                             * file passes through unchanged (like the
	                             * gunzip source): for restore-upload */
};

/* Why decryption failed: the kinds of the community test vectors. */
enum dbb_age_failure {
	DBB_AGE_FAIL_NONE = 0,
	DBB_AGE_FAIL_IO,          /* the wrapped source failed (its own code) */
	DBB_AGE_FAIL_ARMOR,       /* the ASCII armor is malformed */
	DBB_AGE_FAIL_HEADER,      /* the header is malformed (or its stanzas) */
	DBB_AGE_FAIL_NO_IDENTITY, /* an age file, but no identity was given */
	DBB_AGE_FAIL_NO_MATCH,    /* no identity unwraps the file key */
	DBB_AGE_FAIL_HMAC,        /* the header MAC does not match */
	DBB_AGE_FAIL_PAYLOAD,     /* a chunk fails, truncation, trailing data */
};
const char *dbb_age_failure_name(enum dbb_age_failure f);

/* What a decrypting layer found (dbb_age_source_info). */
struct dbb_age_source_info {
	bool encrypted;                /* false: DETECT_PLAIN passes through */
	bool armored;                  /* the input was armored */
	enum dbb_age_failure failure;  /* set with the error that stopped it */
	struct dbb_age_recipient from; /* the identity's recipient that matched
	                                * (all zero for a passphrase) */
};

/* A layer that decrypts next: reads the header from it, unwraps the file
 * key with ids (NULL or empty: fails with DBB_AGE_FAIL_NO_IDENTITY if the
 * input is an age file), checks the header MAC and reads the payload nonce.
 * Reads then give plaintext: every chunk is authenticated before any of its
 * bytes is given out, and end of stream (got == 0, DBB_OK) comes only after
 * a valid final chunk and nothing after it; anything else is an error, and
 * dbb_age_source_info says which kind. dbb_source_free wipes and frees. On
 * failure *out is NULL, nothing is left to free, and *failure (optional)
 * says which kind. */
dbb_code dbb_age_source_new(struct dbb_source *next, const struct dbb_age_identities *ids,
                            enum dbb_age_input input, struct dbb_source **out,
                            enum dbb_age_failure *failure, struct dbb_error *err);
/* What the layer made by dbb_age_source_new found so far. */
void dbb_age_source_info(const struct dbb_source *age, struct dbb_age_source_info *out);

/* What the first bytes of a file are (up to DBB_AGE_SNIFF_MAX of them;
 * fewer if the file is shorter). */
#define DBB_AGE_SNIFF_MAX 1100
enum dbb_age_kind { DBB_AGE_KIND_NONE = 0, DBB_AGE_KIND_BINARY, DBB_AGE_KIND_ARMORED };
enum dbb_age_kind dbb_age_sniff(const unsigned char *buf, size_t len);

#endif
