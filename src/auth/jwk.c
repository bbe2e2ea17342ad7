/* JWKS → immutable key snapshot: each RSA/EC signature key is converted once
 * with OpenSSL 3 (EVP_PKEY_fromdata) into an EVP_PKEY and a PEM for libjwt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "auth/internal.h"

#define RSA_MIN_BITS   2048
#define JWK_MEMBER_MAX 2048 /* base64url characters of n, x or y (16384-bit RSA) */

struct curve {
	const char *crv;
	const char *group;
	int bits;
	size_t coord_len;
};

static const struct curve curves[] = {
    {"P-256", "prime256v1", 256, 32},
    {"P-384", "secp384r1", 384, 48},
    {"P-521", "secp521r1", 521, 66},
};

static const char *const signature_algs[] = {
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
};

static bool known_signature_alg(const char *alg)
{
	for (size_t i = 0; i < sizeof(signature_algs) / sizeof(signature_algs[0]); i++)
		if (strcmp(alg, signature_algs[i]) == 0)
			return true;
	return false;
}

/* Decodes a base64url member of a JWK into a malloc'd buffer. */
static unsigned char *member_bytes(json_t *jwk, const char *name, size_t *len)
{
	const char *s = json_string_value(json_object_get(jwk, name));
	unsigned char *buf;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s);
	if (n == 0 || n > JWK_MEMBER_MAX)
		return NULL;
	buf = malloc(n * 3 / 4 + 1);
	if (!buf)
		return NULL;
	if (!dbb_b64url_decode(s, n, buf, len) || *len == 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY_CTX *check = NULL;
	EVP_PKEY *pkey = NULL;

	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!check || EVP_PKEY_public_check(check) <= 0) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *rsa_from_jwk(json_t *jwk)
{
	size_t n_len = 0, e_len = 0;
	unsigned char *n_bin = member_bytes(jwk, "n", &n_len);
	unsigned char *e_bin = member_bytes(jwk, "e", &e_len);
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	if (!n_bin || !e_bin || e_len > 8)
		goto out;
	n = BN_bin2bn(n_bin, (int)n_len, NULL);
	e = BN_bin2bn(e_bin, (int)e_len, NULL);
	if (!n || !e || BN_num_bits(n) < RSA_MIN_BITS)
		goto out;
	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
		goto out;
	pkey = pkey_from_params("RSA", bld);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	free(n_bin);
	free(e_bin);
	return pkey;
}

static EVP_PKEY *ec_from_jwk(json_t *jwk, int *bits)
{
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	const struct curve *c = NULL;
	size_t x_len = 0, y_len = 0;
	unsigned char *x = NULL, *y = NULL, *point = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	for (size_t i = 0; crv && i < sizeof(curves) / sizeof(curves[0]); i++)
		if (strcmp(crv, curves[i].crv) == 0)
			c = &curves[i];
	if (!c)
		return NULL;
	x = member_bytes(jwk, "x", &x_len);
	y = member_bytes(jwk, "y", &y_len);
	if (!x || !y || x_len != c->coord_len || y_len != c->coord_len)
		goto out;
	point = malloc(1 + 2 * c->coord_len);
	if (!point)
		goto out;
	point[0] = 0x04; /* uncompressed */
	memcpy(point + 1, x, x_len);
	memcpy(point + 1 + x_len, y, y_len);
	bld = OSSL_PARAM_BLD_new();
	if (!bld ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
	                                      1 + 2 * c->coord_len))
		goto out;
	pkey = pkey_from_params("EC", bld);
	if (pkey)
		*bits = c->bits;
out:
	OSSL_PARAM_BLD_free(bld);
	free(point);
	free(x);
	free(y);
	return pkey;
}

static bool pkey_to_pem(EVP_PKEY *pkey, char **pem, int *pem_len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;
	bool ok = false;

	if (!bio || PEM_write_bio_PUBKEY(bio, pkey) != 1)
		goto out;
	len = BIO_get_mem_data(bio, &data);
	if (len <= 0 || !data)
		goto out;
	*pem = malloc((size_t)len + 1);
	if (!*pem)
		goto out;
	memcpy(*pem, data, (size_t)len);
	(*pem)[len] = '\0';
	*pem_len = (int)len;
	ok = true;
out:
	BIO_free(bio);
	return ok;
}

/* Converts one JWK; false when it is not a usable signature key. */
static bool jwk_convert(json_t *jwk, struct dbb_jwk *k)
{
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	const char *use = json_string_value(json_object_get(jwk, "use"));
	const char *kid = json_string_value(json_object_get(jwk, "kid"));
	const char *alg = json_string_value(json_object_get(jwk, "alg"));

	memset(k, 0, sizeof(*k));
	if (!json_is_object(jwk) || !kty || !kid)
		return false;
	if (json_object_get(jwk, "use") && (!use || strcmp(use, "sig") != 0))
		return false;
	if (json_object_get(jwk, "alg") && (!alg || !known_signature_alg(alg)))
		return false;
	if (strlen(kid) == 0 || strlen(kid) >= sizeof(k->kid) ||
	    (alg && strlen(alg) >= sizeof(k->alg)))
		return false;
	if (strcmp(kty, "RSA") == 0) {
		if (alg && alg[0] != 'R' && alg[0] != 'P')
			return false;
		k->kty = DBB_KTY_RSA;
		k->pkey = rsa_from_jwk(jwk);
	} else if (strcmp(kty, "EC") == 0) {
		if (alg && alg[0] != 'E')
			return false;
		k->kty = DBB_KTY_EC;
		k->pkey = ec_from_jwk(jwk, &k->ec_bits);
	} else {
		return false;
	}
	if (!k->pkey || !pkey_to_pem(k->pkey, &k->pem, &k->pem_len))
		goto fail;
	snprintf(k->kid, sizeof(k->kid), "%s", kid);
	if (alg)
		snprintf(k->alg, sizeof(k->alg), "%s", alg);
	return true;
fail:
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
	return false;
}

/* Numbers the snapshots, so that a cached token names the one it verified
 * against (an address could be reused after a free). */
static atomic_uint_fast64_t keyset_serials;

dbb_code dbb_keyset_parse(const char *json, size_t len, struct dbb_keyset **out,
                          struct dbb_error *err)
{
	json_error_t jerr;
	json_t *doc = NULL, *keys;
	struct dbb_keyset *ks = NULL;
	dbb_code rc = DBB_OK;
	size_t i, count;

	*out = NULL;
	if (len > DBB_JWKS_MAX) {
		rc = dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "JWKS larger than %d bytes",
		              DBB_JWKS_MAX);
		goto out;
	}
	doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		rc = dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "JWKS is not JSON: %s (line %d)",
		              jerr.text, jerr.line);
		goto out;
	}
	keys = json_object_get(doc, "keys");
	if (!json_is_array(keys)) {
		rc = dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "JWKS has no \"keys\" array");
		goto out;
	}
	count = json_array_size(keys);
	ks = calloc(1, sizeof(*ks));
	if (!ks || (count && !(ks->keys = calloc(count, sizeof(*ks->keys))))) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		goto out;
	}
	atomic_init(&ks->refs, 1);
	ks->serial = atomic_fetch_add(&keyset_serials, 1) + 1;
	ks->loaded_at = time(NULL);
	for (i = 0; i < count; i++) {
		if (jwk_convert(json_array_get(keys, i), &ks->keys[ks->n]))
			ks->n++;
		else
			ks->skipped++;
	}
	*out = ks;
	ks = NULL;
out:
	dbb_keyset_unref(ks);
	json_decref(doc);
	return rc;
}

struct dbb_keyset *dbb_keyset_ref(struct dbb_keyset *ks)
{
	if (ks)
		atomic_fetch_add(&ks->refs, 1);
	return ks;
}

void dbb_keyset_unref(struct dbb_keyset *ks)
{
	if (!ks || atomic_fetch_sub(&ks->refs, 1) != 1)
		return;
	for (size_t i = 0; i < ks->n; i++) {
		EVP_PKEY_free(ks->keys[i].pkey);
		free(ks->keys[i].pem);
	}
	free(ks->keys);
	free(ks);
}

static char *bn_param_b64(const EVP_PKEY *pkey, const char *name)
{
	BIGNUM *bn = NULL;
	unsigned char *bin = NULL;
	char *s = NULL;
	int len;

	if (!EVP_PKEY_get_bn_param(pkey, name, &bn))
		goto out;
	len = BN_num_bytes(bn);
	bin = malloc(len > 0 ? (size_t)len : 1);
	if (!bin)
		goto out;
	BN_bn2bin(bn, bin);
	s = dbb_b64url_encode(bin, (size_t)len);
out:
	free(bin);
	BN_free(bn);
	return s;
}

dbb_code dbb_jwk_rsa_members(const EVP_PKEY *pkey, char **n, char **e, struct dbb_error *err)
{
	*n = bn_param_b64(pkey, OSSL_PKEY_PARAM_RSA_N);
	*e = bn_param_b64(pkey, OSSL_PKEY_PARAM_RSA_E);
	if (*n && *e)
		return DBB_OK;
	free(*n);
	free(*e);
	*n = *e = NULL;
	return dbb_fail(err, DBB_ERR_INTERNAL, "cannot read the RSA key's modulus and exponent");
}

dbb_code dbb_jwk_rsa_thumbprint(const char *n, const char *e, char *out, size_t out_size,
                                struct dbb_error *err)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	char *canon = NULL, *b64 = NULL;
	dbb_code rc = DBB_OK;
	int len;

	/* RFC 7638: the required members, in lexicographic order, no spaces. */
	len = snprintf(NULL, 0, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", e, n);
	canon = malloc((size_t)len + 1);
	if (!canon) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		goto out;
	}
	snprintf(canon, (size_t)len + 1, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", e, n);
	if (!EVP_Digest(canon, (size_t)len, digest, &dlen, EVP_sha256(), NULL) ||
	    !(b64 = dbb_b64url_encode(digest, dlen)) || strlen(b64) >= out_size) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "cannot compute the key thumbprint");
		goto out;
	}
	snprintf(out, out_size, "%s", b64);
out:
	free(b64);
	free(canon);
	return rc;
}
