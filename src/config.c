/* Configuration: one table of variables, read from .env and the environment. */
#include "dbbackupd/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <sys/stat.h>

#include "dbbackupd/age.h"
#include "dbbackupd/driver.h"
#include "dbbackupd/log.h"
#include "dbbackupd/trust.h"

extern char **environ;

/* A row of a settings table of struct T. */
#define T_STR(T, n, field, d)    DBB_SETTING_STRING(T, n, field, d, false)
#define T_SECRET(T, n, field, d) DBB_SETTING_STRING(T, n, field, d, true)
#define T_NUM(T, kind, n, field, d, lo, hi)                                                        \
	{                                                                                          \
		n, kind, offsetof(T, field), 0, d, lo, hi, false                                   \
	}
#define STR(n, field, d)          T_STR(struct dbb_config, n, field, d)
#define SECRET(n, field, d)       T_SECRET(struct dbb_config, n, field, d)
#define UINT(n, field, d, lo, hi) T_NUM(struct dbb_config, DBB_SETTING_UINT, n, field, d, lo, hi)
#define BOOL(n, field, d)         T_NUM(struct dbb_config, DBB_SETTING_BOOL, n, field, d, 0, 1)
#define BYTES(n, field, d)        T_NUM(struct dbb_config, DBB_SETTING_BYTES, n, field, d, 1, 0)
/* like BYTES, and 0 is accepted (a default derived after loading) */
#define BYTES0(n, field, d) T_NUM(struct dbb_config, DBB_SETTING_BYTES, n, field, d, 0, 0)

/* The per-target settings: the default target's from .env and the
 * environment, another target's from its TARGETS_DIR/NAME.env. */
#define TGT struct dbb_target_config
static const struct dbb_setting target_vars[] = {
    T_STR(TGT, "DB_TYPE", db_type, "sqlite"),
    T_STR(TGT, "SQLITE_PATH", sqlite_path, "./data/app.db"),
    T_STR(TGT, "DB_HOST", db_host, "localhost"),
    T_NUM(TGT, DBB_SETTING_UINT, "DB_PORT", db_port, "0", 0, 65535),
    T_STR(TGT, "DB_NAME", db_name, ""),
    T_STR(TGT, "DB_USER", db_user, ""),
    T_SECRET(TGT, "DB_PASSWORD", db_password, ""),
    T_STR(TGT, "COMPRESSION", compression, "gzip"),
    T_NUM(TGT, DBB_SETTING_INT, "GZIP_LEVEL", gzip_level, "6", 1, 9),
    T_NUM(TGT, DBB_SETTING_INT, "ZSTD_LEVEL", zstd_level, "3", 1, 19),
    T_STR(TGT, "ENCRYPT_RECIPIENTS", encrypt_recipients, ""),
    T_STR(TGT, "ENCRYPT_RECIPIENTS_FILE", encrypt_recipients_file, ""),
    T_STR(TGT, "AGE_IDENTITY_FILE", age_identity_file, ""),
    T_STR(TGT, "AGE_PASSPHRASE_FILE", age_passphrase_file, ""),
    T_STR(TGT, "VERIFY_DB_NAME", verify_db_name, "dbbackupd_verify"),
    T_STR(TGT, "VERIFY_DB_HOST", verify_db_host, ""),
    T_NUM(TGT, DBB_SETTING_UINT, "VERIFY_DB_PORT", verify_db_port, "0", 0, 65535),
    T_STR(TGT, "VERIFY_DB_USER", verify_db_user, ""),
    T_SECRET(TGT, "VERIFY_DB_PASSWORD", verify_db_password, ""),
    T_NUM(TGT, DBB_SETTING_BOOL, "VERIFY_AFTER_BACKUP", verify_after_backup, "false", 0, 1),
};

/* The daemon-wide settings. */
static const struct dbb_setting vars[] = {
    STR("BIND_ADDRESS", bind_address, "127.0.0.1"),
    BOOL("BIND_ALLOW_HTTP", bind_allow_http, "false"),
    UINT("PORT", port, "8081", 0, 65535),
    STR("BACKUP_DIR", backup_dir, "./backups"),
    STR("TARGET_NAME", name, ""),
    STR("TARGETS_DIR", targets_dir, ""),
    STR("KEYCLOAK_URL", keycloak_url, ""),
    STR("KEYCLOAK_REALM", keycloak_realm, "backup"),
    STR("KEYCLOAK_CLIENT_ID", keycloak_client_id, "dbbackupd"),
    STR("AUTH_JWKS_FILE", auth_jwks_file, ""),
    STR("AUTH_ISSUER", auth_issuer, ""),
    STR("AUTH_ROLES_FROM", auth_roles_from, "both"),
    UINT("AUTH_CLOCK_SKEW", auth_clock_skew, "30", 0, 3600),
    UINT("JWKS_REFRESH_INTERVAL", jwks_refresh_interval, "60", 1, 86400),
    UINT("AUTH_MAX_TOKEN_LIFETIME", auth_max_token_lifetime, "86400", 60, 315360000),
    BOOL("KEYCLOAK_ALLOW_HTTP", keycloak_allow_http, "false"),
    UINT("COMPRESS_THREADS", compress_threads, "0", 0, 256),
    STR("SAFETY_COMPRESSION", safety_compression, "zstd:1"),
    BYTES("MAX_UPLOAD_BYTES", max_upload_bytes, "10G"),
    UINT("MAX_CONNECTIONS", max_connections, "64", 4, 10000),
    UINT("CONNECTION_TIMEOUT", connection_timeout, "60", 1, 86400),
    UINT("MAX_CONNECTIONS_PER_IP", max_connections_per_ip, "16", 0, 10000),
    UINT("MIN_BODY_RATE", min_body_rate, "1024", 0, 1073741824),
    BYTES0("MAX_RESTORE_BYTES", max_restore_bytes, "0"),
    UINT("CHILD_TIMEOUT", child_timeout, "21600", 1, 604800),
    STR("LOG_LEVEL", log_level, "info"),
    STR("LOG_FORMAT", log_format, "text"),
    STR("TRUSTED_PROXIES", trusted_proxies, ""),
    UINT("SHUTDOWN_TIMEOUT", shutdown_timeout, "300", 0, 86400),
    UINT("JOBS_MAX_RUNNING", jobs_max_running, "4", 1, 64),
    UINT("JOBS_HISTORY", jobs_history, "100", 1, 10000),
    STR("JOBS_JOURNAL", jobs_journal, ""),
    UINT("PROGRESS_LOG_INTERVAL", progress_log_interval, "10", 0, 86400),
    STR("TLS_CERT_FILE", tls_cert_file, ""),
    STR("TLS_KEY_FILE", tls_key_file, ""),
    SECRET("METRICS_TOKEN", metrics_token, ""),
    STR("UI_CLIENT_ID", ui_client_id, "dbbackupd-ui"),
    STR("UI_KEYCLOAK_URL", ui_keycloak_url, ""),
};

#define ENVFILE_MAX_LINES 512

struct envfile {
	char *keys[ENVFILE_MAX_LINES];
	char *values[ENVFILE_MAX_LINES];
	size_t count;
};

static void envfile_free(struct envfile *ef)
{
	for (size_t i = 0; i < ef->count; i++) {
		free(ef->keys[i]);
		free(ef->values[i]);
	}
	ef->count = 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* The settings file sets the key source and the issuer: only root and the
 * daemon's user may be able to change it (trust.h), and the file read is the
 * one checked. */
static dbb_code envfile_trusted(FILE *f, const char *path, struct dbb_error *err)
{
	struct stat checked, opened;
	dbb_code rc = dbb_trust_file("settings file", path, 0, &checked, err);
	if (rc)
		return rc;
	if (fstat(fileno(f), &opened) != 0 || opened.st_dev != checked.st_dev ||
	    opened.st_ino != checked.st_ino)
		return dbb_fail(err, DBB_ERR_CONFIG, "settings file %s changed while being read",
		                path);
	return DBB_OK;
}

/* KEY=VALUE, optional "export ", '#' comments, single or double quotes. */
static dbb_code envfile_load(struct envfile *ef, const char *path, struct dbb_error *err)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return DBB_OK;
		return dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "cannot read %s", path);
	}
	char line[8192];
	unsigned lineno = 0;
	dbb_code rc = envfile_trusted(f, path, err);
	while (rc == DBB_OK && fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (strncmp(s, "export ", 7) == 0)
			s = trim(s + 7);
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = dbb_fail(err, DBB_ERR_CONFIG, "%s:%u: expected KEY=VALUE", path,
			              lineno);
			break;
		}
		*eq = '\0';
		char *key = trim(s);
		char *val = trim(eq + 1);
		if (*val == '#')
			*val = '\0'; /* "KEY=   # comment": an empty value */
		size_t vl = strlen(val);
		if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
			val[vl - 1] = '\0';
			val++;
		} else {
			char *hash = strstr(val, " #");
			if (hash)
				*trim(hash) = '\0', val = trim(val);
		}
		if (ef->count == ENVFILE_MAX_LINES) {
			rc = dbb_fail(err, DBB_ERR_CONFIG, "%s: more than %d settings", path,
			              ENVFILE_MAX_LINES);
			break;
		}
		ef->keys[ef->count] = strdup(key);
		ef->values[ef->count] = strdup(val);
		ef->count++;
		if (!ef->keys[ef->count - 1] || !ef->values[ef->count - 1]) {
			rc = dbb_fail(err, DBB_ERR_CONFIG, "out of memory reading %s", path);
			break;
		}
	}
	fclose(f);
	return rc;
}

static const char *envfile_get(const struct envfile *ef, const char *key)
{
	const char *found = NULL;
	for (size_t i = 0; i < ef->count; i++)
		if (strcmp(ef->keys[i], key) == 0)
			found = ef->values[i]; /* last one wins, like a shell */
	return found;
}

static dbb_code parse_bytes(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)*s))
		return DBB_ERR_CONFIG;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return DBB_ERR_CONFIG;
	unsigned shift = 0;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		return DBB_ERR_CONFIG;
	}
	if (*end) {
		end++;
		if (toupper((unsigned char)*end) == 'I')
			end++;
		if (toupper((unsigned char)*end) == 'B')
			end++;
		if (*end)
			return DBB_ERR_CONFIG;
	}
	if (v == 0 || (shift && v > (UINT64_MAX >> shift)))
		return DBB_ERR_CONFIG;
	*out = (uint64_t)v << shift;
	return DBB_OK;
}

/* Sets v's field in the struct at `to` from its text. */
static dbb_code set_var(void *to, const struct dbb_setting *v, const char *value,
                        struct dbb_error *err)
{
	char *base = (char *)to + v->offset;
	switch (v->kind) {
	case DBB_SETTING_STR:
		if (strlen(value) >= v->size)
			return dbb_fail(err, DBB_ERR_CONFIG, "%s is too long (at most %zu bytes)",
			                v->name, v->size - 1);
		memcpy(base, value, strlen(value) + 1);
		return DBB_OK;
	case DBB_SETTING_UINT:
	case DBB_SETTING_INT: {
		char *end;
		errno = 0;
		long long n = strtoll(value, &end, 10);
		if (errno || end == value || *end || n < v->min || n > v->max)
			return dbb_fail(err, DBB_ERR_CONFIG,
			                "%s must be an integer from %lld to %lld, got \"%s\"",
			                v->name, v->min, v->max, value);
		if (v->kind == DBB_SETTING_UINT)
			*(unsigned *)(void *)base = (unsigned)n;
		else
			*(int *)(void *)base = (int)n;
		return DBB_OK;
	}
	case DBB_SETTING_BOOL:
		if (strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0 ||
		    strcasecmp(value, "yes") == 0)
			*(bool *)(void *)base = true;
		else if (strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0 ||
		         strcasecmp(value, "no") == 0 || value[0] == '\0')
			*(bool *)(void *)base = false;
		else
			return dbb_fail(err, DBB_ERR_CONFIG, "%s must be true or false, got \"%s\"",
			                v->name, value);
		return DBB_OK;
	case DBB_SETTING_BYTES:
		if (v->min == 0 && strcmp(value, "0") == 0) {
			*(uint64_t *)(void *)base = 0;
			return DBB_OK;
		}
		if (parse_bytes(value, (uint64_t *)(void *)base) != DBB_OK)
			return dbb_fail(err, DBB_ERR_CONFIG,
			                "%s must be a positive size such as 1048576, 512M or 10G, "
			                "got \"%s\"",
			                v->name, value);
		return DBB_OK;
	}
	return DBB_ERR_CONFIG;
}

/* Fills the struct at `to` from a table: the environment (when use_env),
 * else the file, else the default. */
static dbb_code load_table(void *to, const struct dbb_setting *table, size_t count,
                           const struct envfile *ef, bool use_env, struct dbb_error *err)
{
	for (size_t i = 0; i < count; i++) {
		const char *value = use_env ? getenv(table[i].name) : NULL;
		if (!value)
			value = envfile_get(ef, table[i].name);
		if (!value)
			value = table[i].def;
		dbb_code rc = set_var(to, &table[i], value, err);
		if (rc)
			return rc;
	}
	return DBB_OK;
}

/* ---- Variables that look like ours but are not (issue 16) ---- */

/* Read by our own scripts (setup/cron-backup.sh, rotate-backups.sh), not by
 * the daemon: never reported. */
static const char *const lookalike_ok[] = {"BACKUP_API_URL", "BACKUP_COMPRESS"};

/* Optimal string alignment distance (a swap of two neighbours counts one),
 * case-insensitive, given up beyond 3. */
static unsigned name_distance(const char *a, const char *b)
{
	enum { MAXLEN = 48 };
	size_t la = strlen(a), lb = strlen(b);
	unsigned d[MAXLEN + 1][MAXLEN + 1];
	if (la > MAXLEN || lb > MAXLEN || (la > lb ? la - lb : lb - la) > 3)
		return 4;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost =
			    toupper((unsigned char)a[i - 1]) != toupper((unsigned char)b[j - 1]);
			unsigned best = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 &&
			    toupper((unsigned char)a[i - 1]) == toupper((unsigned char)b[j - 2]) &&
			    toupper((unsigned char)a[i - 2]) == toupper((unsigned char)b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

/* Checks name against one settings table: *known set when it is one of its
 * names; else *nearest (distance *best) and *family (a known name with the
 * same prefix up to its first '_', e.g. GZIP_) updated. */
static void lookalike_scan(const char *name, const struct dbb_setting *table, size_t count,
                           bool *known, const char **nearest, unsigned *best, const char **family)
{
	for (size_t i = 0; i < count && !*known; i++) {
		const char *k = table[i].name;
		if (strcmp(name, k) == 0) {
			*known = true;
			return;
		}
		const char *us = strchr(k, '_');
		if (us && !*family && strncmp(name, k, (size_t)(us - k) + 1) == 0)
			*family = k;
		unsigned dist = name_distance(name, k);
		if (dist < *best) {
			*best = dist;
			*nearest = k;
		}
	}
}

const char *dbb_config_lookalike(const char *name)
{
	const struct dbb_driver *d;
	const char *nearest = NULL, *family = NULL;
	unsigned best = 4;
	bool known = false;
	for (size_t i = 0; i < sizeof(lookalike_ok) / sizeof(lookalike_ok[0]); i++)
		if (strcmp(name, lookalike_ok[i]) == 0)
			return NULL;
	lookalike_scan(name, vars, sizeof(vars) / sizeof(vars[0]), &known, &nearest, &best,
	               &family);
	lookalike_scan(name, target_vars, sizeof(target_vars) / sizeof(target_vars[0]), &known,
	               &nearest, &best, &family);
	size_t n;
	const struct dbb_setting *t = dbb_schedule_settings(&n);
	lookalike_scan(name, t, n, &known, &nearest, &best, &family);
	t = dbb_offsite_settings_table(&n);
	lookalike_scan(name, t, n, &known, &nearest, &best, &family);
	for (size_t i = 0; !known && (d = dbb_driver_at(i)); i++)
		lookalike_scan(name, d->settings, d->settings_count, &known, &nearest, &best,
		               &family);
	if (known)
		return NULL;
	/* one typo (PROT, GZIP_LEVL), two in a longer name that starts alike
	 * (DB_PASWORD; not SSL_CERT_FILE, OpenSSL's, for TLS_CERT_FILE) */
	if (nearest && (best <= 1 || (best == 2 && strlen(nearest) > 5 &&
	                              toupper((unsigned char)name[0]) == nearest[0])))
		return nearest;
	return family;
}

/* One warning line per variable of the environment or the .env file that is
 * not a setting but looks like one (dbb_config_lookalike): a typo would
 * otherwise leave its default in force without a word. */
static void warn_lookalike_settings(const struct envfile *ef)
{
	char name[128];
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		size_t n = eq ? (size_t)(eq - *e) : strlen(*e);
		if (n == 0 || n >= sizeof(name))
			continue;
		memcpy(name, *e, n);
		name[n] = '\0';
		const char *like = dbb_config_lookalike(name);
		if (like)
			dbb_warn(
			    "environment variable %s is not a dbbackupd setting and is ignored "
			    "(did you mean %s? see setup/.env.template)",
			    name, like);
	}
	for (size_t i = 0; i < ef->count; i++) {
		const char *like = dbb_config_lookalike(ef->keys[i]);
		if (like)
			dbb_warn(
			    "%s in the settings file is not a dbbackupd setting and is ignored "
			    "(did you mean %s? see setup/.env.template)",
			    ef->keys[i], like);
	}
}

/* issue 17: schedule, retention and notification settings, checked */
static dbb_code load_schedule(struct dbb_schedule_config *sc, const struct envfile *ef,
                              bool use_env, struct dbb_error *err)
{
	size_t n;
	struct dbb_schedule_parsed parsed;
	const struct dbb_setting *t = dbb_schedule_settings(&n);
	dbb_code rc = load_table(sc, t, n, ef, use_env, err);
	return rc ? rc : dbb_schedule_config_parse(sc, &parsed, err);
}

/* Where the i-th driver's settings start in driver_settings: after the
 * ones before it, each aligned for any type. */
static size_t driver_settings_at(size_t i)
{
	const size_t align = _Alignof(max_align_t);
	const struct dbb_driver *d;
	size_t at = 0;
	for (size_t k = 0; k < i && (d = dbb_driver_at(k)); k++)
		at += (d->settings_size + align - 1) / align * align;
	return at;
}

bool dbb_target_name_is_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > DBB_TARGET_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '-')))
			return false;
	}
	return true;
}

/* issue 19: the age settings (docs/encryption.md), each read once to check
 * it; an error names the variable and never quotes a secret. */
static dbb_code check_age(const struct dbb_target_config *t, struct dbb_error *err)
{
	struct dbb_age_recipients rs = {0};
	struct dbb_age_identities ids = {0};
	const char *var = NULL;
	dbb_code rc = DBB_OK;
	for (const char *p = t->encrypt_recipients; *p; p++)
		if (strncasecmp(p, "AGE-SECRET-KEY-", 15) == 0)
			return dbb_fail(
			    err, DBB_ERR_CONFIG,
			    "ENCRYPT_RECIPIENTS holds a secret key (AGE-SECRET-KEY-...): "
			    "it takes the public key, age1..., that age-keygen prints");
	if (t->encrypt_recipients[0]) {
		var = "ENCRYPT_RECIPIENTS";
		rc = dbb_age_recipients_parse_list(&rs, t->encrypt_recipients, err);
	}
	if (!rc && t->encrypt_recipients_file[0]) {
		var = "ENCRYPT_RECIPIENTS_FILE";
		rc = dbb_age_recipients_load_file(&rs, t->encrypt_recipients_file, err);
	}
	if (!rc && t->age_identity_file[0]) {
		var = "AGE_IDENTITY_FILE";
		rc = dbb_age_identities_load_file(&ids, t->age_identity_file, DBB_AGE_FILE_PRIVATE,
		                                  err);
	}
	if (!rc && t->age_passphrase_file[0]) {
		var = "AGE_PASSPHRASE_FILE";
		rc = dbb_age_identities_load_passphrase_file(&ids, t->age_passphrase_file,
		                                             DBB_AGE_FILE_PRIVATE, err);
	}
	dbb_age_recipients_free(&rs);
	dbb_age_identities_free(&ids);
	if (rc) {
		dbb_error_prefix(err, "%s", var);
		err->code = rc = DBB_ERR_CONFIG;
	}
	return rc;
}

/* Loads a target's settings (the target table, its schedule and offsite
 * tables, then every driver's own), and checks what does not need the
 * driver. */
static dbb_code load_target(struct dbb_target_config *t, const struct envfile *ef, bool use_env,
                            struct dbb_error *err)
{
	const struct dbb_driver *drv, *d;
	size_t offsite_count;
	const struct dbb_setting *offsite_vars = dbb_offsite_settings_table(&offsite_count);
	dbb_code rc = load_table(t, target_vars, sizeof(target_vars) / sizeof(target_vars[0]), ef,
	                         use_env, err);
	if (!rc)
		rc = load_schedule(&t->schedule, ef, use_env, err);
	if (!rc)
		rc = load_table(&t->offsite, offsite_vars, offsite_count, ef, use_env, err);
	if (rc)
		return rc;
	if (strcmp(t->compression, "gzip") && strcmp(t->compression, "zstd"))
		return dbb_fail(
		    err, DBB_ERR_CONFIG,
		    "COMPRESSION must be gzip or zstd (the codec of compress=true), got "
		    "\"%s\"",
		    t->compression);
	rc = check_age(t, err);
	if (rc)
		return rc;
	/* issue 20: a verification creates and drops VERIFY_DB_NAME */
	bool verify_same_server =
	    (!t->verify_db_host[0] || !strcmp(t->verify_db_host, t->db_host)) &&
	    (!t->verify_db_port || t->verify_db_port == t->db_port);
	if (t->verify_db_name[0] == '-' || t->verify_db_user[0] == '-' ||
	    t->verify_db_host[0] == '-')
		return dbb_fail(
		    err, DBB_ERR_CONFIG,
		    "VERIFY_DB_NAME, VERIFY_DB_USER and VERIFY_DB_HOST must not start with "
		    "'-' (the client tools would read an option)");
	if (t->db_name[0] && verify_same_server && !strcmp(t->verify_db_name, t->db_name))
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "VERIFY_DB_NAME must not be DB_NAME (%s) on the same server: a "
		                "verification creates and drops it",
		                t->db_name);
	drv = dbb_driver_find(t->db_type);
	if (!drv)
		return dbb_fail(err, DBB_ERR_CONFIG, "DB_TYPE must be one of %s, got \"%s\"",
		                dbb_driver_names(), t->db_type);
	/* every driver's own variables, each into its own struct */
	for (size_t i = 0; (d = dbb_driver_at(i)); i++) {
		size_t at = driver_settings_at(i);
		if (at + d->settings_size > sizeof(t->driver_settings))
			return dbb_fail(err, DBB_ERR_CONFIG, "the %s driver's settings do not fit",
			                d->name);
		rc = load_table(t->driver_settings + at, d->settings, d->settings_count, ef,
		                use_env, err);
		if (rc)
			return rc;
		if (d == drv)
			t->driver_settings_at = at;
	}
	return DBB_OK;
}

dbb_code dbb_config_load(struct dbb_config *cfg, const char *env_file, struct dbb_error *err)
{
	struct envfile ef = {0};
	memset(cfg, 0, sizeof(*cfg));
	dbb_code rc = envfile_load(&ef, env_file ? env_file : ".env", err);
	if (rc)
		goto out;
	warn_lookalike_settings(&ef);
	rc = load_table(cfg, vars, sizeof(vars) / sizeof(vars[0]), &ef, true, err);
	if (rc)
		goto out;
	unsigned char addr[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, cfg->bind_address, addr) != 1 &&
	    inet_pton(AF_INET6, cfg->bind_address, addr) != 1) {
		rc = dbb_fail(err, DBB_ERR_CONFIG,
		              "BIND_ADDRESS must be an IPv4 or IPv6 address, got \"%s\"",
		              cfg->bind_address);
		goto out;
	}
	if (cfg->backup_dir[0] == '\0') {
		rc = dbb_fail(err, DBB_ERR_CONFIG, "BACKUP_DIR must not be empty");
		goto out;
	}
	if (strcmp(cfg->auth_roles_from, "realm") && strcmp(cfg->auth_roles_from, "client") &&
	    strcmp(cfg->auth_roles_from, "both")) {
		rc = dbb_fail(err, DBB_ERR_CONFIG,
		              "AUTH_ROLES_FROM must be realm, client or both, got \"%s\"",
		              cfg->auth_roles_from);
		goto out;
	}
	if (!cfg->tls_cert_file[0] != !cfg->tls_key_file[0]) {
		rc = dbb_fail(err, DBB_ERR_CONFIG,
		              "TLS_CERT_FILE and TLS_KEY_FILE must be set together (%s is empty)",
		              cfg->tls_cert_file[0] ? "TLS_KEY_FILE" : "TLS_CERT_FILE");
		goto out;
	}
	/* issue 14: the decompressed size of an upload, by default 10 times
	 * its compressed limit */
	if (cfg->max_restore_bytes == 0)
		cfg->max_restore_bytes = cfg->max_upload_bytes > UINT64_MAX / 10
		                             ? UINT64_MAX
		                             : cfg->max_upload_bytes * 10;
	if (cfg->max_connections_per_ip > cfg->max_connections) /* at most all of them */
		cfg->max_connections_per_ip = cfg->max_connections;
	if (cfg->metrics_token[0] && strlen(cfg->metrics_token) < 16) {
		rc = dbb_fail(err, DBB_ERR_CONFIG,
		              "METRICS_TOKEN must be at least 16 characters (or empty)");
		goto out;
	}
	/* issue 21: an origin for the dashboard's CSP and its sign-in page */
	if (cfg->ui_keycloak_url[0] && strncasecmp(cfg->ui_keycloak_url, "http://", 7) != 0 &&
	    strncasecmp(cfg->ui_keycloak_url, "https://", 8) != 0) {
		rc = dbb_fail(err, DBB_ERR_CONFIG,
		              "UI_KEYCLOAK_URL must start with http:// or https://");
		goto out;
	}
	if (strspn(cfg->ui_client_id,
	           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
	        strlen(cfg->ui_client_id) ||
	    !cfg->ui_client_id[0]) {
		rc = dbb_fail(
		    err, DBB_ERR_CONFIG,
		    "UI_CLIENT_ID must be a client id of letters, digits, '-', '_' or '.'");
		goto out;
	}
	/* the default target: TARGET_NAME was read above, into its name */
	rc = load_target(&cfg->target, &ef, true, err);
	if (rc)
		goto out;
	if (!cfg->name[0])
		snprintf(cfg->name, sizeof(cfg->name), "%s", cfg->db_type);
	if (!dbb_target_name_is_valid(cfg->name)) {
		rc = dbb_fail(
		    err, DBB_ERR_CONFIG,
		    "TARGET_NAME must be 1 to %d of a-z, 0-9, '_' and '-', starting with a "
		    "letter or digit, got \"%s\"",
		    DBB_TARGET_NAME_MAX, cfg->name);
		goto out;
	}
	cfg->is_default = true;
	snprintf(cfg->target_dir, sizeof(cfg->target_dir), "%s", cfg->backup_dir);
out:
	envfile_free(&ef);
	return rc;
}

/* True when var is a variable of table. */
static bool in_table(const struct dbb_setting *table, size_t count, const char *var)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(table[i].name, var) == 0)
			return true;
	return false;
}

/* Every variable of a target file must be a target's (its own table, its
 * schedule's, its offsite copies') or a driver's. */
static dbb_code target_file_vars(const struct envfile *ef, struct dbb_error *err)
{
	const struct dbb_driver *d;
	size_t nsched, noffsite;
	const struct dbb_setting *sched = dbb_schedule_settings(&nsched);
	const struct dbb_setting *offsite = dbb_offsite_settings_table(&noffsite);
	for (size_t k = 0; k < ef->count; k++) {
		const char *var = ef->keys[k];
		bool known =
		    in_table(target_vars, sizeof(target_vars) / sizeof(target_vars[0]), var) ||
		    in_table(sched, nsched, var) || in_table(offsite, noffsite, var);
		for (size_t i = 0; !known && (d = dbb_driver_at(i)); i++)
			known = in_table(d->settings, d->settings_count, var);
		if (known)
			continue;
		if (strcmp(var, "TARGET_NAME") == 0)
			return dbb_fail(
			    err, DBB_ERR_CONFIG,
			    "TARGET_NAME names the default target; another target's name "
			    "is its file's name");
		if (in_table(vars, sizeof(vars) / sizeof(vars[0]), var))
			return dbb_fail(
			    err, DBB_ERR_CONFIG,
			    "%s is a daemon-wide setting: set it in the daemon's .env or "
			    "environment, not in a target's file",
			    var);
		return dbb_fail(err, DBB_ERR_CONFIG, "%s is not a target's setting", var);
	}
	return DBB_OK;
}

/* Loads TARGETS_DIR/file into t (a copy of the default target's config). */
static dbb_code load_target_file(struct dbb_config *t, const char *dir, const char *file,
                                 struct dbb_error *err)
{
	struct envfile ef = {0};
	char path[PATH_MAX + 64];
	size_t n = strlen(file) - 4; /* ".env" */
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	memset(&t->target, 0, sizeof(t->target));
	snprintf(t->name, sizeof(t->name), "%.*s", (int)(n < sizeof(t->name) ? n : 0), file);
	dbb_code rc = DBB_OK;
	if (n > DBB_TARGET_NAME_MAX || !dbb_target_name_is_valid(t->name)) {
		rc = dbb_fail(
		    err, DBB_ERR_CONFIG,
		    "the file name is not a target name (1 to %d of a-z, 0-9, '_' and '-', "
		    "starting with a letter or digit, then .env)",
		    DBB_TARGET_NAME_MAX);
		goto out;
	}
	rc = envfile_load(&ef, path, err);
	if (!rc)
		rc = target_file_vars(&ef, err);
	if (!rc)
		rc = load_target(&t->target, &ef, false, err);
	if (!rc) {
		int w =
		    snprintf(t->target_dir, sizeof(t->target_dir), "%s/%s", t->backup_dir, t->name);
		if (w < 0 || (size_t)w >= sizeof(t->target_dir))
			rc = dbb_fail(err, DBB_ERR_CONFIG, "BACKUP_DIR/%s is too long", t->name);
	}
out:
	if (rc)
		dbb_error_prefix(err, "%s", path);
	envfile_free(&ef);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with_env(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && strcmp(name + n - 4, ".env") == 0;
}

dbb_code dbb_config_load_targets(const struct dbb_config *cfg, struct dbb_config **out,
                                 size_t *count, struct dbb_error *err)
{
	char *names[DBB_TARGETS_MAX];
	size_t nnames = 0, n = 1;
	struct dbb_config *all = NULL;
	DIR *dir = NULL;
	dbb_code rc = DBB_OK;
	*out = NULL;
	*count = 0;
	if (cfg->targets_dir[0]) {
		dir = opendir(cfg->targets_dir);
		if (!dir) {
			rc = dbb_fail_errno(err, errno, DBB_ERR_CONFIG,
			                    "TARGETS_DIR: cannot read %s", cfg->targets_dir);
			goto out;
		}
		struct dirent *de;
		while ((de = readdir(dir))) {
			if (de->d_name[0] == '.' || !ends_with_env(de->d_name))
				continue; /* hidden files, editors' backups, notes */
			if (nnames == DBB_TARGETS_MAX - 1) {
				rc = dbb_fail(err, DBB_ERR_CONFIG,
				              "TARGETS_DIR: more than %d targets",
				              DBB_TARGETS_MAX - 1);
				goto out;
			}
			names[nnames] = strdup(de->d_name);
			if (!names[nnames]) {
				rc = dbb_fail(err, DBB_ERR_CONFIG, "out of memory");
				goto out;
			}
			nnames++;
		}
		qsort(names, nnames, sizeof(names[0]), cmp_names);
	}
	all = calloc(nnames + 1, sizeof(*all));
	if (!all) {
		rc = dbb_fail(err, DBB_ERR_CONFIG, "out of memory");
		goto out;
	}
	all[0] = *cfg;
	for (size_t i = 0; i < nnames; i++, n++) {
		all[n] = *cfg;
		all[n].is_default = false;
		rc = load_target_file(&all[n], cfg->targets_dir, names[i], err);
		if (rc)
			goto out;
		if (strcmp(all[n].name, cfg->name) == 0) {
			rc =
			    dbb_fail(err, DBB_ERR_CONFIG,
			             "%s/%s: %s is already the default target's name (TARGET_NAME)",
			             cfg->targets_dir, names[i], cfg->name);
			goto out;
		}
	}
	*out = all;
	*count = n;
	all = NULL;
out:
	free(all);
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	if (dir)
		closedir(dir);
	return rc;
}

/* Lines "VAR=value", or "PREFIX: VAR=value" when prefix is not NULL. */
static void dump_table(const void *from, const struct dbb_setting *table, size_t count,
                       const char *prefix, FILE *out)
{
	for (size_t i = 0; i < count; i++) {
		const struct dbb_setting *v = &table[i];
		const char *base = (const char *)from + v->offset;
		if (prefix)
			fprintf(out, "%s: ", prefix);
		switch (v->kind) {
		case DBB_SETTING_STR:
			fprintf(out, "%s=%s\n", v->name,
			        v->secret ? (*base ? "********" : "") : base);
			break;
		case DBB_SETTING_UINT:
			fprintf(out, "%s=%u\n", v->name, *(const unsigned *)(const void *)base);
			break;
		case DBB_SETTING_INT:
			fprintf(out, "%s=%d\n", v->name, *(const int *)(const void *)base);
			break;
		case DBB_SETTING_BOOL:
			fprintf(out, "%s=%s\n", v->name,
			        *(const bool *)(const void *)base ? "true" : "false");
			break;
		case DBB_SETTING_BYTES:
			fprintf(out, "%s=%llu\n", v->name,
			        (unsigned long long)*(const uint64_t *)(const void *)base);
			break;
		}
	}
}

void dbb_config_dump(const struct dbb_config *cfg, FILE *out)
{
	const struct dbb_driver *d;

	size_t offsite_count;
	const struct dbb_setting *offsite_vars = dbb_offsite_settings_table(&offsite_count);
	size_t n;
	const struct dbb_setting *sched = dbb_schedule_settings(&n);

	dump_table(cfg, vars, sizeof(vars) / sizeof(vars[0]), NULL, out);
	dump_table(&cfg->target, target_vars, sizeof(target_vars) / sizeof(target_vars[0]), NULL,
	           out);
	dump_table(&cfg->schedule, sched, n, NULL, out);
	dump_table(&cfg->offsite, offsite_vars, offsite_count, NULL, out);
	for (size_t i = 0; (d = dbb_driver_at(i)); i++)
		dump_table(cfg->driver_settings + driver_settings_at(i), d->settings,
		           d->settings_count, NULL, out);
}

void dbb_config_dump_target(const struct dbb_config *cfg, FILE *out)
{
	const struct dbb_driver *d = dbb_driver_find(cfg->db_type);
	size_t offsite_count;
	const struct dbb_setting *offsite_vars = dbb_offsite_settings_table(&offsite_count);
	size_t n;
	const struct dbb_setting *sched = dbb_schedule_settings(&n);
	dump_table(&cfg->target, target_vars, sizeof(target_vars) / sizeof(target_vars[0]),
	           cfg->name, out);
	dump_table(&cfg->schedule, sched, n, cfg->name, out);
	dump_table(&cfg->offsite, offsite_vars, offsite_count, cfg->name, out);
	for (size_t i = 0; d && dbb_driver_at(i); i++)
		if (dbb_driver_at(i) == d)
			dump_table(cfg->driver_settings + driver_settings_at(i), d->settings,
			           d->settings_count, cfg->name, out);
}
