/* Unit tests for config.c: defaults, .env, environment precedence, errors. */
#include "check.h"
#include "dbbackupd/config.h"

int main(void)
{
	struct dbb_config cfg;
	struct dbb_error err;
	char *dir = check_tmpdir();
	char envfile[4200];
	snprintf(envfile, sizeof(envfile), "%s/.env", dir);
	static const char *const vars[] = {
	    "PORT",       "DB_TYPE",     "GZIP_LEVEL",     "MAX_UPLOAD_BYTES",
	    "BACKUP_DIR", "DB_PASSWORD", "AUTH_ROLES_FROM"};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);

	/* defaults */
	CHECK(dbb_config_load(&cfg, "/nonexistent/.env", &err) == DBB_OK);
	CHECK(cfg.port == 8081);
	CHECK_STR(cfg.bind_address, "127.0.0.1");
	CHECK_STR(cfg.backup_dir, "./backups");
	CHECK_STR(cfg.db_type, "sqlite");
	CHECK(cfg.gzip_level == 6);

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
	setenv("AUTH_ROLES_FROM", "everywhere", 1);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	unsetenv("AUTH_ROLES_FROM");

	/* a malformed .env line is an error, not silently skipped */
	f = fopen(envfile, "w");
	fprintf(f, "PORT 9000\n");
	fclose(f);
	CHECK(dbb_config_load(&cfg, envfile, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, ".env:1") != NULL);

	check_rmdir(dir);
	DONE();
}
