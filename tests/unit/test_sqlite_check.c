/* Unit tests for driver/sqlite_check.c and driver/sqlite_mem.c: what the
 * check of an untrusted SQLite file accepts and refuses, and that the memory
 * budget charges only the checking thread and is given back. */
#include <pthread.h>

#include <sqlite3.h>

#include "check.h"
#include "driver/sqlite_internal.h"

static char path_buf[4200];

/* Makes DIR/NAME from SQL (run with writable_schema allowed); its path. */
static const char *make_db(const char *dir, const char *name, const char *sql)
{
	sqlite3 *db = NULL;
	snprintf(path_buf, sizeof(path_buf), "%s/%s", dir, name);
	remove(path_buf);
	int rc = sqlite3_open(path_buf, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "cannot make %s: %s\n", name, sqlite3_errmsg(db));
	sqlite3_close(db);
	return path_buf;
}

static bool refused(const char *path, const char *words)
{
	struct dbb_error err = {0};
	dbb_code rc = dbb_sqlite_check(path, &err);
	bool ok = rc == DBB_ERR_INVALID_BACKUP && strstr(err.message, words) != NULL;
	if (!ok)
		fprintf(stderr, "  %s: %d %s (wanted a refusal with \"%s\")\n", path, rc,
		        err.message, words);
	return ok;
}

static bool accepted(const char *path)
{
	struct dbb_error err = {0};
	dbb_code rc = dbb_sqlite_check(path, &err);
	if (rc)
		fprintf(stderr, "  %s: %s\n", path, err.message);
	return rc == DBB_OK;
}

/* A thread outside any check allocates while the budget is used up. */
static void *trusted_alloc(void *arg)
{
	void *p = sqlite3_malloc(8 << 20);
	*(bool *)arg = p != NULL;
	sqlite3_free(p);
	return NULL;
}

#define PLANT(create, planted)                                                                     \
	"CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3); " create "; "                      \
	"PRAGMA writable_schema=ON; UPDATE sqlite_schema SET sql='" planted "' WHERE name='i';"

int main(void)
{
	/* before SQLite is initialised, as the driver's check_config does */
	CHECK(dbb_sqlite_mem_install());
	CHECK(dbb_sqlite_mem_install());
	char *dir = check_tmpdir();
	CHECK(dir != NULL);
	int64_t base = dbb_sqlite_mem_charged();

	/* what applications make, every kind of schema object */
	CHECK(accepted(make_db(
	    dir, "rich.db",
	    "CREATE TABLE a(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, "
	    "v REAL CHECK(v >= 0), g TEXT GENERATED ALWAYS AS (upper(name)) VIRTUAL);"
	    "CREATE TABLE b(k TEXT PRIMARY KEY, x BLOB) WITHOUT ROWID;"
	    "CREATE TABLE c(i INTEGER, t TEXT, UNIQUE(i, t)) STRICT;"
	    "create   table if not exists \"odd name\"(\"a b\" int);"
	    "CREATE INDEX ai ON a(lower(name)) WHERE v > 1; CREATE INDEX bx ON b(length(x));"
	    "CREATE VIEW va AS SELECT * FROM a JOIN later;"
	    "CREATE TRIGGER ta AFTER INSERT ON a BEGIN INSERT INTO c VALUES (new.id, new.name); "
	    "END;"
	    "CREATE VIRTUAL TABLE f USING fts5(body); CREATE VIRTUAL TABLE r USING rtree(id, x0, "
	    "x1);"
	    "CREATE TABLE later(z);"
	    "INSERT INTO a(name, v) VALUES ('x', 1), ('y', 2.5); INSERT INTO f VALUES ('hello');"
	    "INSERT INTO b VALUES ('k', randomblob(20000));"
	    "ALTER TABLE c ADD COLUMN z TEXT DEFAULT 'q'; ANALYZE; DROP TABLE later;"
	    "CREATE TABLE later(z, w);")));
	CHECK(dbb_sqlite_mem_charged() == base);
	CHECK(accepted(make_db(dir, "empty.db", "PRAGMA user_version = 1")));

	/* the reviewer's file: stopped by the value limit at once */
	CHECK(refused(make_db(dir, "zeroblob.db",
	                      PLANT("CREATE INDEX i ON t(length(hex(zeroblob(4)))*100000000)",
	                            "CREATE INDEX i ON t(length(hex(zeroblob(400000000))))")),
	              "larger than 16 MiB"));
	/* six values under the limit, alive at once: the memory budget */
	CHECK(refused(make_db(dir, "wide.db",
	                      PLANT("CREATE INDEX i ON t(16000010)",
	                            "CREATE INDEX i ON t(length(max(hex(zeroblob(8000000)), "
	                            "hex(zeroblob(8000001)), hex(zeroblob(8000002)), "
	                            "hex(zeroblob(8000003)), hex(zeroblob(8000004)), "
	                            "hex(zeroblob(8000005)))))")),
	              "64 MiB of memory"));
	CHECK(dbb_sqlite_mem_charged() == base);
	CHECK(dbb_sqlite_mem_charged_peak() <= DBB_SQLITE_CHECK_MEMORY);
	/* schema entries that their own SQL does not produce */
	CHECK(refused(make_db(dir, "tail.db",
	                      PLANT("CREATE INDEX i ON t(x)",
	                            "CREATE INDEX i ON t(x); CREATE TABLE planted(y)")),
	              "more than one statement"));
	CHECK(refused(
	    make_db(dir, "case.db", PLANT("CREATE INDEX i ON t(x)", "create index i on t(x)")),
	    "not a CREATE statement of its kind"));
	CHECK(refused(make_db(dir, "reserved.db",
	                      "CREATE TABLE t(x); PRAGMA writable_schema=ON; INSERT INTO "
	                      "sqlite_schema VALUES ('table', 'sqlite_evil', 'sqlite_evil', 0, "
	                      "'CREATE TABLE sqlite_evil(x)')"),
	              "reserved for SQLite"));
	CHECK(refused(make_db(dir, "seq.db",
	                      "CREATE TABLE t(x INTEGER PRIMARY KEY AUTOINCREMENT); "
	                      "PRAGMA writable_schema=ON; UPDATE sqlite_schema SET "
	                      "sql='CREATE TABLE sqlite_sequence(name,seq,extra)' "
	                      "WHERE name='sqlite_sequence'"),
	              "reserved for SQLite"));
	/* damage: not a database, an index that does not match its table */
	CHECK(refused(make_db(dir, "bad-index.db",
	                      PLANT("CREATE INDEX i ON t(x)", "CREATE INDEX i ON t(x + 1)")),
	              "integrity check"));
	FILE *f = fopen(make_db(dir, "junk.db", "SELECT 1"), "w");
	if (f) {
		fputs("SQLite format 3 but not really", f);
		fclose(f);
	}
	CHECK(refused(path_buf, "failed"));
	CHECK(dbb_sqlite_mem_charged() == base);

	/* the budget refuses only the checking thread */
	dbb_sqlite_mem_untrusted_begin(1 << 20);
	void *big = sqlite3_malloc(2 << 20);
	CHECK(big == NULL);
	void *small = sqlite3_malloc(512 << 10);
	CHECK(small != NULL);
	bool other_ok = false;
	pthread_t th;
	CHECK(pthread_create(&th, NULL, trusted_alloc, &other_ok) == 0);
	pthread_join(th, NULL);
	CHECK(other_ok);
	CHECK(dbb_sqlite_mem_untrusted_end());
	/* a charged block keeps its charge outside the section, until freed */
	CHECK(dbb_sqlite_mem_charged() == base + (512 << 10) + DBB_SQLITE_MEM_OVERHEAD);
	small = sqlite3_realloc(small, 64 << 10);
	CHECK(small != NULL);
	CHECK(dbb_sqlite_mem_charged() == base + (64 << 10) + DBB_SQLITE_MEM_OVERHEAD);
	sqlite3_free(small);
	CHECK(dbb_sqlite_mem_charged() == base);

	check_rmdir(dir);
	DONE();
}
