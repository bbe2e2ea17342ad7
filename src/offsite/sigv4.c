/* AWS Signature Version 4: canonical request, string to sign, signing key
 * and the Authorization header (OpenSSL SHA-256 and HMAC). */
#include "dbbackupd/sigv4.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "internal.h"

/* Bound on everything a request may put into its canonical form. */
#define SIGV4_MAX (1024 * 1024)

void dbb_sigv4_amz_date(time_t t, char out[17])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	if (strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		out[0] = '\0';
}

static void to_hex(const unsigned char *md, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * n] = '\0';
}

void dbb_sigv4_sha256_hex(const void *buf, size_t len, char hex[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	if (EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32) {
		hex[0] = '\0';
		return;
	}
	to_hex(md, 32, hex);
}

static bool hmac(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32])
{
	unsigned int n = 0;
	return HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &n) && n == 32;
}

static bool is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

static bool valid_scope_part(const char *s)
{
	if (!s || !*s || strlen(s) > 128)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '/')
			return false;
	return true;
}

static bool valid_amz_date(const char *d)
{
	if (!d || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
		return false;
	for (int i = 0; i < 15; i++)
		if (i != 8 && (d[i] < '0' || d[i] > '9'))
			return false;
	return true;
}

static bool valid_payload_hash(const char *h)
{
	if (!h)
		return false;
	if (strcmp(h, DBB_SIGV4_UNSIGNED_PAYLOAD) == 0)
		return true;
	if (strlen(h) != 64)
		return false;
	for (const char *p = h; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* ---- query ---- */

struct enc_param {
	char *name;
	char *value;
};

static int cmp_param(const void *a, const void *b)
{
	const struct enc_param *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

static char *encode(const char *s, bool keep_slash)
{
	struct dbb_dynbuf b;
	dbb_dynbuf_init(&b, SIGV4_MAX);
	dbb_uri_encode(&b, s ? s : "", s ? strlen(s) : 0, keep_slash);
	return dbb_dynbuf_take(&b);
}

static bool canonical_query(const struct dbb_sigv4_request *req, struct dbb_dynbuf *out)
{
	bool ok = false;
	struct enc_param *p = calloc(req->query_count ? req->query_count : 1, sizeof(*p));
	if (!p)
		return false;
	for (size_t i = 0; i < req->query_count; i++) {
		p[i].name = encode(req->query[i].name, false);
		p[i].value = encode(req->query[i].value, false);
		if (!p[i].name || !p[i].value)
			goto out;
	}
	qsort(p, req->query_count, sizeof(*p), cmp_param);
	for (size_t i = 0; i < req->query_count; i++) {
		if (i)
			dbb_dynbuf_add(out, "&", 1);
		dbb_dynbuf_adds(out, p[i].name);
		dbb_dynbuf_add(out, "=", 1);
		dbb_dynbuf_adds(out, p[i].value);
	}
	ok = !out->failed;
out:
	for (size_t i = 0; i < req->query_count; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
	return ok;
}

/* ---- headers ---- */

struct canon_header {
	char name[128]; /* lower-case */
	const char *value;
	size_t order; /* position given: repeated names keep it */
};

static int cmp_header(const void *a, const void *b)
{
	const struct canon_header *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* value trimmed, inner runs of spaces and tabs as one space */
static void add_trimmed(struct dbb_dynbuf *out, const char *v)
{
	bool space = false, started = false;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			space = started;
			continue;
		}
		if (space)
			dbb_dynbuf_add(out, " ", 1);
		space = false;
		started = true;
		dbb_dynbuf_add(out, v, 1);
	}
}

/* Appends the canonical headers block (each "name:value\n") to creq and the
 * signed headers list to signed_list. */
static dbb_code canonical_headers(const struct dbb_sigv4_request *req, struct dbb_dynbuf *creq,
                                  struct dbb_dynbuf *signed_list, struct dbb_error *err)
{
	if (req->header_count == 0)
		return dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "SigV4: no header to sign (host?)");
	struct canon_header *h = calloc(req->header_count, sizeof(*h));
	if (!h)
		return dbb_fail(err, DBB_ERR_INTERNAL, "SigV4: out of memory");
	dbb_code rc = DBB_OK;
	bool have_host = false;
	for (size_t i = 0; i < req->header_count; i++) {
		const char *n = req->headers[i].name, *v = req->headers[i].value;
		size_t nl = n ? strlen(n) : 0;
		if (nl == 0 || nl >= sizeof(h[i].name) || !v) {
			rc = dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "SigV4: bad header name");
			goto out;
		}
		for (size_t j = 0; j < nl; j++) {
			unsigned char c = (unsigned char)n[j];
			if (!is_token_char(c)) {
				rc = dbb_fail(err, DBB_ERR_INVALID_PARAMETER,
				              "SigV4: bad character in a header name");
				goto out;
			}
			h[i].name[j] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
		}
		h[i].name[nl] = '\0';
		if (strpbrk(v, "\r\n")) {
			rc = dbb_fail(err, DBB_ERR_INVALID_PARAMETER,
			              "SigV4: line break in the value of header %s", h[i].name);
			goto out;
		}
		h[i].value = v;
		h[i].order = i;
		if (strcmp(h[i].name, "host") == 0)
			have_host = true;
	}
	if (!have_host) {
		rc = dbb_fail(err, DBB_ERR_INVALID_PARAMETER,
		              "SigV4: the host header must be signed");
		goto out;
	}
	qsort(h, req->header_count, sizeof(*h), cmp_header);
	for (size_t i = 0; i < req->header_count; i++) {
		bool repeat = i > 0 && strcmp(h[i].name, h[i - 1].name) == 0;
		if (repeat) {
			dbb_dynbuf_add(creq, ",", 1);
		} else {
			if (i > 0) {
				dbb_dynbuf_add(creq, "\n", 1);
				dbb_dynbuf_add(signed_list, ";", 1);
			}
			dbb_dynbuf_adds(creq, h[i].name);
			dbb_dynbuf_add(creq, ":", 1);
			dbb_dynbuf_adds(signed_list, h[i].name);
		}
		add_trimmed(creq, h[i].value);
	}
	dbb_dynbuf_add(creq, "\n", 1);
	if (creq->failed || signed_list->failed)
		rc = dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "SigV4: request too large to sign");
out:
	free(h);
	return rc;
}

/* ---- signing ---- */

static bool signature(const char *secret, const char *date8, const char *region,
                      const char *service, const char *sts, char hex[65])
{
	bool ok = false;
	size_t sl = strlen(secret);
	unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
	char *ksecret = malloc(sl + 5);
	if (!ksecret)
		return false;
	memcpy(ksecret, "AWS4", 4);
	memcpy(ksecret + 4, secret, sl + 1);
	if (hmac(ksecret, sl + 4, date8, 8, k1) && hmac(k1, 32, region, strlen(region), k2) &&
	    hmac(k2, 32, service, strlen(service), k3) && hmac(k3, 32, "aws4_request", 12, k4) &&
	    hmac(k4, 32, sts, strlen(sts), sig)) {
		to_hex(sig, 32, hex);
		ok = true;
	}
	OPENSSL_cleanse(ksecret, sl + 5);
	free(ksecret);
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	OPENSSL_cleanse(k3, sizeof(k3));
	OPENSSL_cleanse(k4, sizeof(k4));
	return ok;
}

void dbb_sigv4_result_free(struct dbb_sigv4_result *r)
{
	if (!r)
		return;
	free(r->canonical_uri);
	free(r->canonical_query);
	free(r->canonical_request);
	free(r->string_to_sign);
	free(r->authorization);
	memset(r, 0, sizeof(*r));
}

dbb_code dbb_sigv4_sign(const struct dbb_sigv4_request *req, const struct dbb_sigv4_key *key,
                        struct dbb_sigv4_result *out, struct dbb_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!req->method || !*req->method ||
	    strspn(req->method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(req->method))
		return dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "SigV4: bad method");
	if (!req->path || req->path[0] != '/')
		return dbb_fail(err, DBB_ERR_INVALID_PARAMETER,
		                "SigV4: the path must start with '/'");
	if (!valid_amz_date(req->amz_date))
		return dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "SigV4: bad x-amz-date");
	if (!valid_payload_hash(req->payload_hash))
		return dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "SigV4: bad payload hash");
	if (!valid_scope_part(req->region) || !valid_scope_part(req->service))
		return dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "SigV4: bad region or service");
	if (!key || !valid_scope_part(key->access_key_id) || !key->secret_access_key ||
	    !*key->secret_access_key)
		return dbb_fail(err, DBB_ERR_INVALID_PARAMETER,
		                "SigV4: missing or malformed credentials");

	dbb_code rc = DBB_OK;
	struct dbb_dynbuf creq, signed_list, query, sts, authz;
	dbb_dynbuf_init(&creq, SIGV4_MAX);
	dbb_dynbuf_init(&signed_list, SIGV4_MAX);
	dbb_dynbuf_init(&query, SIGV4_MAX);
	dbb_dynbuf_init(&sts, SIGV4_MAX);
	dbb_dynbuf_init(&authz, SIGV4_MAX);
	char date8[9], hash[65], sig[65];

	out->canonical_uri = encode(req->path, true);
	if (!out->canonical_uri || !canonical_query(req, &query)) {
		rc = dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "SigV4: request too large to sign");
		goto out;
	}
	dbb_dynbuf_addf(&creq, "%s\n%s\n%s\n", req->method, out->canonical_uri,
	                dbb_dynbuf_str(&query));
	rc = canonical_headers(req, &creq, &signed_list, err);
	if (rc)
		goto out;
	dbb_dynbuf_addf(&creq, "\n%s\n%s", dbb_dynbuf_str(&signed_list), req->payload_hash);
	if (creq.failed) {
		rc = dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "SigV4: request too large to sign");
		goto out;
	}

	memcpy(date8, req->amz_date, 8);
	date8[8] = '\0';
	dbb_sigv4_sha256_hex(creq.data, creq.len, hash);
	dbb_dynbuf_addf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", req->amz_date,
	                date8, req->region, req->service, hash);
	if (sts.failed || !hash[0] ||
	    !signature(key->secret_access_key, date8, req->region, req->service, sts.data, sig)) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "SigV4: signing failed");
		goto out;
	}
	dbb_dynbuf_addf(&authz,
	                "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
	                "Signature=%s",
	                key->access_key_id, date8, req->region, req->service,
	                dbb_dynbuf_str(&signed_list), sig);
	out->canonical_query = dbb_dynbuf_take(&query);
	out->canonical_request = dbb_dynbuf_take(&creq);
	out->string_to_sign = dbb_dynbuf_take(&sts);
	out->authorization = dbb_dynbuf_take(&authz);
	if (!out->canonical_query || !out->canonical_request || !out->string_to_sign ||
	    !out->authorization)
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "SigV4: out of memory");
out:
	OPENSSL_cleanse(sig, sizeof(sig));
	dbb_dynbuf_free(&creq);
	dbb_dynbuf_free(&signed_list);
	dbb_dynbuf_free(&query);
	dbb_dynbuf_free(&sts);
	dbb_dynbuf_free(&authz);
	if (rc)
		dbb_sigv4_result_free(out);
	return rc;
}
