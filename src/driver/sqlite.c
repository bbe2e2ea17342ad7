/* SQLite driver: online backup API for dumps and for atomic restores. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "dbbackupd/driver.h"
#include "dbbackupd/log.h"
#include "dbbackupd/sniff.h"
#include "driver/sqlite_internal.h"

#define BUSY_TIMEOUT_MS 10000
/* A database still locked after this many busy timeouts is given up on. */
#define BUSY_TRIES 6
#define CACHE_KIB  "-4096" /* 4 MiB page cache per connection */

struct dbb_staged {
	struct dbb_scratch scratch; /* the checked copy */
};

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

const struct dbb_driver dbb_driver_sqlite;

/* The file format's magic: "SQLite format 3" and its NUL. */
static const char *sqlite_recognise(const unsigned char *head, size_t len, bool *restorable)
{
	*restorable = true;
	return len >= 16 && memcmp(head, "SQLite format 3", 16) == 0 ? "an SQLite database" : NULL;
}

/* SQLITE_PATH must hold an SQLite database (or nothing: SQLite makes an
 * empty file one). Anything else opens all the same (SQLite reads lazily)
 * and fails at the first read as "file is not a database", which a dump
 * would report as a database gone away: so every use of the live database
 * looks at its first bytes first and says what the file is instead.
 * DBB_ERR_CONFIG (500 configuration_error): it is the setting that is
 * wrong, and no retry will help. */
static dbb_code check_is_database(const char *path, struct dbb_error *err)
{
	unsigned char head[DBB_SNIFF_HEAD];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return dbb_fail_errno(err, errno, DBB_ERR_DB_UNAVAILABLE,
		                      "cannot open the SQLite database SQLITE_PATH=%s", path);
	ssize_t n = read(fd, head, sizeof(head));
	int read_errno = errno;
	close(fd);
	if (n < 0)
		return dbb_fail_errno(err, read_errno, DBB_ERR_DB_UNAVAILABLE,
		                      "cannot read the SQLite database SQLITE_PATH=%s", path);
	if (n == 0)
		return DBB_OK;
	struct dbb_format f = dbb_sniff(head, (size_t)n);
	if (dbb_format_is(&f, &dbb_driver_sqlite))
		return DBB_OK;
	return dbb_fail(err, DBB_ERR_CONFIG,
	                "SQLITE_PATH=%s is not an SQLite database: it is %s (its first bytes are "
	                "not \"SQLite format 3\"); point SQLITE_PATH at the database file",
	                path, f.what);
}

static dbb_code sqlite_check_config(const struct dbb_config *cfg, struct dbb_error *err)
{
	struct dbb_error not_db = {0};
	struct stat sb;
	if (cfg->sqlite_path[0] == '\0')
		return dbb_fail(err, DBB_ERR_CONFIG, "SQLITE_PATH must be set when DB_TYPE=sqlite");
	if (stat(cfg->sqlite_path, &sb) != 0)
		return dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "SQLITE_PATH: cannot use %s",
		                      cfg->sqlite_path);
	if (!S_ISREG(sb.st_mode))
		return dbb_fail(err, DBB_ERR_CONFIG, "SQLITE_PATH: %s is not a regular file",
		                cfg->sqlite_path);
	/* the daemon starts (the file may be restored or replaced), not ready */
	if (check_is_database(cfg->sqlite_path, &not_db) != DBB_OK)
		dbb_error("%s; /ready answers not ready and backups are refused until it is one",
		          not_db.message);
	/* before anything opens a database: SQLite's allocator is set once */
	if (!dbb_sqlite_mem_install())
		dbb_warn("SQLite was initialised before the driver: the memory budget of uploaded "
		         "databases' checks is not enforced (the other limits are)");
	return DBB_OK;
}

/* Removes a scratch database with the -wal/-shm/-journal files SQLite may
 * have made beside it. */
static void scratch_discard(struct dbb_scratch *scratch)
{
	static const char *const companions[] = {"-wal", "-shm", "-journal"};
	char path[sizeof(scratch->path) + 16];
	if (scratch->discard && scratch->path[0]) {
		for (size_t i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s%s", scratch->path, companions[i]);
			unlink(path);
		}
	}
	dbb_scratch_discard(scratch);
}

static dbb_code sqlite_fail(struct dbb_error *err, dbb_code code, sqlite3 *db, const char *what)
{
	return dbb_fail(err, code, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

/* Opens a database with a small page cache and a busy timeout, through
 * `vfs` (NULL: the default). Nothing the daemon runs needs the functions or
 * virtual tables a schema may use. */
static dbb_code open_db_vfs(const char *path, int flags, const char *vfs, sqlite3 **out,
                            dbb_code fail_code, struct dbb_error *err)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, vfs);
	if (rc != SQLITE_OK) {
		dbb_code c = sqlite_fail(err, fail_code, db, "cannot open SQLite database");
		sqlite3_close(db);
		*out = NULL;
		return c;
	}
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	sqlite3_exec(db, "PRAGMA cache_size=" CACHE_KIB, NULL, NULL, NULL);
	*out = db;
	return DBB_OK;
}

static dbb_code open_db(const char *path, int flags, sqlite3 **out, dbb_code fail_code,
                        struct dbb_error *err)
{
	return open_db_vfs(path, flags, NULL, out, fail_code, err);
}

/* The staged copy: read-only and immutable (no -wal/-shm files, no locks,
 * nothing written). Only ever opened once checked. */
static dbb_code open_staged(const struct dbb_staged *s, sqlite3 **db, dbb_code fail_code,
                            struct dbb_error *err)
{
	char uri[sizeof(s->scratch.path) + 40];
	snprintf(uri, sizeof(uri), "file:%s?immutable=1", s->scratch.path);
	return open_db(uri, SQLITE_OPEN_READONLY, db, fail_code, err);
}

static dbb_code open_live(const struct dbb_driver_ctx *ctx, sqlite3 **db, struct dbb_error *err)
{
	*db = NULL;
	dbb_code rc = check_is_database(ctx->cfg->sqlite_path, err);
	if (rc)
		return rc;
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

/* Copies every page of src into dst in one step of the online backup API:
 * one read transaction on src, so the copy is one consistent state and a
 * write to src never restarts it (a stepped copy restarts after every write
 * of another process, and never ends under a steady writer), and one write
 * transaction on dst, so dst changes all at once or not at all. In WAL mode
 * nobody waits for the read; a rollback-journal src is read-locked for the
 * copy's duration (docs/driver-sqlite.md). A database that stays locked is
 * retried BUSY_TRIES busy timeouts long. */
static dbb_code copy_all(sqlite3 *dst, sqlite3 *src, dbb_code fail_code, struct dbb_error *err)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b)
		return sqlite_fail(err, fail_code, dst, "cannot start SQLite backup");
	int rc, tries = 0;
	for (;;) {
		rc = sqlite3_backup_step(b, -1);
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || ++tries >= BUSY_TRIES)
			break;
		sqlite3_sleep(100);
	}
	sqlite3_backup_finish(b);
	if (rc == SQLITE_DONE)
		return DBB_OK;
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return dbb_fail(err, DBB_ERR_DB_UNAVAILABLE,
		                "the SQLite database stayed locked by another connection for %d s",
		                BUSY_TRIES * BUSY_TIMEOUT_MS / 1000);
	return dbb_fail(err, rc == SQLITE_FULL ? DBB_ERR_NO_SPACE : fail_code,
	                "SQLite backup failed: %s", sqlite3_errstr(rc));
}

static dbb_code send_file(int fd, struct dbb_sink *out, struct dbb_error *err)
{
	if (lseek(fd, 0, SEEK_SET) < 0)
		return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "seek failed");
	struct dbb_fd_source src;
	dbb_fd_source_init(&src, fd);
	return dbb_stream_copy(&src.base, out, NULL, err);
}

static int page_size(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int size = 0;
	if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		size = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return size;
}

static bool in_wal_mode(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	bool wal = false;
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const char *mode = (const char *)sqlite3_column_text(st, 0);
		wal = mode && strcmp(mode, "wal") == 0;
	}
	sqlite3_finalize(st);
	return wal;
}

/* Steps a one-row statement, retrying while the database is locked: the
 * busy timeout waits each time, BUSY_TRIES times. */
static int step_busy(sqlite3_stmt *st)
{
	int rc, tries = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_BUSY && ++tries < BUSY_TRIES)
		sqlite3_reset(st);
	return rc;
}

/* A rollback-journal database under a shared lock is exactly its file, and
 * the lock is what its writers wait for: so the file is copied with large
 * reads, at the disk's speed, through SQLite's own handle of it (a
 * descriptor of ours, once closed, would drop SQLite's locks on the file),
 * inside one read transaction. */
static dbb_code copy_file_shared(sqlite3 *live, int fd, struct dbb_error *err)
{
	enum { CHUNK = 1 << 20 };
	sqlite3_stmt *st = NULL;
	sqlite3_file *file = NULL;
	unsigned char *buf = NULL;
	dbb_code rc = DBB_OK;
	if (sqlite3_exec(live, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return sqlite_fail(err, DBB_ERR_BACKUP_FAILED, live,
		                   "cannot begin a read transaction");
	/* the first read takes the shared lock, kept until the end */
	int src = sqlite3_prepare_v2(
	    live, "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size", -1, &st,
	    NULL);
	if (src == SQLITE_OK)
		src = step_busy(st);
	if (src == SQLITE_BUSY) {
		rc = dbb_fail(err, DBB_ERR_DB_UNAVAILABLE,
		              "the SQLite database stayed locked by another connection for %d s",
		              BUSY_TRIES * BUSY_TIMEOUT_MS / 1000);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = sqlite_fail(err, DBB_ERR_BACKUP_FAILED, live, "cannot read the database size");
		goto out;
	}
	sqlite3_int64 size = sqlite3_column_int64(st, 0);
	if (sqlite3_file_control(live, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK ||
	    !file || !file->pMethods) {
		rc = dbb_fail(err, DBB_ERR_BACKUP_FAILED, "cannot reach the SQLite database file");
		goto out;
	}
	buf = malloc(CHUNK);
	if (!buf) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		goto out;
	}
	struct dbb_fd_sink sink;
	dbb_fd_sink_init(&sink, fd);
	for (sqlite3_int64 off = 0; off < size && !rc; off += CHUNK) {
		int n = size - off < CHUNK ? (int)(size - off) : CHUNK;
		int r = file->pMethods->xRead(file, buf, n, off);
		if (r != SQLITE_OK)
			rc =
			    dbb_fail(err, DBB_ERR_BACKUP_FAILED,
			             "cannot read the SQLite database file: %s", sqlite3_errstr(r));
		else
			rc = dbb_sink_write(&sink.base, buf, (size_t)n, err);
	}
out:
	free(buf);
	sqlite3_finalize(st);
	sqlite3_exec(live, "COMMIT", NULL, NULL, NULL);
	return rc;
}

/* The live database is copied at full speed into a scratch file in one read
 * transaction, then the scratch file is streamed to out: the read lasts as
 * long as a local file copy, never as long as the compression. A WAL
 * database is copied page by page with the backup API (its file alone is
 * not the snapshot); its writers do not wait for the read anyway. */
static dbb_code sqlite_dump(const struct dbb_driver_ctx *ctx, const struct dbb_dump_options *opt,
                            struct dbb_sink *out, struct dbb_error *err)
{
	struct dbb_scratch scratch = {0};
	sqlite3 *live = NULL, *copy = NULL;
	struct timespec t0;
	dbb_code rc = open_live(ctx, &live, err);
	if (rc)
		goto out;
	rc = ctx->scratch(ctx, &scratch, err);
	if (rc)
		goto out;
	if (!in_wal_mode(live)) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = copy_file_shared(live, scratch.fd, err);
		if (rc)
			goto out;
		dbb_info("the SQLite database (rollback journal) was read-locked for %.2fs while "
		         "it was copied: its writers had to wait that long",
		         seconds_since(&t0));
	} else {
		rc =
		    open_db(scratch.path, SQLITE_OPEN_READWRITE, &copy, DBB_ERR_BACKUP_FAILED, err);
		if (rc)
			goto out;
		sqlite3_exec(copy,
		             "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
		             "PRAGMA locking_mode=EXCLUSIVE",
		             NULL, NULL, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = copy_all(copy, live, DBB_ERR_BACKUP_FAILED, err);
		if (rc)
			goto out;
		dbb_debug("sqlite dump: copied in %.2fs (WAL: writers were not blocked)",
		          seconds_since(&t0));
		sqlite3_close(copy);
		copy = NULL;
	}
	sqlite3_close(live);
	live = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = send_file(scratch.fd, out, err);
	dbb_debug("sqlite dump: streamed in %.2fs", seconds_since(&t0));
out:
	sqlite3_close(copy);
	sqlite3_close(live);
	scratch_discard(&scratch);
	return rc;
}

/* Spools the decompressed stream into a scratch file, reading only through
 * `in` (whatever caps the caller placed on it hold). */
static dbb_code spool(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                      struct dbb_scratch *scratch, struct dbb_error *err)
{
	unsigned char head[4096];
	size_t have = 0;
	dbb_code rc = ctx->scratch(ctx, scratch, err);
	if (rc)
		return rc;
	/* read the first bytes to recognise the format before spooling the rest */
	while (have < sizeof(head)) {
		size_t got = 0;
		rc = dbb_source_read(in, head + have, sizeof(head) - have, &got, err);
		if (rc)
			return rc;
		if (got == 0)
			break;
		have += got;
	}
	struct dbb_format fmt = dbb_sniff(head, have);
	if (!dbb_format_is(&fmt, &dbb_driver_sqlite))
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP, "not an SQLite backup: the file is %s",
		                fmt.what);
	struct dbb_fd_sink sink;
	dbb_fd_sink_init(&sink, scratch->fd);
	rc = dbb_sink_write(&sink.base, head, have, err);
	if (!rc)
		rc = dbb_stream_copy(in, &sink.base, NULL, err);
	return rc;
}

static void sqlite_discard_staged(struct dbb_staged *s)
{
	if (!s)
		return;
	scratch_discard(&s->scratch);
	free(s);
}

/* Decompresses the backup once into a scratch file and checks it there
 * (sqlite_check.c); restore_staged then copies that checked file. */
static dbb_code sqlite_stage(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                             struct dbb_staged **out, struct dbb_error *err)
{
	struct timespec t0;
	*out = NULL;
	struct dbb_staged *s = calloc(1, sizeof(*s));
	if (!s)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	dbb_code rc = spool(ctx, in, &s->scratch, err);
	if (rc)
		goto out;
	dbb_debug("sqlite restore: staged in %.2fs", seconds_since(&t0));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = dbb_sqlite_check(s->scratch.path, err);
	dbb_debug("sqlite restore: checked in %.2fs", seconds_since(&t0));
	if (rc)
		goto out;
	*out = s;
	s = NULL;
out:
	sqlite_discard_staged(s);
	return rc;
}

/* A database file says in its header (bytes 18 and 19) whether it uses a
 * WAL (2) or a rollback journal (1). The backup API sets 2 in a WAL
 * destination but copies the source's bytes into a rollback-journal one, so
 * a backup of a WAL database would turn a rollback-journal live database
 * into a WAL one: the staged copy is given the live database's mode. */
static dbb_code keep_rollback_journal(struct dbb_staged *s, struct dbb_error *err)
{
	static const unsigned char rollback[2] = {1, 1};
	unsigned char v[2];
	if (pread(s->scratch.fd, v, sizeof(v), 18) != (ssize_t)sizeof(v))
		return dbb_fail_errno(err, errno, DBB_ERR_RESTORE_FAILED,
		                      "cannot read the staged copy");
	if (memcmp(v, rollback, sizeof(v)) != 0 &&
	    pwrite(s->scratch.fd, rollback, sizeof(rollback), 18) != (ssize_t)sizeof(rollback))
		return dbb_fail_errno(err, errno, DBB_ERR_RESTORE_FAILED,
		                      "cannot write the staged copy");
	return DBB_OK;
}

/* Opens the live database for the restore's own writes: through the VFS
 * that combines them (sqlite_vfs.c: half the system time of a copy), which
 * is exact with synchronous=FULL; and without SQLite's checkpoint when the
 * last connection closes, which would take an exclusive lock on the
 * database (readers without a busy timeout would get SQLITE_BUSY) and write
 * the whole database again in the request: checkpoint_after_restore does
 * that, without locking anyone out. */
static dbb_code open_for_writes(const char *path, sqlite3 **db, struct dbb_error *err)
{
	dbb_code rc = open_db_vfs(path, SQLITE_OPEN_READWRITE, dbb_sqlite_vfs_combining(), db,
	                          DBB_ERR_DB_UNAVAILABLE, err);
	if (rc)
		return rc;
	sqlite3_db_config(*db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if (sqlite3_exec(*db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK) {
		rc = sqlite_fail(err, DBB_ERR_DB_UNAVAILABLE, *db, "cannot set synchronous=FULL");
		sqlite3_close(*db);
		*db = NULL;
	}
	return rc;
}

/* Moves the WAL's pages into the database file without waiting for anyone
 * (PASSIVE), then empties the WAL file (TRUNCATE) once no reader or writer
 * uses it: with a busy timeout of 0 it gives up at once when one does, and
 * is tried `tries` times, 0.2 s apart. (Left full, the WAL would cost the
 * next connection to open the database after everyone closed it a recovery
 * reading all of it and a second checkpoint.) */
static void checkpoint(sqlite3 *db, const char *how, int tries)
{
	struct timespec t0;
	int log_frames = 0, moved = 0, rc, i;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	in_wal_mode(db); /* a first read opens the WAL */
	sqlite3_busy_timeout(db, 0);
	rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, &log_frames, &moved);
	dbb_debug("sqlite restore: checkpoint (%s) %s, %d of %d WAL frames in %.2fs", how,
	          rc == SQLITE_OK ? "done" : sqlite3_errstr(rc), moved, log_frames,
	          seconds_since(&t0));
	for (i = 0; i < tries; i++) {
		rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		if (rc != SQLITE_BUSY)
			break;
		sqlite3_sleep(200);
	}
	dbb_debug("sqlite restore: WAL %s after %d attempt(s), %.2fs in all",
	          rc == SQLITE_OK ? "emptied" : "left (in use)", i < tries ? i + 1 : tries,
	          seconds_since(&t0));
}

static atomic_bool checkpoint_running;

/* Owns db: checkpoints, closes. */
static void *checkpoint_thread(void *arg)
{
	sqlite3 *db = arg;
	checkpoint(db, "in the background", 50);
	sqlite3_close(db);
	atomic_store(&checkpoint_running, false);
	return NULL;
}

/* After a restore into a WAL database, its pages are in the WAL: the backup
 * API commits without the WAL hook, so nothing would move them into the
 * database file before some connection's next commit (the application's,
 * which would pay for it). The restore is committed and durable already
 * (synchronous=FULL synced the WAL at commit), so this second write of the
 * whole database runs in a background thread of its own connection, after
 * the answer (checkpoint(): it never makes a reader or writer wait more than
 * the moment it takes to empty the WAL file). One at a time (inline, and
 * tried once, if one is still running); a daemon stopped meanwhile leaves a
 * WAL that SQLite checkpoints later. The restore's connection and this one
 * close without SQLite's last-connection checkpoint, which would take an
 * exclusive lock on the database: readers without a busy timeout would get
 * SQLITE_BUSY after the answer. */
static void checkpoint_after_restore(const char *path)
{
	struct dbb_error ignored;
	sqlite3 *db = NULL;
	pthread_t th;
	pthread_attr_t attr;
	bool idle = false;
	if (open_for_writes(path, &db, &ignored))
		return;
	if (atomic_compare_exchange_strong(&checkpoint_running, &idle, true)) {
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		int started = pthread_create(&th, &attr, checkpoint_thread, db);
		pthread_attr_destroy(&attr);
		if (started == 0)
			return;
		atomic_store(&checkpoint_running, false);
	}
	checkpoint(db, "inline", 1);
	sqlite3_close(db);
}

/* The live database becomes the staged copy in one write transaction of
 * the backup API: other connections see the old contents or the new, never
 * a mix, and a failure leaves the old (docs/driver-sqlite.md). */
static dbb_code sqlite_restore_staged(const struct dbb_driver_ctx *ctx, struct dbb_staged *s,
                                      struct dbb_error *err)
{
	sqlite3 *live = NULL, *staged = NULL;
	struct timespec t0;
	dbb_code rc = open_for_writes(ctx->cfg->sqlite_path, &live, err);
	if (rc)
		goto out;
	bool wal = in_wal_mode(live);
	if (!wal) {
		rc = keep_rollback_journal(s, err);
		if (rc)
			goto out;
	}
	rc = open_staged(s, &staged, DBB_ERR_RESTORE_FAILED, err);
	if (rc)
		goto out;
	int from = page_size(staged), to = page_size(live);
	if (wal && from != to) {
		rc = dbb_fail(err, DBB_ERR_RESTORE_FAILED,
		              "the backup's page size (%d bytes) is not the live database's (%d "
		              "bytes), and SQLite cannot change the page size of a database in WAL "
		              "mode: switch it to a rollback journal (PRAGMA journal_mode=DELETE) "
		              "for the restore",
		              from, to);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = copy_all(live, staged, DBB_ERR_RESTORE_FAILED, err);
	dbb_debug("sqlite restore: copied into the live database in %.2fs", seconds_since(&t0));
	if (!rc && wal)
		checkpoint_after_restore(ctx->cfg->sqlite_path);
out:
	sqlite3_close(staged);
	sqlite3_close(live);
	return rc;
}

static dbb_code sqlite_validate(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                                struct dbb_error *err)
{
	struct dbb_staged *s = NULL;
	dbb_code rc = sqlite_stage(ctx, in, &s, err);
	sqlite_discard_staged(s);
	return rc;
}

static dbb_code sqlite_restore(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                               struct dbb_error *err)
{
	struct dbb_staged *s = NULL;
	dbb_code rc = sqlite_stage(ctx, in, &s, err);
	if (!rc)
		rc = sqlite_restore_staged(ctx, s, err);
	sqlite_discard_staged(s);
	return rc;
}

/* A dump is a copy of the database's pages: their size is the dump's. */
static dbb_code sqlite_size_estimate(const struct dbb_driver_ctx *ctx, uint64_t *bytes,
                                     struct dbb_error *err)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	long long size = 0;
	*bytes = 0;
	dbb_code rc = open_live(ctx, &db, err);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(db,
	                       "SELECT page_count * page_size FROM pragma_page_count(), "
	                       "pragma_page_size()",
	                       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		size = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	*bytes = size > 0 ? (uint64_t)size : 0;
	return DBB_OK;
}

static dbb_code sqlite_stats(const struct dbb_driver_ctx *ctx, struct dbb_stats *out,
                             struct dbb_error *err)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	dbb_code rc = open_live(ctx, &db, err);
	if (rc)
		return rc;
	long long page_count = 0, page_size = 0, total = 0;
	if (sqlite3_prepare_v2(db,
	                       "SELECT name FROM sqlite_master WHERE type='table' AND name NOT "
	                       "LIKE 'sqlite_%' ORDER BY name",
	                       -1, &st, NULL) != SQLITE_OK) {
		rc = sqlite_fail(err, DBB_ERR_DB_UNAVAILABLE, db, "cannot read the schema");
		goto out;
	}
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		char *q = sqlite3_mprintf("SELECT count(*) FROM \"%w\"", name);
		sqlite3_stmt *cnt = NULL;
		long long rows = -1;
		if (q && sqlite3_prepare_v2(db, q, -1, &cnt, NULL) == SQLITE_OK &&
		    sqlite3_step(cnt) == SQLITE_ROW)
			rows = sqlite3_column_int64(cnt, 0);
		sqlite3_finalize(cnt);
		sqlite3_free(q);
		if (rows > 0)
			total += rows;
		rc = dbb_stats_add_table(out, NULL, name, rows, DBB_STATS_UNKNOWN, NULL, err);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc)
		goto out;
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
	out->size_bytes = page_count * page_size;
	out->table_count = (int64_t)out->ntables;
	out->total_rows = total;
	out->rows_exact = true;
	/* the file's name, not its path: the server's layout is not the viewer's */
	const char *path = sqlite3_db_filename(db, "main");
	const char *base = path ? strrchr(path, '/') : NULL;
	rc = dbb_stats_text(&out->database, base ? base + 1 : path, err);
	if (!rc)
		rc = dbb_stats_text(&out->server_version, sqlite3_libversion(), err);
out:
	sqlite3_close(db);
	return rc;
}

/* Every table's exact row count of db into counts; a table that cannot be
 * read fails the test (fail_code). */
static dbb_code count_tables(sqlite3 *db, struct dbb_stats *counts, dbb_code fail_code,
                             struct dbb_error *err)
{
	sqlite3_stmt *st = NULL;
	int64_t total = 0;
	dbb_code rc = DBB_OK;
	if (sqlite3_prepare_v2(db,
	                       "SELECT name FROM sqlite_master WHERE type='table' AND name NOT "
	                       "LIKE 'sqlite_%' ORDER BY name",
	                       -1, &st, NULL) != SQLITE_OK)
		return sqlite_fail(err, fail_code, db, "cannot read the schema");
	int step;
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		char *q = sqlite3_mprintf("SELECT count(*) FROM \"%w\"", name ? name : "");
		sqlite3_stmt *cnt = NULL;
		if (!q)
			rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		else if (sqlite3_prepare_v2(db, q, -1, &cnt, NULL) != SQLITE_OK ||
		         sqlite3_step(cnt) != SQLITE_ROW)
			rc = sqlite_fail(err, fail_code, db, "cannot count the rows of a table");
		else {
			int64_t rows = sqlite3_column_int64(cnt, 0);
			total += rows;
			rc = dbb_stats_add_table(counts, NULL, name, rows, DBB_STATS_UNKNOWN, NULL,
			                         err);
		}
		sqlite3_finalize(cnt);
		sqlite3_free(q);
	}
	if (!rc && step != SQLITE_DONE)
		rc = sqlite_fail(err, fail_code, db, "cannot read the schema");
	sqlite3_finalize(st);
	counts->table_count = (int64_t)counts->ntables;
	counts->total_rows = total;
	counts->rows_exact = true;
	return rc;
}

/* A test-restore (issue 20): the backup is staged into a scratch file and
 * checked there (PRAGMA integrity_check, sqlite_check.c), as a restore
 * would, then its tables counted; the live database is never opened. */
static dbb_code sqlite_verify(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                              struct dbb_stats *counts, struct dbb_error *err)
{
	struct dbb_staged *s = NULL;
	sqlite3 *db = NULL;
	dbb_code rc = sqlite_stage(ctx, in, &s, err);
	if (!rc)
		rc = open_staged(s, &db, DBB_ERR_RESTORE_FAILED, err);
	if (!rc)
		rc = count_tables(db, counts, DBB_ERR_RESTORE_FAILED, err);
	sqlite3_close(db);
	sqlite_discard_staged(s);
	return rc;
}

const struct dbb_driver dbb_driver_sqlite = {
    .name = "sqlite",
    .extension = "db",
    .atomic_restore = true,
    .verify_validates = true,
    .recognise = sqlite_recognise,
    .check_config = sqlite_check_config,
    .health = sqlite_health,
    .dump = sqlite_dump,
    .validate = sqlite_validate,
    .clean = NULL,
    .restore = sqlite_restore,
    .stage = sqlite_stage,
    .restore_staged = sqlite_restore_staged,
    .discard_staged = sqlite_discard_staged,
    .stats = sqlite_stats,
    .size_estimate = sqlite_size_estimate,
    .verify = sqlite_verify,
};
