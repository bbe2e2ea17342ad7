/* Start-up trust checks: files the daemon believes (token keys, TLS key and
 * certificate, .env) must be changeable by no one but root and the daemon's
 * own user, and traffic that carries tokens or keys should not cross a
 * network in clear text.
 *
 * A file is trusted when the file itself and every directory on the way to
 * it (symbolic links followed one by one, their own directories included)
 * are owned by root or the daemon's effective user and are not writable by
 * group or others. A directory with the sticky bit (like /tmp) may be
 * writable by others when it is owned by root or the daemon's user: there
 * others cannot rename or remove an entry they do not own, so the entry
 * under it (file, directory or link) must itself be owned by root or the
 * daemon's user. */
#ifndef DBBACKUPD_TRUST_H
#define DBBACKUPD_TRUST_H

#include <stdbool.h>
#include <sys/stat.h>

#include "dbbackupd/config.h"
#include "dbbackupd/error.h"

/* The file holds a private key: also readable by nobody but its owner and
 * group (others get no access at all) and not writable by its group. */
#define DBB_TRUST_PRIVATE 1u

/* Checks that `path` (absolute, or relative to the working directory) is a
 * regular file that only root or the daemon's user can change, directories
 * included. On failure: DBB_ERR_CONFIG with one line "VAR PATH: what is
 * wrong (and how to fix it)". *st (if non-NULL) receives the file's stat, so
 * a caller that opens the file can check it opened that one. */
dbb_code dbb_trust_file(const char *var, const char *path, unsigned flags, struct stat *st,
                        struct dbb_error *err);

/* True for an IPv4 address in 127.0.0.0/8, ::1 and ::ffff:127.x.y.z. */
bool dbb_trust_loopback_address(const char *ip);

/* True when the URL's host is "localhost" or a loopback address. */
bool dbb_trust_loopback_url(const char *url);

/* Logs a warning for each setting that sends tokens or keys in clear text
 * over a network: BIND_ADDRESS not loopback without TLS (unless
 * BIND_ALLOW_HTTP), keys fetched from an http:// KEYCLOAK_URL whose host is
 * not loopback (unless KEYCLOAK_ALLOW_HTTP). Returns how many it logged. */
int dbb_trust_warn_transport(const struct dbb_config *cfg);

#endif
