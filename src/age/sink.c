/* The age encryptor: a sink that writes the header, the payload nonce and
 * the STREAM chunks (ChaCha20-Poly1305 over 64 KiB) into the sink it wraps. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "age/internal.h"

static void nonce_next(unsigned char nonce[12])
{
	/* the 11-byte big-endian counter; byte 11 is the last-chunk flag */
	for (int i = 10; i >= 0; i--)
		if (++nonce[i] != 0)
			return;
}

/* Seals len bytes at in (the buffer itself, or the caller's bytes) as one
 * chunk into the buffer, and writes it to next. */
static dbb_code seal_chunk(struct dbb_age_sink *s, const unsigned char *in, size_t len, bool last,
                           struct dbb_error *err)
{
	if (last)
		s->nonce[11] = 1;
	/* ChaCha20 is a stream cipher: EVP also encrypts in place */
	if (!age_aead_seal(s->ctx, NULL, s->nonce, in, len, s->buf)) {
		s->failed = true;
		return dbb_fail(err, DBB_ERR_INTERNAL, "ChaCha20-Poly1305 encryption failed");
	}
	/* the buffer now holds ciphertext: nothing to wipe */
	dbb_code rc = dbb_sink_write(s->next, s->buf, len + DBB_AGE_TAG, err);
	s->have = 0;
	s->chunks++;
	nonce_next(s->nonce);
	if (rc)
		s->failed = true;
	return rc;
}

static dbb_code age_sink_write(struct dbb_sink *self, const void *data, size_t len,
                               struct dbb_error *err)
{
	struct dbb_age_sink *s = (struct dbb_age_sink *)self;
	const unsigned char *p = data;
	dbb_code rc;

	if (s->failed || s->finished)
		return dbb_fail(err, DBB_ERR_INTERNAL, "age sink written after %s",
		                s->failed ? "an error" : "finish");
	while (len > 0) {
		/* a full chunk goes out only once more bytes come: the last
		 * chunk may be full, and it must carry the flag */
		if (s->have == DBB_AGE_CHUNK) {
			rc = seal_chunk(s, s->buf, DBB_AGE_CHUNK, false, err);
			if (rc)
				return rc;
		}
		/* whole chunks with more after them: sealed from the caller's
		 * bytes, without a copy */
		if (s->have == 0 && len > DBB_AGE_CHUNK) {
			rc = seal_chunk(s, p, DBB_AGE_CHUNK, false, err);
			if (rc)
				return rc;
			p += DBB_AGE_CHUNK;
			len -= DBB_AGE_CHUNK;
			continue;
		}
		size_t n = DBB_AGE_CHUNK - s->have;
		if (n > len)
			n = len;
		memcpy(s->buf + s->have, p, n);
		s->have += n;
		p += n;
		len -= n;
	}
	return DBB_OK;
}

static dbb_code age_sink_finish(struct dbb_sink *self, struct dbb_error *err);
static void age_sink_free(struct dbb_sink *self);

/* Common part of both inits: file key, header (the stanzas come from
 * add_stanzas), MAC, payload nonce, payload key. */
typedef bool (*stanzas_fn)(const void *arg, const unsigned char file_key[16], struct age_buf *hdr);

static dbb_code sink_start(struct dbb_age_sink *s, struct dbb_sink *next, stanzas_fn add_stanzas,
                           const void *arg, struct dbb_error *err)
{
	unsigned char file_key[AGE_FILE_KEY_LEN], mac_key[32], mac[AGE_MAC_LEN],
	    nonce[AGE_NONCE_LEN];
	char mac64[48];
	struct age_buf hdr = {0};
	dbb_code rc = DBB_OK;

	s->next = next;
	s->ctx = EVP_CIPHER_CTX_new();
	s->buf = malloc(AGE_ENC_CHUNK);
	if (!s->ctx || !s->buf) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* a fresh file key and nonce from the CSPRNG for every file */
	if (!age_random(file_key, sizeof(file_key)) || !age_random(nonce, sizeof(nonce))) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "the random generator failed");
		goto out;
	}
	age_buf_add(&hdr, AGE_VERSION_LINE, strlen(AGE_VERSION_LINE));
	if (!add_stanzas(arg, file_key, &hdr)) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "cannot wrap the file key for a recipient");
		goto out;
	}
	age_buf_add(&hdr, "---", 3);
	if (hdr.oom || !age_hkdf(file_key, sizeof(file_key), NULL, 0, "header", mac_key) ||
	    !age_hmac(mac_key, hdr.p, hdr.len, mac) ||
	    !age_hkdf(file_key, sizeof(file_key), nonce, sizeof(nonce), "payload", s->key)) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "cannot compute the age header MAC or keys");
		goto out;
	}
	age_b64_raw_encode(mac, sizeof(mac), mac64);
	age_buf_add(&hdr, " ", 1);
	age_buf_add(&hdr, mac64, strlen(mac64));
	age_buf_add(&hdr, "\n", 1);
	age_buf_add(&hdr, nonce, sizeof(nonce));
	if (hdr.oom) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* the cipher and the payload key once; each chunk sets its nonce */
	if (EVP_EncryptInit_ex(s->ctx, EVP_chacha20_poly1305(), NULL, s->key, NULL) != 1) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "cannot start ChaCha20-Poly1305");
		goto out;
	}
	rc = dbb_sink_write(next, hdr.p, hdr.len, err);
out:
	OPENSSL_cleanse(file_key, sizeof(file_key));
	OPENSSL_cleanse(mac_key, sizeof(mac_key));
	age_buf_free(&hdr);
	return rc;
}

static bool x25519_stanzas(const void *arg, const unsigned char file_key[16], struct age_buf *hdr)
{
	const struct dbb_age_recipients *to = arg;

	for (size_t i = 0; i < to->n; i++)
		if (!age_x25519_wrap(&to->v[i], file_key, hdr))
			return false;
	return true;
}

/* A new layer over next, its header written by add_stanzas(arg). */
static dbb_code sink_new(struct dbb_sink *next, stanzas_fn add_stanzas, const void *arg,
                         struct dbb_sink **out, struct dbb_error *err)
{
	*out = NULL;
	struct dbb_age_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	s->base = (struct dbb_sink){
	    .write = age_sink_write, .finish = age_sink_finish, .free = age_sink_free};
	dbb_code rc = sink_start(s, next, add_stanzas, arg, err);
	if (rc) {
		age_sink_free(&s->base);
		return rc;
	}
	*out = &s->base;
	return DBB_OK;
}

dbb_code dbb_age_sink_new(struct dbb_sink *next, const struct dbb_age_recipients *to,
                          struct dbb_sink **out, struct dbb_error *err)
{
	*out = NULL;
	if (!to || to->n == 0)
		return dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "no age recipient to encrypt to");
	return sink_new(next, x25519_stanzas, to, out, err);
}

struct passphrase_arg {
	const void *pass;
	size_t len;
	unsigned log2n;
};

static bool scrypt_stanza(const void *arg, const unsigned char file_key[16], struct age_buf *hdr)
{
	const struct passphrase_arg *a = arg;

	return age_scrypt_wrap(a->pass, a->len, a->log2n, file_key, hdr);
}

dbb_code dbb_age_sink_new_passphrase(struct dbb_sink *next, const void *pass, size_t len,
                                     unsigned log2n, struct dbb_sink **out, struct dbb_error *err)
{
	struct passphrase_arg a = {pass, len, log2n ? log2n : DBB_AGE_SCRYPT_DEFAULT};

	*out = NULL;
	if (len == 0 || a.log2n > DBB_AGE_SCRYPT_MAX_LIMIT)
		return dbb_fail(err, DBB_ERR_INVALID_PARAMETER,
		                "empty passphrase or scrypt work factor above 2^%d",
		                DBB_AGE_SCRYPT_MAX_LIMIT);
	return sink_new(next, scrypt_stanza, &a, out, err);
}

static dbb_code age_sink_finish(struct dbb_sink *self, struct dbb_error *err)
{
	struct dbb_age_sink *s = (struct dbb_age_sink *)self;

	if (s->failed || s->finished || !s->buf)
		return dbb_fail(err, DBB_ERR_INTERNAL, "age sink finished %s",
		                s->finished ? "twice" : "after an error");
	/* the final chunk: empty only if the whole payload is */
	dbb_code rc = seal_chunk(s, s->buf, s->have, true, err);
	s->finished = true;
	return rc;
}

static void age_sink_free(struct dbb_sink *self)
{
	struct dbb_age_sink *s = (struct dbb_age_sink *)self;

	EVP_CIPHER_CTX_free(s->ctx);
	if (s->buf) {
		OPENSSL_cleanse(s->buf, AGE_ENC_CHUNK);
		free(s->buf);
	}
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}
