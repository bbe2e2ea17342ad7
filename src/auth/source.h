/* Loading a JWKS from its source (src/auth only). */
#ifndef DBBACKUPD_AUTH_SOURCE_H
#define DBBACKUPD_AUTH_SOURCE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "auth/internal.h"

#define DBB_JWKS_CONNECT_TIMEOUT 3 /* seconds */
#define DBB_JWKS_FETCH_TIMEOUT   5 /* seconds, whole transfer */

/* Reads and parses a JWKS file; any failure is DBB_ERR_CONFIG naming
 * AUTH_JWKS_FILE. */
dbb_code dbb_jwks_load_file(const char *path, struct dbb_keyset **out, struct dbb_error *err);

/* GETs a JWKS over http(s), no redirects, at most DBB_JWKS_MAX bytes; the
 * transfer stops early when *cancel becomes true. Failures are
 * DBB_ERR_AUTH_UNAVAILABLE. */
dbb_code dbb_jwks_fetch(const char *url, const atomic_bool *cancel, struct dbb_keyset **out,
                        struct dbb_error *err);

#endif
