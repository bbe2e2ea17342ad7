/* Unit tests for a driver's own settings (driver.h `settings`) read by
 * config.c: the Neo4j driver's NEO4J_* variables. */
#include <stdlib.h>

#include "check.h"
#include "dbbackupd/config.h"
#include "dbbackupd/driver.h"
#include "driver/neo4j_internal.h"

int main(void)
{
#ifdef DBB_WITH_NEO4J
	struct dbb_config *cfg = calloc(1, sizeof(*cfg));
	struct dbb_error err = {0};
	const struct n4j_settings *n4j;
	char *dump = NULL;
	size_t dump_len = 0;
	FILE *out;

	CHECK(cfg != NULL);
	if (!cfg)
		DONE();
	setenv("DB_TYPE", "neo4j", 1);
	setenv("NEO4J_URL", "http://db.example:7474", 1);
	setenv("NEO4J_PASSWORD", "s3cret-neo", 1);
	unsetenv("NEO4J_USER");
	unsetenv("NEO4J_DATABASE");
	CHECK(dbb_config_load(cfg, "/nonexistent/.env", &err) == DBB_OK);
	n4j = n4j_settings(cfg);
	CHECK_STR(n4j->url, "http://db.example:7474");
	CHECK_STR(n4j->user, "neo4j"); /* the table's default */
	CHECK_STR(n4j->database, "neo4j");
	CHECK_STR(n4j->password, "s3cret-neo");

	/* listed by --check-config, the secret masked */
	out = open_memstream(&dump, &dump_len);
	CHECK(out != NULL);
	if (out) {
		dbb_config_dump(cfg, out);
		fclose(out);
		CHECK(strstr(dump, "NEO4J_URL=http://db.example:7474\n") != NULL);
		CHECK(strstr(dump, "NEO4J_PASSWORD=********\n") != NULL);
		CHECK(strstr(dump, "s3cret-neo") == NULL);
		free(dump);
	}

	/* too long for its field: refused, naming the variable */
	{
		char longurl[DBB_CFG_STR + 10];

		memset(longurl, 'a', sizeof(longurl) - 1);
		longurl[sizeof(longurl) - 1] = '\0';
		setenv("NEO4J_URL", longurl, 1);
		CHECK(dbb_config_load(cfg, "/nonexistent/.env", &err) == DBB_ERR_CONFIG);
		CHECK(strstr(err.message, "NEO4J_URL") != NULL);
	}
	/* another DB_TYPE: the Neo4j table is still read and checked */
	setenv("DB_TYPE", "sqlite", 1);
	if (dbb_driver_find("sqlite")) {
		CHECK(dbb_config_load(cfg, "/nonexistent/.env", &err) == DBB_ERR_CONFIG);
		CHECK(strstr(err.message, "NEO4J_URL") != NULL);
		setenv("NEO4J_URL", "http://other:7474", 1);
		CHECK(dbb_config_load(cfg, "/nonexistent/.env", &err) == DBB_OK);
		out = open_memstream(&dump, &dump_len);
		if (out) {
			dbb_config_dump(cfg, out);
			fclose(out);
			CHECK(strstr(dump, "NEO4J_URL=http://other:7474\n") != NULL);
			free(dump);
		}
	}
	unsetenv("NEO4J_URL");
	unsetenv("NEO4J_PASSWORD");
	unsetenv("DB_TYPE");
	free(cfg);
#endif
	DONE();
}
