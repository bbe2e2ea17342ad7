/* base64url without padding (RFC 4648 §5), strict: JWT segments and JWK members. */
#include <stdlib.h>

#include "auth/internal.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

bool dbb_b64url_decode(const char *in, size_t n, unsigned char *out, size_t *out_len)
{
	unsigned long acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	if (n % 4 == 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		int v = sextet((unsigned char)in[i]);

		if (v < 0)
			return false;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}
	/* Leftover bits of the last character must be zero (canonical form). */
	if (acc != 0)
		return false;
	*out_len = o;
	return true;
}

bool dbb_b64url_canonical(const char *s, size_t n)
{
	int last;

	if (n % 4 == 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (sextet((unsigned char)s[i]) < 0)
			return false;
	if (n % 4 == 0)
		return true;
	last = sextet((unsigned char)s[n - 1]);
	/* 2 characters carry 1 byte (4 bits unused), 3 carry 2 (2 unused) */
	return (last & (n % 4 == 2 ? 0x0f : 0x03)) == 0;
}

char *dbb_b64url_encode(const unsigned char *in, size_t n)
{
	char *out = malloc((n + 2) / 3 * 4 + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned long)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = alphabet[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = alphabet[v & 63];
	}
	out[o] = '\0';
	return out;
}
