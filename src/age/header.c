/* The age header, parsed and written exactly as the spec's ABNF says:
 * version line, stanzas ("-> " arguments, a body in canonical base64 at 64
 * columns ending with a shorter line), and the "--- " MAC line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "age/internal.h"

void age_buf_add(struct age_buf *b, const void *data, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		while (cap < b->len + n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

void age_buf_free(struct age_buf *b)
{
	if (b->p)
		OPENSSL_cleanse(b->p, b->cap);
	free(b->p);
	*b = (struct age_buf){0};
}

void age_stanza_write(struct age_buf *b, const char *type, const char *const *args, size_t nargs,
                      const unsigned char *body, size_t body_len)
{
	size_t chars = age_b64_raw_len(body_len);
	char *enc = malloc(chars + 4);

	if (!enc) {
		b->oom = true;
		return;
	}
	age_buf_add(b, "-> ", 3);
	age_buf_add(b, type, strlen(type));
	for (size_t i = 0; i < nargs; i++) {
		age_buf_add(b, " ", 1);
		age_buf_add(b, args[i], strlen(args[i]));
	}
	age_buf_add(b, "\n", 1);
	age_b64_raw_encode(body, body_len, enc);
	for (size_t off = 0; off < chars; off += AGE_COLUMNS) {
		size_t n = chars - off < AGE_COLUMNS ? chars - off : AGE_COLUMNS;
		age_buf_add(b, enc + off, n);
		age_buf_add(b, "\n", 1);
	}
	/* the body ends with a line shorter than 64 columns, maybe empty */
	if (chars % AGE_COLUMNS == 0)
		age_buf_add(b, "\n", 1);
	free(enc);
}

size_t age_header_end(const char *buf, size_t len)
{
	size_t pos = 0;

	for (;;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		if (!nl)
			return 0;
		if (len - pos >= 3 && memcmp(buf + pos, "---", 3) == 0)
			return (size_t)(nl - buf) + 1;
		pos = (size_t)(nl - buf) + 1;
	}
}

static void stanza_free(struct age_stanza *s)
{
	free(s->type);
	for (size_t i = 0; i < s->nargs; i++)
		free(s->args[i]);
	free(s->args);
	if (s->body)
		OPENSSL_cleanse(s->body, s->body_len);
	free(s->body);
}

void age_header_free(struct age_header *h)
{
	for (size_t i = 0; i < h->n; i++)
		stanza_free(&h->stanzas[i]);
	free(h->stanzas);
	*h = (struct age_header){0};
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* "-> " arg *(SP arg): arguments of VCHARs, none empty. */
static bool parse_arg_line(const char *line, size_t len, struct age_stanza *s, char *msg,
                           size_t cap)
{
	size_t pos = 3, n = 0;

	if (len < 3 || memcmp(line, "-> ", 3) != 0) {
		snprintf(msg, cap, "malformed stanza opening line");
		return false;
	}
	s->args = calloc(AGE_MAX_ARGS + 1, sizeof(*s->args));
	if (!s->args) {
		snprintf(msg, cap, "out of memory");
		return false;
	}
	for (;;) {
		size_t start = pos;
		while (pos < len && line[pos] != ' ') {
			if ((unsigned char)line[pos] < 33 || (unsigned char)line[pos] > 126) {
				snprintf(msg, cap, "invalid character in a stanza argument");
				return false;
			}
			pos++;
		}
		if (pos == start) {
			snprintf(msg, cap, "empty stanza argument");
			return false;
		}
		if (n == AGE_MAX_ARGS + 1) {
			snprintf(msg, cap, "too many stanza arguments");
			return false;
		}
		char *a = dup_n(line + start, pos - start);
		if (!a) {
			snprintf(msg, cap, "out of memory");
			return false;
		}
		if (n == 0)
			s->type = a;
		else
			s->args[s->nargs++] = a;
		n++;
		if (pos == len)
			return true;
		pos++; /* the single space */
	}
}

bool age_header_parse(const char *raw, size_t len, struct age_header *h, char *msg, size_t cap)
{
	size_t vlen = strlen(AGE_VERSION_LINE), pos = vlen;

	*h = (struct age_header){0};
	if (len < vlen || memcmp(raw, AGE_VERSION_LINE, vlen) != 0) {
		if (len >= strlen(AGE_MAGIC) && memcmp(raw, AGE_MAGIC, strlen(AGE_MAGIC)) == 0)
			snprintf(msg, cap, "unsupported age version (only v1 is)");
		else
			snprintf(msg, cap, "not an age file (no age-encryption.org/v1 line)");
		return false;
	}
	h->stanzas = calloc(AGE_MAX_STANZAS, sizeof(*h->stanzas));
	if (!h->stanzas) {
		snprintf(msg, cap, "out of memory");
		return false;
	}
	for (;;) {
		const char *line = raw + pos;
		const char *nl = memchr(line, '\n', len - pos);
		if (!nl) {
			snprintf(msg, cap, "header ends without its MAC line");
			goto fail;
		}
		size_t llen = (size_t)(nl - line);
		if (llen >= 3 && memcmp(line, "---", 3) == 0) {
			size_t got = 0;
			if (llen != 4 + 43 || line[3] != ' ' ||
			    !age_b64_raw_decode(line + 4, 43, h->mac, &got) || got != AGE_MAC_LEN) {
				snprintf(msg, cap, "malformed MAC line");
				goto fail;
			}
			if (pos + llen + 1 != len) {
				snprintf(msg, cap, "data after the MAC line");
				goto fail;
			}
			h->mac_covered = pos + 3;
			break;
		}
		if (h->n == AGE_MAX_STANZAS) {
			snprintf(msg, cap, "more than %d stanzas", AGE_MAX_STANZAS);
			goto fail;
		}
		struct age_stanza *s = &h->stanzas[h->n++];
		if (!parse_arg_line(line, llen, s, msg, cap))
			goto fail;
		pos += llen + 1;
		/* the body: full 64-column lines, then one shorter line */
		for (;;) {
			const char *bl = raw + pos;
			const char *bnl = memchr(bl, '\n', len - pos);
			unsigned char dec[AGE_BYTES_PER_LINE];
			size_t blen, got = 0;
			if (!bnl) {
				snprintf(msg, cap, "stanza body ends without a short line");
				goto fail;
			}
			blen = (size_t)(bnl - bl);
			if (blen > AGE_COLUMNS) {
				snprintf(msg, cap, "stanza body line longer than 64 columns");
				goto fail;
			}
			if (!age_b64_raw_decode(bl, blen, dec, &got)) {
				if (blen >= 2 && (memcmp(bl, "--", 2) == 0))
					snprintf(msg, cap, "stanza body ends without a short line");
				else
					snprintf(msg, cap, "stanza body is not canonical base64");
				goto fail;
			}
			unsigned char *body = realloc(s->body, s->body_len + got + 1);
			if (!body) {
				snprintf(msg, cap, "out of memory");
				goto fail;
			}
			s->body = body;
			memcpy(s->body + s->body_len, dec, got);
			s->body_len += got;
			OPENSSL_cleanse(dec, sizeof(dec));
			pos += blen + 1;
			if (blen < AGE_COLUMNS)
				break;
		}
	}
	if (h->n == 0) {
		snprintf(msg, cap, "no recipient stanzas");
		goto fail;
	}
	return true;
fail:
	age_header_free(h);
	return false;
}
