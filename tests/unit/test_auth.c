/* Token verification against real keys made here: dev keys, tokens per role,
 * every forged variant, key sources and their configuration errors. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "auth/internal.h"
#include "dbbackupd/auth.h"

static int passed, failed;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			passed++;                                                                  \
		} else {                                                                           \
			failed++;                                                                  \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
		}                                                                                  \
	} while (0)

static char dir[512], keydir[600], jwks_path[700], pem_path[700];
static EVP_PKEY *dev_key; /* the dev private key, read back from private.pem */
static char dev_kid[64];

/* ---- helpers that forge tokens with OpenSSL directly ---- */

static char *b64(const void *data, size_t n)
{
	return dbb_b64url_encode(data, n);
}

static char *join3(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 3;
	char *s = malloc(n);

	snprintf(s, n, "%s.%s.%s", a, b, c);
	return s;
}

/* ECDSA DER → JOSE r||s. */
static unsigned char *der_to_raw(const unsigned char *der, size_t der_len, size_t coord,
                                 size_t *out_len)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	unsigned char *raw = malloc(2 * coord);

	BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, (int)coord);
	BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + coord, (int)coord);
	ECDSA_SIG_free(sig);
	*out_len = 2 * coord;
	return raw;
}

/* Signs header.claims with alg using key (RS*, PS*, ES*), or hmac_secret
 * (HS256), or nothing (alg none: fake_sig as the signature segment). */
static char *forge(const char *alg, EVP_PKEY *key, const char *header, const char *claims,
                   const char *hmac_secret)
{
	char *h = b64(header, strlen(header)), *c = b64(claims, strlen(claims));
	char *input = malloc(strlen(h) + strlen(c) + 2);
	unsigned char sigbuf[1024], *sig = sigbuf;
	size_t sig_len = sizeof(sigbuf);
	char *s, *tok;

	sprintf(input, "%s.%s", h, c);
	if (strcmp(alg, "HS256") == 0) {
		unsigned int l = 0;

		HMAC(EVP_sha256(), hmac_secret, (int)strlen(hmac_secret),
		     (const unsigned char *)input, strlen(input), sigbuf, &l);
		sig_len = l;
	} else if (key) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		EVP_PKEY_CTX *pctx = NULL;
		const char *mdname = strstr(alg, "384")   ? "SHA384"
		                     : strstr(alg, "512") ? "SHA512"
		                                          : "SHA256";

		EVP_DigestSignInit_ex(md, &pctx, mdname, NULL, NULL, key, NULL);
		if (alg[0] == 'P') {
			EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
			EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
		}
		EVP_DigestSign(md, sigbuf, &sig_len, (const unsigned char *)input, strlen(input));
		EVP_MD_CTX_free(md);
		if (alg[0] == 'E') {
			size_t coord = (size_t)(EVP_PKEY_get_bits(key) + 7) / 8;

			sig = der_to_raw(sigbuf, sig_len, coord, &sig_len);
		}
	} else {
		memcpy(sigbuf, "fake", 4);
		sig_len = 4;
	}
	s = b64(sig, sig_len);
	tok = join3(h, c, s);
	if (sig != sigbuf)
		free(sig);
	free(h);
	free(c);
	free(s);
	free(input);
	return tok;
}

static char *header_for(const char *alg, const char *kid)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", alg, kid);
	return buf;
}

/* Claims a daemon with the test config accepts; fmt adds/overrides members. */
static char *claims_with(const char *extra_fmt, ...)
{
	static char buf[4096];
	char extra[2048] = "";
	long now = (long)time(NULL);
	va_list ap;

	if (extra_fmt) {
		va_start(ap, extra_fmt);
		vsnprintf(extra, sizeof(extra), extra_fmt, ap);
		va_end(ap);
	}
	snprintf(
	    buf, sizeof(buf),
	    "{%s%s\"iss\":\"dbbackupd-local\",\"sub\":\"u-1\",\"preferred_username\":\"alice\","
	    "\"iat\":%ld,\"exp\":%ld,\"realm_access\":{\"roles\":[\"operator\"]}}",
	    extra, extra[0] ? "," : "", now, now + 300);
	return buf;
}

/* Claims built from scratch (for missing/odd members). */
static char *claims_raw(const char *fmt, ...)
{
	static char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

static dbb_code verify_tok(struct dbb_auth *a, const char *tok, struct dbb_principal *who,
                           struct dbb_error *err)
{
	char *hdr = malloc(strlen(tok) + 8);
	dbb_code rc;

	sprintf(hdr, "Bearer %s", tok);
	rc = dbb_auth_verify(a, hdr, who, err);
	free(hdr);
	return rc;
}

static void expect_invalid(struct dbb_auth *a, char *tok, const char *what, const char *reason)
{
	struct dbb_principal who;
	struct dbb_error err = {0};
	dbb_code rc = verify_tok(a, tok, &who, &err);

	CHECK(rc == DBB_ERR_INVALID_TOKEN, "%s: expected invalid_token, got %d (%s)", what, rc,
	      err.message);
	CHECK(!reason || strstr(err.message, reason), "%s: reason \"%s\" not in \"%s\"", what,
	      reason ? reason : "", err.message);
	CHECK(strlen(tok) < 20 || !strstr(err.message, tok + strlen(tok) - 16),
	      "%s: the error message contains the token", what);
	CHECK(who.role == DBB_ROLE_NONE && who.subject[0] == '\0', "%s: principal not cleared",
	      what);
	free(tok);
}

static void expect_valid(struct dbb_auth *a, char *tok, const char *what, enum dbb_role role)
{
	struct dbb_principal who;
	struct dbb_error err = {0};
	dbb_code rc = verify_tok(a, tok, &who, &err);

	CHECK(rc == DBB_OK, "%s: expected valid, got %d (%s)", what, rc, err.message);
	CHECK(rc != DBB_OK || who.role == role, "%s: role %s, expected %s", what,
	      dbb_role_name(who.role), dbb_role_name(role));
	free(tok);
}

static void base_config(struct dbb_config *cfg, const char *jwks)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->auth_jwks_file, sizeof(cfg->auth_jwks_file), "%s", jwks);
	snprintf(cfg->keycloak_client_id, sizeof(cfg->keycloak_client_id), "dbbackupd");
	cfg->auth_clock_skew = 30;
	cfg->jwks_refresh_interval = 1;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static char *rsa_jwk(EVP_PKEY *k, const char *kid, const char *extra)
{
	char *n, *e, *out;
	size_t len;

	dbb_jwk_rsa_members(k, &n, &e, NULL);
	len = strlen(n) + strlen(e) + strlen(kid) + strlen(extra) + 128;
	out = malloc(len);
	snprintf(out, len, "{\"kty\":\"RSA\",\"kid\":\"%s\"%s,\"n\":\"%s\",\"e\":\"%s\"}", kid,
	         extra, n, e);
	free(n);
	free(e);
	return out;
}

static char *ec_jwk(EVP_PKEY *k, const char *kid, const char *crv)
{
	unsigned char pub[200];
	size_t len = 0, coord;
	char *x, *y, *out;

	EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &len);
	coord = (len - 1) / 2;
	x = b64(pub + 1, coord);
	y = b64(pub + 1 + coord, coord);
	out = malloc(512);
	snprintf(out, 512,
	         "{\"kty\":\"EC\",\"kid\":\"%s\",\"use\":\"sig\",\"crv\":\"%s\",\"x\":\"%s\","
	         "\"y\":\"%s\"}",
	         kid, crv, x, y);
	free(x);
	free(y);
	return out;
}

/* ---- the tests ---- */

static void test_roles(void)
{
	CHECK(strcmp(dbb_role_name(DBB_ROLE_ADMIN), "admin") == 0, "admin name");
	CHECK(strcmp(dbb_role_name(DBB_ROLE_NONE), "none") == 0, "none name");
	CHECK(dbb_role_parse("operator") == DBB_ROLE_OPERATOR, "parse operator");
	CHECK(dbb_role_parse("viewer") == DBB_ROLE_VIEWER, "parse viewer");
	CHECK(dbb_role_parse("Admin") == DBB_ROLE_NONE, "parse is exact");
	CHECK(dbb_role_parse(NULL) == DBB_ROLE_NONE, "parse NULL");
}

static void test_devkeys(void)
{
	struct dbb_error err = {0};
	struct stat st;
	json_t *doc, *k;
	FILE *f;

	CHECK(dbb_devkeys_write(keydir, &err) == DBB_OK, "dev-keys: %s", err.message);
	CHECK(stat(pem_path, &st) == 0 && (st.st_mode & 0777) == 0600, "private.pem is 0600 (%o)",
	      st.st_mode & 0777);
	doc = json_load_file(jwks_path, 0, NULL);
	k = json_array_get(json_object_get(doc, "keys"), 0);
	CHECK(k && strcmp(json_string_value(json_object_get(k, "kty")), "RSA") == 0 &&
	          strcmp(json_string_value(json_object_get(k, "alg")), "RS256") == 0 &&
	          strcmp(json_string_value(json_object_get(k, "use")), "sig") == 0 &&
	          json_string_value(json_object_get(k, "n")) &&
	          json_string_value(json_object_get(k, "e")) &&
	          json_string_value(json_object_get(k, "kid")),
	      "jwks.json has kty, alg, use, n, e, kid");
	if (k)
		snprintf(dev_kid, sizeof(dev_kid), "%s",
		         json_string_value(json_object_get(k, "kid")));
	json_decref(doc);
	CHECK(dbb_devkeys_write(keydir, &err) == DBB_ERR_EXISTS,
	      "dev-keys refuses to overwrite a key");
	f = fopen(pem_path, "r");
	dev_key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	CHECK(dev_key != NULL, "private.pem reads back");
}

static void test_config_errors(void)
{
	struct dbb_config cfg;
	struct dbb_auth *a = NULL;
	struct dbb_error err = {0};
	char path[800];

	base_config(&cfg, "");
	CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_ERR_CONFIG && !a, "no key source is an error");
	CHECK(strstr(err.message, "AUTH_JWKS_FILE") && strstr(err.message, "KEYCLOAK_URL"),
	      "the message names the variables: %s", err.message);

	snprintf(path, sizeof(path), "%s/missing.json", dir);
	base_config(&cfg, path);
	CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_ERR_CONFIG &&
	          strstr(err.message, "AUTH_JWKS_FILE"),
	      "missing JWKS file: %s", err.message);

	snprintf(path, sizeof(path), "%s/enc-only.json", dir);
	{
		char *jwk = rsa_jwk(dev_key, "enc-1", ",\"use\":\"enc\",\"alg\":\"RSA-OAEP\"");
		char doc[4096];

		snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", jwk);
		write_file(path, doc);
		free(jwk);
	}
	base_config(&cfg, path);
	CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_ERR_CONFIG && strstr(err.message, "no usable"),
	      "a JWKS with only an enc key is refused: %s", err.message);

	snprintf(path, sizeof(path), "%s/garbage.json", dir);
	write_file(path, "{\"keys\": [ not json");
	base_config(&cfg, path);
	CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_ERR_CONFIG, "malformed JWKS: %s", err.message);

	base_config(&cfg, jwks_path);
	snprintf(cfg.auth_roles_from, sizeof(cfg.auth_roles_from), "everything");
	CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_ERR_CONFIG &&
	          strstr(err.message, "AUTH_ROLES_FROM"),
	      "bad roles source: %s", err.message);

	base_config(&cfg, "");
	snprintf(cfg.keycloak_url, sizeof(cfg.keycloak_url), "http://127.0.0.1:1");
	CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_ERR_CONFIG &&
	          strstr(err.message, "KEYCLOAK_REALM"),
	      "URL without realm: %s", err.message);
}

static void test_dev_tokens(struct dbb_auth *a, const struct dbb_config *cfg)
{
	static const enum dbb_role roles[] = {DBB_ROLE_VIEWER, DBB_ROLE_OPERATOR, DBB_ROLE_ADMIN,
	                                      DBB_ROLE_NONE};
	struct dbb_principal who;
	struct dbb_error err = {0};
	char *tok = NULL, hdr[DBB_TOKEN_MAX + 64];

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		char want[64];

		CHECK(dbb_token_issue(pem_path, roles[i], 600, cfg, &tok, &err) == DBB_OK,
		      "issue %s: %s", dbb_role_name(roles[i]), err.message);
		if (!tok)
			continue;
		CHECK(verify_tok(a, tok, &who, &err) == DBB_OK, "dev %s token verifies: %s",
		      dbb_role_name(roles[i]), err.message);
		snprintf(want, sizeof(want), "dev-%s", dbb_role_name(roles[i]));
		CHECK(who.role == roles[i] && strcmp(who.subject, want) == 0 &&
		          strcmp(who.username, want) == 0,
		      "dev %s principal: %s/%s/%s", dbb_role_name(roles[i]), who.subject,
		      who.username, dbb_role_name(who.role));
		free(tok);
		tok = NULL;
	}

	dbb_token_issue(pem_path, DBB_ROLE_VIEWER, 600, cfg, &tok, &err);
	snprintf(hdr, sizeof(hdr), "bEaReR   %s", tok);
	CHECK(dbb_auth_verify(a, hdr, &who, &err) == DBB_OK, "scheme is case-insensitive: %s",
	      err.message);
	CHECK(dbb_auth_verify(a, NULL, &who, &err) == DBB_ERR_UNAUTHORIZED, "no header: 401");
	CHECK(dbb_auth_verify(a, "Bearer", &who, &err) == DBB_ERR_UNAUTHORIZED, "no token: 401");
	CHECK(dbb_auth_verify(a, "Bearer   ", &who, &err) == DBB_ERR_UNAUTHORIZED,
	      "blank token: 401");
	snprintf(hdr, sizeof(hdr), "Basic %s", tok);
	CHECK(dbb_auth_verify(a, hdr, &who, &err) == DBB_ERR_UNAUTHORIZED, "Basic scheme: 401");
	snprintf(hdr, sizeof(hdr), "Bearer%s", tok);
	CHECK(dbb_auth_verify(a, hdr, &who, &err) == DBB_ERR_UNAUTHORIZED, "Bearer without space");
	snprintf(hdr, sizeof(hdr), "Bearer %s extra", tok);
	CHECK(dbb_auth_verify(a, hdr, &who, &err) == DBB_ERR_INVALID_TOKEN, "trailing garbage");
	free(tok);

	dbb_token_issue(pem_path, DBB_ROLE_ADMIN, -60, cfg, &tok, &err);
	expect_invalid(a, tok, "expired dev token", "expired");
	dbb_token_issue(pem_path, DBB_ROLE_ADMIN, -10, cfg, &tok, &err);
	expect_valid(a, tok, "expired 10 s ago, within the 30 s skew", DBB_ROLE_ADMIN);
}

static void test_forgeries(struct dbb_auth *a)
{
	char good_hdr[256];
	long now = (long)time(NULL);
	EVP_PKEY *other = EVP_RSA_gen(2048), *ec = EVP_EC_gen("P-256");
	char *pub_pem, *tok, *big;
	BIO *bio = BIO_new(BIO_s_mem());
	long len;

	snprintf(good_hdr, sizeof(good_hdr), "%s", header_for("RS256", dev_kid));
	expect_valid(a,
	             forge("RS256", dev_key, good_hdr, claims_with("\"aud\":\"dbbackupd\""), NULL),
	             "hand-made RS256 token", DBB_ROLE_OPERATOR);
	expect_invalid(a,
	               forge("RS256", dev_key, good_hdr,
	                     claims_with("\"nbf\":%ld,\"aud\":\"dbbackupd\"", now + 600), NULL),
	               "nbf in the future", "not yet valid");
	expect_valid(a,
	             forge("RS256", dev_key, good_hdr,
	                   claims_with("\"nbf\":%ld,\"aud\":\"dbbackupd\"", now + 10), NULL),
	             "nbf within the skew", DBB_ROLE_OPERATOR);
	expect_invalid(a,
	               forge("RS256", dev_key, good_hdr,
	                     claims_raw("{\"iss\":\"dbbackupd-local\",\"aud\":\"dbbackupd\","
	                                "\"sub\":\"u\",\"iat\":%ld,\"exp\":%ld}",
	                                now + 600, now + 900),
	                     NULL),
	               "iat in the future", "future");
	expect_invalid(a,
	               forge("RS256", dev_key, good_hdr,
	                     claims_raw("{\"iss\":\"dbbackupd-local\",\"aud\":\"dbbackupd\","
	                                "\"sub\":\"u\"}"),
	                     NULL),
	               "no exp", "no exp");
	expect_invalid(a,
	               forge("RS256", dev_key, good_hdr,
	                     claims_raw("{\"iss\":\"dbbackupd-local\",\"aud\":\"dbbackupd\","
	                                "\"sub\":\"u\",\"exp\":\"%ld\"}",
	                                now + 600),
	                     NULL),
	               "exp as a string", "no exp");
	expect_invalid(a,
	               forge("RS256", dev_key, good_hdr,
	                     claims_raw("{\"iss\":\"https://evil.example/realms/backup\","
	                                "\"aud\":\"dbbackupd\",\"sub\":\"u\",\"exp\":%ld}",
	                                now + 600),
	                     NULL),
	               "wrong issuer", "issuer");
	expect_invalid(a,
	               forge("RS256", dev_key, good_hdr,
	                     claims_raw("{\"iss\":\"dbbackupd-local/\","
	                                "\"aud\":\"dbbackupd\",\"sub\":\"u\",\"exp\":%ld}",
	                                now + 600),
	                     NULL),
	               "issuer with a trailing slash", "issuer");
	expect_invalid(a,
	               forge("RS256", dev_key, good_hdr,
	                     claims_with("\"aud\":\"account\",\"azp\":\"other-app\""), NULL),
	               "wrong aud and azp", "audience");
	expect_valid(a,
	             forge("RS256", dev_key, good_hdr,
	                   claims_with("\"aud\":[\"account\",\"dbbackupd\"]"), NULL),
	             "aud array containing the client", DBB_ROLE_OPERATOR);
	expect_valid(a,
	             forge("RS256", dev_key, good_hdr,
	                   claims_with("\"aud\":\"account\",\"azp\":\"dbbackupd\""), NULL),
	             "azp is the client", DBB_ROLE_OPERATOR);
	expect_invalid(a,
	               forge("RS256", dev_key, good_hdr,
	                     claims_raw("{\"iss\":\"dbbackupd-local\",\"aud\":\"dbbackupd\","
	                                "\"exp\":%ld}",
	                                now + 600),
	                     NULL),
	               "no sub", "sub");

	/* Keys and algorithms. */
	expect_invalid(a,
	               forge("RS256", dev_key, header_for("RS256", "no-such-kid"),
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "unknown kid", "unknown kid");
	expect_invalid(a,
	               forge("RS256", other, good_hdr, claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "signed by another key under the right kid", "signature");
	tok = forge("RS256", dev_key, good_hdr, claims_with("\"aud\":\"dbbackupd\""), NULL);
	tok[strlen(tok) - 5] = tok[strlen(tok) - 5] == 'A' ? 'B' : 'A';
	expect_invalid(a, tok, "flipped signature character", NULL);
	{
		/* Payload swapped after signing: admin instead of operator. */
		char *t1 =
		    forge("RS256", dev_key, good_hdr, claims_with("\"aud\":\"dbbackupd\""), NULL);
		const char *adm =
		    "{\"iss\":\"dbbackupd-local\",\"aud\":\"dbbackupd\",\"sub\":\"u\","
		    "\"exp\":9999999999,\"realm_access\":{\"roles\":[\"admin\"]}}";
		char *p = b64(adm, strlen(adm));
		char *dot1 = strchr(t1, '.'), *dot2 = strchr(dot1 + 1, '.');
		char *h = strndup(t1, (size_t)(dot1 - t1));

		expect_invalid(a, join3(h, p, dot2 + 1), "payload changed after signing", NULL);
		free(h);
		free(p);
		free(t1);
	}
	expect_invalid(a,
	               forge("none", NULL, "{\"alg\":\"none\",\"typ\":\"JWT\"}",
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "alg none (with a signature segment)", "algorithm");
	{
		char *t1 = forge("none", NULL, header_for("none", dev_kid),
		                 claims_with("\"aud\":\"dbbackupd\""), NULL);

		*(strrchr(t1, '.') + 1) = '\0'; /* "header.payload." */
		expect_invalid(a, t1, "alg none, empty signature", NULL);
	}
	expect_invalid(a,
	               forge("none", NULL, header_for("None", dev_kid),
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "alg None", "algorithm");
	PEM_write_bio_PUBKEY(bio, dev_key);
	len = BIO_get_mem_data(bio, &pub_pem);
	pub_pem = strndup(pub_pem, (size_t)len);
	expect_invalid(a,
	               forge("HS256", NULL, header_for("HS256", dev_kid),
	                     claims_with("\"aud\":\"dbbackupd\""), pub_pem),
	               "HS256 with the public key PEM as secret", "algorithm");
	expect_invalid(a,
	               forge("ES256", ec, header_for("ES256", dev_kid),
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "ES256 under an RSA key's kid", "does not match");
	expect_invalid(a,
	               forge("ES256", ec, header_for("ES256", "ec-unknown"),
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "token signed with an EC key that is not in the JWKS", "unknown kid");
	expect_invalid(a,
	               forge("PS256", dev_key, header_for("PS256", dev_kid),
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "PS256 under a key whose JWK says RS256", "does not match");
	expect_invalid(a,
	               forge("RS256", dev_key,
	                     "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"x\",\"alg\":\"none\"}",
	                     claims_with(NULL), NULL),
	               "duplicate alg in the header", "header");
	{
		char h[256];

		snprintf(h, sizeof(h), "{\"alg\":\"RS256\",\"typ\":\"JOSE+JSON\",\"kid\":\"%s\"}",
		         dev_kid);
		expect_invalid(a, forge("RS256", dev_key, h, claims_with(NULL), NULL),
		               "typ not JWT", "typ");
		snprintf(h, sizeof(h), "{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"kid\":\"%s\"}",
		         dev_kid);
		expect_invalid(a, forge("RS256", dev_key, h, claims_with(NULL), NULL),
		               "crit header", "crit");
		expect_invalid(
		    a, forge("RS256", dev_key, "{\"alg\":\"RS256\"}", claims_with(NULL), NULL),
		    "no kid", "kid");
	}

	/* Malformed shapes. */
	expect_invalid(a, strdup("abc"), "one segment", "compact");
	expect_invalid(a, strdup("a.b"), "two segments", "compact");
	expect_invalid(a, strdup("a.b.c.d"), "four segments", "compact");
	expect_invalid(a, strdup("eyJhbGciOiJSUzI1NiJ9..c2ln"), "empty payload", "empty");
	expect_invalid(a, strdup("eyJhbGci*iJSUzI1NiJ9.e30.c2ln"), "bad base64 character",
	               "base64");
	expect_invalid(a, strdup("eyJhbGciOiJSUzI1NiJ9=.e30.c2ln"), "base64 padding", "base64");
	expect_invalid(a, strdup("e.e30.c2ln"), "impossible base64 length", "base64");
	{
		const char *notjson = "{\"alg\":\"RS256\",";
		char *h = b64(notjson, strlen(notjson));

		expect_invalid(a, join3(h, "e30", "c2ln"), "header not JSON", "header");
		free(h);
		h = b64("[1,2]", 5);
		expect_invalid(a, join3(h, "e30", "c2ln"), "header not an object", "header");
		free(h);
	}
	{
		/* Signed, but the payload is not JSON. */
		char *h = b64(good_hdr, strlen(good_hdr));
		char *p = b64("not json", 8);
		char *input = malloc(strlen(h) + strlen(p) + 2), *s, sig[512];
		size_t sl = sizeof(sig);
		EVP_MD_CTX *md = EVP_MD_CTX_new();

		sprintf(input, "%s.%s", h, p);
		EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, dev_key, NULL);
		EVP_DigestSign(md, (unsigned char *)sig, &sl, (unsigned char *)input,
		               strlen(input));
		EVP_MD_CTX_free(md);
		s = b64(sig, sl);
		expect_invalid(a, join3(h, p, s), "signed payload that is not JSON", NULL);
		free(h);
		free(p);
		free(s);
		free(input);
	}
	big = malloc(DBB_TOKEN_MAX + 100);
	memset(big, 'A', DBB_TOKEN_MAX + 99);
	big[DBB_TOKEN_MAX + 99] = '\0';
	big[10] = '.';
	big[20] = '.';
	expect_invalid(a, big, "oversized token", "too large");
	{
		char h[4096];

		snprintf(h, sizeof(h), "{\"alg\":\"RS256\",\"kid\":\"%s\",\"pad\":\"%03000d\"}",
		         dev_kid, 0);
		expect_invalid(a, forge("RS256", dev_key, h, claims_with(NULL), NULL),
		               "oversized header", "header too large");
	}
	{
		struct dbb_principal who;
		struct dbb_error err = {0};
		char ctl[256];

		snprintf(ctl, sizeof(ctl), "%s", claims_with("\"aud\":\"dbbackupd\""));
		tok = forge(
		    "RS256", dev_key, good_hdr,
		    claims_raw("{\"iss\":\"dbbackupd-local\",\"aud\":\"dbbackupd\","
		               "\"sub\":\"u\\nFAKE LOG LINE\",\"preferred_username\":\"bob\\r\","
		               "\"exp\":%ld,\"realm_access\":{\"roles\":[\"viewer\"]}}",
		               now + 600),
		    NULL);
		CHECK(verify_tok(a, tok, &who, &err) == DBB_OK && !strchr(who.subject, '\n') &&
		          !strchr(who.username, '\r'),
		      "control characters in sub/username are neutralised: %s", err.message);
		free(tok);
	}
	free(pub_pem);
	BIO_free(bio);
	EVP_PKEY_free(other);
	EVP_PKEY_free(ec);
}

/* Signs the already-encoded segments h.p with RS256 or PS256 (so that the
 * spelling of h and p is the test's, not the encoder's). */
static char *sign_segments(const char *alg, EVP_PKEY *key, const char *h, const char *p)
{
	char *input = malloc(strlen(h) + strlen(p) + 2), *s, *tok;
	unsigned char sig[1024];
	size_t sl = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;

	sprintf(input, "%s.%s", h, p);
	EVP_DigestSignInit_ex(md, &pctx, "SHA256", NULL, NULL, key, NULL);
	if (alg[0] == 'P') {
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
	}
	EVP_DigestSign(md, sig, &sl, (unsigned char *)input, strlen(input));
	EVP_MD_CTX_free(md);
	s = b64(sig, sl);
	tok = join3(h, p, s);
	free(s);
	free(input);
	return tok;
}

/* The same bytes spelled differently: the unused low bits of the last
 * character set (the segment's length must not be a multiple of 4). */
static void respell_last(char *seg)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = strlen(seg);
	const char *at = strchr(alphabet, seg[n - 1]);

	seg[n - 1] = alphabet[(at - alphabet) | 1];
}

/* Issue 14 item 9: duplicate claims, non-canonical base64url, lifetime. */
static void test_token_spelling(struct dbb_auth *a)
{
	long now = (long)time(NULL);
	char hdr[256], *tok, *h, *p;
	const char *base =
	    "{\"iss\":\"dbbackupd-local\",\"aud\":\"dbbackupd\",\"sub\":\"u\",\"iat\":%ld,";

	snprintf(hdr, sizeof(hdr), "%s", header_for("RS256", dev_kid));

	/* duplicate members: refused, whichever value comes last */
	{
		char fmt[512];

		snprintf(fmt, sizeof(fmt), "%s%s", base,
		         "\"exp\":%ld,\"exp\":%ld,\"realm_access\":{\"roles\":[\"viewer\"]}}");
		expect_invalid(
		    a,
		    forge("RS256", dev_key, hdr, claims_raw(fmt, now, now - 600, now + 600), NULL),
		    "exp twice (expired, then valid)", "duplicate");
		snprintf(fmt, sizeof(fmt), "%s%s", base,
		         "\"exp\":%ld,\"realm_access\":{\"roles\":[\"viewer\"]},"
		         "\"realm_access\":{\"roles\":[\"admin\"]}}");
		expect_invalid(a,
		               forge("RS256", dev_key, hdr, claims_raw(fmt, now, now + 600), NULL),
		               "realm_access twice (viewer, then admin)", "duplicate");
		snprintf(
		    fmt, sizeof(fmt), "%s%s", base,
		    "\"exp\":%ld,\"realm_access\":{\"roles\":[\"viewer\"],\"roles\":[\"admin\"]}}");
		expect_invalid(a,
		               forge("RS256", dev_key, hdr, claims_raw(fmt, now, now + 600), NULL),
		               "roles twice inside realm_access", "duplicate");
		snprintf(
		    fmt, sizeof(fmt), "%s%s", base,
		    "\"exp\":%ld,\"sub\":\"admin\",\"realm_access\":{\"roles\":[\"viewer\"]}}");
		expect_invalid(a,
		               forge("RS256", dev_key, hdr, claims_raw(fmt, now, now + 600), NULL),
		               "sub twice", "duplicate");
		/* the same claims without the duplicate are fine */
		snprintf(fmt, sizeof(fmt), "%s%s", base,
		         "\"exp\":%ld,\"realm_access\":{\"roles\":[\"viewer\"]}}");
		expect_valid(a, forge("RS256", dev_key, hdr, claims_raw(fmt, now, now + 600), NULL),
		             "no duplicate", DBB_ROLE_VIEWER);
	}

	/* non-canonical base64url in the signature: same bytes, other spelling */
	tok = forge("RS256", dev_key, hdr, claims_with("\"aud\":\"dbbackupd\""), NULL);
	CHECK(strlen(strrchr(tok, '.') + 1) % 4 != 0, "an RS256 signature has unused bits");
	expect_valid(a, strdup(tok), "canonical token", DBB_ROLE_OPERATOR);
	expect_valid(a, strdup(tok), "canonical token again (from the cache)", DBB_ROLE_OPERATOR);
	respell_last(tok);
	expect_invalid(a, tok, "signature with non-zero unused bits", "non-canonical");

	/* ... in the payload and in the header (signed as spelled) */
	{
		/* 1 or 2 trailing bytes: lengths that leave unused bits */
		char claims[512];
		size_t len;

		snprintf(claims, sizeof(claims), "%s", claims_with("\"aud\":\"dbbackupd\""));
		len = strlen(claims);
		if (len % 3 == 0)
			claims[len - 1] = ' ', snprintf(claims + len - 1, 3, " }");
		h = b64(hdr, strlen(hdr));
		p = b64(claims, strlen(claims));
		CHECK(strlen(p) % 4 != 0, "payload spelling has unused bits");
		expect_valid(a, sign_segments("RS256", dev_key, h, p), "hand-spelled payload",
		             DBB_ROLE_OPERATOR);
		respell_last(p);
		expect_invalid(a, sign_segments("RS256", dev_key, h, p), "payload respelled",
		               "non-canonical");
		expect_invalid(a, sign_segments("PS256", dev_key, h, p),
		               "payload respelled (PS256)", NULL);
		free(p);
		p = b64(claims, strlen(claims));
		if (strlen(h) % 4 != 0) {
			respell_last(h);
			expect_invalid(a, sign_segments("RS256", dev_key, h, p), "header respelled",
			               "non-canonical");
		} else {
			char h2[300];

			snprintf(h2, sizeof(h2),
			         "{\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"JWT\"} ", dev_kid);
			free(h);
			h = b64(h2, strlen(h2));
			respell_last(h);
			expect_invalid(a, sign_segments("RS256", dev_key, h, p), "header respelled",
			               "non-canonical");
		}
		free(h);
		free(p);
	}
	/* lifetime: exp - iat at most AUTH_MAX_TOKEN_LIFETIME (default 24 h) */
	{
		char fmt[512];

		snprintf(fmt, sizeof(fmt), "%s%s", base,
		         "\"exp\":%ld,\"realm_access\":{\"roles\":[\"admin\"]}}");
		expect_valid(a,
		             forge("RS256", dev_key, hdr, claims_raw(fmt, now, now + 86400), NULL),
		             "a 24 h token", DBB_ROLE_ADMIN);
		expect_invalid(
		    a, forge("RS256", dev_key, hdr, claims_raw(fmt, now, now + 86401), NULL),
		    "a 24 h + 1 s token", "lifetime");
		expect_invalid(
		    a, forge("RS256", dev_key, hdr, claims_raw(fmt, now - 86000, now + 1000), NULL),
		    "issued long ago, valid a little longer", "lifetime");
		expect_invalid(a,
		               forge("RS256", dev_key, hdr,
		                     claims_raw(fmt, now, now + 10L * 365 * 86400), NULL),
		               "a ten-year token", "lifetime");
		/* without iat the token counts as issued now */
		snprintf(fmt, sizeof(fmt), "%s",
		         "{\"iss\":\"dbbackupd-local\",\"aud\":\"dbbackupd\",\"sub\":\"u\","
		         "\"exp\":%ld,\"realm_access\":{\"roles\":[\"admin\"]}}");
		expect_valid(a, forge("RS256", dev_key, hdr, claims_raw(fmt, now + 3600), NULL),
		             "no iat, exp in an hour", DBB_ROLE_ADMIN);
		expect_invalid(
		    a, forge("RS256", dev_key, hdr, claims_raw(fmt, now + 86400 + 300), NULL),
		    "no iat, exp in more than 24 h", "iat");
	}
}

/* AUTH_MAX_TOKEN_LIFETIME set lower than the default. */
static void test_lifetime_setting(void)
{
	struct dbb_config cfg;
	struct dbb_auth *a = NULL;
	struct dbb_error err = {0};
	char *tok = NULL;

	base_config(&cfg, jwks_path);
	cfg.auth_max_token_lifetime = 3600;
	CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_OK, "auth with a 1 h limit: %s", err.message);
	if (!a)
		return;
	dbb_token_issue(pem_path, DBB_ROLE_VIEWER, 3600, &cfg, &tok, &err);
	expect_valid(a, tok, "a 1 h token under a 1 h limit", DBB_ROLE_VIEWER);
	dbb_token_issue(pem_path, DBB_ROLE_VIEWER, 7200, &cfg, &tok, &err);
	expect_invalid(a, tok, "a 2 h token under a 1 h limit", "lifetime");
	dbb_auth_free(a);
}

/* Issue 14 item 7: a key file others can change is not loaded, at start-up
 * nor on a reload (the keys loaded before stay). */
static void test_jwks_file_trust(void)
{
	EVP_PKEY *evil = EVP_RSA_gen(2048);
	char *j_dev = rsa_jwk(dev_key, dev_kid, ",\"use\":\"sig\",\"alg\":\"RS256\"");
	char *j_evil = rsa_jwk(evil, "evil-1", ",\"use\":\"sig\",\"alg\":\"RS256\"");
	char doc[8192], kdir[800], path[900], pem[900];
	struct dbb_config cfg;
	struct dbb_auth *a = NULL;
	struct dbb_error err = {0};
	FILE *f;

	snprintf(kdir, sizeof(kdir), "%s/trust", dir);
	mkdir(kdir, 0700);
	snprintf(path, sizeof(path), "%s/jwks.json", kdir);
	snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", j_dev);
	write_file(path, doc);

	chmod(path, 0666);
	base_config(&cfg, path);
	CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_ERR_CONFIG && !a &&
	          strstr(err.message, "AUTH_JWKS_FILE") && strstr(err.message, "writable"),
	      "a world-writable JWKS is refused at start-up: %s", err.message);
	chmod(path, 0644);
	chmod(kdir, 0777);
	CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_ERR_CONFIG && !a &&
	          strstr(err.message, "directory"),
	      "a JWKS in a world-writable directory is refused: %s", err.message);
	chmod(kdir, 0700);
	snprintf(pem, sizeof(pem), "%s/private.pem", kdir);
	f = fopen(pem, "w");
	PEM_write_PrivateKey(f, dev_key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	chmod(pem, 0644);
	CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_ERR_CONFIG && !a &&
	          strstr(err.message, "private.pem"),
	      "a readable development key next to the JWKS is refused: %s", err.message);
	chmod(pem, 0600);

	cfg.jwks_refresh_interval = 1;
	CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_OK, "the JWKS loads: %s", err.message);
	if (!a)
		goto out;
	/* a local user adds a key to a file that became world-writable */
	chmod(path, 0666);
	snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s]}", j_dev, j_evil);
	write_file(path, doc);
	sleep(2);
	expect_invalid(a,
	               forge("RS256", evil, header_for("RS256", "evil-1"),
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "a key added to a world-writable JWKS is not loaded", "unknown kid");
	sleep(2);
	expect_invalid(a,
	               forge("RS256", evil, header_for("RS256", "evil-1"),
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "... nor on the next reload", "unknown kid");
	expect_valid(a,
	             forge("RS256", dev_key, header_for("RS256", dev_kid),
	                   claims_with("\"aud\":\"dbbackupd\""), NULL),
	             "the keys loaded before still work", DBB_ROLE_OPERATOR);
	CHECK(dbb_auth_ready(a), "still ready");
	/* fixed by its owner: the file is trusted again */
	chmod(path, 0644);
	sleep(2);
	expect_valid(a,
	             forge("RS256", evil, header_for("RS256", "evil-1"),
	                   claims_with("\"aud\":\"dbbackupd\""), NULL),
	             "once only its owner can write it, the file is read again", DBB_ROLE_OPERATOR);
out:
	dbb_auth_free(a);
	free(j_dev);
	free(j_evil);
	EVP_PKEY_free(evil);
}

/* A JWKS with an RSA key without "alg" and EC keys: PS*, ES* and the pinning. */
static void test_ec_and_pss(void)
{
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *p256 = EVP_EC_gen("P-256"), *p384 = EVP_EC_gen("P-384");
	EVP_PKEY *weak = EVP_RSA_gen(1024);
	char *j1 = rsa_jwk(rsa, "rsa-any", ",\"use\":\"sig\""),
	     *j2 = ec_jwk(p256, "ec-256", "P-256");
	char *j3 = ec_jwk(p384, "ec-384", "P-384"), *j4 = rsa_jwk(weak, "weak", "");
	char *j5 = rsa_jwk(rsa, "enc-key", ",\"use\":\"enc\",\"alg\":\"RSA-OAEP\"");
	char doc[16384], path[800];
	struct dbb_config cfg;
	struct dbb_auth *a = NULL;
	struct dbb_error err = {0};

	snprintf(doc, sizeof(doc),
	         "{\"keys\":[%s,%s,%s,%s,%s,{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"c2VjcmV0\"}]}",
	         j1, j2, j3, j4, j5);
	snprintf(path, sizeof(path), "%s/mixed.json", dir);
	write_file(path, doc);
	base_config(&cfg, path);
	CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_OK, "mixed JWKS loads: %s", err.message);
	if (!a)
		goto out;
	expect_valid(a,
	             forge("RS256", rsa, header_for("RS256", "rsa-any"),
	                   claims_with("\"aud\":\"dbbackupd\""), NULL),
	             "RS256 on an RSA key without alg", DBB_ROLE_OPERATOR);
	expect_valid(a,
	             forge("RS512", rsa, header_for("RS512", "rsa-any"),
	                   claims_with("\"aud\":\"dbbackupd\""), NULL),
	             "RS512", DBB_ROLE_OPERATOR);
	expect_valid(a,
	             forge("PS256", rsa, header_for("PS256", "rsa-any"),
	                   claims_with("\"aud\":\"dbbackupd\""), NULL),
	             "PS256", DBB_ROLE_OPERATOR);
	expect_valid(a,
	             forge("PS384", rsa, header_for("PS384", "rsa-any"),
	                   claims_with("\"aud\":\"dbbackupd\""), NULL),
	             "PS384", DBB_ROLE_OPERATOR);
	expect_invalid(a,
	               forge("PS256", p256, header_for("PS256", "rsa-any"),
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "PS256 with a bad signature", "signature");
	expect_valid(a,
	             forge("ES256", p256, header_for("ES256", "ec-256"),
	                   claims_with("\"aud\":\"dbbackupd\""), NULL),
	             "ES256 token with an EC P-256 key", DBB_ROLE_OPERATOR);
	expect_valid(a,
	             forge("ES384", p384, header_for("ES384", "ec-384"),
	                   claims_with("\"aud\":\"dbbackupd\""), NULL),
	             "ES384 token with an EC P-384 key", DBB_ROLE_OPERATOR);
	expect_invalid(a,
	               forge("ES384", p384, header_for("ES384", "ec-256"),
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "ES384 under a P-256 key", "does not match");
	expect_invalid(a,
	               forge("ES256", p384, header_for("ES256", "ec-256"),
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "ES256 signed by another EC key", "signature");
	expect_invalid(a,
	               forge("RS256", rsa, header_for("RS256", "ec-256"),
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "RS256 under an EC key's kid", "does not match");
	expect_invalid(a,
	               forge("RS256", weak, header_for("RS256", "weak"),
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "1024-bit RSA key is not loaded", "unknown kid");
	expect_invalid(a,
	               forge("RS256", rsa, header_for("RS256", "enc-key"),
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "the enc key is not a signature key", "unknown kid");
	expect_invalid(a,
	               forge("HS256", NULL, header_for("HS256", "h"),
	                     claims_with("\"aud\":\"dbbackupd\""), "secret"),
	               "oct key / HS256", "algorithm");
out:
	dbb_auth_free(a);
	free(j1);
	free(j2);
	free(j3);
	free(j4);
	free(j5);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(weak);
}

static void test_roles_from(void)
{
	static const struct {
		const char *from;
		enum dbb_role want;
	} cases[] = {{"both", DBB_ROLE_ADMIN},
	             {"", DBB_ROLE_ADMIN},
	             {"realm", DBB_ROLE_VIEWER},
	             {"client", DBB_ROLE_ADMIN}};
	const char *claims =
	    "{\"iss\":\"dbbackupd-local\",\"aud\":\"dbbackupd\",\"sub\":\"u\","
	    "\"exp\":%ld,\"realm_access\":{\"roles\":[\"offline_access\",\"viewer\"]},"
	    "\"resource_access\":{\"dbbackupd\":{\"roles\":[\"admin\"]},"
	    "\"other\":{\"roles\":[\"admin\"]}}}";
	const char *other_only =
	    "{\"iss\":\"dbbackupd-local\",\"aud\":\"dbbackupd\",\"sub\":\"u\","
	    "\"exp\":%ld,\"resource_access\":{\"other\":{\"roles\":[\"admin\"]}}}";

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dbb_config cfg;
		struct dbb_auth *a = NULL;
		struct dbb_error err = {0};
		long now = (long)time(NULL);

		base_config(&cfg, jwks_path);
		snprintf(cfg.auth_roles_from, sizeof(cfg.auth_roles_from), "%s", cases[i].from);
		CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_OK, "roles from %s: %s", cases[i].from,
		      err.message);
		if (!a)
			continue;
		expect_valid(a,
		             forge("RS256", dev_key, header_for("RS256", dev_kid),
		                   claims_raw(claims, now + 600), NULL),
		             cases[i].from, cases[i].want);
		expect_valid(a,
		             forge("RS256", dev_key, header_for("RS256", dev_kid),
		                   claims_raw(other_only, now + 600), NULL),
		             "another client's roles do not count", DBB_ROLE_NONE);
		dbb_auth_free(a);
	}
}

/* The issuer follows KEYCLOAK_URL/realm or AUTH_ISSUER; dev tokens follow. */
static void test_issuer(void)
{
	struct dbb_config cfg;
	struct dbb_auth *a = NULL;
	struct dbb_error err = {0};
	char iss[1024], *tok = NULL;

	base_config(&cfg, jwks_path);
	snprintf(cfg.keycloak_url, sizeof(cfg.keycloak_url), "http://127.0.0.1:8080/");
	snprintf(cfg.keycloak_realm, sizeof(cfg.keycloak_realm), "backup");
	dbb_auth_expected_issuer(&cfg, iss, sizeof(iss));
	CHECK(strcmp(iss, "http://127.0.0.1:8080/realms/backup") == 0, "issuer from URL: %s", iss);
	CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_OK, "file keys + Keycloak issuer: %s",
	      err.message);
	if (a) {
		dbb_token_issue(pem_path, DBB_ROLE_ADMIN, 60, &cfg, &tok, &err);
		expect_valid(a, tok, "dev token carries the Keycloak issuer", DBB_ROLE_ADMIN);
		expect_invalid(a,
		               forge("RS256", dev_key, header_for("RS256", dev_kid),
		                     claims_with("\"aud\":\"dbbackupd\""), NULL),
		               "dbbackupd-local issuer refused when Keycloak is configured",
		               "issuer");
		dbb_auth_free(a);
	}
	snprintf(cfg.auth_issuer, sizeof(cfg.auth_issuer), "https://sso.example/realms/x");
	dbb_auth_expected_issuer(&cfg, iss, sizeof(iss));
	CHECK(strcmp(iss, "https://sso.example/realms/x") == 0, "AUTH_ISSUER wins: %s", iss);
}

/* A key added to the file is picked up on an unknown kid, at most once per
 * refresh interval; a removed key stops working. */
static void test_file_rotation(void)
{
	EVP_PKEY *k2 = EVP_RSA_gen(2048);
	char *j_old = rsa_jwk(dev_key, dev_kid, ",\"use\":\"sig\",\"alg\":\"RS256\"");
	char *j_new = rsa_jwk(k2, "rotated-2", ",\"use\":\"sig\",\"alg\":\"RS256\"");
	char doc[8192], path[800];
	char *old_tok = NULL; /* verified (and so cached) while its key was there */
	struct dbb_config cfg;
	struct dbb_auth *a = NULL;
	struct dbb_error err = {0};

	snprintf(path, sizeof(path), "%s/rotating.json", dir);
	snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", j_old);
	write_file(path, doc);
	base_config(&cfg, path);
	cfg.jwks_refresh_interval = 2;
	CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_OK, "rotating JWKS loads: %s", err.message);
	if (!a)
		goto out;
	snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s]}", j_old, j_new);
	write_file(path, doc);
	expect_invalid(a,
	               forge("RS256", k2, header_for("RS256", "rotated-2"),
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "new kid within the refresh interval: not refetched yet", "unknown kid");
	sleep(3);
	expect_valid(a,
	             forge("RS256", k2, header_for("RS256", "rotated-2"),
	                   claims_with("\"aud\":\"dbbackupd\""), NULL),
	             "new kid after the interval: refetched and accepted", DBB_ROLE_OPERATOR);
	old_tok = forge("RS256", dev_key, header_for("RS256", dev_kid),
	                claims_with("\"aud\":\"dbbackupd\""), NULL);
	expect_valid(a, strdup(old_tok), "old key still present", DBB_ROLE_OPERATOR);
	expect_valid(a, strdup(old_tok), "old key still present, the same token again",
	             DBB_ROLE_OPERATOR);
	snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", j_new);
	write_file(path, doc);
	sleep(3);
	expect_invalid(a,
	               forge("RS256", k2, header_for("RS256", "unknown-3"),
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "unknown kid triggers a refetch", "unknown kid");
	expect_invalid(a,
	               forge("RS256", dev_key, header_for("RS256", dev_kid),
	                     claims_with("\"aud\":\"dbbackupd\""), NULL),
	               "removed key refused after the refetch", "unknown kid");
	expect_invalid(a, old_tok, "a token verified (cached) before its key went: refused",
	               "unknown kid");
	old_tok = NULL;
	CHECK(dbb_auth_ready(a), "still ready");
out:
	free(old_tok);
	dbb_auth_free(a);
	free(j_old);
	free(j_new);
	EVP_PKEY_free(k2);
}

/* Keycloak unreachable at start-up: the daemon may start, answers 503
 * (auth_unavailable) to bearer tokens, and is not ready. */
static void test_keycloak_unreachable(void)
{
	struct dbb_config cfg;
	struct dbb_auth *a = NULL;
	struct dbb_error err = {0};
	struct dbb_principal who;
	char *tok = NULL;

	base_config(&cfg, "");
	snprintf(cfg.keycloak_url, sizeof(cfg.keycloak_url), "http://127.0.0.1:1");
	snprintf(cfg.keycloak_realm, sizeof(cfg.keycloak_realm), "backup");
	CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_OK, "starts without Keycloak: %s", err.message);
	if (!a)
		return;
	CHECK(!dbb_auth_ready(a), "not ready without keys");
	dbb_token_issue(pem_path, DBB_ROLE_ADMIN, 60, &cfg, &tok, &err);
	CHECK(verify_tok(a, tok, &who, &err) == DBB_ERR_AUTH_UNAVAILABLE,
	      "no keys yet: auth_unavailable (%s)", err.message);
	CHECK(dbb_auth_verify(a, NULL, &who, &err) == DBB_ERR_UNAUTHORIZED, "no token: still 401");
	free(tok);
	dbb_auth_free(a);
}

/* `dbbackupd token` with a wrong key file says so. */
static void test_token_issue_errors(const struct dbb_config *cfg)
{
	struct dbb_error err = {0};
	char *tok = NULL, path[800];
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	FILE *f;

	snprintf(path, sizeof(path), "%s/missing.pem", dir);
	CHECK(dbb_token_issue(path, DBB_ROLE_ADMIN, 60, cfg, &tok, &err) != DBB_OK && !tok &&
	          strstr(err.message, "missing.pem"),
	      "missing key file: %s", err.message);
	CHECK(dbb_token_issue(jwks_path, DBB_ROLE_ADMIN, 60, cfg, &tok, &err) != DBB_OK && !tok,
	      "a JWKS is not a private key: %s", err.message);
	snprintf(path, sizeof(path), "%s/ec.pem", dir);
	f = fopen(path, "w");
	PEM_write_PrivateKey(f, ec, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	CHECK(dbb_token_issue(path, DBB_ROLE_ADMIN, 60, cfg, &tok, &err) != DBB_OK && !tok &&
	          strstr(err.message, "RSA"),
	      "an EC key is refused: %s", err.message);
	EVP_PKEY_free(ec);
}

struct worker {
	struct dbb_auth *a;
	const char *tok;
	int ok;
};

static void *verify_loop(void *arg)
{
	struct worker *w = arg;
	char hdr[4096];

	snprintf(hdr, sizeof(hdr), "Bearer %s", w->tok);
	for (int i = 0; i < 300; i++) {
		struct dbb_principal who;
		struct dbb_error err;

		if (dbb_auth_verify(w->a, hdr, &who, &err) == DBB_OK && who.role == DBB_ROLE_ADMIN)
			w->ok++;
	}
	return NULL;
}

static void test_threads(struct dbb_auth *a, const struct dbb_config *cfg)
{
	pthread_t t[4];
	struct worker w[4];
	char *tok = NULL;
	struct dbb_error err;

	dbb_token_issue(pem_path, DBB_ROLE_ADMIN, 600, cfg, &tok, &err);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.a = a, .tok = tok};
		pthread_create(&t[i], NULL, verify_loop, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK(w[i].ok == 300, "thread %d: %d of 300 verified", i, w[i].ok);
	}
	free(tok);
}

/* The cache of verified tokens: a hit only for the same digest, the same key
 * set and before the token expires; an expired entry is dropped. */
static void test_token_cache(void)
{
	struct dbb_token_cache *c = malloc(sizeof(*c));
	struct dbb_principal who = {.role = DBB_ROLE_ADMIN}, got;
	unsigned char d1[DBB_TOKEN_DIGEST_LEN], d2[DBB_TOKEN_DIGEST_LEN];

	if (!c)
		return;
	snprintf(who.subject, sizeof(who.subject), "sub-1");
	dbb_token_cache_init(c);
	CHECK(dbb_token_digest("aaa.bbb.ccc", d1) && dbb_token_digest("aaa.bbb.ccd", d2),
	      "digests");
	CHECK(!dbb_token_cache_get(c, d1, 7, 1000, &got), "empty cache: miss");
	dbb_token_cache_put(c, d1, 7, 1060.0, &who);
	memset(&got, 0, sizeof(got));
	CHECK(dbb_token_cache_get(c, d1, 7, 1000, &got) && got.role == DBB_ROLE_ADMIN &&
	          strcmp(got.subject, "sub-1") == 0,
	      "same token, same key set: hit with its principal");
	CHECK(!dbb_token_cache_get(c, d2, 7, 1000, &got), "another token: miss");
	CHECK(!dbb_token_cache_get(c, d1, 8, 1000, &got), "another key set: miss");
	CHECK(dbb_token_cache_get(c, d1, 7, 1059, &got), "a second before expiry: hit");
	CHECK(!dbb_token_cache_get(c, d1, 7, 1060, &got), "at expiry: miss");
	CHECK(!dbb_token_cache_get(c, d1, 7, 1000, &got), "expired entry dropped");
	dbb_token_cache_destroy(c);
	free(c);
}

int main(void)
{
	const char *tmp = getenv("DBB_TEST_TMP");
	struct dbb_config cfg;
	struct dbb_auth *a = NULL;
	struct dbb_error err = {0};
	char cmd[700];

	if (!tmp || !tmp[0])
		tmp = "/tmp";
	umask(022); /* the files written here are trusted only if others cannot write them */
	mkdir(tmp, 0700);
	snprintf(dir, sizeof(dir), "%s/test_auth.XXXXXX", tmp);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(keydir, sizeof(keydir), "%s/keys", dir);
	snprintf(jwks_path, sizeof(jwks_path), "%s/jwks.json", keydir);
	snprintf(pem_path, sizeof(pem_path), "%s/private.pem", keydir);

	test_roles();
	test_token_cache();
	test_devkeys();
	if (!dev_key)
		goto out;
	test_config_errors();
	base_config(&cfg, jwks_path);
	CHECK(dbb_auth_new(&a, &cfg, &err) == DBB_OK, "auth from dev jwks: %s", err.message);
	if (a) {
		CHECK(dbb_auth_ready(a), "ready with keys");
		test_dev_tokens(a, &cfg);
		test_forgeries(a);
		test_threads(a, &cfg);
		test_token_issue_errors(&cfg);
		test_token_spelling(a);
		dbb_auth_free(a);
	}
	test_ec_and_pss();
	test_roles_from();
	test_issuer();
	test_file_rotation();
	test_keycloak_unreachable();
	test_lifetime_setting();
	test_jwks_file_trust();
out:
	EVP_PKEY_free(dev_key);
	if (failed == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
