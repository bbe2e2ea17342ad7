/* Unit tests for config.c: defaults, .env, environment precedence, errors. */
#include <sys/stat.h>

#include "check.h"
#include "dbbackupd/config.h"

int main(void)
{
	struct dbb_config cfg;
	struct dbb_error err;
	umask(022); /* a .env others can write is refused */
	char *dir = check_tmpdir();
	char envfile[4200];
	snprintf(envfile, sizeof(envfile), "%s/.env", dir);
	static const char *const vars[] = {"PORT",
	                                   "DB_TYPE",
	                                   "GZIP_LEVEL",
	                                   "COMPRESSION",
	                                   "ZSTD_LEVEL",
	                                   "MAX_UPLOAD_BYTES",
	                                   "BACKUP_DIR",
	                                   "DB_PASSWORD",
	                                   "AUTH_ROLES_FROM",
	                                   "BIND_ALLOW_HTTP",
	                                   "KEYCLOAK_ALLOW_HTTP",
	                                   "AUTH_MAX_TOKEN_LIFETIME"};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);

	/* defaults */
	CHECK(dbb_config_load(&cfg, "/nonexistent/.env", &err) == DBB_OK);
	CHECK(cfg.port == 8081);
	CHECK_STR(cfg.bind_address, "127.0.0.1");
	CHECK_STR(cfg.backup_dir, "./backups");
	CHECK_STR(cfg.db_type, "sqlite");
	CHECK(cfg.gzip_level == 6);
	CHECK(cfg.auth_max_token_lifetime == 86400);
	CHECK(!cfg.bind_allow_http && !cfg.keycloak_allow_http);

	/* .env file, quotes, comments, export; the environment wins */
	FILE *f = fopen(envfile, "w");
	fprintf(f, "# comment\nexport PORT=9000\nDB_PASSWORD=\"se cret#1\"\nGZIP_LEVEL=3 # fast\n"
	           "MAX_UPLOAD_BYTES=512M\n");
	fclose(f);
	setenv("GZIP_LEVEL", "9", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_OK);
	CHECK(cfg.port == 9000);
	CHECK_STR(cfg.db_password, "se cret#1");
	CHECK(cfg.gzip_level == 9);
	CHECK(cfg.max_upload_bytes == 512ull * 1024 * 1024);
	unsetenv("GZIP_LEVEL");

	/* wrong values: one line naming the variable */
	setenv("PORT", "80x", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "PORT") != NULL);
	setenv("PORT", "70000", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	unsetenv("PORT");
	setenv("DB_TYPE", "oracle", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "DB_TYPE") != NULL);
	unsetenv("DB_TYPE");
	setenv("GZIP_LEVEL", "0", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "GZIP_LEVEL") != NULL);
	unsetenv("GZIP_LEVEL");
	setenv("MAX_UPLOAD_BYTES", "-5", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "MAX_UPLOAD_BYTES") != NULL);
	unsetenv("MAX_UPLOAD_BYTES");
	/* COMPRESSION: gzip by default, zstd, nothing else; ZSTD_LEVEL 1..19 */
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_OK);
	CHECK_STR(cfg.compression, "gzip");
	CHECK(cfg.zstd_level == 3);
	setenv("COMPRESSION", "zstd", 1);
	setenv("ZSTD_LEVEL", "19", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_OK);
	CHECK_STR(cfg.compression, "zstd");
	CHECK(cfg.zstd_level == 19);
	setenv("COMPRESSION", "xz", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "COMPRESSION") != NULL);
	unsetenv("COMPRESSION");
	setenv("ZSTD_LEVEL", "20", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "ZSTD_LEVEL") != NULL);
	unsetenv("ZSTD_LEVEL");
	setenv("AUTH_ROLES_FROM", "everywhere", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	unsetenv("AUTH_ROLES_FROM");
	/* issue 19: age settings; an error names the variable, never quotes a
	 * secret key (the spec's example identity and recipient) */
	setenv("ENCRYPT_RECIPIENTS",
	       "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj, ", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_OK);
	setenv("ENCRYPT_RECIPIENTS", "age1nope", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "ENCRYPT_RECIPIENTS") != NULL);
	setenv("ENCRYPT_RECIPIENTS",
	       "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "ENCRYPT_RECIPIENTS") != NULL);
	CHECK(strstr(err.message, "GFPYYSJZ") == NULL);
	unsetenv("ENCRYPT_RECIPIENTS");
	setenv("AGE_IDENTITY_FILE", "/nonexistent/key.txt", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	CHECK(strncmp(err.message, "AGE_IDENTITY_FILE", 17) == 0);
	unsetenv("AGE_IDENTITY_FILE");
	setenv("ENCRYPT_RECIPIENTS_FILE", "/nonexistent/recipients.txt", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	CHECK(strncmp(err.message, "ENCRYPT_RECIPIENTS_FILE", 23) == 0);
	unsetenv("ENCRYPT_RECIPIENTS_FILE");
	setenv("AGE_PASSPHRASE_FILE", "/nonexistent/pass.txt", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	CHECK(strncmp(err.message, "AGE_PASSPHRASE_FILE", 19) == 0);
	unsetenv("AGE_PASSPHRASE_FILE");

	/* a malformed .env line is an error, not silently skipped */
	f = fopen(envfile, "w");
	fprintf(f, "PORT 9000\n");
	fclose(f);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, ".env:1") != NULL);

	/* booleans */
	setenv("BIND_ALLOW_HTTP", "true", 1);
	setenv("KEYCLOAK_ALLOW_HTTP", "1", 1);
	CHECK(dbb_config_load(&cfg, "/nonexistent/.env", &err) == DBB_OK);
	CHECK(cfg.bind_allow_http && cfg.keycloak_allow_http);
	setenv("BIND_ALLOW_HTTP", "maybe", 1);
	CHECK(dbb_config_load(&cfg, "/nonexistent/.env", &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "BIND_ALLOW_HTTP") != NULL);
	unsetenv("BIND_ALLOW_HTTP");
	unsetenv("KEYCLOAK_ALLOW_HTTP");
	setenv("AUTH_MAX_TOKEN_LIFETIME", "10", 1);
	CHECK(dbb_config_load(&cfg, "/nonexistent/.env", &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "AUTH_MAX_TOKEN_LIFETIME") != NULL);
	unsetenv("AUTH_MAX_TOKEN_LIFETIME");

	/* a .env that others can change is refused (issue 14 item 7): it
	 * chooses the key source and the issuer */
	f = fopen(envfile, "w");
	fprintf(f, "PORT=9000\n");
	fclose(f);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_OK && cfg.port == 9000);
	chmod(envfile, 0666);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "settings file") && strstr(err.message, "writable"));
	CHECK(strchr(err.message, '\n') == NULL);
	chmod(envfile, 0620);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	chmod(envfile, 0600);
	chmod(dir, 0777);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "directory") != NULL);
	chmod(dir, 0700);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_OK);

	/* issue 16: variables that look like settings but are not */
	const char *like;
	CHECK((like = dbb_config_lookalike("PROT")) && strcmp(like, "PORT") == 0);
	CHECK((like = dbb_config_lookalike("GZIP_LEVL")) && strcmp(like, "GZIP_LEVEL") == 0);
	CHECK((like = dbb_config_lookalike("DB_PASSWROD")) && strcmp(like, "DB_PASSWORD") == 0);
	CHECK((like = dbb_config_lookalike("DB_PASWORD")) && strcmp(like, "DB_PASSWORD") == 0);
	CHECK((like = dbb_config_lookalike("MAX_UPLOAD")) && strncmp(like, "MAX_", 4) == 0);
	CHECK((like = dbb_config_lookalike("port")) && strcmp(like, "PORT") == 0);
	CHECK((like = dbb_config_lookalike("NEO4J_PASS")) && strncmp(like, "NEO4J_", 6) == 0);
	CHECK((like = dbb_config_lookalike("KEYCLOAK_SECRET")) &&
	      strncmp(like, "KEYCLOAK_", 9) == 0);
	CHECK((like = dbb_config_lookalike("TLS_CA_FILE")) && strncmp(like, "TLS_", 4) == 0);
	static const char *const ordinary[] = {"PATH",
	                                       "HOME",
	                                       "USER",
	                                       "HOST",
	                                       "HOSTNAME",
	                                       "LANG",
	                                       "TERM",
	                                       "SHELL",
	                                       "PWD",
	                                       "TZ",
	                                       "TMPDIR",
	                                       "LOGNAME",
	                                       "INVOCATION_ID",
	                                       "JOURNAL_STREAM",
	                                       "PORT",
	                                       "GZIP_LEVEL",
	                                       "NEO4J_URL",
	                                       "SQLITE_PATH",
	                                       "BACKUP_API_URL",
	                                       "SSL_CERT_FILE",
	                                       "SSL_CERT_DIR",
	                                       "CURL_CA_BUNDLE",
	                                       "MAKEFLAGS",
	                                       "CFLAGS",
	                                       "EDITOR",
	                                       "PAGER",
	                                       "LC_ALL",
	                                       "OLDPWD"};
	for (size_t i = 0; i < sizeof(ordinary) / sizeof(ordinary[0]); i++) {
		like = dbb_config_lookalike(ordinary[i]);
		if (like)
			fprintf(stderr, "%s looks like %s\n", ordinary[i], like);
		CHECK(like == NULL);
	}

	check_rmdir(dir);
	DONE();
}
