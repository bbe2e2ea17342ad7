/* Unit tests for driver/postgresql.c that need no server: validation of
 * staged files (what a wrong file is, truncation, meta-commands), fed in
 * chunks of every size so line handling across chunk boundaries is covered,
 * and the configuration check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbbackupd/driver.h"

#include "../mem_source.h"

extern const struct dbb_driver dbb_driver_postgresql;

static int passed, failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (cond) {                                                                        \
			passed++;                                                                  \
		} else {                                                                           \
			failed++;                                                                  \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
		}                                                                                  \
	} while (0)

static dbb_code validate_chunked(const char *buf, size_t len, size_t chunk, struct dbb_error *err)
{
	struct dbb_config cfg;
	struct dbb_driver_ctx ctx = {.cfg = &cfg};
	struct mem_source m = mem_source(buf, len, chunk);

	memset(&cfg, 0, sizeof(cfg));
	memset(err, 0, sizeof(*err));
	return dbb_driver_postgresql.validate(&ctx, &m.base, err);
}

static dbb_code validate_str(const char *s, struct dbb_error *err)
{
	return validate_chunked(s, strlen(s), 1 << 20, err);
}

#define DUMP_HEAD                                                                                  \
	"--\n-- PostgreSQL database dump\n--\n\n"                                                  \
	"\\restrict AbCdEf123\n\n"                                                                 \
	"SET statement_timeout = 0;\n"                                                             \
	"SELECT pg_catalog.set_config('search_path', '', false);\n"                                \
	"CREATE TABLE public.t (id integer, note text);\n"
#define DUMP_COPY                                                                                  \
	"COPY public.t (id, note) FROM stdin;\n"                                                   \
	"1\t\\\\restrict looks like a meta-command but is data\n"                                  \
	"2\t\\N\n"                                                                                 \
	"\\! data too\t\\N\n"                                                                      \
	"\\.\n\n"
#define DUMP_TAIL "--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict AbCdEf123\n\n"

static void test_good_dump_every_chunk_size(void)
{
	const char *dump = DUMP_HEAD DUMP_COPY DUMP_TAIL;
	struct dbb_error err;
	int bad = 0;

	for (size_t chunk = 1; chunk <= strlen(dump) + 1; chunk++)
		if (validate_chunked(dump, strlen(dump), chunk, &err) != DBB_OK) {
			if (!bad)
				fprintf(stderr, "chunk %zu: %s\n", chunk, err.message);
			bad++;
		}
	CHECK(bad == 0);
}

static void test_truncated(void)
{
	struct dbb_error err;

	CHECK(validate_str(DUMP_HEAD DUMP_COPY, &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(strstr(err.message, "incomplete") != NULL);
	CHECK(validate_str(DUMP_HEAD "COPY public.t (id, note) FROM stdin;\n1\tx\n", &err) ==
	      DBB_ERR_INVALID_BACKUP);
	CHECK(strstr(err.message, "COPY") != NULL);
}

static void test_meta_commands(void)
{
	struct dbb_error err;
	int bad = 0;
	const char *evil = DUMP_HEAD "\\! rm -rf /tmp/x\n" DUMP_COPY DUMP_TAIL;

	CHECK(validate_str(evil, &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(strstr(err.message, "\\!") != NULL);
	for (size_t chunk = 1; chunk < 64; chunk++)
		if (validate_chunked(evil, strlen(evil), chunk, &err) != DBB_ERR_INVALID_BACKUP)
			bad++;
	CHECK(bad == 0);
	CHECK(validate_str(DUMP_HEAD "\\connect other\n" DUMP_TAIL, &err) ==
	      DBB_ERR_INVALID_BACKUP);
	CHECK(validate_str(DUMP_HEAD "\\copy t from '/etc/passwd'\n" DUMP_TAIL, &err) ==
	      DBB_ERR_INVALID_BACKUP);
}

static void test_foreign_files(void)
{
	struct dbb_error err;
	static char sqlite[4096] = "SQLite format 3";
	static char pgdmp[4096] = "PGDMP\x01\x0e\x00";

	/* other databases' files are named by their drivers' recognise hooks */
	CHECK(validate_str("-- MySQL dump 10.13  Distrib 8.0\n/*!40101 SET NAMES utf8 */;\n",
	                   &err) == DBB_ERR_INVALID_BACKUP);
#ifdef DBB_WITH_MYSQL
	CHECK(strstr(err.message, "MySQL") != NULL);
#endif
	CHECK(validate_chunked(sqlite, sizeof(sqlite), 100, &err) == DBB_ERR_INVALID_BACKUP);
#ifdef DBB_WITH_SQLITE
	CHECK(strstr(err.message, "SQLite") != NULL);
#endif
	CHECK(validate_chunked(pgdmp, sizeof(pgdmp), 4096, &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(strstr(err.message, "custom") != NULL);
	CHECK(validate_str("CREATE (n:Person {name: 'a'});\n", &err) == DBB_ERR_INVALID_BACKUP);
#ifdef DBB_WITH_NEO4J
	CHECK(strstr(err.message, "Cypher") != NULL);
#endif
	CHECK(validate_str("", &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(strstr(err.message, "empty") != NULL);
	CHECK(validate_str("SELECT 1;\n", &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(validate_str("--\n-- PostgreSQL database cluster dump\n--\n" DUMP_TAIL, &err) ==
	      DBB_ERR_INVALID_BACKUP);
	CHECK(strstr(err.message, "pg_dumpall") != NULL);
}

static void test_check_config(void)
{
	struct dbb_config cfg;
	struct dbb_error err = {0};

	memset(&cfg, 0, sizeof(cfg));
	CHECK(dbb_driver_postgresql.check_config(&cfg, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "DB_NAME") != NULL);
	snprintf(cfg.db_name, sizeof(cfg.db_name), "app");
	CHECK(dbb_driver_postgresql.check_config(&cfg, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "DB_USER") != NULL);
	snprintf(cfg.db_user, sizeof(cfg.db_user), "app");
	CHECK(dbb_driver_postgresql.check_config(&cfg, &err) == DBB_OK);
	CHECK(strcmp(dbb_driver_postgresql.name, "postgresql") == 0);
	CHECK(strcmp(dbb_driver_postgresql.extension, "sql") == 0);
	CHECK(dbb_driver_postgresql.atomic_restore);
	CHECK(dbb_driver_find("postgresql") == &dbb_driver_postgresql);
}

int main(void)
{
	test_good_dump_every_chunk_size();
	test_truncated();
	test_meta_commands();
	test_foreign_files();
	test_check_config();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
