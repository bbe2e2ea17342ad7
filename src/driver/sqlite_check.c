/* Checking an SQLite file nobody vouches for (an upload, a file in the backups
 * directory) before it is restored: opened defensively, with its schema
 * replayed in an empty database and PRAGMA integrity_check, all within a
 * memory budget and a deadline (docs/driver-sqlite.md, "Validation"). */
#include "driver/sqlite_internal.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "dbbackupd/log.h"

/* Progress handler period, in virtual machine instructions. Each one is
 * bounded in work by the value length limit, so the deadline is checked
 * every few milliseconds at worst. */
#define PROGRESS_OPS 1000

struct check {
	sqlite3 *db;     /* the file, read-only and immutable */
	sqlite3 *replay; /* an empty in-memory database */
	struct timespec deadline;
	unsigned limit_s;
	bool timed_out;
};

static int on_progress(void *arg)
{
	struct check *c = arg;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > c->deadline.tv_sec ||
	    (now.tv_sec == c->deadline.tv_sec && now.tv_nsec >= c->deadline.tv_nsec))
		c->timed_out = true;
	return c->timed_out;
}

/* The replay database may only create schema objects: no ATTACH (a file
 * would be opened), no PRAGMA. */
static int replay_authorizer(void *arg, int action, const char *a, const char *b, const char *c,
                             const char *d)
{
	switch (action) {
	case SQLITE_ATTACH:
	case SQLITE_DETACH:
	case SQLITE_PRAGMA:
		return SQLITE_DENY;
	default:
		return SQLITE_OK;
	}
}

/* Everything a file could use to run code or take resources, turned off or
 * bounded, before the schema is read. */
static void harden(sqlite3 *db, struct check *c)
{
	static const int off[] = {
	    SQLITE_DBCONFIG_TRUSTED_SCHEMA,
	    SQLITE_DBCONFIG_ENABLE_TRIGGER,
	    SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION,
	    SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER,
	};
	static const struct {
		int id, value;
	} limits[] = {
	    {SQLITE_LIMIT_LENGTH, DBB_SQLITE_CHECK_MAX_VALUE},
	    {SQLITE_LIMIT_SQL_LENGTH, 1 << 20},
	    {SQLITE_LIMIT_EXPR_DEPTH, 200},
	    {SQLITE_LIMIT_COMPOUND_SELECT, 50},
	    {SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 10000},
	    {SQLITE_LIMIT_TRIGGER_DEPTH, 1},
	    {SQLITE_LIMIT_ATTACHED, 0},
	    {SQLITE_LIMIT_WORKER_THREADS, 0},
	};
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++)
		sqlite3_db_config(db, off[i], 0, NULL);
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		sqlite3_limit(db, limits[i].id, limits[i].value);
	sqlite3_progress_handler(db, PROGRESS_OPS, on_progress, c);
	sqlite3_exec(db, "PRAGMA cache_size=-4096; PRAGMA cell_size_check=ON", NULL, NULL, NULL);
}

/* The reason a statement failed, in the terms of the daemon's limits when
 * one of them stopped it. */
static dbb_code refuse(struct dbb_error *err, struct check *c, sqlite3 *db, int rc,
                       const char *what)
{
	if (c->timed_out)
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		                "%s takes longer than %u s, the daemon's limit for a file of this "
		                "size",
		                what, c->limit_s);
	if ((rc & 0xff) == SQLITE_NOMEM)
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		                "%s needs more than %d MiB of memory, the daemon's limit", what,
		                DBB_SQLITE_CHECK_MEMORY >> 20);
	if ((rc & 0xff) == SQLITE_TOOBIG)
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		                "%s reads or computes a value larger than %d MiB, the daemon's "
		                "limit (%s)",
		                what, DBB_SQLITE_CHECK_MAX_VALUE >> 20, sqlite3_errmsg(db));
	return dbb_fail(err, DBB_ERR_INVALID_BACKUP, "%s failed: %s", what,
	                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static dbb_code open_file(struct check *c, const char *path, struct dbb_error *err)
{
	char uri[PATH_MAX + 32];
	snprintf(uri, sizeof(uri), "file:%s?immutable=1", path);
	int rc = sqlite3_open_v2(
	    uri, &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return refuse(err, c, c->db, rc, "opening it");
	harden(c->db, c);
	rc = sqlite3_open_v2(":memory:", &c->replay, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	                     NULL);
	if (rc != SQLITE_OK)
		return refuse(err, c, c->replay, rc, "opening an empty database");
	harden(c->replay, c);
	sqlite3_set_authorizer(c->replay, replay_authorizer, NULL);
	/* the file's own schema, not executed, only described: no views */
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
	return DBB_OK;
}

/* The internal tables SQLite creates itself, with the only SQL it gives them. */
static bool internal_table_ok(const char *name, const char *sql)
{
	static const char *const known[][2] = {
	    {"sqlite_sequence", "CREATE TABLE sqlite_sequence(name,seq)"},
	    {"sqlite_stat1", "CREATE TABLE sqlite_stat1(tbl,idx,stat)"},
	    {"sqlite_stat2", "CREATE TABLE sqlite_stat2(tbl,idx,sampleno,sample)"},
	    {"sqlite_stat3", "CREATE TABLE sqlite_stat3(tbl,idx,neq,nlt,ndlt,sample)"},
	    {"sqlite_stat4", "CREATE TABLE sqlite_stat4(tbl,idx,neq,nlt,ndlt,sample)"},
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(name, known[i][0]) == 0)
			return sql && strcmp(sql, known[i][1]) == 0;
	return false;
}

static bool starts_with(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Runs one schema statement in the replay database: exactly one statement,
 * of the kind its entry says. */
static dbb_code replay_one(struct check *c, const char *type, const char *name, const char *sql,
                           bool virtual_table, struct dbb_error *err)
{
	static const char *const prefixes[][3] = {
	    {"table", "CREATE TABLE ", NULL},
	    {"index", "CREATE INDEX ", "CREATE UNIQUE INDEX "},
	    {"view", "CREATE VIEW ", NULL},
	    {"trigger", "CREATE TRIGGER ", NULL},
	};
	bool kind_ok = false;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strcmp(type, prefixes[i][0]) == 0)
			kind_ok = starts_with(sql, prefixes[i][1]) ||
			          (prefixes[i][2] && starts_with(sql, prefixes[i][2])) ||
			          (virtual_table && starts_with(sql, "CREATE VIRTUAL TABLE "));
	if (!kind_ok)
		return dbb_fail(
		    err, DBB_ERR_INVALID_BACKUP,
		    "its schema entry %s \"%.100s\" is not a CREATE statement of its kind", type,
		    name);
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	int rc = sqlite3_prepare_v2(c->replay, sql, -1, &st, &tail);
	if (rc == SQLITE_OK && tail && tail[strspn(tail, " \t\r\n;")] != '\0') {
		sqlite3_finalize(st);
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		                "its schema entry %s \"%.100s\" holds more than one statement",
		                type, name);
	}
	/* a virtual table is only parsed: its module may be an extension of
	 * the application's, and nothing here reads it */
	if (rc == SQLITE_OK && !virtual_table) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	dbb_code out = DBB_OK;
	if (rc != SQLITE_OK) {
		char what[200];
		snprintf(what, sizeof(what), "replaying its schema entry %s \"%.100s\"", type,
		         name);
		out = refuse(err, c, c->replay, rc, what);
	}
	sqlite3_finalize(st);
	return out;
}

/* The schema, as rows (type, name, tbl_name, sql), in a stable order. */
#define SCHEMA_ROWS                                                                                \
	"SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE NOT (type = 'table' AND "       \
	"(name LIKE 'sqlite\\_%' ESCAPE '\\' OR sql LIKE 'CREATE VIRTUAL TABLE %')) "              \
	"ORDER BY type, name"

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Both schemas row by row: every entry of the file must be one the replay
 * produced, and the other way round. */
static dbb_code compare_schemas(struct check *c, struct dbb_error *err)
{
	sqlite3_stmt *a = NULL, *b = NULL;
	dbb_code out = DBB_OK;
	int ra = sqlite3_prepare_v2(c->db, SCHEMA_ROWS, -1, &a, NULL);
	int rb = sqlite3_prepare_v2(c->replay, SCHEMA_ROWS, -1, &b, NULL);
	if (ra != SQLITE_OK || rb != SQLITE_OK) {
		out = refuse(err, c, ra != SQLITE_OK ? c->db : c->replay, ra != SQLITE_OK ? ra : rb,
		             "reading its schema");
		goto out;
	}
	for (;;) {
		ra = sqlite3_step(a);
		rb = sqlite3_step(b);
		if (ra == SQLITE_DONE && rb == SQLITE_DONE)
			break;
		if (ra == SQLITE_ROW && rb == SQLITE_ROW && same(col(a, 0), col(b, 0)) &&
		    same(col(a, 1), col(b, 1)) && same(col(a, 2), col(b, 2)) &&
		    same(col(a, 3), col(b, 3)))
			continue;
		if ((ra != SQLITE_ROW && ra != SQLITE_DONE) ||
		    (rb != SQLITE_ROW && rb != SQLITE_DONE)) {
			out = refuse(
			    err, c, ra != SQLITE_ROW && ra != SQLITE_DONE ? c->db : c->replay,
			    ra != SQLITE_ROW && ra != SQLITE_DONE ? ra : rb, "reading its schema");
			goto out;
		}
		sqlite3_stmt *odd = ra == SQLITE_ROW ? a : b;
		out = dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		               "its schema entry %.20s \"%.100s\" is not what its own SQL creates "
		               "(written into sqlite_schema by hand?)",
		               col(odd, 0), col(odd, 1));
		goto out;
	}
out:
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	return out;
}

/* Every entry of the file's schema replayed in an empty database, tables
 * first, then indexes, views and triggers (a view or trigger may name an
 * object created after it); then both schemas compared. */
static dbb_code check_schema(struct check *c, struct dbb_error *err)
{
	static const char *const order[] = {"table", "index", "view", "trigger"};
	sqlite3_stmt *st = NULL;
	dbb_code out = DBB_OK;
	int rc = sqlite3_prepare_v2(
	    c->db, "SELECT type, name, tbl_name, sql, rootpage FROM sqlite_schema ORDER BY rowid",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return refuse(err, c, c->db, rc, "reading its schema");
	for (size_t pass = 0; pass < sizeof(order) / sizeof(order[0]) && !out; pass++) {
		sqlite3_reset(st);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *type = col(st, 0), *name = col(st, 1), *tbl = col(st, 2);
			const char *sql = col(st, 3);
			if (!type || !name || !tbl) {
				out = dbb_fail(err, DBB_ERR_INVALID_BACKUP,
				               "its schema has an entry without a type or name");
				break;
			}
			if (pass == 0 && strcmp(type, "table") != 0 && strcmp(type, "index") != 0 &&
			    strcmp(type, "view") != 0 && strcmp(type, "trigger") != 0) {
				out = dbb_fail(err, DBB_ERR_INVALID_BACKUP,
				               "its schema has an entry of unknown type \"%.20s\"",
				               type);
				break;
			}
			if (strcmp(type, order[pass]) != 0)
				continue;
			bool internal = starts_with(name, "sqlite_");
			if (internal && strcmp(type, "table") == 0) {
				if (!internal_table_ok(name, sql)) {
					out =
					    dbb_fail(err, DBB_ERR_INVALID_BACKUP,
					             "its schema has a table with a name reserved "
					             "for SQLite, \"%.100s\", that SQLite does not "
					             "make",
					             name);
					break;
				}
				continue;
			}
			if (internal && !sql && starts_with(name, "sqlite_autoindex_"))
				continue; /* made by its table's replay, compared below */
			bool vt =
			    strcmp(type, "table") == 0 && starts_with(sql, "CREATE VIRTUAL TABLE ");
			if (vt && (strcmp(name, tbl) != 0 || sqlite3_column_int64(st, 4) != 0)) {
				out =
				    dbb_fail(err, DBB_ERR_INVALID_BACKUP,
				             "its schema entry for the virtual table \"%.100s\" is "
				             "inconsistent",
				             name);
				break;
			}
			out = replay_one(c, type, name, sql, vt, err);
			if (out)
				break;
		}
		if (!out && rc != SQLITE_DONE)
			out = refuse(err, c, c->db, rc, "reading its schema");
	}
	sqlite3_finalize(st);
	if (!out)
		out = compare_schemas(c, err);
	return out;
}

static dbb_code integrity_check(struct check *c, struct dbb_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(c->db, "PRAGMA integrity_check(1)", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	dbb_code out = DBB_OK;
	if (rc != SQLITE_ROW) {
		out = refuse(err, c, c->db, rc, "its integrity check");
	} else {
		const char *res = col(st, 0);
		if (!res || strcmp(res, "ok") != 0)
			out =
			    dbb_fail(err, DBB_ERR_INVALID_BACKUP,
			             "it fails its integrity check: %s", res ? res : "(no result)");
	}
	sqlite3_finalize(st);
	return out;
}

dbb_code dbb_sqlite_check(const char *path, struct dbb_error *err)
{
	struct check c = {0};
	struct stat sb;
	struct timespec t0, t1;
	uint64_t bytes = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	c.limit_s = DBB_SQLITE_CHECK_BASE_S +
	            (unsigned)((bytes * DBB_SQLITE_CHECK_PER_GIB_S + (1ULL << 30) - 1) >> 30);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	c.deadline = t0;
	c.deadline.tv_sec += c.limit_s;

	dbb_sqlite_mem_untrusted_begin(DBB_SQLITE_CHECK_MEMORY);
	dbb_code rc = open_file(&c, path, err);
	if (!rc)
		rc = check_schema(&c, err);
	if (!rc)
		rc = integrity_check(&c, err);
	sqlite3_close(c.replay);
	sqlite3_close(c.db);
	bool refused = dbb_sqlite_mem_untrusted_end();
	/* a refused allocation may surface as another error: say what it was */
	if (rc && refused && !c.timed_out)
		dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		         "checking it needs more than %d MiB of memory, the daemon's limit",
		         DBB_SQLITE_CHECK_MEMORY >> 20);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dbb_debug("sqlite check of %llu bytes: %s in %.2fs (limit %u s)", (unsigned long long)bytes,
	          rc ? "refused" : "ok",
	          (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	          c.limit_s);
	return rc;
}
