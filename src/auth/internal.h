/* Interfaces shared by the files of the auth module (src/auth only): base64url,
 * the parsed JWKS snapshot, the token verifier and the expected issuer. */
#ifndef DBBACKUPD_AUTH_INTERNAL_H
#define DBBACKUPD_AUTH_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "dbbackupd/auth.h"
#include "dbbackupd/config.h"
#include "dbbackupd/error.h"

/* Largest Authorization token accepted, and largest JWKS document. */
#define DBB_TOKEN_MAX      (16 * 1024)
#define DBB_JWT_HEADER_MAX 2048
#define DBB_JWKS_MAX       (1024 * 1024)

/* ---- base64url (RFC 4648 §5, no padding) ---- */

/* Decodes n characters of strict base64url (no padding, no other characters)
 * into out, which must hold at least n * 3 / 4 + 1 bytes. Returns false on a
 * character outside the alphabet, an impossible length or a non-canonical
 * spelling (unused bits of the last character not zero). */
bool dbb_b64url_decode(const char *in, size_t n, unsigned char *out, size_t *out_len);
/* True when s[0, n) is canonical base64url: the alphabet only, a possible
 * length, and the unused low bits of the last character zero, so that the
 * bytes it stands for have exactly one spelling. */
bool dbb_b64url_canonical(const char *s, size_t n);
/* Malloc'd, NUL-terminated encoding of n bytes; NULL when out of memory. */
char *dbb_b64url_encode(const unsigned char *in, size_t n);

/* ---- JWKS snapshots ---- */

enum dbb_kty { DBB_KTY_RSA, DBB_KTY_EC };

/* One verification key, converted once when the JWKS is loaded. */
struct dbb_jwk {
	char kid[128];
	enum dbb_kty kty;
	char alg[16];   /* the JWK's "alg", "" when it names none */
	int ec_bits;    /* EC: 256, 384 or 521 */
	EVP_PKEY *pkey; /* public key */
	char *pem;      /* the same key as SubjectPublicKeyInfo PEM, for libjwt */
	int pem_len;
};

/* An immutable set of verification keys. Readers hold a reference; the
 * owner swaps in a new snapshot and drops its reference, so a snapshot is
 * freed when the last request using it finishes. */
struct dbb_keyset {
	atomic_uint refs;
	uint64_t serial; /* unique to this snapshot (never 0): names it in the token cache */
	size_t n;
	struct dbb_jwk *keys;
	size_t skipped; /* keys ignored: use other than sig, unknown kty/alg/curve, too weak */
	time_t loaded_at;
};

/* Parses a JWKS document; keys other than signature keys are skipped (and
 * counted), a document that is not a JWKS is an error. refs starts at 1. */
dbb_code dbb_keyset_parse(const char *json, size_t len, struct dbb_keyset **out,
                          struct dbb_error *err);
struct dbb_keyset *dbb_keyset_ref(struct dbb_keyset *ks);
void dbb_keyset_unref(struct dbb_keyset *ks);

/* The base64url "n" and "e" of an RSA public key (malloc'd). */
dbb_code dbb_jwk_rsa_members(const EVP_PKEY *pkey, char **n, char **e, struct dbb_error *err);
/* RFC 7638 thumbprint of an RSA key, used as the kid of dev keys. */
dbb_code dbb_jwk_rsa_thumbprint(const char *n, const char *e, char *out, size_t out_size,
                                struct dbb_error *err);

/* ---- token verification ---- */

struct dbb_verify_params {
	const char *issuer;    /* exact iss */
	const char *client_id; /* accepted in aud or azp */
	bool realm_roles;      /* read realm_access.roles */
	bool client_roles;     /* read resource_access.<client_id>.roles */
	long skew;             /* seconds allowed on exp, nbf, iat */
	long max_lifetime;     /* exp - iat at most (without iat: exp - now) */
	time_t now;
};

/* Verifies a compact JWS against ks. DBB_ERR_INVALID_TOKEN with a short
 * reason on any failure; *unknown_kid tells the caller that a fresher key set
 * might know the token's key. On success *valid_until is the time from which
 * the token is expired (its exp plus the allowed skew). */
dbb_code dbb_jwt_verify(const struct dbb_keyset *ks, const char *token,
                        const struct dbb_verify_params *p, struct dbb_principal *who,
                        double *valid_until, bool *unknown_kid, struct dbb_error *err);

/* ---- cache of verified tokens (token_cache.c) ---- */

#define DBB_TOKEN_DIGEST_LEN  32 /* SHA-256 */
#define DBB_TOKEN_CACHE_SLOTS 512

struct dbb_token_cache_slot {
	unsigned char digest[DBB_TOKEN_DIGEST_LEN];
	uint64_t keyset_serial; /* 0: empty */
	double valid_until;
	struct dbb_principal who;
};

/* Direct-mapped by digest; a newer token evicts an older one in its slot. */
struct dbb_token_cache {
	pthread_mutex_t lock;
	struct dbb_token_cache_slot slots[DBB_TOKEN_CACHE_SLOTS];
};

void dbb_token_cache_init(struct dbb_token_cache *c);
void dbb_token_cache_destroy(struct dbb_token_cache *c);
/* SHA-256 of the token; false if OpenSSL fails (then do not use the cache). */
bool dbb_token_digest(const char *token, unsigned char digest[DBB_TOKEN_DIGEST_LEN]);
/* The principal of a token that verified against the key set numbered
 * keyset_serial and is not expired at now; false otherwise. */
bool dbb_token_cache_get(struct dbb_token_cache *c, const unsigned char *digest,
                         uint64_t keyset_serial, time_t now, struct dbb_principal *who);
void dbb_token_cache_put(struct dbb_token_cache *c, const unsigned char *digest,
                         uint64_t keyset_serial, double valid_until,
                         const struct dbb_principal *who);

/* The issuer a daemon configured by cfg expects (see auth.h). */
void dbb_auth_expected_issuer(const struct dbb_config *cfg, char *out, size_t out_size);

#endif
