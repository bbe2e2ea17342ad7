/* libFuzzer target: the age decryptor (src/age/), header parser, armor and
 * STREAM reader. The first byte picks the mode:
 *   bit 7 clear: the rest is a file, decrypted with the identities baked in
 *     below (the X25519 key of the spec's example, AGE-SECRET-KEY-1GFPYY...,
 *     and the passphrase "fuzz" with scrypt work factors up to 2^4); bits
 *     0-1 pick the input kind (detect, binary, armored, detect-or-plain),
 *     bits 2-6 the read size. Every failure must say why, and the plaintext
 *     must be whole chunks until the end.
 *   bit 7 set: the rest is a plan of STREAM chunks (lengths, final flags,
 *     truncation, trailing bytes) that the target seals with a real key
 *     under a valid header; the reader must accept it exactly when it is a
 *     valid STREAM (every chunk but the last full, only the last flagged,
 *     the last empty only if it is the only one, nothing cut or added),
 *     give the plaintext back then, and otherwise give out only a prefix of
 *     whole chunks before its error. Random bytes never get past a
 *     Poly1305 tag; this mode reaches what lies behind one.
 * Seeds: corpus/age/ (tests/fuzz/age_seeds.sh made them). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dbbackupd/age.h"

#include "../mem_source.h"
#include "age/internal.h"

static const unsigned char identity[32] = {
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42};

static struct dbb_age_identities ids;
static struct dbb_age_identity id;

static void setup(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	memcpy(id.secret, identity, 32);
	if (!age_x25519_base(id.secret, id.pub))
		abort();
	ids.v = &id;
	ids.n = 1;
	ids.passphrase = (unsigned char *)"fuzz";
	ids.passphrase_len = 4;
	ids.scrypt_max_log2n = 4;
}

/* Reads s to its end; the plaintext goes to out (up to cap) and *len. */
static dbb_code drain(struct dbb_source *s, unsigned char *out, size_t cap, size_t *len,
                      struct dbb_error *err)
{
	unsigned char buf[70000];
	size_t got = 0;
	dbb_code rc;

	*len = 0;
	for (;;) {
		rc = dbb_source_read(s, buf, sizeof(buf), &got, err);
		if (rc || got == 0)
			return rc;
		if (out && *len + got <= cap)
			memcpy(out + *len, buf, got);
		*len += got;
	}
}

static void file_mode(const uint8_t *data, size_t size)
{
	static const enum dbb_age_input kinds[4] = {DBB_AGE_INPUT_DETECT, DBB_AGE_INPUT_BINARY,
	                                            DBB_AGE_INPUT_ARMORED,
	                                            DBB_AGE_INPUT_DETECT_PLAIN};
	struct mem_source m = mem_source(data + 1, size - 1, (size_t)((data[0] >> 2) & 31) * 97);
	struct dbb_source *s = NULL;
	struct dbb_age_source_info info = {0};
	struct dbb_error err = {0};
	size_t len = 0;
	dbb_code rc =
	    dbb_age_source_new(&m.base, &ids, kinds[data[0] & 3], &s, &info.failure, &err);

	if (!rc)
		rc = drain(s, NULL, 0, &len, &err);
	if (s)
		dbb_age_source_info(s, &info);
	if (rc && err.message[0] == '\0')
		abort(); /* every failure says why */
	if (rc && info.encrypted && len % DBB_AGE_CHUNK != 0)
		abort(); /* only whole authenticated chunks before an error */
	if (rc && info.failure == DBB_AGE_FAIL_NONE)
		abort();
	dbb_source_free(s);
}

/* ---- STREAM plans ---- */
#define MAX_CHUNKS 4

struct plan {
	size_t n;
	size_t len[MAX_CHUNKS]; /* plaintext bytes of each chunk */
	bool last[MAX_CHUNKS];  /* the final flag in its nonce */
	size_t cut;             /* bytes cut off the end */
	size_t extra;           /* bytes added at the end */
};

static size_t take(const uint8_t **p, size_t *left, size_t bytes)
{
	size_t v = 0;
	for (size_t i = 0; i < bytes; i++) {
		v <<= 8;
		if (*left) {
			v |= **p;
			(*p)++;
			(*left)--;
		}
	}
	return v;
}

static void plan_read(struct plan *pl, const uint8_t *p, size_t left)
{
	pl->n = take(&p, &left, 1) % (MAX_CHUNKS + 1);
	for (size_t i = 0; i < pl->n; i++) {
		size_t v = take(&p, &left, 3);
		/* mostly full chunks, else any length up to one more than full */
		pl->len[i] = (v & 0x800000) ? (v & 0x1ffff) % (DBB_AGE_CHUNK + 2) : DBB_AGE_CHUNK;
		pl->last[i] = (v & 0x400000) ? (i + 1 == pl->n) : ((v >> 21) & 1);
	}
	size_t t = take(&p, &left, 1);
	pl->cut = (t & 0x80) ? take(&p, &left, 2) % 70000 : 0;
	pl->extra = (!pl->cut && (t & 0x40)) ? (t & 0x3f) + 1 : 0;
}

/* Whether the first k chunks, and nothing else, make a valid STREAM. */
static bool plan_valid(const struct plan *pl, size_t k)
{
	if (k == 0)
		return false;
	for (size_t i = 0; i < k; i++) {
		bool final = i + 1 == k;
		if (pl->last[i] != final || pl->len[i] > DBB_AGE_CHUNK)
			return false;
		if (!final && pl->len[i] != DBB_AGE_CHUNK)
			return false;
		if (final && pl->len[i] == 0 && k > 1)
			return false;
	}
	return true;
}

/* A chunk sealed with a length above DBB_AGE_CHUNK cannot be valid. */
static void plan_mode(const uint8_t *data, size_t size)
{
	struct plan pl = {0};
	unsigned char file_key[16] = {1, 2, 3}, nonce[16] = {4, 5, 6}, mac_key[32], mac[32],
	              key[32], cn[12] = {0};
	char mac64[48];
	struct age_buf f = {0};
	struct dbb_age_recipient r;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char *plain = NULL, *out = NULL, *chunk = NULL;
	size_t total = 0, len = 0;

	plan_read(&pl, data + 1, size - 1);
	memcpy(r.key, id.pub, 32);
	age_buf_add(&f, AGE_VERSION_LINE, strlen(AGE_VERSION_LINE));
	if (!ctx || !age_x25519_wrap(&r, file_key, &f))
		abort();
	age_buf_add(&f, "---", 3);
	if (!age_hkdf(file_key, 16, NULL, 0, "header", mac_key) ||
	    !age_hmac(mac_key, f.p, f.len, mac) ||
	    !age_hkdf(file_key, 16, nonce, 16, "payload", key))
		abort();
	age_b64_raw_encode(mac, 32, mac64);
	age_buf_add(&f, " ", 1);
	age_buf_add(&f, mac64, strlen(mac64));
	age_buf_add(&f, "\n", 1);
	age_buf_add(&f, nonce, 16);
	size_t hn = f.len; /* header and nonce */
	plain = malloc(MAX_CHUNKS * (DBB_AGE_CHUNK + 1) + 1);
	out = malloc(MAX_CHUNKS * (DBB_AGE_CHUNK + 1) + 1);
	chunk = malloc(DBB_AGE_CHUNK + 1 + DBB_AGE_TAG);
	if (!plain || !out || !chunk)
		abort();
	for (size_t i = 0; i < pl.n; i++) {
		memset(plain + total, (int)(i * 31 + 1), pl.len[i]); /* each its own byte */
		cn[10] = (unsigned char)i;
		cn[11] = pl.last[i] ? 1 : 0;
		if (!age_aead_seal(ctx, key, cn, plain + total, pl.len[i], chunk))
			abort();
		age_buf_add(&f, chunk, pl.len[i] + DBB_AGE_TAG);
		total += pl.len[i];
	}
	for (size_t i = 0; i < pl.extra; i++)
		age_buf_add(&f, "x", 1);
	if (f.oom)
		abort();
	size_t flen = f.len - (pl.cut < f.len ? pl.cut : f.len);
	/* what is left: the first k chunks whole, and nothing more? */
	bool valid = false;
	size_t k = 0, kept = 0;
	if (!pl.extra && flen >= hn) {
		size_t at = hn;
		while (k < pl.n && at + pl.len[k] + DBB_AGE_TAG <= flen) {
			at += pl.len[k] + DBB_AGE_TAG;
			kept += pl.len[k];
			k++;
		}
		valid = at == flen && plan_valid(&pl, k);
	}

	struct mem_source m = mem_source(f.p, flen, (size_t)data[0] & 0x7f);
	struct dbb_source *s = NULL;
	struct dbb_age_source_info info = {0};
	struct dbb_error err = {0};
	dbb_code rc =
	    dbb_age_source_new(&m.base, &ids, DBB_AGE_INPUT_BINARY, &s, &info.failure, &err);
	if (!rc)
		rc = drain(s, out, MAX_CHUNKS * (DBB_AGE_CHUNK + 1), &len, &err);
	if (s)
		dbb_age_source_info(s, &info);
	if (valid) {
		if (rc || len != kept || memcmp(out, plain, kept) != 0)
			abort(); /* a valid STREAM refused or garbled */
	} else {
		if (!rc)
			abort(); /* an invalid STREAM accepted */
		if (len % DBB_AGE_CHUNK != 0 || len > total || memcmp(out, plain, len) != 0)
			abort(); /* more than whole authenticated chunks given out */
		if (flen >= hn && info.failure != DBB_AGE_FAIL_PAYLOAD)
			abort(); /* with the header and nonce whole, a payload failure */
	}
	dbb_source_free(s);
	EVP_CIPHER_CTX_free(ctx);
	age_buf_free(&f);
	free(plain);
	free(out);
	free(chunk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size < 1)
		return 0;
	if (data[0] & 0x80)
		plan_mode(data, size);
	else
		file_mode(data, size);
	return 0;
}
