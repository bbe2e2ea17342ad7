/* SQLite driver: online backup API for dumps and for atomic restores. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "dbbackupd/driver.h"
#include "dbbackupd/sniff.h"

#define PAGES_PER_STEP  1024
#define BUSY_TIMEOUT_MS 10000
#define CACHE_KIB       "-4096" /* 4 MiB page cache per connection */

const struct dbb_driver dbb_driver_sqlite;

/* The file format's magic: "SQLite format 3" and its NUL. */
static const char *sqlite_recognise(const unsigned char *head, size_t len, bool *restorable)
{
	*restorable = true;
	return len >= 16 && memcmp(head, "SQLite format 3", 16) == 0 ? "an SQLite database" : NULL;
}

static dbb_code sqlite_check_config(const struct dbb_config *cfg, struct dbb_error *err)
{
	struct stat sb;
	if (cfg->sqlite_path[0] == '\0')
		return dbb_fail(err, DBB_ERR_CONFIG, "SQLITE_PATH must be set when DB_TYPE=sqlite");
	if (stat(cfg->sqlite_path, &sb) != 0)
		return dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "SQLITE_PATH: cannot use %s",
		                      cfg->sqlite_path);
	if (!S_ISREG(sb.st_mode))
		return dbb_fail(err, DBB_ERR_CONFIG, "SQLITE_PATH: %s is not a regular file",
		                cfg->sqlite_path);
	return DBB_OK;
}

/* Removes a scratch database with the -wal/-shm/-journal files SQLite may
 * have made beside it. */
static void scratch_discard(struct dbb_storage_tmp *scratch)
{
	static const char *const companions[] = {"-wal", "-shm", "-journal"};
	char base[PATH_MAX + 80], path[PATH_MAX + 96];
	if (scratch->name[0] && scratch->st) {
		dbb_storage_tmp_path(scratch, base, sizeof(base));
		for (size_t i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s%s", base, companions[i]);
			unlink(path);
		}
	}
	dbb_storage_tmp_discard(scratch);
}

/* A staged copy is opened read-only and immutable: no -wal/-shm files, no
 * locks, nothing written. */
static void immutable_uri(const struct dbb_storage_tmp *scratch, char *buf, size_t cap)
{
	char path[PATH_MAX + 80];
	dbb_storage_tmp_path(scratch, path, sizeof(path));
	snprintf(buf, cap, "file:%s?immutable=1", path);
}

static dbb_code sqlite_fail(struct dbb_error *err, dbb_code code, sqlite3 *db, const char *what)
{
	return dbb_fail(err, code, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

/* Opens a database with a small page cache and a busy timeout. */
static dbb_code open_db(const char *path, int flags, sqlite3 **out, dbb_code fail_code,
                        struct dbb_error *err)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL);
	if (rc != SQLITE_OK) {
		dbb_code c = sqlite_fail(err, fail_code, db, "cannot open SQLite database");
		sqlite3_close(db);
		*out = NULL;
		return c;
	}
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	sqlite3_exec(db, "PRAGMA cache_size=" CACHE_KIB, NULL, NULL, NULL);
	*out = db;
	return DBB_OK;
}

static dbb_code open_live(const struct dbb_driver_ctx *ctx, sqlite3 **db, struct dbb_error *err)
{
	return open_db(ctx->cfg->sqlite_path, SQLITE_OPEN_READWRITE, db, DBB_ERR_DB_UNAVAILABLE,
	               err);
}

static dbb_code sqlite_health(const struct dbb_driver_ctx *ctx, struct dbb_error *err)
{
	sqlite3 *db;
	dbb_code rc = open_live(ctx, &db, err);
	if (rc)
		return rc;
	if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK)
		rc = sqlite_fail(err, DBB_ERR_DB_UNAVAILABLE, db, "SQLite database unreadable");
	sqlite3_close(db);
	return rc;
}

/* Copies every page of src into dst with the online backup API, in steps so
 * writers to src are not blocked for the whole copy. */
static dbb_code copy_pages(sqlite3 *dst, sqlite3 *src, int pages_per_step, dbb_code fail_code,
                           struct dbb_error *err)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b)
		return sqlite_fail(err, fail_code, dst, "cannot start SQLite backup");
	int rc;
	do {
		rc = sqlite3_backup_step(b, pages_per_step);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(50);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE)
		return dbb_fail(err, rc == SQLITE_FULL ? DBB_ERR_NO_SPACE : fail_code,
		                "SQLite backup failed: %s", sqlite3_errstr(rc));
	return DBB_OK;
}

static dbb_code send_file(int fd, struct dbb_sink *out, struct dbb_error *err)
{
	if (lseek(fd, 0, SEEK_SET) < 0)
		return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "seek failed");
	struct dbb_fd_source src;
	dbb_fd_source_init(&src, fd);
	return dbb_stream_copy(&src.base, out, NULL, err);
}

static dbb_code sqlite_dump(const struct dbb_driver_ctx *ctx, const struct dbb_dump_options *opt,
                            struct dbb_sink *out, struct dbb_error *err)
{
	struct dbb_storage_tmp scratch = {0};
	scratch.fd = -1;
	sqlite3 *live = NULL, *copy = NULL;
	char path[PATH_MAX + 80];
	dbb_code rc = open_live(ctx, &live, err);
	if (rc)
		goto out;
	rc = dbb_storage_tmp_create(ctx->storage, &scratch, err);
	if (rc)
		goto out;
	dbb_storage_tmp_path(&scratch, path, sizeof(path));
	rc = open_db(path, SQLITE_OPEN_READWRITE, &copy, DBB_ERR_BACKUP_FAILED, err);
	if (rc)
		goto out;
	sqlite3_exec(copy, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", NULL, NULL, NULL);
	rc = copy_pages(copy, live, PAGES_PER_STEP, DBB_ERR_BACKUP_FAILED, err);
	if (rc)
		goto out;
	sqlite3_close(copy);
	copy = NULL;
	rc = send_file(scratch.fd, out, err);
out:
	sqlite3_close(copy);
	sqlite3_close(live);
	scratch_discard(&scratch);
	return rc;
}

/* Spools the decompressed stream into a scratch file and checks that it is
 * a sound SQLite database. On success *scratch holds it. */
static dbb_code stage_database(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                               struct dbb_storage_tmp *scratch, struct dbb_error *err)
{
	unsigned char head[4096];
	size_t have = 0;
	sqlite3 *db = NULL;
	char path[PATH_MAX + 120];
	dbb_code rc = dbb_storage_tmp_create(ctx->storage, scratch, err);
	if (rc)
		return rc;
	/* read the first bytes to recognise the format before spooling the rest */
	while (have < sizeof(head)) {
		size_t got = 0;
		rc = dbb_source_read(in, head + have, sizeof(head) - have, &got, err);
		if (rc)
			goto out;
		if (got == 0)
			break;
		have += got;
	}
	struct dbb_format fmt = dbb_sniff(head, have);
	if (!dbb_format_is(&fmt, &dbb_driver_sqlite)) {
		rc = dbb_fail(err, DBB_ERR_INVALID_BACKUP, "not an SQLite backup: the file is %s",
		              fmt.what);
		goto out;
	}
	struct dbb_fd_sink sink;
	dbb_fd_sink_init(&sink, scratch->fd);
	rc = dbb_sink_write(&sink.base, head, have, err);
	if (!rc)
		rc = dbb_stream_copy(in, &sink.base, NULL, err);
	if (rc)
		goto out;
	immutable_uri(scratch, path, sizeof(path));
	rc = open_db(path, SQLITE_OPEN_READONLY, &db, DBB_ERR_INVALID_BACKUP, err);
	if (rc)
		goto out;
	sqlite3_stmt *st = NULL;
	int src = sqlite3_prepare_v2(db, "PRAGMA integrity_check(1)", -1, &st, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		rc = dbb_fail(err, DBB_ERR_INVALID_BACKUP, "the SQLite backup is unreadable: %s",
		              sqlite3_errmsg(db));
	} else {
		const char *res = (const char *)sqlite3_column_text(st, 0);
		if (!res || strcmp(res, "ok") != 0)
			rc = dbb_fail(err, DBB_ERR_INVALID_BACKUP,
			              "the SQLite backup fails its integrity check: %s",
			              res ? res : "(no result)");
	}
	sqlite3_finalize(st);
out:
	sqlite3_close(db);
	if (rc)
		scratch_discard(scratch);
	return rc;
}

static dbb_code sqlite_validate(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                                struct dbb_error *err)
{
	struct dbb_storage_tmp scratch = {0};
	scratch.fd = -1;
	dbb_code rc = stage_database(ctx, in, &scratch, err);
	scratch_discard(&scratch);
	return rc;
}

static dbb_code sqlite_restore(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                               struct dbb_error *err)
{
	struct dbb_storage_tmp scratch = {0};
	scratch.fd = -1;
	sqlite3 *live = NULL, *staged = NULL;
	char path[PATH_MAX + 120];
	dbb_code rc = stage_database(ctx, in, &scratch, err);
	if (rc)
		goto out;
	immutable_uri(&scratch, path, sizeof(path));
	rc = open_db(path, SQLITE_OPEN_READONLY, &staged, DBB_ERR_RESTORE_FAILED, err);
	if (rc)
		goto out;
	rc = open_live(ctx, &live, err);
	if (rc)
		goto out;
	/* one step for all pages: the destination is written in a single
	 * transaction, so a failure leaves the live database as it was */
	rc = copy_pages(live, staged, -1, DBB_ERR_RESTORE_FAILED, err);
out:
	sqlite3_close(staged);
	sqlite3_close(live);
	scratch_discard(&scratch);
	return rc;
}

static dbb_code sqlite_stats(const struct dbb_driver_ctx *ctx, json_t **out, struct dbb_error *err)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	dbb_code rc = open_live(ctx, &db, err);
	if (rc)
		return rc;
	json_t *tables = json_array();
	json_t *obj = json_object();
	long long page_count = 0, page_size = 0;
	if (sqlite3_prepare_v2(db,
	                       "SELECT name FROM sqlite_master WHERE type='table' AND name NOT "
	                       "LIKE 'sqlite_%' ORDER BY name",
	                       -1, &st, NULL) != SQLITE_OK) {
		rc = sqlite_fail(err, DBB_ERR_DB_UNAVAILABLE, db, "cannot read the schema");
		goto out;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		char *q = sqlite3_mprintf("SELECT count(*) FROM \"%w\"", name);
		sqlite3_stmt *cnt = NULL;
		long long rows = -1;
		if (q && sqlite3_prepare_v2(db, q, -1, &cnt, NULL) == SQLITE_OK &&
		    sqlite3_step(cnt) == SQLITE_ROW)
			rows = sqlite3_column_int64(cnt, 0);
		sqlite3_finalize(cnt);
		sqlite3_free(q);
		json_array_append_new(
		    tables, json_pack("{s:s, s:I}", "name", name, "rows", (json_int_t)rows));
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		page_count = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		page_size = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	json_object_set_new(obj, "database_size_bytes", json_integer(page_count * page_size));
	json_object_set_new(obj, "table_count", json_integer((json_int_t)json_array_size(tables)));
	json_object_set_new(obj, "tables", tables);
	tables = NULL;
	json_object_set_new(obj, "server_version", json_string(sqlite3_libversion()));
	*out = obj;
	obj = NULL;
out:
	json_decref(tables);
	json_decref(obj);
	sqlite3_close(db);
	return rc;
}

const struct dbb_driver dbb_driver_sqlite = {
    .name = "sqlite",
    .extension = "db",
    .atomic_restore = true,
    .recognise = sqlite_recognise,
    .check_config = sqlite_check_config,
    .health = sqlite_health,
    .dump = sqlite_dump,
    .validate = sqlite_validate,
    .clean = NULL,
    .restore = sqlite_restore,
    .stats = sqlite_stats,
};
