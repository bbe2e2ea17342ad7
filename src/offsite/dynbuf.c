/* A growable buffer with a hard maximum, for anything read from the network. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void dbb_dynbuf_init(struct dbb_dynbuf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->failed = false;
}

static bool grow(struct dbb_dynbuf *b, size_t need)
{
	if (need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	char *p = malloc(cap);
	if (!p)
		return false;
	if (b->data) {
		memcpy(p, b->data, b->len + 1);
		OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
	return true;
}

bool dbb_dynbuf_add(struct dbb_dynbuf *b, const void *p, size_t n)
{
	if (b->failed)
		return false;
	if (n > b->max - b->len || !grow(b, b->len + n + 1)) {
		b->failed = true;
		return false;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

bool dbb_dynbuf_adds(struct dbb_dynbuf *b, const char *s)
{
	return dbb_dynbuf_add(b, s, strlen(s));
}

bool dbb_dynbuf_addf(struct dbb_dynbuf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return false;
	}
	if ((size_t)n < sizeof(small))
		return dbb_dynbuf_add(b, small, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (!big) {
		b->failed = true;
		return false;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	bool ok = dbb_dynbuf_add(b, big, (size_t)n);
	free(big);
	return ok;
}

const char *dbb_dynbuf_str(const struct dbb_dynbuf *b)
{
	if (b->failed)
		return NULL;
	return b->data ? b->data : "";
}

char *dbb_dynbuf_take(struct dbb_dynbuf *b)
{
	char *s = NULL;
	if (!b->failed)
		s = b->data ? b->data : strdup("");
	else
		dbb_dynbuf_free(b);
	b->data = NULL;
	dbb_dynbuf_reset(b);
	return s;
}

void dbb_dynbuf_reset(struct dbb_dynbuf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data)
		b->data[0] = '\0';
}

void dbb_dynbuf_free(struct dbb_dynbuf *b)
{
	if (b->data) {
		OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = false;
}
