/* The X25519 and scrypt recipient stanzas: wrapping the file key for a
 * recipient, and finding the stanza an identity unwraps. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "age/internal.h"

#define X25519_LABEL "age-encryption.org/v1/X25519"
#define SCRYPT_LABEL "age-encryption.org/v1/scrypt"
#define SCRYPT_SALT  16

static const unsigned char zero_nonce[12];

/* body = ChaCha20-Poly1305(wrap key, zero nonce, file key) */
static bool seal_file_key(const unsigned char key[32], const unsigned char file_key[16],
                          unsigned char body[AGE_BODY_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	bool ok = ctx && age_aead_seal(ctx, key, zero_nonce, file_key, AGE_FILE_KEY_LEN, body);

	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

static bool open_file_key(const unsigned char key[32], const unsigned char body[AGE_BODY_LEN],
                          unsigned char file_key[16])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	bool ok = ctx && age_aead_open(ctx, key, zero_nonce, body, AGE_BODY_LEN, file_key);

	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

/* wrap key = HKDF(shared secret, ephemeral share || recipient, label) */
static bool x25519_wrap_key(const unsigned char shared[32], const unsigned char share[32],
                            const unsigned char recipient[32], unsigned char key[32])
{
	unsigned char salt[64];

	memcpy(salt, share, 32);
	memcpy(salt + 32, recipient, 32);
	return age_hkdf(shared, 32, salt, sizeof(salt), X25519_LABEL, key);
}

bool age_x25519_wrap(const struct dbb_age_recipient *r, const unsigned char file_key[16],
                     struct age_buf *hdr)
{
	unsigned char eph[32], share[32], shared[32], key[32], body[AGE_BODY_LEN];
	char share64[48];
	const char *args[1] = {share64};
	bool ok = false;

	/* a fresh ephemeral secret for each stanza of each file */
	if (!age_random(eph, sizeof(eph)) || !age_x25519_base(eph, share) ||
	    !age_x25519(eph, r->key, shared) || !x25519_wrap_key(shared, share, r->key, key) ||
	    !seal_file_key(key, file_key, body))
		goto out;
	age_b64_raw_encode(share, sizeof(share), share64);
	age_stanza_write(hdr, "X25519", args, 1, body, sizeof(body));
	ok = !hdr->oom;
out:
	OPENSSL_cleanse(eph, sizeof(eph));
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(key, sizeof(key));
	return ok;
}

static bool scrypt_wrap_key(const unsigned char *pass, size_t len, const unsigned char salt[16],
                            unsigned log2n, unsigned char key[32])
{
	unsigned char s[sizeof(SCRYPT_LABEL) - 1 + SCRYPT_SALT];

	memcpy(s, SCRYPT_LABEL, sizeof(SCRYPT_LABEL) - 1);
	memcpy(s + sizeof(SCRYPT_LABEL) - 1, salt, SCRYPT_SALT);
	return age_scrypt(pass, len, s, sizeof(s), log2n, key);
}

bool age_scrypt_wrap(const unsigned char *pass, size_t len, unsigned log2n,
                     const unsigned char file_key[16], struct age_buf *hdr)
{
	unsigned char salt[SCRYPT_SALT], key[32], body[AGE_BODY_LEN];
	char salt64[32], wf[16];
	const char *args[2] = {salt64, wf};
	bool ok = false;

	if (!age_random(salt, sizeof(salt)) || !scrypt_wrap_key(pass, len, salt, log2n, key) ||
	    !seal_file_key(key, file_key, body))
		goto out;
	age_b64_raw_encode(salt, sizeof(salt), salt64);
	snprintf(wf, sizeof(wf), "%u", log2n);
	age_stanza_write(hdr, "scrypt", args, 2, body, sizeof(body));
	ok = !hdr->oom;
out:
	OPENSSL_cleanse(key, sizeof(key));
	return ok;
}

/* One X25519 stanza for one identity. */
static enum age_unwrap x25519_unwrap(const struct age_stanza *s, const struct dbb_age_identity *id,
                                     unsigned char file_key[16], char *msg, size_t cap)
{
	unsigned char share[48], shared[32], key[32];
	size_t got = 0;
	enum age_unwrap rc = AGE_UNWRAP_BAD;

	if (s->nargs != 1) {
		snprintf(msg, cap, "X25519 stanza with %zu arguments instead of 1", s->nargs);
		return rc;
	}
	if (strlen(s->args[0]) > 44 ||
	    !age_b64_raw_decode(s->args[0], strlen(s->args[0]), share, &got) || got != 32) {
		snprintf(msg, cap, "X25519 stanza share is not 32 bytes of canonical base64");
		return rc;
	}
	if (s->body_len != AGE_BODY_LEN) {
		snprintf(msg, cap, "X25519 stanza body is %zu bytes instead of 32", s->body_len);
		return rc;
	}
	if (!age_x25519(id->secret, share, shared)) {
		snprintf(msg, cap, "X25519 stanza share is a low-order point");
		return rc;
	}
	if (!x25519_wrap_key(shared, share, id->pub, key))
		snprintf(msg, cap, "HKDF failed");
	else if (open_file_key(key, s->body, file_key))
		rc = AGE_UNWRAP_OK;
	else
		rc = AGE_UNWRAP_NO_MATCH;
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* ^[1-9][0-9]*$, at most max */
static bool parse_work_factor(const char *w, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (w[0] < '1' || w[0] > '9')
		return false;
	for (const char *p = w; *p; p++) {
		if (*p < '0' || *p > '9' || v > 1000)
			return false;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static enum age_unwrap scrypt_unwrap(const struct age_stanza *s,
                                     const struct dbb_age_identities *ids,
                                     unsigned char file_key[16], char *msg, size_t cap)
{
	unsigned char salt[24], key[32];
	size_t got = 0;
	unsigned log2n = 0,
	         max = ids->scrypt_max_log2n ? ids->scrypt_max_log2n : DBB_AGE_SCRYPT_MAX_DEFAULT;
	enum age_unwrap rc = AGE_UNWRAP_BAD;

	if (max > DBB_AGE_SCRYPT_MAX_LIMIT)
		max = DBB_AGE_SCRYPT_MAX_LIMIT;
	if (s->nargs != 2) {
		snprintf(msg, cap, "scrypt stanza with %zu arguments instead of 2", s->nargs);
		return rc;
	}
	if (strlen(s->args[0]) > 24 ||
	    !age_b64_raw_decode(s->args[0], strlen(s->args[0]), salt, &got) || got != SCRYPT_SALT) {
		snprintf(msg, cap, "scrypt stanza salt is not 16 bytes of canonical base64");
		return rc;
	}
	if (!parse_work_factor(s->args[1], 1000, &log2n)) {
		snprintf(msg, cap, "scrypt work factor is not a decimal number");
		return rc;
	}
	if (log2n > max) {
		snprintf(msg, cap, "scrypt work factor 2^%u is above the limit 2^%u", log2n, max);
		return rc;
	}
	if (s->body_len != AGE_BODY_LEN) {
		snprintf(msg, cap, "scrypt stanza body is %zu bytes instead of 32", s->body_len);
		return rc;
	}
	if (!scrypt_wrap_key(ids->passphrase, ids->passphrase_len, salt, log2n, key))
		snprintf(msg, cap, "scrypt failed (out of memory?)");
	else if (open_file_key(key, s->body, file_key))
		rc = AGE_UNWRAP_OK;
	else
		rc = AGE_UNWRAP_NO_MATCH;
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

enum age_unwrap age_unwrap(const struct age_header *h, const struct dbb_age_identities *ids,
                           unsigned char file_key[16], size_t *matched, char *msg, size_t cap)
{
	enum age_unwrap rc;

	/* An scrypt stanza must be alone in the header. The spec asks this of
	 * passphrase identities; we refuse such a header whatever the
	 * identities: no encoder makes one. */
	for (size_t i = 0; i < h->n; i++) {
		if (strcmp(h->stanzas[i].type, "scrypt") == 0 && h->n != 1) {
			snprintf(msg, cap, "an scrypt stanza must be the only stanza");
			return AGE_UNWRAP_BAD;
		}
	}
	for (size_t k = 0; k < ids->n; k++) {
		for (size_t i = 0; i < h->n; i++) {
			if (strcmp(h->stanzas[i].type, "X25519") != 0)
				continue;
			rc = x25519_unwrap(&h->stanzas[i], &ids->v[k], file_key, msg, cap);
			if (rc == AGE_UNWRAP_NO_MATCH)
				continue;
			*matched = k;
			return rc;
		}
	}
	if (ids->passphrase && h->n == 1 && strcmp(h->stanzas[0].type, "scrypt") == 0) {
		rc = scrypt_unwrap(&h->stanzas[0], ids, file_key, msg, cap);
		*matched = SIZE_MAX;
		if (rc != AGE_UNWRAP_NO_MATCH)
			return rc;
		snprintf(msg, cap, "wrong passphrase");
		return rc;
	}
	snprintf(msg, cap, "no identity matches any of the file's %zu recipient stanza(s)", h->n);
	return AGE_UNWRAP_NO_MATCH;
}
