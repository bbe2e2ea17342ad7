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
#include <sys/stat.h>

#include "dbbackupd/driver.h"
#include "dbbackupd/trust.h"

#define STR(n, field, d)    DBB_SETTING_STRING(struct dbb_config, n, field, d, false)
#define SECRET(n, field, d) DBB_SETTING_STRING(struct dbb_config, n, field, d, true)
#define UINT(n, field, d, lo, hi)                                                                  \
	{                                                                                          \
		n, DBB_SETTING_UINT, offsetof(struct dbb_config, field), 0, d, lo, hi, false       \
	}
#define INT(n, field, d, lo, hi)                                                                   \
	{                                                                                          \
		n, DBB_SETTING_INT, offsetof(struct dbb_config, field), 0, d, lo, hi, false        \
	}
#define BOOL(n, field, d)                                                                          \
	{                                                                                          \
		n, DBB_SETTING_BOOL, offsetof(struct dbb_config, field), 0, d, 0, 1, false         \
	}
#define BYTES(n, field, d)                                                                         \
	{                                                                                          \
		n, DBB_SETTING_BYTES, offsetof(struct dbb_config, field), 0, d, 1, 0, false        \
	}
/* like BYTES, and 0 is accepted (a default derived after loading) */
#define BYTES0(n, field, d)                                                                        \
	{                                                                                          \
		n, DBB_SETTING_BYTES, offsetof(struct dbb_config, field), 0, d, 0, 0, false        \
	}

static const struct dbb_setting vars[] = {
    STR("BIND_ADDRESS", bind_address, "127.0.0.1"),
    BOOL("BIND_ALLOW_HTTP", bind_allow_http, "false"),
    UINT("PORT", port, "8081", 0, 65535),
    STR("BACKUP_DIR", backup_dir, "./backups"),
    STR("DB_TYPE", db_type, "sqlite"),
    STR("SQLITE_PATH", sqlite_path, "./data/app.db"),
    STR("DB_HOST", db_host, "localhost"),
    UINT("DB_PORT", db_port, "0", 0, 65535),
    STR("DB_NAME", db_name, ""),
    STR("DB_USER", db_user, ""),
    SECRET("DB_PASSWORD", db_password, ""),
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
    STR("COMPRESSION", compression, "gzip"),
    INT("GZIP_LEVEL", gzip_level, "6", 1, 9),
    INT("ZSTD_LEVEL", zstd_level, "3", 1, 19),
    UINT("COMPRESS_THREADS", compress_threads, "0", 0, 256),
    BYTES("MAX_UPLOAD_BYTES", max_upload_bytes, "10G"),
    UINT("MAX_CONNECTIONS", max_connections, "64", 4, 10000),
    UINT("CONNECTION_TIMEOUT", connection_timeout, "60", 1, 86400),
    UINT("MAX_CONNECTIONS_PER_IP", max_connections_per_ip, "16", 0, 10000),
    UINT("MIN_BODY_RATE", min_body_rate, "1024", 0, 1073741824),
    BYTES0("MAX_RESTORE_BYTES", max_restore_bytes, "0"),
    UINT("CHILD_TIMEOUT", child_timeout, "21600", 1, 604800),
    STR("LOG_LEVEL", log_level, "info"),
    UINT("SHUTDOWN_TIMEOUT", shutdown_timeout, "300", 0, 86400),
    STR("TLS_CERT_FILE", tls_cert_file, ""),
    STR("TLS_KEY_FILE", tls_key_file, ""),
    SECRET("METRICS_TOKEN", metrics_token, ""),
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

/* Fills the struct at `to` from a table: environment, else .env, else default. */
static dbb_code load_table(void *to, const struct dbb_setting *table, size_t count,
                           const struct envfile *ef, struct dbb_error *err)
{
	for (size_t i = 0; i < count; i++) {
		const char *value = getenv(table[i].name);
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

/* Where the i-th driver's settings start in cfg->driver_settings: after the
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

dbb_code dbb_config_load(struct dbb_config *cfg, const char *env_file, struct dbb_error *err)
{
	const struct dbb_driver *drv, *d;
	struct envfile ef = {0};
	size_t offsite_count;
	const struct dbb_setting *offsite_vars = dbb_offsite_settings_table(&offsite_count);
	memset(cfg, 0, sizeof(*cfg));
	dbb_code rc = envfile_load(&ef, env_file ? env_file : ".env", err);
	if (rc)
		goto out;
	rc = load_table(cfg, vars, sizeof(vars) / sizeof(vars[0]), &ef, err);
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
	if (strcmp(cfg->compression, "gzip") && strcmp(cfg->compression, "zstd")) {
		rc = dbb_fail(err, DBB_ERR_CONFIG,
		              "COMPRESSION must be gzip or zstd (the codec of compress=true), got "
		              "\"%s\"",
		              cfg->compression);
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
	rc = load_table(&cfg->offsite, offsite_vars, offsite_count, &ef, err);
	if (rc)
		goto out;
	drv = dbb_driver_find(cfg->db_type);
	if (!drv) {
		rc = dbb_fail(err, DBB_ERR_CONFIG, "DB_TYPE must be one of %s, got \"%s\"",
		              dbb_driver_names(), cfg->db_type);
		goto out;
	}
	/* every driver's own variables, each into its own struct */
	for (size_t i = 0; (d = dbb_driver_at(i)); i++) {
		size_t at = driver_settings_at(i);
		if (at + d->settings_size > sizeof(cfg->driver_settings)) {
			rc = dbb_fail(err, DBB_ERR_CONFIG, "the %s driver's settings do not fit",
			              d->name);
			goto out;
		}
		rc =
		    load_table(cfg->driver_settings + at, d->settings, d->settings_count, &ef, err);
		if (rc)
			goto out;
		if (d == drv)
			cfg->driver_settings_at = at;
	}
out:
	envfile_free(&ef);
	return rc;
}

static void dump_table(const void *from, const struct dbb_setting *table, size_t count, FILE *out)
{
	for (size_t i = 0; i < count; i++) {
		const struct dbb_setting *v = &table[i];
		const char *base = (const char *)from + v->offset;
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

	dump_table(cfg, vars, sizeof(vars) / sizeof(vars[0]), out);
	dump_table(&cfg->offsite, offsite_vars, offsite_count, out);
	for (size_t i = 0; (d = dbb_driver_at(i)); i++)
		dump_table(cfg->driver_settings + driver_settings_at(i), d->settings,
		           d->settings_count, out);
}
