/* Canonical base64 for age (RFC 4648 §4 alphabet): raw (no padding) in the
 * header, padded in the armor; the coding itself is OpenSSL's. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "age/internal.h"

static int sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t age_b64_raw_len(size_t n)
{
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

void age_b64_padded_encode(const unsigned char *in, size_t n, char *out)
{
	/* EVP_EncodeBlock takes an int length: age encodes short values only
	 * (keys, salts, wrapped keys, MACs, 48-byte armor lines) */
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

void age_b64_raw_encode(const unsigned char *in, size_t n, char *out)
{
	age_b64_padded_encode(in, n, out);
	out[age_b64_raw_len(n)] = '\0';
}

/* in (len characters, a multiple of 4, pad of them '=') decoded by OpenSSL,
 * after the checks OpenSSL does not make: the alphabet, no whitespace, and
 * zero unused bits in the last data character (canonical encoding). */
static bool decode_checked(const char *in, size_t len, size_t pad, unsigned char *out,
                           size_t *out_len)
{
	size_t data = len - pad;
	int v = 0;

	for (size_t i = 0; i < data; i++) {
		v = sextet((unsigned char)in[i]);
		if (v < 0)
			return false;
	}
	if (data % 4 == 1)
		return false;
	if ((data % 4 == 2 && (v & 0x0f)) || (data % 4 == 3 && (v & 0x03)))
		return false;
	if (len == 0) {
		*out_len = 0;
		return true;
	}
	if (len > (size_t)1 << 30)
		return false;
	int got = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	if (got < 0 || (size_t)got != len / 4 * 3)
		return false;
	*out_len = (size_t)got - pad;
	return true;
}

bool age_b64_raw_decode(const char *in, size_t len, unsigned char *out, size_t *out_len)
{
	size_t rem = len % 4, pad = rem ? 4 - rem : 0;
	char small[96];
	char *tmp = small;
	bool ok;

	if (rem == 1)
		return false;
	/* '=' would be taken for padding below: refuse it here */
	if (memchr(in, '=', len))
		return false;
	if (pad == 0)
		return decode_checked(in, len, 0, out, out_len);
	/* EVP_DecodeBlock writes whole groups of 3: decode into scratch space */
	size_t need = len + pad;
	if (need + need / 4 * 3 > sizeof(small)) {
		tmp = malloc(need + need / 4 * 3);
		if (!tmp)
			return false;
	}
	memcpy(tmp, in, len);
	memset(tmp + len, '=', pad);
	unsigned char *dec = (unsigned char *)tmp + need;
	ok = decode_checked(tmp, need, pad, dec, out_len);
	if (ok)
		memcpy(out, dec, *out_len);
	OPENSSL_cleanse(dec, need / 4 * 3);
	if (tmp != small)
		free(tmp);
	return ok;
}

bool age_b64_padded_decode(const char *in, size_t len, unsigned char *out, size_t *out_len)
{
	size_t pad = 0;
	unsigned char last[3];

	if (len % 4 != 0)
		return false;
	while (pad < 2 && pad < len && in[len - 1 - pad] == '=')
		pad++;
	if (pad == 0)
		return decode_checked(in, len, 0, out, out_len);
	/* the last group decodes into 3 bytes of which only 3 - pad are data */
	size_t head = len - 4;
	size_t n = 0;
	if (!decode_checked(in, head, 0, out, &n))
		return false;
	size_t m = 0;
	if (!decode_checked(in + head, 4, pad, last, &m))
		return false;
	memcpy(out + n, last, m);
	*out_len = n + m;
	return true;
}
