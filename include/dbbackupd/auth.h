/* Bearer-token authentication and the role matrix.
 *
 * A token is verified against a JWKS (from AUTH_JWKS_FILE, or fetched from
 * Keycloak), with the algorithm pinned to the key's type, every claim checked
 * (exp, nbf, iss, aud/azp) and the role read from realm_access.roles and/or
 * resource_access.<client>.roles. libjwt 1.10's sharp edges (alg confusion,
 * alg:none with an empty key, no claim checks) are closed here. */
#ifndef DBBACKUPD_AUTH_H
#define DBBACKUPD_AUTH_H

#include <stdbool.h>

#include "dbbackupd/config.h"
#include "dbbackupd/error.h"

enum dbb_role {
	DBB_ROLE_NONE = 0,
	DBB_ROLE_VIEWER = 1,
	DBB_ROLE_OPERATOR = 2,
	DBB_ROLE_ADMIN = 3,
};

const char *dbb_role_name(enum dbb_role r);
/* "viewer" → DBB_ROLE_VIEWER; DBB_ROLE_NONE if unknown. */
enum dbb_role dbb_role_parse(const char *s);

/* Roles scoped to one target ("operator:NAME") a token may carry. */
#define DBB_SCOPED_ROLES_MAX 16

struct dbb_principal {
	char subject[128];
	char username[128];
	enum dbb_role role; /* highest role the token carries for every target */
	/* "viewer:NAME", "operator:NAME", "admin:NAME": for target NAME only
	 * (the highest per target; roles beyond the first
	 * DBB_SCOPED_ROLES_MAX targets are ignored) */
	struct {
		char target[DBB_TARGET_NAME_MAX + 1];
		enum dbb_role role;
	} scoped[DBB_SCOPED_ROLES_MAX];
	unsigned nscoped;
};

/* Adds a role of a token: "operator" (every target) or "operator:NAME"
 * (target NAME); anything else is ignored. */
void dbb_principal_add_role(struct dbb_principal *who, const char *role);
/* The role who has for a target: its global role, or its role scoped to
 * that target if higher. target NULL: the global role only. */
enum dbb_role dbb_principal_role(const struct dbb_principal *who, const char *target);
/* The highest role who has for any target (global or scoped). */
enum dbb_role dbb_principal_role_any(const struct dbb_principal *who);

struct dbb_auth;

/* Loads the key source named by cfg. A missing key source is a
 * configuration error: auth cannot be turned off. */
dbb_code dbb_auth_new(struct dbb_auth **out, const struct dbb_config *cfg, struct dbb_error *err);
void dbb_auth_free(struct dbb_auth *auth);

/* Verifies an Authorization header value ("Bearer <jwt>"). NULL or no
 * bearer: DBB_ERR_UNAUTHORIZED. Any bad token: DBB_ERR_INVALID_TOKEN.
 * Thread-safe. */
dbb_code dbb_auth_verify(struct dbb_auth *auth, const char *authorization,
                         struct dbb_principal *who, struct dbb_error *err);

/* True when at least one verification key is loaded. */
bool dbb_auth_ready(struct dbb_auth *auth);

/* ---- local development keys (no Keycloak) ---- */

/* Writes DIR/private.pem (0600) and DIR/jwks.json with a fresh RSA key. */
dbb_code dbb_devkeys_write(const char *dir, struct dbb_error *err);

/* Signs a token with the key in private_pem_path for `role`, valid for
 * ttl_s seconds (negative: already expired), with the issuer and audience
 * that a daemon configured by cfg expects. *token is malloc'd. */
dbb_code dbb_token_issue(const char *private_pem_path, enum dbb_role role, long ttl_s,
                         const struct dbb_config *cfg, char **token, struct dbb_error *err);
/* The same with the role claim as text: "operator", or "operator:NAME" (a
 * role scoped to target NAME); NULL: no role. */
dbb_code dbb_token_issue_role(const char *private_pem_path, const char *role, long ttl_s,
                              const struct dbb_config *cfg, char **token, struct dbb_error *err);

#endif
