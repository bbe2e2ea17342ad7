/* Bounded extraction of named elements from S3's XML answers, and URI
 * encoding: the small text helpers of the offsite module. */
#include "internal.h"

#include <string.h>

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

bool dbb_uri_encode(struct dbb_dynbuf *out, const char *s, size_t n, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			if (!dbb_dynbuf_add(out, &s[i], 1))
				return false;
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			if (!dbb_dynbuf_add(out, e, 3))
				return false;
		}
	}
	return !out->failed;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool dbb_uri_decode(const char *s, size_t n, char *out, size_t cap, bool plus_is_space)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return false;
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return false;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '\0') {
			return false;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (o + 1 >= cap)
			return false;
		out[o++] = c;
	}
	if (cap == 0)
		return false;
	out[o] = '\0';
	return true;
}

/* The first '<name' in [p, end) followed by '>', '/' or whitespace. */
static const char *find_open(const char *p, const char *end, const char *name, size_t nl)
{
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		if (!lt)
			return NULL;
		if ((size_t)(end - lt) > nl + 1 && memcmp(lt + 1, name, nl) == 0) {
			char c = lt[1 + nl];
			if (c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n')
				return lt;
		}
		p = lt + 1;
	}
	return NULL;
}

bool dbb_xml_find(const char *p, const char *end, const char *name, const char **content,
                  size_t *len, const char **after)
{
	size_t nl = strlen(name);
	const char *lt = find_open(p, end, name, nl);
	if (!lt)
		return false;
	const char *gt = memchr(lt, '>', (size_t)(end - lt));
	if (!gt)
		return false;
	if (gt[-1] == '/') { /* <name/> */
		*content = gt + 1;
		*len = 0;
		if (after)
			*after = gt + 1;
		return true;
	}
	const char *c = gt + 1;
	for (const char *q = c; q < end;) {
		const char *close = memchr(q, '<', (size_t)(end - q));
		if (!close)
			return false;
		if ((size_t)(end - close) >= nl + 3 && close[1] == '/' &&
		    memcmp(close + 2, name, nl) == 0 && close[2 + nl] == '>') {
			*content = c;
			*len = (size_t)(close - c);
			if (after)
				*after = close + 3 + nl;
			return true;
		}
		q = close + 1;
	}
	return false;
}

/* One entity at s (after '&', up to ';' within n bytes): its byte in *out,
 * its length (without '&') in *used. */
static bool entity(const char *s, size_t n, char *out, size_t *used)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		size_t l = strlen(named[i].name);
		if (n >= l && memcmp(s, named[i].name, l) == 0) {
			*out = named[i].c;
			*used = l;
			return true;
		}
	}
	if (n < 3 || s[0] != '#')
		return false;
	size_t i = 1;
	int base = 10;
	if (s[1] == 'x' || s[1] == 'X') {
		base = 16;
		i = 2;
	}
	long v = 0;
	size_t start = i;
	for (; i < n && s[i] != ';'; i++) {
		int d = hexval(s[i]);
		if (d < 0 || d >= base || i - start > 6)
			return false;
		v = v * base + d;
	}
	if (i >= n || i == start || v <= 0 || v >= 128)
		return false;
	*out = (char)v;
	*used = i + 1;
	return true;
}

bool dbb_xml_text(const char *content, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = content[i];
		if (c == '&') {
			size_t used;
			if (!entity(content + i + 1, len - i - 1, &c, &used))
				return false;
			i += used;
		} else if (c == '<') {
			return false; /* markup inside a leaf element: not ours to read */
		}
		if (o + 1 >= cap)
			return false;
		out[o++] = c;
	}
	if (cap == 0)
		return false;
	out[o] = '\0';
	return true;
}

bool dbb_xml_get(const char *p, const char *end, const char *name, char *out, size_t cap)
{
	const char *c;
	size_t n;
	if (!dbb_xml_find(p, end, name, &c, &n, NULL))
		return false;
	return dbb_xml_text(c, n, out, cap);
}
