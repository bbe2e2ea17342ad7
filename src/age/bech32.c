/* Bech32 (BIP 173) as age uses it for keys: no length limit, one case. */
#include <string.h>

#include "age/internal.h"

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static unsigned long polymod_step(unsigned long chk, unsigned v)
{
	static const unsigned long gen[5] = {0x3b6a57b2UL, 0x26508e6dUL, 0x1ea119faUL, 0x3d4233ddUL,
	                                     0x2a1462b3UL};
	unsigned long top = chk >> 25;

	chk = ((chk & 0x1ffffffUL) << 5) ^ v;
	for (int i = 0; i < 5; i++)
		if ((top >> i) & 1)
			chk ^= gen[i];
	return chk;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* The checksum state after the expanded hrp (always taken in lowercase). */
static unsigned long hrp_polymod(const char *hrp, size_t n)
{
	unsigned long chk = 1;

	for (size_t i = 0; i < n; i++)
		chk = polymod_step(chk, (unsigned char)lower(hrp[i]) >> 5);
	chk = polymod_step(chk, 0);
	for (size_t i = 0; i < n; i++)
		chk = polymod_step(chk, (unsigned char)lower(hrp[i]) & 31);
	return chk;
}

bool age_bech32_encode(const char *hrp, const unsigned char *data, size_t n, bool up, char *out,
                       size_t out_cap)
{
	size_t hl = strlen(hrp), groups = (n * 8 + 4) / 5, o = 0;
	unsigned long chk, acc = 0;
	unsigned bits = 0;

	if (hl < 1 || out_cap < hl + 1 + groups + 6 + 1)
		return false;
	for (size_t i = 0; i < hl; i++) {
		if (hrp[i] < 33 || hrp[i] > 126)
			return false;
		out[o++] = lower(hrp[i]);
	}
	out[o++] = '1';
	chk = hrp_polymod(hrp, hl);
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			unsigned v = (unsigned)(acc >> bits) & 31;
			chk = polymod_step(chk, v);
			out[o++] = charset[v];
		}
	}
	if (bits > 0) {
		unsigned v = (unsigned)(acc << (5 - bits)) & 31;
		chk = polymod_step(chk, v);
		out[o++] = charset[v];
	}
	for (int i = 0; i < 6; i++)
		chk = polymod_step(chk, 0);
	chk ^= 1;
	for (int i = 0; i < 6; i++)
		out[o++] = charset[(chk >> (5 * (5 - i))) & 31];
	out[o] = '\0';
	if (up)
		for (size_t i = 0; i < o; i++)
			out[i] = upper(out[i]);
	return true;
}

bool age_bech32_decode(const char *s, size_t len, char *hrp, size_t hrp_cap, unsigned char *data,
                       size_t data_cap, size_t *data_len)
{
	bool has_lower = false, has_upper = false;
	size_t sep = 0, o = 0;
	unsigned long chk, acc = 0;
	unsigned bits = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			has_lower = true;
		if (s[i] >= 'A' && s[i] <= 'Z')
			has_upper = true;
		if (s[i] == '1')
			sep = i;
	}
	if (has_lower && has_upper)
		return false;
	/* at least one hrp character and six checksum characters */
	if (sep < 1 || sep + 7 > len || sep + 1 > hrp_cap)
		return false;
	for (size_t i = 0; i < sep; i++) {
		if (s[i] < 33 || s[i] > 126)
			return false;
		hrp[i] = s[i];
	}
	hrp[sep] = '\0';
	chk = hrp_polymod(s, sep);
	size_t ndata = len - sep - 1 - 6;
	for (size_t i = sep + 1; i < len; i++) {
		const char *p = memchr(charset, lower(s[i]), 32);
		if (!p || s[i] == '\0')
			return false;
		unsigned v = (unsigned)(p - charset);
		chk = polymod_step(chk, v);
		if (i - sep - 1 >= ndata)
			continue; /* checksum characters */
		acc = ((acc << 5) | v) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o == data_cap)
				return false;
			data[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (chk != 1)
		return false;
	/* the padding: fewer than 5 bits, all zero */
	if (bits >= 5 || (acc & ((1UL << bits) - 1)) != 0)
		return false;
	*data_len = o;
	return true;
}
