/* libFuzzer target: the bearer-token verifier (header parsing, JWT decoding,
 * algorithm pinning, claim checks) against a fixed JWKS (auth_jwks.json,
 * the public halves of two throw-away test keys). Input: the Authorization
 * header value. Oracle: an accepted token is canonical base64url in every
 * segment, its claims have no duplicate member, and it lives at most the
 * configured lifetime. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "auth/internal.h"
#include "dbbackupd/auth.h"

/* The seeds were signed in 2026 to stay valid until 2036: ten years. */
#define FUZZ_MAX_LIFETIME 315360000

static struct dbb_auth *auth;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct dbb_config cfg;
	struct dbb_error err = {0};
	const char *jwks = getenv("DBB_FUZZ_JWKS");
	snprintf(cfg.auth_jwks_file, sizeof(cfg.auth_jwks_file), "%s", jwks ? jwks : DBB_FUZZ_JWKS);
	snprintf(cfg.keycloak_client_id, sizeof(cfg.keycloak_client_id), "dbbackupd");
	snprintf(cfg.auth_roles_from, sizeof(cfg.auth_roles_from), "both");
	cfg.auth_clock_skew = 30;
	cfg.jwks_refresh_interval = 60;
	cfg.auth_max_token_lifetime = FUZZ_MAX_LIFETIME;
	if (dbb_auth_new(&auth, &cfg, &err) != DBB_OK) {
		fprintf(stderr, "fuzz_auth: %s\n", err.message);
		abort();
	}
	return 0;
}

/* An accepted "Bearer h.p.s": one spelling, no duplicate claim, a bounded
 * lifetime; anything else is a verifier bug. */
static void check_accepted(const char *authz)
{
	const char *t = authz, *d1, *d2;
	unsigned char *payload;
	size_t plen = 0;
	json_t *claims, *exp, *iat;

	while (*t == ' ' || *t == '\t')
		t++;
	t += 6; /* "Bearer", as verified */
	while (*t == ' ' || *t == '\t')
		t++;
	d1 = strchr(t, '.');
	d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (!d2 || !dbb_b64url_canonical(t, (size_t)(d1 - t)) ||
	    !dbb_b64url_canonical(d1 + 1, (size_t)(d2 - d1 - 1)) ||
	    !dbb_b64url_canonical(d2 + 1, strlen(d2 + 1)))
		abort();
	payload = malloc((size_t)(d2 - d1) + 1);
	if (!payload || !dbb_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), payload, &plen))
		abort();
	claims = json_loadb((const char *)payload, plen, JSON_REJECT_DUPLICATES, NULL);
	exp = json_object_get(claims, "exp");
	iat = json_object_get(claims, "iat");
	if (!json_is_object(claims) || !json_is_number(exp) ||
	    (iat && json_number_value(exp) - json_number_value(iat) > FUZZ_MAX_LIFETIME))
		abort();
	json_decref(claims);
	free(payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = malloc(size + 1);
	if (!h)
		return 0;
	memcpy(h, data, size);
	h[size] = '\0';
	struct dbb_principal who;
	struct dbb_error err = {0};
	dbb_code rc = dbb_auth_verify(auth, h, &who, &err);
	if (rc == DBB_OK && who.role > DBB_ROLE_ADMIN)
		abort();
	if (rc == DBB_OK)
		check_accepted(h);
	if (rc != DBB_OK && err.message[0] == '\0')
		abort(); /* every refusal says why */
	free(h);
	return 0;
}
