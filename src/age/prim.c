/* The cryptographic primitives of age, each one OpenSSL 3 call: HKDF and
 * HMAC with SHA-256, ChaCha20-Poly1305, X25519, scrypt, the CSPRNG. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "age/internal.h"

bool age_hkdf(const unsigned char *ikm, size_t ikm_len, const unsigned char *salt, size_t salt_len,
              const char *info, unsigned char out[32])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5], *p = params;
	bool ok = false;

	if (!ctx)
		goto out;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
	/* an absent salt is HashLen zero bytes (RFC 5869), the same as empty */
	if (salt_len)
		*p++ =
		    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	*p = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(ctx, out, 32, params) == 1;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok;
}

bool age_hmac(const unsigned char key[32], const void *data, size_t len,
              unsigned char out[AGE_MAC_LEN])
{
	size_t got = 0;

	return EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, 32, data, len, out, AGE_MAC_LEN,
	                 &got) != NULL &&
	       got == AGE_MAC_LEN;
}

bool age_aead_seal(EVP_CIPHER_CTX *ctx, const unsigned char key[32], const unsigned char nonce[12],
                   const unsigned char *in, size_t in_len, unsigned char *out)
{
	int n = 0, fin = 0;

	if (in_len > INT32_MAX)
		return false;
	if (EVP_EncryptInit_ex(ctx, key ? EVP_chacha20_poly1305() : NULL, NULL, key, nonce) != 1)
		return false;
	if (in_len && EVP_EncryptUpdate(ctx, out, &n, in, (int)in_len) != 1)
		return false;
	if (EVP_EncryptFinal_ex(ctx, out + n, &fin) != 1 || (size_t)(n + fin) != in_len)
		return false;
	return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, DBB_AGE_TAG, out + in_len) == 1;
}

bool age_aead_open(EVP_CIPHER_CTX *ctx, const unsigned char key[32], const unsigned char nonce[12],
                   const unsigned char *in, size_t in_len, unsigned char *out)
{
	size_t len = in_len - DBB_AGE_TAG;
	int n = 0, fin = 0;
	bool ok = false;

	if (in_len < DBB_AGE_TAG || in_len > INT32_MAX)
		return false;
	if (EVP_DecryptInit_ex(ctx, key ? EVP_chacha20_poly1305() : NULL, NULL, key, nonce) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, DBB_AGE_TAG, (void *)(in + len)) != 1)
		goto out;
	if (len && EVP_DecryptUpdate(ctx, out, &n, in, (int)len) != 1)
		goto out;
	ok = EVP_DecryptFinal_ex(ctx, out + n, &fin) == 1 && (size_t)(n + fin) == len;
out:
	if (!ok && len)
		OPENSSL_cleanse(out, len);
	return ok;
}

static bool all_zero(const unsigned char b[32])
{
	unsigned char acc = 0;

	for (int i = 0; i < 32; i++)
		acc |= b[i];
	return acc == 0;
}

bool age_x25519(const unsigned char scalar[32], const unsigned char point[32],
                unsigned char out[32])
{
	EVP_PKEY *priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, scalar, 32);
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, point, 32);
	EVP_PKEY_CTX *ctx = priv ? EVP_PKEY_CTX_new(priv, NULL) : NULL;
	size_t len = 32;
	bool ok = false;

	/* OpenSSL refuses an all-zero result itself (RFC 7748 §6.1); the
	 * check below says so again, whatever the version */
	if (ctx && peer && EVP_PKEY_derive_init(ctx) == 1 &&
	    EVP_PKEY_derive_set_peer(ctx, peer) == 1)
		ok = EVP_PKEY_derive(ctx, out, &len) == 1 && len == 32 && !all_zero(out);
	if (!ok)
		OPENSSL_cleanse(out, 32);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(priv);
	return ok;
}

bool age_x25519_base(const unsigned char scalar[32], unsigned char out[32])
{
	EVP_PKEY *priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, scalar, 32);
	size_t len = 32;
	bool ok = priv && EVP_PKEY_get_raw_public_key(priv, out, &len) == 1 && len == 32;

	EVP_PKEY_free(priv);
	return ok;
}

bool age_scrypt(const unsigned char *pass, size_t pass_len, const unsigned char *salt,
                size_t salt_len, unsigned log2n, unsigned char out[32])
{
	const uint64_t r = 8, p = 1, n = (uint64_t)1 << log2n;
	/* what OpenSSL needs: 128 r (N + 2) for V and 128 r p for B */
	uint64_t maxmem = 128 * r * (n + 2) + 128 * r * p + 4096;

	if (log2n < 1 || log2n > DBB_AGE_SCRYPT_MAX_LIMIT)
		return false;
	return EVP_PBE_scrypt((const char *)pass, pass_len, salt, salt_len, n, r, p, maxmem, out,
	                      32) == 1;
}

bool age_random(void *buf, size_t n)
{
	return n <= INT32_MAX && RAND_bytes(buf, (int)n) == 1;
}
