/* libFuzzer target: the bearer-token verifier (header parsing, JWT decoding,
 * algorithm pinning, claim checks) against a fixed JWKS (auth_jwks.json,
 * the public half of a throw-away test key). Input: the Authorization
 * header value. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbbackupd/auth.h"

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
	if (dbb_auth_new(&auth, &cfg, &err) != DBB_OK) {
		fprintf(stderr, "fuzz_auth: %s\n", err.message);
		abort();
	}
	return 0;
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
	if (rc != DBB_OK && err.message[0] == '\0')
		abort(); /* every refusal says why */
	free(h);
	return 0;
}
