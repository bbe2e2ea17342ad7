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
#include "dbbackupd/schedule_config.h"

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

/* ---- targets ----
 * One daemon serves several named targets (docs/targets.md). A target is a
 * database with its own settings: the part of the configuration below. The
 * default target is defined by the daemon's own variables (DB_TYPE, DB_HOST,
 * ... in .env and the environment), named by TARGET_NAME (default: its
 * DB_TYPE); more come from TARGETS_DIR/NAME.env, one file each, with the same
 * variable names. Names: [a-z0-9][a-z0-9_-]{0,31}. */
#define DBB_TARGET_NAME_MAX 32
#define DBB_TARGETS_MAX     64

/* The per-target settings (the target settings table in config.c). A new
 * per-target settings table is one member here and one load_table call. */
#define DBB_TARGET_FIELDS                                                                          \
	char name[DBB_TARGET_NAME_MAX + 1];                                                        \
	char db_type[32];                                                                          \
	char sqlite_path[PATH_MAX];                                                                \
	char db_host[256];                                                                         \
	unsigned db_port; /* 0: the driver's default */                                            \
	char db_name[128];                                                                         \
	char db_user[128];                                                                         \
	char db_password[256];                                                                     \
	char compression[8]; /* "gzip" or "zstd": what compress=true means */                      \
	int gzip_level;                                                                            \
	int zstd_level;                                                                            \
	/* issue 19, docs/encryption.md: age recipients (public keys) backups are                  \
	 * encrypted to, and the files that decrypt them; checked at start-up,                     \
	 * read again where used (ops.c) */                                                        \
	char encrypt_recipients[4096];          /* ENCRYPT_RECIPIENTS: age1..., comma/space */     \
	char encrypt_recipients_file[PATH_MAX]; /* ENCRYPT_RECIPIENTS_FILE */                      \
	char age_identity_file[PATH_MAX];       /* AGE_IDENTITY_FILE: 0600, the daemon's */        \
	char age_passphrase_file[PATH_MAX];     /* AGE_PASSPHRASE_FILE: for age -p uploads */      \
	/* issue 20, docs/operations.md "Test restores": where a verification                      \
	 * restores (PostgreSQL: a database; MySQL: a schema), created and dropped                 \
	 * by the daemon; empty host/port/user/password: the target's own */                       \
	char verify_db_name[128];     /* VERIFY_DB_NAME */                                         \
	char verify_db_host[256];     /* VERIFY_DB_HOST */                                         \
	unsigned verify_db_port;      /* VERIFY_DB_PORT, 0: DB_PORT */                             \
	char verify_db_user[128];     /* VERIFY_DB_USER */                                         \
	char verify_db_password[256]; /* VERIFY_DB_PASSWORD */                                     \
	bool verify_after_backup;     /* VERIFY_AFTER_BACKUP: each scheduled backup */             \
	/* where the target's backups live: BACKUP_DIR for the default target,                     \
	 * BACKUP_DIR/<name> for the others (derived, not a variable) */                           \
	char target_dir[PATH_MAX];                                                                 \
	bool is_default;                                                                           \
	/* issue 17: schedule, retention, notifications (schedule_config.h) */                     \
	struct dbb_schedule_config schedule;                                                       \
	/* offsite copies to S3 (offsite.h): S3_*, OFFSITE_*; on with S3_BUCKET */                 \
	struct dbb_offsite_settings offsite;                                                       \
	/* The settings of every built driver (driver.h), each its own struct,                     \
	 * one after the other (registry order); the DB_TYPE driver's starts at                    \
	 * driver_settings_at: read it with dbb_config_driver_settings(). All                      \
	 * are read and checked, whatever DB_TYPE, and listed by --check-config. */                \
	_Alignas(max_align_t) unsigned char driver_settings[DBB_DRIVER_SETTINGS_MAX];              \
	size_t driver_settings_at;

struct dbb_target_config {
	DBB_TARGET_FIELDS
};

/* The daemon-wide settings, and one target's (the union at the end): a
 * struct dbb_config describes the daemon serving one target, so drivers
 * and the operation layer read cfg->db_host as they always did, and
 * cfg->target is the per-target part as one struct. */
struct dbb_config {
	char bind_address[64];
	unsigned port;
	char backup_dir[PATH_MAX];
	char targets_dir[PATH_MAX]; /* TARGETS_DIR: NAME.env files; empty: none */

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

	unsigned compress_threads;   /* 0: number of online CPUs */
	char safety_compression[16]; /* "codec[:level]" of safety backups (ops.c) */
	uint64_t max_upload_bytes;
	unsigned max_connections;
	unsigned connection_timeout; /* idle seconds before a connection is dropped */
	/* issue 14 (hostile clients), docs/operations.md */
	unsigned max_connections_per_ip; /* 0: no limit */
	unsigned min_body_rate;          /* bytes/s a request body must keep up */
	uint64_t max_restore_bytes;      /* decompressed size of an uploaded backup */
	unsigned child_timeout;          /* seconds before a hung child tool is killed */
	char log_level[16];
	char log_format[8];         /* "text" or "json" */
	char trusted_proxies[1024]; /* addresses/CIDRs whose X-Forwarded-For, X-Request-Id count */

	unsigned shutdown_timeout; /* seconds SIGTERM waits for running requests */
	/* issue 20: asynchronous jobs (jobs.h), progress lines (progress.h) */
	unsigned jobs_max_running;      /* jobs running at once; the others wait */
	unsigned jobs_history;          /* recent jobs kept (and journalled) */
	char jobs_journal[PATH_MAX];    /* empty: BACKUP_DIR/.jobs.json */
	unsigned progress_log_interval; /* seconds between progress lines; 0: none */
	char tls_cert_file[PATH_MAX];   /* PEM; with tls_key_file: HTTPS */
	char tls_key_file[PATH_MAX];
	char metrics_token[256]; /* accepted for GET /metrics in place of a JWT; empty: none */
	/* issue 21: the dashboard at /ui (docs/dashboard.md) */
	char ui_client_id[128];            /* UI_CLIENT_ID: its Keycloak public client */
	char ui_keycloak_url[DBB_CFG_STR]; /* UI_KEYCLOAK_URL: Keycloak as browsers reach it */

	/* The target this configuration serves: dbb_config_load fills it with
	 * the default target, dbb_config_load_targets gives one struct
	 * dbb_config per target. Both names reach the same bytes. */
	union {
		struct dbb_target_config target;
		struct {
			DBB_TARGET_FIELDS
		};
	};
};

/* The DB_TYPE driver's settings struct (see driver.h's `settings`). */
static inline const void *dbb_config_driver_settings(const struct dbb_config *cfg)
{
	return cfg->driver_settings + cfg->driver_settings_at;
}

/* True for a valid target name: [a-z0-9][a-z0-9_-]{0,31}. */
bool dbb_target_name_is_valid(const char *name);

/* Fills cfg from defaults, then env_file (if it exists; NULL means ".env"),
 * then the process environment. On a wrong value returns DBB_ERR_CONFIG with
 * one line naming the variable; an env_file that another user than root or
 * the daemon's could change (itself or a directory on its way, see trust.h)
 * is refused the same way. The driver's own settings are checked by its
 * check_config (see driver.h), which main() calls before serving. */
dbb_code dbb_config_load(struct dbb_config *cfg, const char *env_file, struct dbb_error *err);

/* For a variable name that is not a setting but looks like one: the setting
 * it resembles (one typo away, a swap of neighbours or a change of case
 * counting one: PROT, port -> PORT, GZIP_LEVL -> GZIP_LEVEL; or two away
 * from a name of 6+ letters with the same first letter: DB_PASWROD), or
 * else one sharing its prefix up to its first '_' (DB_, GZIP_, KEYCLOAK_,
 * ...). The names are those of the settings tables (config.c's and every
 * driver's). NULL for a setting and for anything else (PATH, HOME,
 * SSL_CERT_FILE). dbb_config_load warns, one line each, about every such
 * variable of the environment and the settings file. */
const char *dbb_config_lookalike(const char *name);

/* Every target: *out[0] is the default target (a copy of cfg), then one per
 * TARGETS_DIR/NAME.env, sorted by name, each a copy of cfg's daemon-wide
 * settings with its own target part, read from its file only (the
 * environment defines the default target). *out is malloc'd (free() it).
 * A bad file: DBB_ERR_CONFIG with one line naming the file and the
 * variable. */
dbb_code dbb_config_load_targets(const struct dbb_config *cfg, struct dbb_config **out,
                                 size_t *count, struct dbb_error *err);

/* Prints every variable with its effective value (secrets masked). */
void dbb_config_dump(const struct dbb_config *cfg, FILE *out);
/* Prints one target's variables, each line "NAME: VAR=value" (secrets
 * masked), for --check-config's list of the other targets. */
void dbb_config_dump_target(const struct dbb_config *cfg, FILE *out);

#endif
