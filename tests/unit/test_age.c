/* Unit tests of the age layers (src/age/): keys and their encodings, round
 * trips through the encrypting sink and the decrypting source at the sizes
 * around the 64 KiB chunk, several recipients, passphrases, wrong keys,
 * every flipped byte, truncation at every chunk boundary, trailing data,
 * the armor, and the key files. The community vectors and Debian's age are
 * tests/age/ (label age). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dbbackupd/age.h"

#include "../mem_source.h"
#include "age/internal.h"
#include "check.h"

/* ---- a sink into memory ---- */
struct mem_sink {
	struct dbb_sink base;
	unsigned char *p;
	size_t len, cap;
};

static dbb_code mem_sink_write(struct dbb_sink *self, const void *buf, size_t len,
                               struct dbb_error *err)
{
	struct mem_sink *m = (struct mem_sink *)self;
	(void)err;
	if (m->len + len > m->cap) {
		size_t cap = m->cap ? m->cap : 4096;
		while (cap < m->len + len)
			cap *= 2;
		m->p = realloc(m->p, cap);
		if (!m->p)
			abort();
		m->cap = cap;
	}
	memcpy(m->p + m->len, buf, len);
	m->len += len;
	return DBB_OK;
}

static struct mem_sink mem_sink(void)
{
	return (struct mem_sink){.base.write = mem_sink_write};
}

static unsigned char *pattern(size_t n, unsigned seed)
{
	unsigned char *p = malloc(n ? n : 1);
	unsigned x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (unsigned char)(x >> 16);
	}
	return p;
}

/* Encrypts data to rs (or the passphrase if pass), written in pieces of step. */
static struct mem_sink encrypt(const struct dbb_age_recipients *rs, const char *pass,
                               const unsigned char *data, size_t n, size_t step)
{
	struct mem_sink out = mem_sink();
	struct dbb_sink *s = NULL;
	struct dbb_error err = {0};
	dbb_code rc = pass ? dbb_age_sink_new_passphrase(&out.base, pass, strlen(pass), 4, &s, &err)
	                   : dbb_age_sink_new(&out.base, rs, &s, &err);
	CHECK(rc == DBB_OK);
	for (size_t off = 0; !rc && off < n; off += step) {
		size_t k = n - off < step ? n - off : step;
		rc = dbb_sink_write(s, data + off, k, &err);
	}
	CHECK(rc == DBB_OK);
	CHECK(dbb_sink_finish(s, &err) == DBB_OK);
	CHECK(dbb_sink_finish(s, &err) == DBB_ERR_INTERNAL); /* twice: refused */
	dbb_sink_free(s);
	return out;
}

struct result {
	dbb_code rc;
	enum dbb_age_failure failure;
	unsigned char *plain;
	size_t len;
};

static struct result decrypt(const struct dbb_age_identities *ids, const unsigned char *file,
                             size_t n, size_t step, enum dbb_age_input input)
{
	struct mem_source m = mem_source(file, n, step);
	struct mem_sink out = mem_sink();
	struct dbb_source *s = NULL;
	struct dbb_age_source_info info = {0};
	struct dbb_error err = {0};
	struct result r = {0};
	/* reads of a whole chunk or more take the decryptor's direct path */
	static unsigned char buf[100000];
	size_t got = 0, cap = step == 0 ? sizeof(buf) : 50000;

	r.rc = dbb_age_source_new(&m.base, ids, input, &s, &info.failure, &err);
	CHECK(!r.rc == (s != NULL));
	while (!r.rc) {
		r.rc = dbb_source_read(s, buf, cap, &got, &err);
		if (r.rc || got == 0)
			break;
		mem_sink_write(&out.base, buf, got, NULL);
	}
	if (r.rc)
		CHECK(err.message[0] != '\0');
	if (s)
		dbb_age_source_info(s, &info);
	if (r.rc && info.failure != DBB_AGE_FAIL_IO)
		CHECK(r.rc == DBB_ERR_INVALID_BACKUP);
	r.failure = info.failure;
	dbb_source_free(s);
	r.plain = out.p;
	r.len = out.len;
	return r;
}

static bool same(const struct result *r, const unsigned char *data, size_t n)
{
	return r->rc == DBB_OK && r->len == n && (n == 0 || memcmp(r->plain, data, n) == 0);
}

static size_t header_len(const unsigned char *f, size_t n)
{
	return age_header_end((const char *)f, n);
}

/* ---- the spec's example keys (age-encryption.org/v1, X25519 type) ---- */
static void test_known_keys(void)
{
	const char *sk =
	    "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
	const char *pk = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";
	struct dbb_age_identity id;
	struct dbb_age_recipient r, r2;
	struct dbb_error err = {0};
	char s[DBB_AGE_IDENTITY_LEN + 1], p[DBB_AGE_RECIPIENT_LEN + 1];

	CHECK(dbb_age_identity_parse(sk, strlen(sk), &id, &err) == DBB_OK);
	for (int i = 0; i < 32; i++)
		CHECK(id.secret[i] == 0x42);
	dbb_age_identity_recipient(&id, &r);
	dbb_age_recipient_format(&r, p);
	CHECK_STR(p, pk);
	CHECK(strlen(p) == DBB_AGE_RECIPIENT_LEN);
	dbb_age_identity_format(&id, s);
	CHECK_STR(s, sk);
	CHECK(strlen(s) == DBB_AGE_IDENTITY_LEN);
	CHECK(dbb_age_recipient_parse(pk, strlen(pk), &r2, &err) == DBB_OK);
	CHECK(memcmp(r.key, r2.key, 32) == 0);

	/* what Bech32 and age refuse */
	char bad[128];
	snprintf(bad, sizeof(bad), "%s", pk);
	bad[10] = bad[10] == 'q' ? 'p' : 'q'; /* checksum */
	CHECK(dbb_age_recipient_parse(bad, strlen(bad), &r2, &err) == DBB_ERR_INVALID_PARAMETER);
	snprintf(bad, sizeof(bad), "%s", pk);
	bad[5] = 'V'; /* mixed case */
	CHECK(dbb_age_recipient_parse(bad, strlen(bad), &r2, &err) != DBB_OK);
	for (size_t i = 0; i < strlen(pk); i++)
		bad[i] = (char)(pk[i] >= 'a' && pk[i] <= 'z' ? pk[i] - 32 : pk[i]);
	bad[strlen(pk)] = '\0'; /* all uppercase: the hrp is then AGE, not age */
	CHECK(dbb_age_recipient_parse(bad, strlen(bad), &r2, &err) != DBB_OK);
	CHECK(dbb_age_recipient_parse(pk, strlen(pk) - 1, &r2, &err) != DBB_OK);
	for (size_t i = 0; i < strlen(sk); i++)
		bad[i] = (char)(sk[i] >= 'A' && sk[i] <= 'Z' ? sk[i] + 32 : sk[i]);
	bad[strlen(sk)] = '\0'; /* lowercase identity: age refuses it too */
	CHECK(dbb_age_identity_parse(bad, strlen(bad), &id, &err) != DBB_OK);
	CHECK(strstr(err.message, "GFPYY") == NULL); /* never quotes a key */
	CHECK(dbb_age_recipient_parse(sk, strlen(sk), &r2, &err) != DBB_OK);
	CHECK(dbb_age_identity_parse(pk, strlen(pk), &id, &err) != DBB_OK);
	/* a 31-byte key, well encoded, is not a key */
	unsigned char k31[31] = {1};
	CHECK(age_bech32_encode("age", k31, sizeof(k31), false, bad, sizeof(bad)));
	CHECK(dbb_age_recipient_parse(bad, strlen(bad), &r2, &err) != DBB_OK);
	/* non-zero padding bits: the last data character before the checksum
	 * of a 32-byte key carries 4 bits of padding */
	unsigned char data[40];
	size_t n = 0;
	CHECK(age_bech32_decode(pk, strlen(pk), bad, sizeof(bad), data, sizeof(data), &n) &&
	      n == 32);
	CHECK(!age_bech32_decode("a1qqqqqq", 7, bad, sizeof(bad), data, sizeof(data), &n));
	CHECK(!age_bech32_decode("1qqqqqqq", 8, bad, sizeof(bad), data, sizeof(data), &n));
}

static void test_base64(void)
{
	unsigned char out[64];
	size_t n = 0;
	char enc[80];

	CHECK(age_b64_raw_decode("AA", 2, out, &n) && n == 1 && out[0] == 0);
	CHECK(!age_b64_raw_decode("AB", 2, out, &n)); /* non-zero unused bits */
	CHECK(!age_b64_raw_decode("A", 1, out, &n));
	CHECK(!age_b64_raw_decode("AA==", 4, out, &n)); /* padding */
	CHECK(!age_b64_raw_decode("AA\n", 3, out, &n));
	CHECK(!age_b64_raw_decode("A A", 3, out, &n));
	CHECK(!age_b64_raw_decode("AAA-", 4, out, &n)); /* base64url */
	CHECK(age_b64_raw_decode("", 0, out, &n) && n == 0);
	CHECK(age_b64_raw_decode("AAE", 3, out, &n) && n == 2 && out[1] == 1);
	CHECK(!age_b64_raw_decode("AAF", 3, out, &n));
	CHECK(age_b64_padded_decode("AA==", 4, out, &n) && n == 1);
	CHECK(!age_b64_padded_decode("AB==", 4, out, &n));
	CHECK(!age_b64_padded_decode("AA", 2, out, &n));
	CHECK(!age_b64_padded_decode("A===", 4, out, &n));
	CHECK(!age_b64_padded_decode("AA=A", 4, out, &n));
	CHECK(age_b64_padded_decode("AAECAwQF", 8, out, &n) && n == 6 && out[5] == 5);
	unsigned char in[48];
	for (int i = 0; i < 48; i++)
		in[i] = (unsigned char)(i * 7);
	for (size_t k = 0; k <= 48; k++) {
		age_b64_raw_encode(in, k, enc);
		CHECK(strlen(enc) == age_b64_raw_len(k));
		CHECK(strchr(enc, '=') == NULL);
		CHECK(age_b64_raw_decode(enc, strlen(enc), out, &n) && n == k &&
		      memcmp(in, out, k) == 0);
	}
}

static void keys(struct dbb_age_identities *ids, struct dbb_age_recipients *rs, size_t n)
{
	struct dbb_error err = {0};
	for (size_t i = 0; i < n; i++) {
		struct dbb_age_identity id;
		char s[DBB_AGE_IDENTITY_LEN + 1], p[DBB_AGE_RECIPIENT_LEN + 1];
		struct dbb_age_recipient r;
		CHECK(dbb_age_keygen(&id, &err) == DBB_OK);
		dbb_age_identity_format(&id, s);
		CHECK(dbb_age_identities_parse_file_text(ids, s, strlen(s), &err) == DBB_OK);
		dbb_age_identity_recipient(&id, &r);
		dbb_age_recipient_format(&r, p);
		CHECK(dbb_age_recipients_parse_list(rs, p, &err) == DBB_OK);
	}
}

static void test_round_trips(void)
{
	struct dbb_age_identities ids = {0};
	struct dbb_age_recipients rs = {0};
	const size_t sizes[] = {0,
	                        1,
	                        100,
	                        DBB_AGE_CHUNK - 1,
	                        DBB_AGE_CHUNK,
	                        DBB_AGE_CHUNK + 1,
	                        2 * DBB_AGE_CHUNK,
	                        5 * 1024 * 1024 + 7};
	const size_t steps[] = {1000, 7, DBB_AGE_CHUNK, 1 << 20};

	keys(&ids, &rs, 1);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		unsigned char *data = pattern(n, (unsigned)i);
		/* small writes and reads only on the small sizes */
		size_t wstep = steps[i % 4] < 100 && n > 200000 ? 4096 : steps[i % 4];
		struct mem_sink f = encrypt(&rs, NULL, data, n, wstep);
		size_t chunks = n == 0 ? 1 : (n + DBB_AGE_CHUNK - 1) / DBB_AGE_CHUNK;
		size_t h = header_len(f.p, f.len);
		/* the exact size: header, nonce, plaintext, one tag a chunk */
		CHECK(h > 0 && f.len == h + 16 + n + chunks * DBB_AGE_TAG);
		CHECK(memcmp(f.p, "age-encryption.org/v1\n-> X25519 ", 32) == 0);
		for (size_t k = 0; k < 3; k++) {
			size_t rstep = k == 0 ? 0 : k == 1 ? 4093 : 1;
			if (rstep == 1 && n > 200000)
				continue;
			struct result r = decrypt(&ids, f.p, f.len, rstep, DBB_AGE_INPUT_DETECT);
			CHECK(same(&r, data, n));
			free(r.plain);
		}
		free(f.p);
		free(data);
	}
	dbb_age_identities_free(&ids);
	dbb_age_identities_free(&ids);
	dbb_age_recipients_free(&rs);
}

static void test_recipients(void)
{
	struct dbb_age_identities ids = {0}, other = {0}, empty = {0};
	struct dbb_age_recipients rs = {0}, ors = {0};
	unsigned char *data = pattern(70000, 3);

	keys(&ids, &rs, 3);
	keys(&other, &ors, 1);
	struct mem_sink f = encrypt(&rs, NULL, data, 70000, 70000);
	/* three stanzas, each 43 columns of share and 43 of body */
	const char *p = (const char *)f.p;
	int stanzas = 0;
	for (const char *q = strstr(p, "\n-> X25519 "); q && q < p + header_len(f.p, f.len);
	     q = strstr(q + 1, "\n-> X25519 "))
		stanzas++;
	CHECK(stanzas == 3);
	for (size_t i = 0; i < 3; i++) {
		struct dbb_age_identities one = {.v = &ids.v[i], .n = 1};
		struct result r = decrypt(&one, f.p, f.len, 0, DBB_AGE_INPUT_BINARY);
		CHECK(same(&r, data, 70000));
		free(r.plain);
	}
	struct result r = decrypt(&other, f.p, f.len, 0, DBB_AGE_INPUT_BINARY);
	CHECK(r.rc == DBB_ERR_INVALID_BACKUP && r.failure == DBB_AGE_FAIL_NO_MATCH && r.len == 0);
	free(r.plain);
	r = decrypt(&empty, f.p, f.len, 0, DBB_AGE_INPUT_DETECT);
	CHECK(r.rc == DBB_ERR_INVALID_BACKUP && r.failure == DBB_AGE_FAIL_NO_IDENTITY);
	free(r.plain);
	r = decrypt(NULL, f.p, f.len, 0, DBB_AGE_INPUT_DETECT);
	CHECK(r.failure == DBB_AGE_FAIL_NO_IDENTITY);
	free(r.plain);
	/* the wrong identity first, the right one second */
	struct dbb_age_identities both = {0};
	struct dbb_error err = {0};
	char s[DBB_AGE_IDENTITY_LEN + 1], text[300];
	dbb_age_identity_format(&other.v[0], s);
	snprintf(text, sizeof(text), "# two keys\n%s\n", s);
	dbb_age_identity_format(&ids.v[2], s);
	snprintf(text + strlen(text), sizeof(text) - strlen(text), "\n%s\r\n", s);
	CHECK(dbb_age_identities_parse_file_text(&both, text, strlen(text), &err) == DBB_OK);
	CHECK(both.n == 2);
	r = decrypt(&both, f.p, f.len, 0, DBB_AGE_INPUT_BINARY);
	CHECK(same(&r, data, 70000));
	free(r.plain);
	struct dbb_source *src = NULL;
	struct dbb_age_source_info info;
	struct mem_source m = mem_source(f.p, f.len, 0);
	CHECK(dbb_age_source_new(&m.base, &both, DBB_AGE_INPUT_BINARY, &src, NULL, &err) == DBB_OK);
	dbb_age_source_info(src, &info);
	CHECK(info.encrypted && !info.armored);
	CHECK(memcmp(info.from.key, ids.v[2].pub, 32) == 0); /* who it was for */
	dbb_source_free(src);

	/* no recipients: refused */
	struct mem_sink out = mem_sink();
	struct dbb_sink *sink = NULL;
	struct dbb_age_recipients none = {0};
	CHECK(dbb_age_sink_new(&out.base, &none, &sink, &err) == DBB_ERR_INVALID_PARAMETER);
	CHECK(sink == NULL);
	CHECK(out.len == 0);

	dbb_age_identities_free(&both);
	dbb_age_identities_free(&ids);
	dbb_age_identities_free(&other);
	dbb_age_recipients_free(&rs);
	dbb_age_recipients_free(&ors);
	free(f.p);
	free(data);
}

static void test_passphrase(void)
{
	struct dbb_age_identities ids = {0}, wrong = {0}, low = {0};
	struct dbb_error err = {0};
	unsigned char *data = pattern(100000, 5);

	CHECK(dbb_age_identities_set_passphrase(&ids, "hunter2", 7, &err) == DBB_OK);
	CHECK(dbb_age_identities_set_passphrase(&wrong, "hunter3", 7, &err) == DBB_OK);
	CHECK(dbb_age_identities_set_passphrase(&low, "hunter2", 7, &err) == DBB_OK);
	CHECK(dbb_age_identities_set_passphrase(&low, "", 0, &err) == DBB_ERR_INVALID_PARAMETER);
	low.scrypt_max_log2n = 3;
	struct mem_sink f = encrypt(NULL, "hunter2", data, 100000, 4096);
	CHECK(memcmp(f.p, "age-encryption.org/v1\n-> scrypt ", 32) == 0);
	CHECK(strstr((const char *)f.p, " 4\n") != NULL); /* the work factor */
	struct result r = decrypt(&ids, f.p, f.len, 0, DBB_AGE_INPUT_DETECT);
	CHECK(same(&r, data, 100000));
	free(r.plain);
	r = decrypt(&wrong, f.p, f.len, 0, DBB_AGE_INPUT_DETECT);
	CHECK(r.failure == DBB_AGE_FAIL_NO_MATCH);
	free(r.plain);
	/* above the work factor limit: refused before any scrypt */
	r = decrypt(&low, f.p, f.len, 0, DBB_AGE_INPUT_DETECT);
	CHECK(r.failure == DBB_AGE_FAIL_HEADER);
	free(r.plain);
	/* X25519 identities do not open a passphrase file */
	struct dbb_age_identities x = {0};
	struct dbb_age_recipients xr = {0};
	keys(&x, &xr, 1);
	r = decrypt(&x, f.p, f.len, 0, DBB_AGE_INPUT_DETECT);
	CHECK(r.failure == DBB_AGE_FAIL_NO_MATCH);
	free(r.plain);
	/* and a passphrase does not open an X25519 file */
	struct mem_sink g = encrypt(&xr, NULL, data, 10, 10);
	r = decrypt(&ids, g.p, g.len, 0, DBB_AGE_INPUT_DETECT);
	CHECK(r.failure == DBB_AGE_FAIL_NO_MATCH);
	free(r.plain);
	free(g.p);
	dbb_age_identities_free(&x);
	dbb_age_recipients_free(&xr);
	dbb_age_identities_free(&ids);
	dbb_age_identities_free(&wrong);
	dbb_age_identities_free(&low);
	free(f.p);
	free(data);
}

/* Every byte of a small file flipped: never a success. Header bytes give
 * header, no-match or HMAC failures; the MAC an HMAC (or header) failure;
 * the nonce and payload payload failures. */
static void test_flipped_bytes(void)
{
	struct dbb_age_identities ids = {0};
	struct dbb_age_recipients rs = {0};
	unsigned char *data = pattern(300, 9);

	keys(&ids, &rs, 1);
	struct mem_sink f = encrypt(&rs, NULL, data, 300, 300);
	size_t h = header_len(f.p, f.len);
	const char *mac = strstr((const char *)f.p, "\n--- ");
	size_t mac_at = (size_t)(mac - (const char *)f.p) + 5;
	int successes = 0, payload = 0, hmac = 0;
	for (size_t i = 0; i < f.len; i++) {
		for (unsigned bit = 0; bit < 8; bit += 7) {
			f.p[i] ^= (unsigned char)(1u << bit);
			struct result r = decrypt(&ids, f.p, f.len, 0, DBB_AGE_INPUT_BINARY);
			f.p[i] ^= (unsigned char)(1u << bit);
			if (r.rc == DBB_OK)
				successes++;
			if (i >= h) {
				CHECK(r.failure == DBB_AGE_FAIL_PAYLOAD);
				payload += r.failure == DBB_AGE_FAIL_PAYLOAD;
				CHECK(r.len == 0); /* one chunk: nothing given out */
			}
			if (i >= mac_at && i < mac_at + 42 && bit == 0)
				hmac += r.failure == DBB_AGE_FAIL_HMAC;
			free(r.plain);
		}
	}
	CHECK(successes == 0);
	CHECK(payload == (int)(2 * (f.len - h)));
	CHECK(hmac > 30); /* most MAC characters stay canonical when flipped */
	dbb_age_identities_free(&ids);
	dbb_age_recipients_free(&rs);
	free(f.p);
	free(data);
}

/* Cut anywhere near a chunk boundary: an error, never a clean end, and
 * only authenticated whole chunks given out before it. */
static void test_truncation(void)
{
	struct dbb_age_identities ids = {0};
	struct dbb_age_recipients rs = {0};
	const size_t n = 3 * DBB_AGE_CHUNK + 1000;
	unsigned char *data = pattern(n, 11);

	keys(&ids, &rs, 1);
	struct mem_sink f = encrypt(&rs, NULL, data, n, 65000);
	size_t h = header_len(f.p, f.len);
	size_t cuts[64], nc = 0;
	for (size_t k = 0; k <= 4; k++) {
		size_t b = h + 16 + k * (DBB_AGE_CHUNK + DBB_AGE_TAG);
		for (int d = -17; d <= 17; d += (d == -1 || d == 0) ? 1 : 8)
			if ((long)b + d >= 0 && (size_t)((long)b + d) < f.len)
				cuts[nc++] = (size_t)((long)b + d);
	}
	cuts[nc++] = 0;
	cuts[nc++] = h - 1;
	cuts[nc++] = h;
	cuts[nc++] = h + 15;
	cuts[nc++] = f.len - 1;
	for (size_t i = 0; i < nc; i++) {
		struct result r = decrypt(&ids, f.p, cuts[i], 4093, DBB_AGE_INPUT_BINARY);
		CHECK(r.rc == DBB_ERR_INVALID_BACKUP);
		if (cuts[i] < h + 16)
			CHECK(r.failure == DBB_AGE_FAIL_HEADER);
		else
			CHECK(r.failure == DBB_AGE_FAIL_PAYLOAD);
		CHECK(r.len % DBB_AGE_CHUNK == 0 && r.len < n);
		CHECK(r.len == 0 || memcmp(r.plain, data, r.len) == 0);
		free(r.plain);
	}
	/* trailing data after a valid file: all of it given out, then an error */
	unsigned char *longer = malloc(f.len + 1);
	memcpy(longer, f.p, f.len);
	longer[f.len] = 0;
	struct result r = decrypt(&ids, longer, f.len + 1, 0, DBB_AGE_INPUT_BINARY);
	CHECK(r.rc == DBB_ERR_INVALID_BACKUP && r.failure == DBB_AGE_FAIL_PAYLOAD);
	free(r.plain);
	free(longer);

	/* a full final chunk, then trailing data */
	struct mem_sink g = encrypt(&rs, NULL, data, DBB_AGE_CHUNK, 4096);
	longer = malloc(g.len + 3);
	memcpy(longer, g.p, g.len);
	memcpy(longer + g.len, "abc", 3);
	r = decrypt(&ids, longer, g.len + 3, 0, DBB_AGE_INPUT_BINARY);
	CHECK(r.rc == DBB_ERR_INVALID_BACKUP && r.failure == DBB_AGE_FAIL_PAYLOAD);
	free(r.plain);
	free(longer);
	free(g.p);

	/* a sink never finished: its file is refused */
	struct mem_sink out = mem_sink();
	struct dbb_sink *s = NULL;
	struct dbb_error err = {0};
	CHECK(dbb_age_sink_new(&out.base, &rs, &s, &err) == DBB_OK);
	CHECK(dbb_sink_write(s, data, 2 * DBB_AGE_CHUNK + 5, &err) == DBB_OK);
	dbb_sink_free(s);
	r = decrypt(&ids, out.p, out.len, 0, DBB_AGE_INPUT_BINARY);
	CHECK(r.failure == DBB_AGE_FAIL_PAYLOAD && r.len == 2 * DBB_AGE_CHUNK);
	free(r.plain);
	free(out.p);

	dbb_age_identities_free(&ids);
	dbb_age_recipients_free(&rs);
	free(f.p);
	free(data);
}

/* Armors a file as age -a does: 64 columns, padded base64. */
static char *armor(const unsigned char *p, size_t n, const char *eol, const char *before,
                   const char *after)
{
	size_t cap = n * 2 + 200 + strlen(before) + strlen(after), o = 0;
	char *s = malloc(cap);
	o +=
	    (size_t)snprintf(s + o, cap - o, "%s-----BEGIN AGE ENCRYPTED FILE-----%s", before, eol);
	for (size_t off = 0; off < n; off += 48) {
		size_t k = n - off < 48 ? n - off : 48;
		age_b64_padded_encode(p + off, k, s + o);
		o += strlen(s + o);
		o += (size_t)snprintf(s + o, cap - o, "%s", eol);
	}
	snprintf(s + o, cap - o, "-----END AGE ENCRYPTED FILE-----%s%s", eol, after);
	return s;
}

static void test_armor(void)
{
	struct dbb_age_identities ids = {0};
	struct dbb_age_recipients rs = {0};
	const size_t sizes[] = {0, 1, 47, 48 * 1000, DBB_AGE_CHUNK + 1};

	keys(&ids, &rs, 1);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *data = pattern(sizes[i], 13);
		struct mem_sink f = encrypt(&rs, NULL, data, sizes[i], 1000);
		char *a = armor(f.p, f.len, "\n", "", "");
		struct result r =
		    decrypt(&ids, (unsigned char *)a, strlen(a), 0, DBB_AGE_INPUT_DETECT);
		CHECK(same(&r, data, sizes[i]));
		free(r.plain);
		r = decrypt(&ids, (unsigned char *)a, strlen(a), 1, DBB_AGE_INPUT_ARMORED);
		CHECK(sizes[i] > 1000 || same(&r, data, sizes[i]));
		free(r.plain);
		r = decrypt(&ids, (unsigned char *)a, strlen(a), 0, DBB_AGE_INPUT_BINARY);
		CHECK(r.failure == DBB_AGE_FAIL_HEADER);
		free(r.plain);
		free(a);
		a = armor(f.p, f.len, "\r\n", " \n\t\n", "\n  \n");
		r = decrypt(&ids, (unsigned char *)a, strlen(a), 0, DBB_AGE_INPUT_DETECT);
		CHECK(same(&r, data, sizes[i]));
		free(r.plain);
		free(a);
		free(f.p);
		free(data);
	}
	unsigned char *data = pattern(500, 17);
	struct mem_sink f = encrypt(&rs, NULL, data, 500, 500);
	char *a = armor(f.p, f.len, "\n", "", "");
	size_t len = strlen(a);
	const char *mutations[][2] = {
	    {"-----END AGE ENCRYPTED FILE-----\n", "-----END AGE ENCRYPTED FILE-----\nx"},
	    {"-----BEGIN AGE ENCRYPTED FILE-----\n", "x-----BEGIN AGE ENCRYPTED FILE-----\n"},
	    {"-----BEGIN AGE ENCRYPTED FILE-----\n", "-----BEGIN AGE ENCRYPTED FILE-----\n\n"},
	    {"-----END AGE ENCRYPTED FILE-----\n", ""},
	    {"-----BEGIN AGE ENCRYPTED FILE-----", "-----BEGIN AGE ENCRYPTED FILE----- "},
	    {"-----BEGIN AGE", "-----BEGIN PGP"},
	};
	for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		const char *at = strstr(a, mutations[i][0]);
		size_t pre = (size_t)(at - a), old = strlen(mutations[i][0]);
		size_t mid = strlen(mutations[i][1]);
		char *m = malloc(len + 64);
		memcpy(m, a, pre);
		memcpy(m + pre, mutations[i][1], mid);
		memcpy(m + pre + mid, a + pre + old, len - pre - old + 1);
		struct result r =
		    decrypt(&ids, (unsigned char *)m, strlen(m), 0, DBB_AGE_INPUT_ARMORED);
		CHECK(r.rc == DBB_ERR_INVALID_BACKUP && r.failure == DBB_AGE_FAIL_ARMOR);
		free(r.plain);
		free(m);
	}
	/* a line of 65 columns; a space at a line end */
	char *m = malloc(len + 8);
	const char *second = strchr(a, '\n') + 1;
	size_t pre = (size_t)(second - a) + 64;
	memcpy(m, a, pre);
	m[pre] = 'A';
	memcpy(m + pre + 1, a + pre, len - pre + 1);
	struct result r = decrypt(&ids, (unsigned char *)m, strlen(m), 0, DBB_AGE_INPUT_ARMORED);
	CHECK(r.failure == DBB_AGE_FAIL_ARMOR);
	free(r.plain);
	memcpy(m, a, pre);
	m[pre] = ' ';
	memcpy(m + pre + 1, a + pre, len - pre + 1);
	r = decrypt(&ids, (unsigned char *)m, strlen(m), 0, DBB_AGE_INPUT_ARMORED);
	CHECK(r.failure == DBB_AGE_FAIL_ARMOR);
	free(r.plain);
	free(m);
	free(a);
	free(f.p);
	free(data);
	dbb_age_identities_free(&ids);
	dbb_age_recipients_free(&rs);
}

static void test_detect(void)
{
	const unsigned char gz[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3,
	                            3,    0,    0, 0, 0, 0, 0, 0, 0, 0};
	struct dbb_age_identities none = {0};

	CHECK(dbb_age_sniff((const unsigned char *)"age-encryption.org/v1\n", 22) ==
	      DBB_AGE_KIND_BINARY);
	CHECK(dbb_age_sniff((const unsigned char *)"\n -----BEGIN AGE ENCRYPTED FILE-----\n", 37) ==
	      DBB_AGE_KIND_ARMORED);
	CHECK(dbb_age_sniff(gz, sizeof(gz)) == DBB_AGE_KIND_NONE);
	CHECK(dbb_age_sniff((const unsigned char *)"age-enc", 7) == DBB_AGE_KIND_NONE);
	/* DETECT_PLAIN: not age, so the bytes pass through, even without keys */
	struct result r = decrypt(&none, gz, sizeof(gz), 3, DBB_AGE_INPUT_DETECT_PLAIN);
	CHECK(same(&r, gz, sizeof(gz)));
	free(r.plain);
	r = decrypt(&none, gz, 0, 0, DBB_AGE_INPUT_DETECT_PLAIN);
	CHECK(same(&r, gz, 0));
	free(r.plain);
	r = decrypt(&none, gz, sizeof(gz), 0, DBB_AGE_INPUT_DETECT);
	CHECK(r.failure == DBB_AGE_FAIL_HEADER);
	free(r.plain);
	r = decrypt(&none, (const unsigned char *)"age-encryption.org/v2\n", 22, 0,
	            DBB_AGE_INPUT_DETECT);
	CHECK(r.failure == DBB_AGE_FAIL_HEADER);
	free(r.plain);
}

static void test_files(void)
{
	char *dir = check_tmpdir();
	char path[4200], rcpt[DBB_AGE_RECIPIENT_LEN + 1];
	struct dbb_error err = {0};
	struct dbb_age_identities ids = {0};
	struct dbb_age_recipients rs = {0};

	CHECK(dir != NULL);
	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/key.txt", dir);
	CHECK(dbb_age_keygen_file(path, rcpt, &err) == DBB_OK);
	CHECK(strncmp(rcpt, "age1", 4) == 0 && strlen(rcpt) == DBB_AGE_RECIPIENT_LEN);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(dbb_age_keygen_file(path, rcpt, &err) != DBB_OK); /* never over a file */
	CHECK(dbb_age_identities_load_file(&ids, path, DBB_AGE_FILE_PRIVATE, &err) == DBB_OK);
	CHECK(ids.n == 1);
	struct dbb_age_recipient r;
	char again[DBB_AGE_RECIPIENT_LEN + 1];
	dbb_age_identity_recipient(&ids.v[0], &r);
	dbb_age_recipient_format(&r, again);
	CHECK_STR(again, rcpt);
	CHECK(chmod(path, 0640) == 0);
	dbb_age_identities_free(&ids);
	CHECK(dbb_age_identities_load_file(&ids, path, DBB_AGE_FILE_PRIVATE, &err) ==
	      DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "600") != NULL);
	CHECK(dbb_age_identities_load_file(&ids, path, 0, &err) == DBB_OK);
	dbb_age_identities_free(&ids);

	/* recipients: files and lists */
	char text[400];
	snprintf(text, sizeof(text), "# ops team\n\n%s\r\n# end\n", rcpt);
	CHECK(dbb_age_recipients_parse_file_text(&rs, text, strlen(text), &err) == DBB_OK);
	CHECK(rs.n == 1);
	snprintf(text, sizeof(text), " %s,%s  %s\n", rcpt, rcpt, rcpt);
	CHECK(dbb_age_recipients_parse_list(&rs, text, &err) == DBB_OK);
	CHECK(rs.n == 4);
	CHECK(dbb_age_recipients_parse_list(&rs, " , ", &err) == DBB_ERR_INVALID_PARAMETER);
	CHECK(dbb_age_recipients_parse_file_text(&rs, "# none\n\n", 8, &err) != DBB_OK);
	const char *secret =
	    "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
	snprintf(text, sizeof(text), "%s\n%s\n", rcpt, secret);
	CHECK(dbb_age_recipients_parse_file_text(&rs, text, strlen(text), &err) != DBB_OK);
	CHECK(strstr(err.message, "line 2") != NULL && strstr(err.message, "GFPYY") == NULL);
	CHECK(dbb_age_recipients_parse_list(&rs, "age1pq1abc", &err) != DBB_OK);
	CHECK(strstr(err.message, "post-quantum") != NULL);
	snprintf(text, sizeof(text), "%s\n%s\n", secret, rcpt);
	CHECK(dbb_age_identities_parse_file_text(&ids, text, strlen(text), &err) != DBB_OK);
	CHECK(strstr(err.message, "line 2") != NULL);
	CHECK(dbb_age_identities_parse_file_text(&ids, "\n#\n", 3, &err) != DBB_OK);
	dbb_age_identities_free(&ids);

	/* a passphrase file: its first line */
	snprintf(path, sizeof(path), "%s/pass.txt", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && write(fd, "s3cret\r\nignored\n", 16) == 16);
	close(fd);
	CHECK(dbb_age_identities_load_passphrase_file(&ids, path, DBB_AGE_FILE_PRIVATE, &err) ==
	      DBB_OK);
	CHECK(ids.passphrase_len == 6 && memcmp(ids.passphrase, "s3cret", 6) == 0);
	dbb_age_identities_free(&ids);
	dbb_age_recipients_free(&rs);
	check_rmdir(dir);
}

/* A source that fails after `ok` bytes, and a sink that fails after `ok`. */
struct broken_source {
	struct dbb_source base;
	struct mem_source inner;
	size_t ok;
};

static dbb_code broken_read(struct dbb_source *self, void *buf, size_t cap, size_t *got,
                            struct dbb_error *err)
{
	struct broken_source *b = (struct broken_source *)self;
	if (b->ok == 0)
		return dbb_fail(err, DBB_ERR_NO_SPACE, "disk gone");
	if (cap > b->ok)
		cap = b->ok;
	dbb_code rc = dbb_source_read(&b->inner.base, buf, cap, got, err);
	b->ok -= *got;
	return rc;
}

struct broken_sink {
	struct dbb_sink base;
	size_t ok;
};

static dbb_code broken_write(struct dbb_sink *self, const void *buf, size_t len,
                             struct dbb_error *err)
{
	struct broken_sink *b = (struct broken_sink *)self;
	(void)buf;
	if (len > b->ok)
		return dbb_fail(err, DBB_ERR_NO_SPACE, "disk full");
	b->ok -= len;
	return DBB_OK;
}

/* The wrapped source's or sink's error keeps its code, and says so. */
static void test_io_errors(void)
{
	struct dbb_age_identities ids = {0};
	struct dbb_age_recipients rs = {0};
	struct dbb_error err = {0};
	unsigned char *data = pattern(200000, 21), buf[4096];
	size_t got = 0;

	keys(&ids, &rs, 1);
	struct mem_sink f = encrypt(&rs, NULL, data, 200000, 200000);
	const size_t cuts[] = {0, 10, 150, 100000};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct broken_source b = {
		    .base.read = broken_read, .inner = mem_source(f.p, f.len, 0), .ok = cuts[i]};
		struct dbb_source *s = NULL;
		struct dbb_age_source_info info = {0};
		dbb_code rc = dbb_age_source_new(&b.base, &ids, DBB_AGE_INPUT_DETECT, &s,
		                                 &info.failure, &err);
		while (!rc) {
			rc = dbb_source_read(s, buf, sizeof(buf), &got, &err);
			if (!rc && got == 0)
				break;
		}
		if (s)
			dbb_age_source_info(s, &info);
		CHECK(rc == DBB_ERR_NO_SPACE && info.failure == DBB_AGE_FAIL_IO);
		CHECK(strstr(err.message, "disk gone") != NULL);
		dbb_source_free(s);
	}
	const size_t limits[] = {0, 200, 70000};
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		struct broken_sink b = {.base.write = broken_write, .ok = limits[i]};
		struct dbb_sink *s = NULL;
		dbb_code rc = dbb_age_sink_new(&b.base, &rs, &s, &err);
		CHECK(!rc == (s != NULL)); /* a failed header: no layer to free */
		if (!rc)
			rc = dbb_sink_write(s, data, 200000, &err);
		if (!rc)
			rc = dbb_sink_finish(s, &err);
		CHECK(rc == DBB_ERR_NO_SPACE);
		/* after an error: refused, and free still safe */
		if (s) {
			CHECK(dbb_sink_write(s, data, 1, &err) != DBB_OK);
			CHECK(dbb_sink_finish(s, &err) != DBB_OK);
		}
		dbb_sink_free(s);
	}
	free(f.p);
	free(data);
	dbb_age_identities_free(&ids);
	dbb_age_recipients_free(&rs);
}

int main(void)
{
	test_known_keys();
	test_base64();
	test_round_trips();
	test_recipients();
	test_passphrase();
	test_flipped_bytes();
	test_truncation();
	test_armor();
	test_detect();
	test_files();
	test_io_errors();
	DONE();
}
