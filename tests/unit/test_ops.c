/* Unit tests for ops/: the restore flow driven through a fake driver that
 * fails on demand at each step (validate, the safety backup's dump, clean,
 * restore), atomic and not: what the client is told (codes, rollback
 * fields), what the database holds after, and whether the restore journal
 * is left on disk. Also the observer, the upload session and the reads. */
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "dbbackupd/driver.h"
#include "dbbackupd/log.h"
#include "dbbackupd/ops.h"

/* ---- the fake database: one string, and failures on demand ---- */

#define FAKE_MAGIC "FAKE\n"

static struct {
	char content[64]; /* the "database" */
	/* 0: never; k: the k-th call (1-based) since fake_reset fails */
	int fail_validate, fail_dump, fail_clean, fail_restore;
	int fail_restore_also; /* a second restore call that fails (the rollback) */
	bool unhealthy;        /* health says the database is gone */
	int validates, dumps, cleans, restores;
} F;

static void fake_reset(const char *content)
{
	memset(&F, 0, sizeof(F));
	snprintf(F.content, sizeof(F.content), "%s", content);
}

static dbb_code fake_health(const struct dbb_driver_ctx *ctx, struct dbb_error *err)
{
	(void)ctx;
	return F.unhealthy ? dbb_fail(err, DBB_ERR_DB_UNAVAILABLE, "fake: gone") : DBB_OK;
}

static dbb_code fake_dump(const struct dbb_driver_ctx *ctx, const struct dbb_dump_options *opt,
                          struct dbb_sink *out, struct dbb_error *err)
{
	(void)ctx;
	(void)opt;
	if (++F.dumps == F.fail_dump)
		return dbb_fail(err, DBB_ERR_BACKUP_FAILED, "fake: dump failed");
	dbb_code rc = dbb_sink_write(out, FAKE_MAGIC, strlen(FAKE_MAGIC), err);
	return rc ? rc : dbb_sink_write(out, F.content, strlen(F.content), err);
}

/* The whole input into buf (NUL-terminated). */
static dbb_code read_all(struct dbb_source *in, char *buf, size_t cap, struct dbb_error *err)
{
	size_t used = 0, got;
	do {
		dbb_code rc = dbb_source_read(in, buf + used, cap - 1 - used, &got, err);
		if (rc)
			return rc;
		used += got;
	} while (got > 0 && used < cap - 1);
	buf[used] = '\0';
	return DBB_OK;
}

static dbb_code fake_validate(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                              struct dbb_error *err)
{
	char buf[128];
	(void)ctx;
	dbb_code rc = read_all(in, buf, sizeof(buf), err);
	if (rc)
		return rc;
	if (++F.validates == F.fail_validate || strncmp(buf, FAKE_MAGIC, strlen(FAKE_MAGIC)) != 0)
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP, "fake: not a fake backup");
	return DBB_OK;
}

static dbb_code fake_clean(const struct dbb_driver_ctx *ctx, struct dbb_error *err)
{
	(void)ctx;
	if (++F.cleans == F.fail_clean)
		return dbb_fail(err, DBB_ERR_RESTORE_FAILED, "fake: clean failed");
	F.content[0] = '\0';
	return DBB_OK;
}

static dbb_code fake_restore(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                             struct dbb_error *err)
{
	char buf[128];
	(void)ctx;
	dbb_code rc = read_all(in, buf, sizeof(buf), err);
	if (rc)
		return rc;
	F.restores++;
	if (F.restores == F.fail_restore || F.restores == F.fail_restore_also) {
		snprintf(F.content, sizeof(F.content), "partial");
		return dbb_fail(err, DBB_ERR_RESTORE_FAILED, "fake: restore failed");
	}
	if (snprintf(F.content, sizeof(F.content), "%s", buf + strlen(FAKE_MAGIC)) >=
	    (int)sizeof(F.content))
		return dbb_fail(err, DBB_ERR_RESTORE_FAILED, "fake: content too long");
	return DBB_OK;
}

static dbb_code fake_stats(const struct dbb_driver_ctx *ctx, struct dbb_stats *out,
                           struct dbb_error *err)
{
	(void)ctx;
	out->size_bytes = (int64_t)strlen(F.content);
	out->table_count = 1;
	out->total_rows = 1;
	dbb_code rc = dbb_stats_text(&out->database, "fake", err);
	rc = rc ? rc : dbb_stats_add_table(out, NULL, "t", 1, DBB_STATS_UNKNOWN, NULL, err);
	return rc ? rc : dbb_stats_add_extra(out, "view_count", 0, err);
}

/* Not atomic: ops cleans first and rolls back from the safety backup. */
static const struct dbb_driver fake_plain = {
    .name = "fake",
    .extension = "txt",
    .atomic_restore = false,
    .health = fake_health,
    .dump = fake_dump,
    .validate = fake_validate,
    .clean = fake_clean,
    .restore = fake_restore,
    .stats = fake_stats,
};

/* Atomic: a failed restore leaves the database as it was. */
static dbb_code fake_restore_atomic(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                                    struct dbb_error *err)
{
	char before[sizeof(F.content)];
	memcpy(before, F.content, sizeof(before));
	dbb_code rc = fake_restore(ctx, in, err);
	if (rc)
		memcpy(F.content, before, sizeof(before)); /* the transaction rolled back */
	return rc;
}

static const struct dbb_driver fake_atomic = {
    .name = "fake",
    .extension = "txt",
    .atomic_restore = true,
    .health = fake_health,
    .dump = fake_dump,
    .validate = fake_validate,
    .clean = NULL,
    .restore = fake_restore_atomic,
    .stats = fake_stats,
};

/* ---- the observer ---- */

static struct {
	int started, finished;
	struct dbb_ops_report last;
} O;

static void obs_started(void *cls, enum dbb_metric_op kind)
{
	(void)cls;
	(void)kind;
	O.started++;
}

static void obs_finished(void *cls, const struct dbb_ops_report *r)
{
	(void)cls;
	O.finished++;
	O.last = *r;
}

/* ---- a test directory with one backup of content "A" ---- */

struct env {
	char *dir;
	struct dbb_config cfg;
	struct dbb_storage *st;
	struct dbb_ops *ops;
	char backup[DBB_NAME_MAX]; /* holds "A" */
};

static char path_buf[4200];

static const char *in_dir(const struct env *e, const char *name)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", e->dir, name);
	return path_buf;
}

static bool journal_on_disk(const struct env *e)
{
	return access(in_dir(e, DBB_RESTORE_JOURNAL), F_OK) == 0;
}

static void env_open(struct env *e, const struct dbb_driver *drv)
{
	struct dbb_error err = {0};
	struct dbb_backup_result b;
	struct dbb_dump_options opt = {0};
	memset(e, 0, sizeof(*e));
	e->dir = strdup(check_tmpdir());
	e->cfg.gzip_level = 1;
	e->cfg.compress_threads = 1;
	e->cfg.max_upload_bytes = 1024;
	e->cfg.max_restore_bytes = 1 << 20;
	CHECK(dbb_storage_open(&e->st, e->dir, &err) == DBB_OK);
	CHECK(dbb_ops_new(&e->ops, &e->cfg, drv, e->st, &err) == DBB_OK);
	fake_reset("A");
	CHECK(dbb_ops_create_backup(e->ops, DBB_COMPRESSION_GZIP, &opt, &b, &err) == DBB_OK);
	snprintf(e->backup, sizeof(e->backup), "%s", b.filename);
	fake_reset("B"); /* the database moved on since */
}

static void env_close(struct env *e)
{
	dbb_ops_free(e->ops);
	dbb_storage_close(e->st);
	check_rmdir(e->dir);
	free(e->dir);
}

/* Restores e->backup (content "A") over "B" with the failures set in F. */
static dbb_code restore(struct env *e, bool safety, struct dbb_restore_result *res,
                        struct dbb_error *err)
{
	memset(err, 0, sizeof(*err));
	return dbb_ops_restore_file(e->ops, e->backup, safety, res, err);
}

static void test_not_atomic(void)
{
	struct env e;
	struct dbb_error err;
	struct dbb_restore_result res;
	struct dbb_interrupted_restore ir;

	env_open(&e, &fake_plain);

	/* success: the safety backup is made, the journal comes and goes */
	CHECK(restore(&e, true, &res, &err) == DBB_OK);
	CHECK_STR(F.content, "A");
	CHECK(res.safety_backup_created && !res.rollback_attempted);
	CHECK(strncmp(res.safety_backup_filename, "safety_backup_fake_", 19) == 0);
	CHECK(res.bytes_read > 0);
	CHECK(!journal_on_disk(&e));
	CHECK(!dbb_ops_interrupted_restore(e.ops, &ir));

	/* validation fails: nothing touched, no safety backup, no journal */
	fake_reset("B");
	F.fail_validate = 1;
	CHECK(restore(&e, true, &res, &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(strstr(err.message, "the database was not touched") != NULL);
	CHECK(!res.safety_backup_created && !res.rollback_attempted);
	CHECK(F.dumps == 0 && F.cleans == 0 && F.restores == 0);
	CHECK_STR(F.content, "B");
	CHECK(!journal_on_disk(&e));

	/* the safety backup's dump fails: the restore is not started */
	fake_reset("B");
	F.fail_dump = 1;
	CHECK(restore(&e, true, &res, &err) == DBB_ERR_BACKUP_FAILED);
	CHECK(strstr(err.message, "the safety backup failed") != NULL);
	CHECK(!res.safety_backup_created && !res.rollback_attempted);
	CHECK(F.cleans == 0 && F.restores == 0);
	CHECK_STR(F.content, "B");
	CHECK(!journal_on_disk(&e));

	/* ... and when the database went away meanwhile, it says so (503) */
	fake_reset("B");
	F.fail_dump = 1;
	F.unhealthy = true;
	CHECK(restore(&e, true, &res, &err) == DBB_ERR_DB_UNAVAILABLE);
	CHECK(F.cleans == 0 && F.restores == 0);

	/* clean fails: rolled back from the safety backup */
	fake_reset("B");
	F.fail_clean = 1;
	CHECK(restore(&e, true, &res, &err) == DBB_ERR_RESTORE_FAILED);
	CHECK(res.safety_backup_created && res.rollback_attempted && res.rollback_succeeded);
	CHECK(strstr(err.message, "rolled back") != NULL);
	CHECK_STR(F.content, "B");
	CHECK(!journal_on_disk(&e));
	CHECK(!dbb_ops_interrupted_restore(e.ops, &ir));
	CHECK(res.bytes_read == 0);

	/* restore fails half-way: rolled back, the database is as it was */
	fake_reset("B");
	F.fail_restore = 1;
	CHECK(restore(&e, true, &res, &err) == DBB_ERR_RESTORE_FAILED);
	CHECK(res.rollback_attempted && res.rollback_succeeded);
	CHECK_STR(F.content, "B");
	CHECK(!journal_on_disk(&e));

	/* restore and its rollback both fail: the journal stays and names the
	 * safety backup, reported until a restore succeeds */
	fake_reset("B");
	F.fail_restore = 1;
	F.fail_restore_also = 2;
	CHECK(restore(&e, true, &res, &err) == DBB_ERR_RESTORE_FAILED);
	CHECK(res.rollback_attempted && !res.rollback_succeeded);
	CHECK(strstr(err.message, "by hand") != NULL);
	CHECK_STR(F.content, "partial");
	CHECK(journal_on_disk(&e));
	CHECK(dbb_ops_interrupted_restore(e.ops, &ir));
	CHECK_STR(ir.safety_backup, res.safety_backup_filename);
	CHECK_STR(ir.source, e.backup);
	char safety[DBB_NAME_MAX];
	snprintf(safety, sizeof(safety), "%s", res.safety_backup_filename);

	/* a daemon started now finds the journal */
	struct dbb_ops *again = NULL;
	CHECK(dbb_ops_new(&again, &e.cfg, &fake_plain, e.st, &err) == DBB_OK);
	CHECK(dbb_ops_interrupted_restore(again, &ir));
	CHECK_STR(ir.safety_backup, safety);
	dbb_ops_free(again);

	/* a later failure keeps the older journal (its safety backup is the
	 * one to go back to), and a success clears it */
	fake_reset("partial");
	F.fail_restore = 1;
	CHECK(restore(&e, true, &res, &err) == DBB_ERR_RESTORE_FAILED);
	CHECK(res.rollback_succeeded);
	CHECK(journal_on_disk(&e));
	CHECK(dbb_ops_interrupted_restore(e.ops, &ir));
	CHECK_STR(ir.safety_backup, safety);
	fake_reset("partial");
	CHECK(restore(&e, true, &res, &err) == DBB_OK);
	CHECK(!journal_on_disk(&e));
	CHECK(!dbb_ops_interrupted_restore(e.ops, &ir));

	/* no safety backup asked for: a failure leaves the database partial,
	 * said so, and the journal (without a safety backup) stays */
	fake_reset("B");
	F.fail_restore = 1;
	CHECK(restore(&e, false, &res, &err) == DBB_ERR_RESTORE_FAILED);
	CHECK(!res.safety_backup_created && !res.rollback_attempted);
	CHECK(strstr(err.message, "PARTIAL") != NULL);
	CHECK(journal_on_disk(&e));
	CHECK(dbb_ops_interrupted_restore(e.ops, &ir));
	CHECK(ir.safety_backup[0] == '\0');
	fake_reset("partial");
	CHECK(restore(&e, false, &res, &err) == DBB_OK);
	CHECK(!journal_on_disk(&e));

	/* another operation holds the lock: 409, nothing done */
	fake_reset("B");
	CHECK(dbb_ops_lock(e.ops, "a test", &err) == DBB_OK);
	CHECK(restore(&e, true, &res, &err) == DBB_ERR_BUSY);
	CHECK(strstr(err.message, "a test") != NULL);
	CHECK(F.validates == 0 && F.dumps == 0);
	dbb_ops_unlock(e.ops);

	/* a name that is not a backup's */
	CHECK(dbb_ops_restore_file(e.ops, "../etc/passwd", true, &res, &err) ==
	      DBB_ERR_INVALID_FILENAME);
	env_close(&e);
}

/* A holder that lets go of the lock after a moment, for dbb_ops_lock_wait. */
static void *release_later(void *arg)
{
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	dbb_ops_unlock(arg);
	return NULL;
}

static void test_lock_wait(void)
{
	struct env e;
	struct dbb_error err = {0};
	env_open(&e, &fake_plain);
	CHECK(dbb_ops_lock(e.ops, "a holder", &err) == DBB_OK);
	/* no wait, or a wait that ends first: busy, naming the holder */
	CHECK(dbb_ops_lock_wait(e.ops, "a waiter", 0, &err) == DBB_ERR_BUSY);
	CHECK(dbb_ops_lock_wait(e.ops, "a waiter", 20, &err) == DBB_ERR_BUSY);
	CHECK(strstr(err.message, "a holder") != NULL);
	/* the holder lets go while we wait: we get it */
	pthread_t t;
	CHECK(pthread_create(&t, NULL, release_later, e.ops) == 0);
	CHECK(dbb_ops_lock_wait(e.ops, "a waiter", 30000, &err) == DBB_OK);
	pthread_join(t, NULL);
	CHECK(dbb_ops_lock(e.ops, "a third", &err) == DBB_ERR_BUSY);
	CHECK(strstr(err.message, "a waiter") != NULL);
	dbb_ops_unlock(e.ops);
	env_close(&e);
}

static void test_atomic(void)
{
	struct env e;
	struct dbb_error err;
	struct dbb_restore_result res;
	struct dbb_interrupted_restore ir;

	env_open(&e, &fake_atomic);

	/* restore fails: one transaction, nothing to roll back, no journal */
	F.fail_restore = 1;
	CHECK(restore(&e, true, &res, &err) == DBB_ERR_RESTORE_FAILED);
	CHECK(res.safety_backup_created && !res.rollback_attempted && !res.rollback_succeeded);
	CHECK(strstr(err.message, "one transaction") != NULL);
	CHECK_STR(F.content, "B");
	CHECK(F.restores == 1); /* the safety backup was not restored */
	CHECK(!journal_on_disk(&e));
	CHECK(!dbb_ops_interrupted_restore(e.ops, &ir));

	/* ... also without a safety backup */
	fake_reset("B");
	F.fail_restore = 1;
	CHECK(restore(&e, false, &res, &err) == DBB_ERR_RESTORE_FAILED);
	CHECK(!res.safety_backup_created && !res.rollback_attempted);
	CHECK_STR(F.content, "B");
	CHECK(!journal_on_disk(&e));

	/* validation and the safety backup fail as for any driver */
	fake_reset("B");
	F.fail_validate = 1;
	CHECK(restore(&e, true, &res, &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(F.restores == 0 && !journal_on_disk(&e));
	fake_reset("B");
	F.fail_dump = 1;
	CHECK(restore(&e, true, &res, &err) == DBB_ERR_BACKUP_FAILED);
	CHECK(F.restores == 0 && !journal_on_disk(&e));

	/* success */
	fake_reset("B");
	CHECK(restore(&e, true, &res, &err) == DBB_OK);
	CHECK_STR(F.content, "A");
	CHECK(F.cleans == 0);
	env_close(&e);
}

static void test_observer_and_upload(void)
{
	struct env e;
	struct dbb_error err = {0};
	struct dbb_restore_result res;
	struct dbb_backup_result b;
	struct dbb_dump_options opt = {0};
	struct dbb_ops_observer obs = {NULL, obs_started, obs_finished};

	env_open(&e, &fake_plain);
	dbb_ops_set_observer(e.ops, &obs);
	memset(&O, 0, sizeof(O));

	/* a backup: one report, with its bytes */
	CHECK(dbb_ops_create_backup(e.ops, DBB_COMPRESSION_NONE, &opt, &b, &err) == DBB_OK);
	CHECK(O.started == 1 && O.finished == 1);
	CHECK(O.last.kind == DBB_METRIC_BACKUP && O.last.rc == DBB_OK);
	CHECK(O.last.bytes == strlen(FAKE_MAGIC "B") && b.size_bytes == O.last.bytes);
	CHECK(O.last.seconds >= 0 && b.seconds == O.last.seconds);

	/* a refused one is reported too */
	CHECK(dbb_ops_lock(e.ops, "a test", &err) == DBB_OK);
	CHECK(dbb_ops_create_backup(e.ops, DBB_COMPRESSION_NONE, &opt, &b, &err) == DBB_ERR_BUSY);
	dbb_ops_unlock(e.ops);
	CHECK(O.finished == 2 && O.last.rc == DBB_ERR_BUSY && O.last.bytes == 0);

	/* a restore of a listed backup: the file's size */
	CHECK(restore(&e, false, &res, &err) == DBB_OK);
	CHECK(O.finished == 3 && O.last.kind == DBB_METRIC_RESTORE && O.last.rc == DBB_OK);
	CHECK(O.last.bytes == res.bytes_read && res.bytes_read > 0);

	/* an upload: spooled, bounded by MAX_UPLOAD_BYTES, restored */
	struct dbb_ops_upload *up = NULL;
	CHECK(dbb_ops_upload_begin(e.ops, &up, &err) == DBB_OK);
	CHECK(dbb_ops_upload_write(up, FAKE_MAGIC, strlen(FAKE_MAGIC), &err) == DBB_OK);
	CHECK(dbb_ops_upload_write(up, "C", 1, &err) == DBB_OK);
	CHECK(dbb_ops_upload_bytes(up) == strlen(FAKE_MAGIC "C"));
	CHECK(dbb_ops_upload_restore(up, true, &res, &err) == DBB_OK);
	CHECK_STR(F.content, "C");
	CHECK(res.safety_backup_created && res.bytes_read == strlen(FAKE_MAGIC "C"));
	CHECK(O.finished == 4 && O.last.upload_bytes == res.bytes_read);
	/* the temporary was consumed: a second restore is refused */
	CHECK(dbb_ops_upload_restore(up, true, &res, &err) == DBB_ERR_INTERNAL);
	dbb_ops_upload_free(up);

	up = NULL;
	char big[2048];
	memset(big, 'x', sizeof(big));
	CHECK(dbb_ops_upload_begin(e.ops, &up, &err) == DBB_OK);
	CHECK(dbb_ops_upload_write(up, big, sizeof(big), &err) == DBB_ERR_PAYLOAD_TOO_LARGE);
	dbb_ops_upload_free(up); /* the temporary goes */

	/* an invalid upload: 422 before the lock, nothing touched */
	fake_reset("C");
	CHECK(dbb_ops_upload_begin(e.ops, &up, &err) == DBB_OK);
	CHECK(dbb_ops_upload_write(up, "junk", 4, &err) == DBB_OK);
	CHECK(dbb_ops_upload_restore(up, true, &res, &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(F.dumps == 0 && F.restores == 0);
	CHECK(O.last.rc == DBB_ERR_INVALID_BACKUP && O.last.bytes == 0 && O.last.upload_bytes == 4);
	dbb_ops_upload_free(up);
	dbb_ops_upload_free(NULL);

	/* no temporary is left behind */
	struct dbb_storage_stamp stamp;
	struct dbb_backup_info *items = NULL;
	size_t n = 0;
	char cmd[4300];
	snprintf(cmd, sizeof(cmd), "ls -a '%s' | grep -q '^\\.tmp-'", e.dir);
	CHECK(system(cmd) != 0);

	/* the reads */
	CHECK(dbb_ops_list(e.ops, &stamp, &items, &n, &err) == DBB_OK);
	CHECK(n >= 3); /* the backups and safety backups made here */
	free(items);
	struct dbb_metrics_disk disk;
	dbb_ops_disk_usage(e.ops, &disk);
	CHECK(disk.ok && disk.backups == 2 && disk.safety >= 1);
	int fd = -1;
	uint64_t size = 0;
	CHECK(dbb_ops_open_download(e.ops, e.backup, &fd, &size, &err) == DBB_OK);
	CHECK(fd >= 0 && size > 0);
	if (fd >= 0)
		close(fd);
	CHECK(dbb_ops_open_download(e.ops, "backup_fake_20000101_000000.txt", &fd, &size, &err) ==
	      DBB_ERR_NOT_FOUND);
	struct dbb_ops_health h;
	dbb_ops_health(e.ops, &h);
	CHECK(h.db_ok && h.dir_ok && h.free_bytes > 0);
	F.unhealthy = true;
	dbb_ops_health(e.ops, &h);
	CHECK(!h.db_ok && strstr(h.db_message, "gone") != NULL);
	struct dbb_stats st;
	CHECK(dbb_ops_stats(e.ops, &st, &err) == DBB_OK);
	CHECK(st.ntables == 1 && st.nextras == 1 && st.table_count == 1);
	CHECK_STR(st.database, "fake");
	dbb_stats_free(&st);
	CHECK_STR(dbb_ops_database_type(e.ops), "fake");

	dbb_ops_set_observer(e.ops, NULL);
	env_close(&e);
}

int main(void)
{
	dbb_log_set_level("error");
	test_not_atomic();
	test_atomic();
	test_lock_wait();
	test_observer_and_upload();
	DONE();
}
