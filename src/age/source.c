/* The age decryptor: a source that reads an age file (binary or armored)
 * from the source it wraps and gives out the plaintext, each STREAM chunk
 * only once it is authenticated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "age/internal.h"

#define HEADER_READ 4096

/* Gives back the bytes peeked at to detect the format, then the rest. */
struct replay {
	struct dbb_source base;
	struct dbb_source *next;
	unsigned char buf[DBB_AGE_SNIFF_MAX];
	size_t len, pos;
};

struct dbb_age_source_state {
	struct replay replay;
	struct age_armor *armor;
	struct dbb_source *in; /* the replay, or the armor decoder over it */
	EVP_CIPHER_CTX *ctx;
	unsigned char key[32];
	unsigned char nonce[12];
	unsigned char *ct; /* one encrypted chunk: AGE_ENC_CHUNK */
	size_t ct_len;
	unsigned char *pt; /* its plaintext: DBB_AGE_CHUNK */
	size_t pt_pos, pt_len;
	uint64_t chunk;
	bool done; /* a valid final chunk, and nothing after it */
	/* the error that stopped the stream, given again on every read once
	 * the plaintext before it is out */
	dbb_code stop_rc;
	enum dbb_age_failure stop_kind;
	char stop_msg[DBB_ERROR_MESSAGE_MAX];
};

static dbb_code replay_read(struct dbb_source *self, void *buf, size_t cap, size_t *got,
                            struct dbb_error *err)
{
	struct replay *r = (struct replay *)self;

	if (r->pos < r->len) {
		size_t n = r->len - r->pos < cap ? r->len - r->pos : cap;
		memcpy(buf, r->buf + r->pos, n);
		r->pos += n;
		*got = n;
		return DBB_OK;
	}
	return dbb_source_read(r->next, buf, cap, got, err);
}

const char *dbb_age_failure_name(enum dbb_age_failure f)
{
	static const char *const names[] = {
	    [DBB_AGE_FAIL_NONE] = "none",
	    [DBB_AGE_FAIL_IO] = "read error",
	    [DBB_AGE_FAIL_ARMOR] = "armor failure",
	    [DBB_AGE_FAIL_HEADER] = "header failure",
	    [DBB_AGE_FAIL_NO_IDENTITY] = "no identity",
	    [DBB_AGE_FAIL_NO_MATCH] = "no match",
	    [DBB_AGE_FAIL_HMAC] = "HMAC failure",
	    [DBB_AGE_FAIL_PAYLOAD] = "payload failure",
	};
	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "?";
}

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

enum dbb_age_kind dbb_age_sniff(const unsigned char *buf, size_t len)
{
	size_t magic = strlen(AGE_MAGIC), begin = strlen(AGE_ARMOR_BEGIN), i = 0;

	if (len >= magic && memcmp(buf, AGE_MAGIC, magic) == 0)
		return DBB_AGE_KIND_BINARY;
	while (i < len && i <= AGE_ARMOR_WHITESPACE && is_ws(buf[i]))
		i++;
	if (len - i >= begin && memcmp(buf + i, AGE_ARMOR_BEGIN, begin) == 0)
		return DBB_AGE_KIND_ARMORED;
	return DBB_AGE_KIND_NONE;
}

static dbb_code fail(struct dbb_age_source *s, enum dbb_age_failure kind, struct dbb_error *err,
                     const char *msg)
{
	s->info.failure = kind;
	return dbb_fail(err, DBB_ERR_INVALID_BACKUP, "age: %s: %s", dbb_age_failure_name(kind),
	                msg);
}

/* An error of the source under us: the armor's, or the wrapped source's. */
static dbb_code fail_in(struct dbb_age_source *s, dbb_code rc)
{
	s->info.failure =
	    s->st->armor && age_armor_failed(s->st->armor) ? DBB_AGE_FAIL_ARMOR : DBB_AGE_FAIL_IO;
	return rc;
}

/* Reads until cap bytes or the end of the input; *got < cap means the end. */
static dbb_code read_full(struct dbb_source *in, unsigned char *buf, size_t cap, size_t *got,
                          struct dbb_error *err)
{
	size_t have = 0;

	while (have < cap) {
		size_t n = 0;
		dbb_code rc = dbb_source_read(in, buf + have, cap - have, &n, err);
		if (rc)
			return rc;
		if (n == 0)
			break;
		have += n;
	}
	*got = have;
	return DBB_OK;
}

/* Reads the header into *raw (up to the MAC line's LF); the bytes read
 * past it go to st->ct. */
static dbb_code read_header(struct dbb_age_source *s, char **raw, size_t *raw_len,
                            struct dbb_error *err)
{
	struct dbb_age_source_state *st = s->st;
	size_t vlen = strlen(AGE_VERSION_LINE), have = 0, cap = HEADER_READ, end = 0, scan = 0;
	char *buf = malloc(cap);

	if (!buf)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	for (;;) {
		size_t n = 0;
		if (have == cap) {
			if (cap >= DBB_AGE_HEADER_MAX) {
				free(buf);
				return fail(s, DBB_AGE_FAIL_HEADER, err,
				            "header larger than 1 MiB");
			}
			char *b = realloc(buf, cap * 2);
			if (!b) {
				free(buf);
				return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
			}
			buf = b;
			cap *= 2;
		}
		size_t want = cap - have < HEADER_READ ? cap - have : HEADER_READ;
		dbb_code rc = dbb_source_read(st->in, buf + have, want, &n, err);
		if (rc) {
			free(buf);
			return fail_in(s, rc);
		}
		have += n;
		/* not an age v1 file: say so before reading any further */
		size_t cmp = have < vlen ? have : vlen;
		if (memcmp(buf, AGE_VERSION_LINE, cmp) != 0 || (n == 0 && have < vlen)) {
			struct age_header h;
			char msg[200];
			if (have == 0)
				snprintf(msg, sizeof(msg), "the file is empty");
			else if (!age_header_parse(buf, have, &h, msg, sizeof(msg)))
				; /* msg says why */
			else
				snprintf(msg, sizeof(msg), "truncated header");
			free(buf);
			return fail(s, DBB_AGE_FAIL_HEADER, err, msg);
		}
		/* rescan from the start of the last incomplete line */
		end = age_header_end(buf + scan, have - scan);
		if (end) {
			end += scan;
			break;
		}
		while (scan < have) {
			char *nl = memchr(buf + scan, '\n', have - scan);
			if (!nl)
				break;
			scan = (size_t)(nl - buf) + 1;
		}
		if (n == 0) {
			free(buf);
			return fail(s, DBB_AGE_FAIL_HEADER, err, "the file ends inside the header");
		}
	}
	st->ct_len = have - end;
	memcpy(st->ct, buf + end, st->ct_len);
	*raw = buf;
	*raw_len = end;
	return DBB_OK;
}

/* Header, file key, MAC, nonce, payload key. */
static dbb_code open_file(struct dbb_age_source *s, const struct dbb_age_identities *ids,
                          struct dbb_error *err)
{
	struct dbb_age_source_state *st = s->st;
	unsigned char file_key[AGE_FILE_KEY_LEN], mac_key[32], mac[AGE_MAC_LEN],
	    nonce[AGE_NONCE_LEN];
	struct age_header h = {0};
	char *raw = NULL, msg[300];
	size_t raw_len = 0, matched = 0, got = 0;
	dbb_code rc;

	rc = read_header(s, &raw, &raw_len, err);
	if (rc)
		return rc;
	if (!age_header_parse(raw, raw_len, &h, msg, sizeof(msg))) {
		rc = fail(s, DBB_AGE_FAIL_HEADER, err, msg);
		goto out;
	}
	if (!ids || (ids->n == 0 && !ids->passphrase)) {
		s->info.failure = DBB_AGE_FAIL_NO_IDENTITY;
		rc = dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		              "age: the file is encrypted and no identity (private key) is set");
		goto out;
	}
	switch (age_unwrap(&h, ids, file_key, &matched, msg, sizeof(msg))) {
	case AGE_UNWRAP_OK:
		break;
	case AGE_UNWRAP_NO_MATCH:
		rc = fail(s, DBB_AGE_FAIL_NO_MATCH, err, msg);
		goto out;
	case AGE_UNWRAP_BAD:
		rc = fail(s, DBB_AGE_FAIL_HEADER, err, msg);
		goto out;
	}
	if (!age_hkdf(file_key, sizeof(file_key), NULL, 0, "header", mac_key) ||
	    !age_hmac(mac_key, raw, h.mac_covered, mac)) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "cannot compute the age header MAC");
		goto out;
	}
	if (CRYPTO_memcmp(mac, h.mac, sizeof(mac)) != 0) {
		rc = fail(s, DBB_AGE_FAIL_HMAC, err,
		          "the header MAC does not match (tampered header?)");
		goto out;
	}
	/* the payload nonce: what came with the header, then more */
	if (st->ct_len < AGE_NONCE_LEN) {
		rc = read_full(st->in, st->ct + st->ct_len, AGE_NONCE_LEN - st->ct_len, &got, err);
		if (rc) {
			rc = fail_in(s, rc);
			goto out;
		}
		st->ct_len += got;
		if (st->ct_len < AGE_NONCE_LEN) {
			rc = fail(s, DBB_AGE_FAIL_HEADER, err,
			          "the file ends inside the payload nonce");
			goto out;
		}
	}
	memcpy(nonce, st->ct, AGE_NONCE_LEN);
	memmove(st->ct, st->ct + AGE_NONCE_LEN, st->ct_len - AGE_NONCE_LEN);
	st->ct_len -= AGE_NONCE_LEN;
	if (!age_hkdf(file_key, sizeof(file_key), nonce, sizeof(nonce), "payload", st->key) ||
	    EVP_DecryptInit_ex(st->ctx, EVP_chacha20_poly1305(), NULL, st->key, NULL) != 1) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "cannot derive the age payload key");
		goto out;
	}
	if (matched < ids->n)
		dbb_age_identity_recipient(&ids->v[matched], &s->info.from);
out:
	OPENSSL_cleanse(file_key, sizeof(file_key));
	OPENSSL_cleanse(mac_key, sizeof(mac_key));
	age_header_free(&h);
	free(raw);
	return rc;
}

static void stop(struct dbb_age_source_state *st, dbb_code rc, enum dbb_age_failure kind,
                 const char *msg)
{
	st->stop_rc = rc;
	st->stop_kind = kind;
	snprintf(st->stop_msg, sizeof(st->stop_msg), "%s", msg);
}

static void stop_payload(struct dbb_age_source_state *st, const char *msg)
{
	char m[400];

	snprintf(m, sizeof(m), "age: payload failure: %s", msg);
	stop(st, DBB_ERR_INVALID_BACKUP, DBB_AGE_FAIL_PAYLOAD, m);
}

static void nonce_next(unsigned char nonce[12])
{
	for (int i = 10; i >= 0; i--)
		if (++nonce[i] != 0)
			return;
}

/* Reads and authenticates the next chunk into st->pt (or into direct, of
 * DBB_AGE_CHUNK bytes at least, its length in *direct_len), or stops the
 * stream (st->stop_rc) with why. */
static void next_chunk(struct dbb_age_source *s, unsigned char *direct, size_t *direct_len,
                       struct dbb_error *err)
{
	struct dbb_age_source_state *st = s->st;
	size_t got = 0, n;
	bool last = false;
	dbb_code rc;

	rc = read_full(st->in, st->ct + st->ct_len, AGE_ENC_CHUNK - st->ct_len, &got, err);
	if (rc) {
		fail_in(s, rc);
		stop(st, rc, s->info.failure, err ? err->message : "read error");
		return;
	}
	n = st->ct_len + got;
	st->ct_len = 0;
	if (n < AGE_ENC_CHUNK) {
		/* the input ended: this is the final chunk, maybe short */
		if (n == 0) {
			stop_payload(st, "truncated: the file ends without a final chunk");
			return;
		}
		if (n < DBB_AGE_TAG) {
			stop_payload(st, "truncated chunk");
			return;
		}
		if (n == DBB_AGE_TAG && st->chunk > 0) {
			stop_payload(st, "the final chunk is empty (and the payload is not)");
			return;
		}
		last = true;
		st->nonce[11] = 1;
	}
	/* straight into the reader's buffer when it takes a whole chunk (a
	 * failed open wipes what it wrote) */
	unsigned char *pt = direct ? direct : st->pt;
	if (!age_aead_open(st->ctx, NULL, st->nonce, st->ct, n, pt)) {
		if (last) {
			stop_payload(st, "a chunk does not authenticate (corrupt, tampered "
			                 "or truncated file)");
			return;
		}
		/* a full chunk may be the final one */
		last = true;
		st->nonce[11] = 1;
		if (!age_aead_open(st->ctx, NULL, st->nonce, st->ct, n, pt)) {
			stop_payload(st, "a chunk does not authenticate (corrupt, tampered or "
			                 "truncated file)");
			return;
		}
	}
	if (direct) {
		*direct_len = n - DBB_AGE_TAG;
	} else {
		st->pt_len = n - DBB_AGE_TAG;
		st->pt_pos = 0;
	}
	st->chunk++;
	nonce_next(st->nonce);
	if (!last)
		return;
	/* after a full final chunk, the input must end here too */
	if (n == AGE_ENC_CHUNK) {
		unsigned char extra;
		rc = read_full(st->in, &extra, 1, &got, err);
		if (rc) {
			fail_in(s, rc);
			stop(st, rc, s->info.failure, err ? err->message : "read error");
			return;
		}
		if (got) {
			stop_payload(st, "trailing data after the final chunk");
			return;
		}
	}
	st->done = true;
}

static dbb_code age_source_read(struct dbb_source *self, void *buf, size_t cap, size_t *got,
                                struct dbb_error *err)
{
	struct dbb_age_source *s = (struct dbb_age_source *)self;
	struct dbb_age_source_state *st = s->st;

	*got = 0;
	if (!st)
		return dbb_fail(err, DBB_ERR_INTERNAL, "age source read before init");
	if (!s->info.encrypted)
		return dbb_source_read(st->in, buf, cap, got, err);
	for (;;) {
		if (st->pt_pos < st->pt_len) {
			size_t n = st->pt_len - st->pt_pos < cap ? st->pt_len - st->pt_pos : cap;
			memcpy(buf, st->pt + st->pt_pos, n);
			st->pt_pos += n;
			*got = n;
			return DBB_OK;
		}
		if (st->stop_rc) {
			s->info.failure = st->stop_kind;
			return dbb_fail(err, st->stop_rc, "%s", st->stop_msg);
		}
		if (st->done || cap == 0)
			return DBB_OK;
		if (cap >= DBB_AGE_CHUNK) {
			next_chunk(s, buf, got, err);
			if (*got)
				return DBB_OK;
			continue; /* an empty final chunk, or an error */
		}
		next_chunk(s, NULL, NULL, err);
	}
}

static void age_source_free(struct dbb_source *self);

/* Opens the age file of next into s (its state allocated here). */
static dbb_code source_open(struct dbb_age_source *s, struct dbb_source *next,
                            const struct dbb_age_identities *ids, enum dbb_age_input input,
                            struct dbb_error *err)
{
	struct dbb_age_source_state *st;
	enum dbb_age_kind kind =
	    input == DBB_AGE_INPUT_ARMORED ? DBB_AGE_KIND_ARMORED : DBB_AGE_KIND_BINARY;
	dbb_code rc = DBB_OK;

	s->next = next;
	st = s->st = calloc(1, sizeof(*st));
	if (!st)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	st->replay.base.read = replay_read;
	st->replay.next = next;
	st->in = &st->replay.base;
	if (input == DBB_AGE_INPUT_DETECT || input == DBB_AGE_INPUT_DETECT_PLAIN) {
		rc = read_full(next, st->replay.buf, sizeof(st->replay.buf), &st->replay.len, err);
		if (rc) {
			s->info.failure = DBB_AGE_FAIL_IO;
			goto out;
		}
		kind = dbb_age_sniff(st->replay.buf, st->replay.len);
		if (kind == DBB_AGE_KIND_NONE && input == DBB_AGE_INPUT_DETECT_PLAIN)
			return DBB_OK; /* not encrypted: the bytes pass through */
		if (kind == DBB_AGE_KIND_NONE) {
			rc = fail(s, DBB_AGE_FAIL_HEADER, err,
			          "not an age file (neither age-encryption.org/v1 nor armor)");
			goto out;
		}
	}
	s->info.encrypted = true;
	s->info.armored = kind == DBB_AGE_KIND_ARMORED;
	st->ctx = EVP_CIPHER_CTX_new();
	st->ct = malloc(AGE_ENC_CHUNK);
	st->pt = malloc(DBB_AGE_CHUNK);
	if (s->info.armored)
		st->armor = age_armor_new(&st->replay.base);
	if (!st->ctx || !st->ct || !st->pt || (s->info.armored && !st->armor)) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (st->armor)
		st->in = age_armor_source(st->armor);
	rc = open_file(s, ids, err);
out:
	return rc;
}

dbb_code dbb_age_source_new(struct dbb_source *next, const struct dbb_age_identities *ids,
                            enum dbb_age_input input, struct dbb_source **out,
                            enum dbb_age_failure *failure, struct dbb_error *err)
{
	*out = NULL;
	if (failure)
		*failure = DBB_AGE_FAIL_NONE;
	struct dbb_age_source *s = calloc(1, sizeof(*s));
	if (!s)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	s->base = (struct dbb_source){.read = age_source_read, .free = age_source_free};
	dbb_code rc = source_open(s, next, ids, input, err);
	if (rc) {
		if (failure)
			*failure = s->info.failure;
		age_source_free(&s->base);
		return rc;
	}
	*out = &s->base;
	return DBB_OK;
}

void dbb_age_source_info(const struct dbb_source *age, struct dbb_age_source_info *out)
{
	*out = ((const struct dbb_age_source *)age)->info;
}

static void age_source_free(struct dbb_source *self)
{
	struct dbb_age_source *s = (struct dbb_age_source *)self;
	struct dbb_age_source_state *st = s->st;

	if (!st) {
		free(s);
		return;
	}
	EVP_CIPHER_CTX_free(st->ctx);
	if (st->pt) {
		OPENSSL_cleanse(st->pt, DBB_AGE_CHUNK);
		free(st->pt);
	}
	free(st->ct);
	age_armor_free(st->armor);
	OPENSSL_cleanse(st, sizeof(*st));
	free(st);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}
