/* Configuration: read once at start-up from the environment and an optional
 * .env file (the environment wins), validated, then read-only for the life of
 * the process. The daemon's variables are listed in one table in config.c, a
 * driver's own ones (NEO4J_URL, ...) in a table of its own (driver.h's
 * `settings`), which config.c reads for the driver DB_TYPE names; all are
 * documented in setup/.env.template. */
#ifndef DBBACKUPD_CONFIG_H
#define DBBACKUPD_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>

#include "dbbackupd/error.h"
#include "dbbackupd/offsite.h"

#define DBB_CFG_STR 512

/* Room for the settings of all the built drivers together. */
#define DBB_DRIVER_SETTINGS_MAX 4096

/* One variable of a settings table: where it goes in its struct, its
 * default and bounds. A string setting of a table is DBB_SETTING_STRING(struct, "NAME", field,
 * "default", secret). */
enum dbb_setting_kind {
	DBB_SETTING_STR,   /* char[size] */
	DBB_SETTING_UINT,  /* unsigned in [min, max] */
	DBB_SETTING_INT,   /* int in [min, max] */
	DBB_SETTING_BYTES, /* uint64_t: 512M, 10G; min 0: "0" accepted */
	DBB_SETTING_BOOL,  /* true/false/1/0/yes/no */
};

struct dbb_setting {
	const char *name;
	enum dbb_setting_kind kind;
	size_t offset;
	size_t size; /* of the string buffer */
	const char *def;
	long long min, max; /* numeric bounds */
	bool secret;        /* masked by dbb_config_dump */
};

#define DBB_SETTING_STRING(type, n, field, d, is_secret)                                           \
	{                                                                                          \
		n, DBB_SETTING_STR, offsetof(type, field), sizeof(((type *)0)->field), d, 0, 0,    \
		    is_secret                                                                      \
	}

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

	/* offsite copies to S3 (offsite.h): S3_*, OFFSITE_*; its own table */
	struct dbb_offsite_settings offsite;

	/* The settings of every built driver (driver.h), each its own struct,
	 * one after the other (registry order); the DB_TYPE driver's starts at
	 * driver_settings_at: read it with dbb_config_driver_settings(). All
	 * are read and checked, whatever DB_TYPE, and listed by
	 * --check-config. */
	_Alignas(max_align_t) unsigned char driver_settings[DBB_DRIVER_SETTINGS_MAX];
	size_t driver_settings_at;
};

/* The DB_TYPE driver's settings struct (see driver.h's `settings`). */
static inline const void *dbb_config_driver_settings(const struct dbb_config *cfg)
{
	return cfg->driver_settings + cfg->driver_settings_at;
}

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
