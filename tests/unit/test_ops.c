/* Unit tests for ops/: the restore flow driven through a fake driver that
 * fails on demand at each step (validate, the safety backup's dump, clean,
 * restore), atomic and not: what the client is told (codes, rollback
 * fields), what the database holds after, and whether the restore journal
 * is left on disk. Also the observer, the upload session and the reads. */
#include <dirent.h>
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
	/* the overlap of validation and the safety backup (issue 22) */
	bool rendezvous;                  /* each waits until the other started */
	bool overlapped;                  /* ... and they did meet */
	bool dump_outlives_check;         /* the dump writes on until validation ended and
	                                   * a write fails */
	bool check_outlives_dump;         /* validation reads on until the dump ended and a
	                                   * read fails */
	bool dump_stopped, check_stopped; /* ... and it did fail */
	bool dump_waits_check;            /* the dump waits until validation ended */
	bool check_waits_dump;            /* validation, having read the file, waits
	                                   * until the dump ended (which waits for that) */
	/* under M.mu */
	bool dump_started, check_started, dump_ended, check_ended, check_read;
} F;

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cond;
} M = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static void fake_reset(const char *content)
{
	memset(&F, 0, sizeof(F));
	snprintf(F.content, sizeof(F.content), "%s", content);
}

static void raise_flag(bool *flag)
{
	pthread_mutex_lock(&M.mu);
	*flag = true;
	pthread_cond_broadcast(&M.cond);
	pthread_mutex_unlock(&M.mu);
}

/* Waits (at most 10 s: a flow that never overlaps fails, never hangs). */
static bool wait_flag(const bool *flag)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&M.mu);
	while (!*flag && pthread_cond_timedwait(&M.cond, &M.mu, &until) == 0)
		;
	bool on = *flag;
	pthread_mutex_unlock(&M.mu);
	return on;
}

static void pause_ms(long ms)
{
	struct timespec ts = {0, ms * 1000 * 1000};
	nanosleep(&ts, NULL);
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
	raise_flag(&F.dump_started);
	if (F.rendezvous && wait_flag(&F.check_started))
		F.overlapped = true;
	dbb_code rc = DBB_OK;
	if (F.dump_waits_check)
		wait_flag(&F.check_ended);
	if (F.check_waits_dump)
		wait_flag(&F.check_read);
	if (++F.dumps == F.fail_dump)
		rc = dbb_fail(err, DBB_ERR_BACKUP_FAILED, "fake: dump failed");
	if (rc)
		goto out;
	rc = dbb_sink_write(out, FAKE_MAGIC, strlen(FAKE_MAGIC), err);
	if (!rc && F.dump_outlives_check) {
		wait_flag(&F.check_ended);
		for (int i = 0; !rc && i < 10000; i++, pause_ms(1))
			rc = dbb_sink_write(out, "", 0, err);
	}
	if (!rc)
		rc = dbb_sink_write(out, F.content, strlen(F.content), err);
	F.dump_stopped = rc != DBB_OK; /* a write failed */
out:
	raise_flag(&F.dump_ended);
	return rc;
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
	raise_flag(&F.check_started);
	if (F.rendezvous && wait_flag(&F.dump_started))
		F.overlapped = true;
	dbb_code rc = read_all(in, buf, sizeof(buf), err);
	raise_flag(&F.check_read);
	if (F.check_waits_dump)
		wait_flag(&F.dump_ended);
	if (!rc && F.check_outlives_dump) {
		wait_flag(&F.dump_ended);
		size_t got;
		for (int i = 0; !rc && i < 10000; i++, pause_ms(1))
			rc = dbb_source_read(in, buf, sizeof(buf), &got, err);
	}
	F.check_stopped = rc != DBB_OK; /* a read failed */
	if (!rc &&
	    (++F.validates == F.fail_validate || strncmp(buf, FAKE_MAGIC, strlen(FAKE_MAGIC)) != 0))
		rc = dbb_fail(err, DBB_ERR_INVALID_BACKUP, "fake: not a fake backup");
	raise_flag(&F.check_ended);
	return rc;
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

/* Atomic, and its restore validates in the same pass (restore_validates):
 * a file that is not a fake backup is refused there and rolled back. */
static dbb_code fake_restore_single(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                                    struct dbb_error *err)
{
	char buf[128];
	(void)ctx;
	dbb_code rc = read_all(in, buf, sizeof(buf), err);
	if (rc)
		return rc;
	if (strncmp(buf, FAKE_MAGIC, strlen(FAKE_MAGIC)) != 0)
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP, "fake: refused while restoring");
	F.restores++;
	if (F.restores == F.fail_restore)
		return dbb_fail(err, DBB_ERR_RESTORE_FAILED, "fake: restore failed");
	if (snprintf(F.content, sizeof(F.content), "%s", buf + strlen(FAKE_MAGIC)) >=
	    (int)sizeof(F.content))
		return dbb_fail(err, DBB_ERR_RESTORE_FAILED, "fake: content too long");
	return DBB_OK;
}

static const struct dbb_driver fake_single = {
    .name = "fake",
    .extension = "txt",
    .atomic_restore = true,
    .restore_validates = true,
    .health = fake_health,
    .dump = fake_dump,
    .validate = fake_validate,
    .clean = NULL,
    .restore = fake_restore_single,
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

/* Files in the test directory whose name starts with prefix. */
static int count_files(const struct env *e, const char *prefix)
{
	int n = 0;
	DIR *d = opendir(e->dir);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
		     strstr(de->d_name, ".sha256") == NULL;
	if (d)
		closedir(d);
	return n;
}

/* No safety backup listed and no temporary left. */
static bool no_safety_left(const struct env *e, int safety_before)
{
	return count_files(e, "safety_backup_") == safety_before &&
	       count_files(e, DBB_TMP_PREFIX) == 0;
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

	/* validation fails: nothing touched, no safety backup (the one begun
	 * beside the validation is discarded), no journal */
	int safety_before = count_files(&e, "safety_backup_");
	fake_reset("B");
	F.fail_validate = 1;
	CHECK(restore(&e, true, &res, &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(strstr(err.message, "the database was not touched") != NULL);
	CHECK(!res.safety_backup_created && !res.rollback_attempted);
	CHECK(F.cleans == 0 && F.restores == 0);
	CHECK(no_safety_left(&e, safety_before));
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
	CHECK(no_safety_left(&e, safety_before));

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
	/* a brief holder (a deletion) is waited for even without a wait */
	dbb_ops_lock_brief(e.ops);
	CHECK(pthread_create(&t, NULL, release_later, e.ops) == 0);
	CHECK(dbb_ops_lock(e.ops, "a backup", &err) == DBB_OK);
	pthread_join(t, NULL);
	/* ... and the mark went with it: the backup is refused at once */
	CHECK(dbb_ops_lock(e.ops, "a fourth", &err) == DBB_ERR_BUSY);
	CHECK(strstr(err.message, "a backup") != NULL);
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

/* Issue 22: validation and the safety backup run at the same time; either
 * failing stops the other, and nothing is touched or left listed. */
static void test_overlap(const struct dbb_driver *drv)
{
	struct env e;
	struct dbb_error err;
	struct dbb_restore_result res;

	env_open(&e, drv);
	int safety_before = count_files(&e, "safety_backup_");

	/* they meet: both run at once, and the restore goes on */
	fake_reset("B");
	F.rendezvous = true;
	CHECK(restore(&e, true, &res, &err) == DBB_OK);
	CHECK(F.overlapped);
	CHECK(res.safety_backup_created);
	CHECK_STR(F.content, "A");
	CHECK(count_files(&e, "safety_backup_") == ++safety_before);
	CHECK(count_files(&e, DBB_TMP_PREFIX) == 0);

	/* validation fails while the safety backup is being written: the dump
	 * is stopped, its temporary discarded, the client told the file is bad */
	fake_reset("B");
	F.rendezvous = true;
	F.fail_validate = 1;
	F.dump_outlives_check = true;
	CHECK(restore(&e, true, &res, &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(F.overlapped);
	CHECK(F.dump_stopped);
	CHECK(strstr(err.message, "not a valid fake backup") != NULL);
	CHECK(strstr(err.message, "stopped") == NULL);
	CHECK(!res.safety_backup_created && F.cleans == 0 && F.restores == 0);
	CHECK_STR(F.content, "B");
	CHECK(!journal_on_disk(&e));
	CHECK(no_safety_left(&e, safety_before));

	/* the safety backup fails while validation reads: validation is stopped,
	 * the client told why the safety backup failed */
	fake_reset("B");
	F.rendezvous = true;
	F.fail_dump = 1;
	F.check_outlives_dump = true;
	CHECK(restore(&e, true, &res, &err) == DBB_ERR_BACKUP_FAILED);
	CHECK(F.overlapped && F.check_stopped);
	CHECK(strstr(err.message, "the safety backup failed") != NULL);
	CHECK(strstr(err.message, "fake: dump failed") != NULL);
	CHECK(!res.safety_backup_created && F.cleans == 0 && F.restores == 0);
	CHECK_STR(F.content, "B");
	CHECK(!journal_on_disk(&e));
	CHECK(no_safety_left(&e, safety_before));

	/* ... and when the database went away, it says so (503) */
	fake_reset("B");
	F.rendezvous = true;
	F.fail_dump = 1;
	F.unhealthy = true;
	CHECK(restore(&e, true, &res, &err) == DBB_ERR_DB_UNAVAILABLE);
	CHECK(no_safety_left(&e, safety_before));

	/* both fail, in either order: the verdict on the file is what the
	 * client hears */
	for (int order = 0; order < 2; order++) {
		fake_reset("B");
		F.rendezvous = true;
		F.fail_validate = 1;
		F.fail_dump = 1;
		F.dump_waits_check = order == 0;
		F.check_waits_dump = order == 1;
		CHECK(restore(&e, true, &res, &err) == DBB_ERR_INVALID_BACKUP);
		CHECK(F.overlapped);
		CHECK(strstr(err.message, "not a valid fake backup") != NULL);
		CHECK(F.dumps == 1 && F.cleans == 0 && F.restores == 0);
		CHECK_STR(F.content, "B");
		CHECK(!journal_on_disk(&e));
		CHECK(no_safety_left(&e, safety_before));
	}
	env_close(&e);
}

/* Issue 22: without a safety backup, a driver whose restore validates in
 * its transaction reads the file once; a bad file is refused and rolled
 * back, an SQL-like failure of a good file stays a restore failure. */
static void test_single_pass(void)
{
	struct env e;
	struct dbb_error err;
	struct dbb_restore_result res;
	struct dbb_interrupted_restore ir;

	env_open(&e, &fake_single);

	fake_reset("B");
	CHECK(restore(&e, false, &res, &err) == DBB_OK);
	CHECK(F.validates == 0 && F.restores == 1); /* one pass */
	CHECK_STR(F.content, "A");
	CHECK(!journal_on_disk(&e));

	/* with a safety backup: validated beside it first, as any driver */
	fake_reset("B");
	CHECK(restore(&e, true, &res, &err) == DBB_OK);
	CHECK(F.validates == 1 && res.safety_backup_created);

	/* a bad file: refused in the transaction, which rolls back (422) */
	char bad[DBB_NAME_MAX] = "backup_fake_20000101_000000.txt";
	FILE *f = fopen(in_dir(&e, bad), "w");
	CHECK(f != NULL);
	if (f) {
		fputs("junk", f);
		fclose(f);
	}
	fake_reset("B");
	memset(&err, 0, sizeof(err));
	CHECK(dbb_ops_restore_file(e.ops, bad, false, &res, &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(strstr(err.message, "is not a valid fake backup") != NULL);
	CHECK(strstr(err.message, "as it was before the request") != NULL);
	CHECK_STR(F.content, "B");
	CHECK(!journal_on_disk(&e));
	CHECK(!dbb_ops_interrupted_restore(e.ops, &ir));

	/* a good file whose restore fails (an SQL error): 500, and the file
	 * was read once more to tell */
	fake_reset("B");
	F.fail_restore = 1;
	CHECK(restore(&e, false, &res, &err) == DBB_ERR_RESTORE_FAILED);
	CHECK(F.validates == 1);
	CHECK(strstr(err.message, "one transaction") != NULL);
	CHECK_STR(F.content, "B");
	CHECK(!journal_on_disk(&e));

	/* ... and the same failure of a file that is also bad is the 422 */
	fake_reset("B");
	F.fail_restore = 1;
	F.fail_validate = 1;
	CHECK(restore(&e, false, &res, &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(strstr(err.message, "is not a valid fake backup") != NULL);
	CHECK_STR(F.content, "B");
	env_close(&e);
}

/* SAFETY_COMPRESSION: its own codec for safety backups; a bad value stops
 * the start. */
static void test_safety_compression(void)
{
	struct env e;
	struct dbb_error err = {0};
	struct dbb_restore_result res;
	struct dbb_ops *ops = NULL;

	env_open(&e, &fake_plain);
	snprintf(e.cfg.safety_compression, sizeof(e.cfg.safety_compression), "zstd:1");
	CHECK(dbb_ops_new(&ops, &e.cfg, &fake_plain, e.st, &err) == DBB_OK);
	dbb_ops_free(e.ops);
	e.ops = ops;
	fake_reset("B");
	CHECK(restore(&e, true, &res, &err) == DBB_OK);
	size_t len = strlen(res.safety_backup_filename);
	CHECK(len > 4 && strcmp(res.safety_backup_filename + len - 4, ".zst") == 0);
	/* it restores like any backup */
	char safety[DBB_NAME_MAX];
	snprintf(safety, sizeof(safety), "%s", res.safety_backup_filename);
	CHECK_STR(F.content, "A");
	CHECK(dbb_ops_restore_file(e.ops, safety, false, &res, &err) == DBB_OK);
	CHECK_STR(F.content, "B");

	static const char *const bad[] = {"zstd:0", "zstd:20", "gzip:10", "lz4",
	                                  "zstd:",  ":3",      "zstd:1x", "none:1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(e.cfg.safety_compression, sizeof(e.cfg.safety_compression), "%s", bad[i]);
		ops = NULL;
		CHECK(dbb_ops_new(&ops, &e.cfg, &fake_plain, e.st, &err) == DBB_ERR_CONFIG);
		CHECK(ops == NULL);
		CHECK(strstr(err.message, "SAFETY_COMPRESSION") != NULL);
	}
	static const char *const good[] = {"gzip", "gzip:1", "zstd", "zstd:19", "none"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(e.cfg.safety_compression, sizeof(e.cfg.safety_compression), "%s", good[i]);
		ops = NULL;
		CHECK(dbb_ops_new(&ops, &e.cfg, &fake_plain, e.st, &err) == DBB_OK);
		dbb_ops_free(ops);
	}
	env_close(&e);
}

int main(void)
{
	dbb_log_set_level("error");
	test_not_atomic();
	test_atomic();
	test_lock_wait();
	test_overlap(&fake_plain);
	test_overlap(&fake_atomic);
	test_single_pass();
	test_safety_compression();
	test_observer_and_upload();
	DONE();
}
