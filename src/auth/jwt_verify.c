/* Verifies one compact JWS against a key snapshot: strict header parsing, the
 * algorithm pinned to the key's type, the signature, then every claim. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <jwt.h>
#include <openssl/rsa.h>

#include "auth/internal.h"

struct alg_info {
	const char *name;
	enum dbb_kty kty;
	int ec_bits;   /* EC: the curve the algorithm requires */
	jwt_alg_t jwt; /* what libjwt must report; PS* are verified with OpenSSL */
	const char *md;
	bool pss;
};

/* Only asymmetric algorithms: "none" and HS* are absent on purpose. */
static const struct alg_info algs[] = {
    {"RS256", DBB_KTY_RSA, 0, JWT_ALG_RS256, "SHA256", false},
    {"RS384", DBB_KTY_RSA, 0, JWT_ALG_RS384, "SHA384", false},
    {"RS512", DBB_KTY_RSA, 0, JWT_ALG_RS512, "SHA512", false},
    {"PS256", DBB_KTY_RSA, 0, JWT_ALG_INVAL, "SHA256", true},
    {"PS384", DBB_KTY_RSA, 0, JWT_ALG_INVAL, "SHA384", true},
    {"PS512", DBB_KTY_RSA, 0, JWT_ALG_INVAL, "SHA512", true},
    {"ES256", DBB_KTY_EC, 256, JWT_ALG_ES256, "SHA256", false},
    {"ES384", DBB_KTY_EC, 384, JWT_ALG_ES384, "SHA384", false},
    {"ES512", DBB_KTY_EC, 521, JWT_ALG_ES512, "SHA512", false},
};

/* The parts of a compact JWS, pointing into the token. */
struct jws {
	const char *token;
	size_t len;
	size_t header_len;  /* token[0, header_len) */
	size_t payload_off; /* after the first dot */
	size_t payload_len;
	size_t sig_off;
	size_t sig_len;
	const struct alg_info *alg;
	char kid[128];
};

static dbb_code bad(struct dbb_error *err, const char *reason)
{
	return dbb_fail(err, DBB_ERR_INVALID_TOKEN, "invalid token: %s", reason);
}

static bool is_b64url(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return n % 4 != 1;
}

/* Decodes a base64url segment and parses it as a JSON object, refusing
 * duplicate members (*duplicate then says that was the reason). */
static json_t *segment_json(const char *s, size_t n, bool *duplicate)
{
	unsigned char *buf = malloc(n * 3 / 4 + 1);
	size_t len = 0;
	json_t *obj = NULL;
	json_error_t jerr;

	*duplicate = false;
	if (!buf)
		return NULL;
	if (dbb_b64url_decode(s, n, buf, &len)) {
		obj = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
		*duplicate = !obj && json_error_code(&jerr) == json_error_duplicate_key;
	}
	free(buf);
	if (obj && !json_is_object(obj)) {
		json_decref(obj);
		obj = NULL;
	}
	return obj;
}

static dbb_code parse_header(const char *token, struct jws *j, struct dbb_error *err)
{
	const char *dot1, *dot2, *alg, *kid, *typ;
	json_t *hdr = NULL;
	dbb_code rc = DBB_OK;
	bool dup;

	memset(j, 0, sizeof(*j));
	j->token = token;
	j->len = strnlen(token, DBB_TOKEN_MAX + 1);
	if (j->len > DBB_TOKEN_MAX)
		return bad(err, "token too large");
	dot1 = memchr(token, '.', j->len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', j->len - (size_t)(dot1 + 1 - token)) : NULL;
	if (!dot1 || !dot2 || memchr(dot2 + 1, '.', j->len - (size_t)(dot2 + 1 - token)))
		return bad(err, "not a compact JWS");
	j->header_len = (size_t)(dot1 - token);
	j->payload_off = j->header_len + 1;
	j->payload_len = (size_t)(dot2 - dot1 - 1);
	j->sig_off = (size_t)(dot2 + 1 - token);
	j->sig_len = j->len - j->sig_off;
	if (j->header_len == 0 || j->payload_len == 0 || j->sig_len == 0)
		return bad(err, "empty segment");
	if (j->header_len > DBB_JWT_HEADER_MAX)
		return bad(err, "header too large");
	if (!is_b64url(token, j->header_len) ||
	    !is_b64url(token + j->payload_off, j->payload_len) ||
	    !is_b64url(token + j->sig_off, j->sig_len))
		return bad(err, "malformed base64url");
	/* One token, one spelling: the unused bits of a segment's last
	 * character must be zero (libjwt ignores them in what it decodes). */
	if (!dbb_b64url_canonical(token, j->header_len) ||
	    !dbb_b64url_canonical(token + j->payload_off, j->payload_len) ||
	    !dbb_b64url_canonical(token + j->sig_off, j->sig_len))
		return bad(err, "non-canonical base64url");
	hdr = segment_json(token, j->header_len, &dup);
	if (!hdr)
		return bad(err, dup ? "duplicate member in the header" : "malformed header");
	alg = json_string_value(json_object_get(hdr, "alg"));
	kid = json_string_value(json_object_get(hdr, "kid"));
	typ = json_string_value(json_object_get(hdr, "typ"));
	if (!alg) {
		rc = bad(err, "no alg");
		goto out;
	}
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(alg, algs[i].name) == 0)
			j->alg = &algs[i];
	if (!j->alg) {
		rc = bad(err, "algorithm not allowed");
		goto out;
	}
	if (json_object_get(hdr, "typ") && (!typ || strcasecmp(typ, "JWT") != 0)) {
		rc = bad(err, "typ is not JWT");
		goto out;
	}
	if (json_object_get(hdr, "crit")) {
		rc = bad(err, "unsupported crit header");
		goto out;
	}
	if (!kid || strlen(kid) == 0 || strlen(kid) >= sizeof(j->kid)) {
		rc = bad(err, "no usable kid");
		goto out;
	}
	snprintf(j->kid, sizeof(j->kid), "%s", kid);
out:
	json_decref(hdr);
	return rc;
}

/* The key named by kid that fits the algorithm; NULL if none. *kid_known
 * says whether some key has that kid at all. */
static const struct dbb_jwk *select_key(const struct dbb_keyset *ks, const struct jws *j,
                                        bool *kid_known)
{
	*kid_known = false;
	for (size_t i = 0; ks && i < ks->n; i++) {
		const struct dbb_jwk *k = &ks->keys[i];

		if (strcmp(k->kid, j->kid) != 0)
			continue;
		*kid_known = true;
		if (k->kty != j->alg->kty)
			continue;
		if (k->kty == DBB_KTY_EC && k->ec_bits != j->alg->ec_bits)
			continue;
		if (k->alg[0] && strcmp(k->alg, j->alg->name) != 0)
			continue;
		return k;
	}
	return NULL;
}

/* The payload, decoded and parsed here and not taken from libjwt: libjwt
 * 1.10 parses it without JSON_REJECT_DUPLICATES, so a token with "exp" or
 * "realm_access" twice would count with its last value. Called only once
 * the signature is good. */
static json_t *payload_claims(const struct jws *j, const char **why)
{
	bool dup;
	json_t *claims = segment_json(j->token + j->payload_off, j->payload_len, &dup);

	if (!claims)
		*why = dup ? "duplicate member in the claims" : "malformed claims";
	return claims;
}

/* RSASSA-PSS (libjwt 1.10 has no PS*): verified with OpenSSL; the payload is
 * parsed only after the signature is good. */
static json_t *verify_pss(const struct dbb_jwk *k, const struct jws *j, const char **why)
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	json_t *claims = NULL;

	sig = malloc(j->sig_len * 3 / 4 + 1);
	md = EVP_MD_CTX_new();
	if (!sig || !md || !dbb_b64url_decode(j->token + j->sig_off, j->sig_len, sig, &sig_len))
		goto out;
	if (EVP_DigestVerifyInit_ex(md, &pctx, j->alg->md, NULL, NULL, k->pkey, NULL) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)
		goto out;
	if (EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)j->token, j->sig_off - 1) !=
	    1)
		goto out;
	claims = payload_claims(j, why);
out:
	EVP_MD_CTX_free(md);
	free(sig);
	return claims;
}

/* libjwt with the key's PEM (never empty), then the algorithm it saw must be
 * the one the header named and the key allows. */
static json_t *verify_libjwt(const struct dbb_jwk *k, const struct jws *j, const char **why)
{
	jwt_t *jwt = NULL;
	json_t *claims = NULL;

	*why = "bad signature";
	if (!k->pem || k->pem_len <= 0)
		return NULL;
	if (jwt_decode(&jwt, j->token, (const unsigned char *)k->pem, k->pem_len) != 0 || !jwt)
		goto out;
	if (jwt_get_alg(jwt) != j->alg->jwt) {
		*why = "algorithm mismatch";
		goto out;
	}
	claims = payload_claims(j, why);
out:
	jwt_free(jwt);
	return claims;
}

static enum dbb_role highest_role(json_t *roles, enum dbb_role best)
{
	size_t i;
	json_t *r;

	if (!json_is_array(roles))
		return best;
	json_array_foreach(roles, i, r)
	{
		enum dbb_role role = dbb_role_parse(json_string_value(r));

		if (role > best)
			best = role;
	}
	return best;
}

static bool audience_ok(json_t *claims, const char *client)
{
	json_t *aud = json_object_get(claims, "aud");
	const char *azp = json_string_value(json_object_get(claims, "azp"));
	size_t i;
	json_t *a;

	if (json_is_string(aud) && strcmp(json_string_value(aud), client) == 0)
		return true;
	if (json_is_array(aud))
		json_array_foreach(aud, i, a)
		{
			if (json_is_string(a) && strcmp(json_string_value(a), client) == 0)
				return true;
		}
	return azp && strcmp(azp, client) == 0;
}

/* Copies a claim for logs: control characters become '?'. */
static void copy_printable(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; src && src[i] && i + 1 < size; i++)
		dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ? '?' : src[i];
	dst[i] = '\0';
}

static dbb_code check_claims(json_t *claims, const struct dbb_verify_params *p,
                             struct dbb_principal *who, double *valid_until, struct dbb_error *err)
{
	json_t *exp = json_object_get(claims, "exp");
	json_t *nbf = json_object_get(claims, "nbf");
	json_t *iat = json_object_get(claims, "iat");
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	const char *sub = json_string_value(json_object_get(claims, "sub"));
	const char *user = json_string_value(json_object_get(claims, "preferred_username"));
	double now = (double)p->now, skew = (double)p->skew;
	enum dbb_role role = DBB_ROLE_NONE;

	if (!json_is_number(exp))
		return bad(err, "no exp");
	if (now >= json_number_value(exp) + skew)
		return bad(err, "expired");
	if (nbf && (!json_is_number(nbf) || json_number_value(nbf) > now + skew))
		return bad(err, "not yet valid");
	if (iat && (!json_is_number(iat) || json_number_value(iat) > now + skew))
		return bad(err, "issued in the future");
	/* A stolen token is worth at most AUTH_MAX_TOKEN_LIFETIME; without iat
	 * it counts as issued now. */
	if (iat && json_number_value(exp) - json_number_value(iat) > (double)p->max_lifetime)
		return bad(err, "lifetime (exp - iat) longer than AUTH_MAX_TOKEN_LIFETIME");
	if (!iat && json_number_value(exp) - now > (double)p->max_lifetime + skew)
		return bad(err, "no iat and exp further ahead than AUTH_MAX_TOKEN_LIFETIME");
	if (!iss || strcmp(iss, p->issuer) != 0)
		return bad(err, "wrong issuer");
	if (!audience_ok(claims, p->client_id))
		return bad(err, "wrong audience");
	if (!sub || !sub[0] || strlen(sub) >= sizeof(who->subject))
		return bad(err, "no usable sub");
	if (p->realm_roles)
		role = highest_role(
		    json_object_get(json_object_get(claims, "realm_access"), "roles"), role);
	if (p->client_roles) {
		json_t *client =
		    json_object_get(json_object_get(claims, "resource_access"), p->client_id);

		role = highest_role(json_object_get(client, "roles"), role);
	}
	copy_printable(who->subject, sizeof(who->subject), sub);
	copy_printable(who->username, sizeof(who->username), user ? user : sub);
	who->role = role;
	*valid_until = json_number_value(exp) + skew;
	return DBB_OK;
}

dbb_code dbb_jwt_verify(const struct dbb_keyset *ks, const char *token,
                        const struct dbb_verify_params *p, struct dbb_principal *who,
                        double *valid_until, bool *unknown_kid, struct dbb_error *err)
{
	struct jws j;
	const struct dbb_jwk *key;
	const char *why = "bad signature";
	json_t *claims = NULL;
	bool kid_known;
	dbb_code rc;

	*unknown_kid = false;
	*valid_until = 0;
	memset(who, 0, sizeof(*who));
	rc = parse_header(token, &j, err);
	if (rc)
		return rc;
	key = select_key(ks, &j, &kid_known);
	if (!key) {
		*unknown_kid = !kid_known;
		return bad(err, kid_known ? "algorithm does not match the key" : "unknown kid");
	}
	claims = j.alg->pss ? verify_pss(key, &j, &why) : verify_libjwt(key, &j, &why);
	if (!claims)
		return bad(err, why);
	rc = check_claims(claims, p, who, valid_until, err);
	json_decref(claims);
	if (rc)
		memset(who, 0, sizeof(*who));
	return rc;
}
