/* Configuration: read once at start-up from the environment and an optional
 * .env file (the environment wins), validated, then read-only for the life of
 * the process. Every variable is listed in one table in config.c and
 * documented in setup/.env.template. */
#ifndef DBBACKUPD_CONFIG_H
#define DBBACKUPD_CONFIG_H

#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>

#include "dbbackupd/error.h"

#define DBB_CFG_STR 512

struct dbb_config {
	char bind_address[64];
	unsigned port;
	char backup_dir[PATH_MAX];
	char db_type[32];

	char sqlite_path[PATH_MAX];

	char db_host[256];
	unsigned db_port; /* 0: the driver's default */
	char db_name[128];
	char db_user[128];
	char db_password[256];

	char neo4j_url[DBB_CFG_STR];
	char neo4j_user[128];
	char neo4j_password[256];
	char neo4j_database[128];

	char keycloak_url[DBB_CFG_STR];
	char keycloak_realm[128];
	char keycloak_client_id[128];
	char auth_jwks_file[PATH_MAX];
	char auth_issuer[DBB_CFG_STR];  /* derived from KEYCLOAK_URL+REALM if empty */
	char auth_roles_from[32];       /* realm, client, both */
	unsigned auth_clock_skew;       /* seconds */
	unsigned jwks_refresh_interval; /* seconds between unknown-kid refetches */

	/* trust (trust.h): token lifetime, plain HTTP allowed without a warning */
	unsigned auth_max_token_lifetime; /* seconds: exp - iat at most; 0: the default */
	bool bind_allow_http;             /* plain HTTP on a non-loopback BIND_ADDRESS */
	bool keycloak_allow_http;         /* keys over http:// from a non-loopback host */

	char compression[8]; /* "gzip" or "zstd": what compress=true means */
	int gzip_level;
	int zstd_level;
	unsigned compress_threads; /* 0: number of online CPUs */
	uint64_t max_upload_bytes;
	unsigned max_connections;
	unsigned connection_timeout; /* idle seconds before a connection is dropped */
	/* issue 14 (hostile clients), docs/operations.md */
	unsigned max_connections_per_ip; /* 0: no limit */
	unsigned min_body_rate;          /* bytes/s a request body must keep up */
	uint64_t max_restore_bytes;      /* decompressed size of an uploaded backup */
	unsigned child_timeout;          /* seconds before a hung child tool is killed */
	char log_level[16];

	unsigned shutdown_timeout;    /* seconds SIGTERM waits for running requests */
	char tls_cert_file[PATH_MAX]; /* PEM; with tls_key_file: HTTPS */
	char tls_key_file[PATH_MAX];
	char metrics_token[256]; /* accepted for GET /metrics in place of a JWT; empty: none */
};

/* Fills cfg from defaults, then env_file (if it exists; NULL means ".env"),
 * then the process environment. On a wrong value returns DBB_ERR_CONFIG with
 * one line naming the variable; an env_file that another user than root or
 * the daemon's could change (itself or a directory on its way, see trust.h)
 * is refused the same way. The driver's own settings are checked by its
 * check_config (see driver.h), which main() calls before serving. */
dbb_code dbb_config_load(struct dbb_config *cfg, const char *env_file, struct dbb_error *err);

/* Prints every variable with its effective value (secrets masked). */
void dbb_config_dump(const struct dbb_config *cfg, FILE *out);

#endif
