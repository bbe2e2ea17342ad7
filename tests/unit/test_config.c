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

	check_rmdir(dir);
	DONE();
}
