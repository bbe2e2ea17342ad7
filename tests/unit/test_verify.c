/* Unit tests for ops/verify.c (issue 20): a test-restore through a fake
 * driver whose "scratch place" is a string apart from its "database": the
 * verdicts (ok, a failing backup) are recorded and parsed back, a test
 * that cannot run records nothing, the live database is never touched,
 * validate runs first for a driver whose restore does not check, a driver
 * without verify is 501, a missing file 404, and one verification runs at
 * a time (409 for another, a waiting one waits its turn). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "dbbackupd/driver.h"
#include "dbbackupd/ops.h"

#define MAGIC "FAKE\n"

static struct {
	char live[64];    /* the "database" */
	char scratch[64]; /* where verify restores */
	dbb_code verify_rc;
	int validates, verifies;
	atomic_bool in_verify, release; /* hold verify until released */
	bool hold;
} F;

static dbb_code fake_health(const struct dbb_driver_ctx *ctx, struct dbb_error *err)
{
	(void)ctx;
	(void)err;
	return DBB_OK;
}

static dbb_code fake_dump(const struct dbb_driver_ctx *ctx, const struct dbb_dump_options *opt,
                          struct dbb_sink *out, struct dbb_error *err)
{
	(void)ctx;
	(void)opt;
	dbb_code rc = dbb_sink_write(out, MAGIC, strlen(MAGIC), err);
	return rc ? rc : dbb_sink_write(out, F.live, strlen(F.live), err);
}

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
	F.validates++;
	dbb_code rc = read_all(in, buf, sizeof(buf), err);
	if (!rc && strncmp(buf, MAGIC, strlen(MAGIC)) != 0)
		rc = dbb_fail(err, DBB_ERR_INVALID_BACKUP, "fake: not a fake backup");
	return rc;
}

static dbb_code fake_restore(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                             struct dbb_error *err)
{
	char buf[128];
	(void)ctx;
	dbb_code rc = read_all(in, buf, sizeof(buf), err);
	if (!rc)
		snprintf(F.live, sizeof(F.live), "%.63s", buf + strlen(MAGIC));
	return rc;
}

static dbb_code fake_stats(const struct dbb_driver_ctx *ctx, struct dbb_stats *out,
                           struct dbb_error *err)
{
	(void)ctx;
	(void)out;
	(void)err;
	return DBB_OK;
}

static dbb_code fake_verify(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                            struct dbb_stats *counts, struct dbb_error *err)
{
	char buf[128];
	(void)ctx;
	F.verifies++;
	atomic_store(&F.in_verify, true);
	while (F.hold && !atomic_load(&F.release))
		usleep(1000);
	dbb_code rc = read_all(in, buf, sizeof(buf), err);
	if (!rc)
		snprintf(F.scratch, sizeof(F.scratch), "%.63s", buf + strlen(MAGIC));
	if (!rc && F.verify_rc)
		rc = dbb_fail(err, F.verify_rc, "fake: verify says %d", (int)F.verify_rc);
	if (!rc)
		rc = dbb_stats_add_table(counts, "s", "t", (int64_t)strlen(F.scratch),
		                         DBB_STATS_UNKNOWN, NULL, err);
	counts->total_rows = (int64_t)strlen(F.scratch);
	atomic_store(&F.in_verify, false);
	return rc;
}

static const struct dbb_driver fake = {
    .name = "fake",
    .extension = "fk",
    .atomic_restore = true,
    .health = fake_health,
    .dump = fake_dump,
    .validate = fake_validate,
    .restore = fake_restore,
    .stats = fake_stats,
    .verify = fake_verify,
};

static const struct dbb_driver fake_no_verify = {
    .name = "fake",
    .extension = "fk",
    .atomic_restore = true,
    .health = fake_health,
    .dump = fake_dump,
    .validate = fake_validate,
    .restore = fake_restore,
    .stats = fake_stats,
};

struct env {
	char *dir;
	struct dbb_config cfg;
	struct dbb_storage *st;
	struct dbb_ops *ops;
	char backup[DBB_NAME_MAX];
};

static void env_open(struct env *e, const struct dbb_driver *drv)
{
	struct dbb_error err = {0};
	struct dbb_backup_result b;
	struct dbb_dump_options opt = {0};
	memset(e, 0, sizeof(*e));
	memset(&F, 0, sizeof(F));
	e->dir = strdup(check_tmpdir());
	e->cfg.gzip_level = 1;
	e->cfg.compress_threads = 1;
	e->cfg.max_upload_bytes = 1024;
	e->cfg.max_restore_bytes = 1 << 20;
	CHECK(dbb_storage_open(&e->st, e->dir, &err) == DBB_OK);
	CHECK(dbb_ops_new(&e->ops, &e->cfg, drv, e->st, &err) == DBB_OK);
	snprintf(F.live, sizeof(F.live), "abc");
	CHECK(dbb_ops_create_backup(e->ops, DBB_COMPRESSION_GZIP, &opt, &b, &err) == DBB_OK);
	snprintf(e->backup, sizeof(e->backup), "%s", b.filename);
	snprintf(F.live, sizeof(F.live), "live"); /* the database moved on since */
}

static void env_close(struct env *e)
{
	dbb_ops_free(e->ops);
	dbb_storage_close(e->st);
	check_rmdir(e->dir);
	free(e->dir);
}

/* The backup's record as the list reads it. */
static bool listed(struct env *e, bool *ok, time_t *at)
{
	struct dbb_error err = {0};
	struct dbb_backup_info *items = NULL;
	size_t n = 0;
	bool found = false;
	CHECK(dbb_storage_list(e->st, &items, &n, &err) == DBB_OK);
	for (size_t i = 0; i < n; i++)
		if (strcmp(items[i].name, e->backup) == 0)
			found = dbb_verify_record_parse(items[i].verify, ok, at);
	free(items);
	return found;
}

static void test_ok_and_failed(void)
{
	struct env e;
	struct dbb_error err = {0};
	struct dbb_verify_result res;
	bool ok = false;
	time_t at = 0;
	env_open(&e, &fake);
	CHECK(!listed(&e, &ok, &at)); /* never verified */

	time_t before = time(NULL);
	CHECK(dbb_ops_verify(e.ops, e.backup, false, &res, &err) == DBB_OK);
	CHECK(res.verify_ok && res.recorded);
	CHECK(res.verified_at >= before && res.duration_seconds >= 0);
	CHECK(res.counts.ntables == 1 && res.counts.tables[0].rows == 3);
	char *counts = dbb_verify_counts_text(&res);
	CHECK(counts && strstr(counts, "\"s.t\":3") != NULL);
	free(counts);
	dbb_verify_result_free(&res);
	CHECK_STR(F.scratch, "abc");
	CHECK_STR(F.live, "live"); /* never touched */
	CHECK(F.validates == 1);   /* the restore does not check: validated first */
	CHECK(listed(&e, &ok, &at) && ok && at >= before);

	/* a backup that fails the test: a verdict, recorded */
	F.verify_rc = DBB_ERR_RESTORE_FAILED;
	CHECK(dbb_ops_verify(e.ops, e.backup, false, &res, &err) == DBB_OK);
	CHECK(!res.verify_ok && res.recorded && strstr(res.reason, "fake: verify says") != NULL);
	CHECK(res.counts.ntables == 0);
	dbb_verify_result_free(&res);
	CHECK(listed(&e, &ok, &at) && !ok);

	/* a test that cannot run: no verdict, the last one stays */
	F.verify_rc = DBB_ERR_RESTORE_CONFLICT;
	CHECK(dbb_ops_verify(e.ops, e.backup, false, &res, &err) == DBB_ERR_RESTORE_CONFLICT);
	CHECK(strstr(err.message, "fake: verify says") != NULL);
	dbb_verify_result_free(&res);
	CHECK(listed(&e, &ok, &at) && !ok);
	CHECK_STR(F.live, "live");

	/* no such backup */
	CHECK(dbb_ops_verify(e.ops, "backup_fake_20000101_000000.fk.gz", false, &res, &err) ==
	      DBB_ERR_NOT_FOUND);
	dbb_verify_result_free(&res);
	CHECK(dbb_ops_verify(e.ops, "../x", false, &res, &err) == DBB_ERR_INVALID_FILENAME);
	dbb_verify_result_free(&res);
	env_close(&e);
}

static void test_not_implemented(void)
{
	struct env e;
	struct dbb_error err = {0};
	struct dbb_verify_result res;
	env_open(&e, &fake_no_verify);
	CHECK(dbb_ops_verify(e.ops, e.backup, false, &res, &err) == DBB_ERR_NOT_IMPLEMENTED);
	CHECK(strstr(err.message, "not supported for fake") != NULL);
	dbb_verify_result_free(&res);
	env_close(&e);
}

struct bg {
	struct env *e;
	bool wait;
	dbb_code rc;
	struct dbb_verify_result res;
	struct dbb_error err;
};

static void *bg_verify(void *arg)
{
	struct bg *b = arg;
	b->rc = dbb_ops_verify(b->e->ops, b->e->backup, b->wait, &b->res, &b->err);
	dbb_verify_result_free(&b->res);
	return NULL;
}

static void test_one_at_a_time(void)
{
	struct env e;
	struct dbb_error err = {0};
	struct dbb_verify_result res;
	struct bg first = {0}, waiter = {0};
	pthread_t t1, t2;
	env_open(&e, &fake);
	F.hold = true;
	first.e = &e;
	CHECK(pthread_create(&t1, NULL, bg_verify, &first) == 0);
	while (!atomic_load(&F.in_verify))
		usleep(1000);
	/* a second one is refused, naming the first */
	CHECK(dbb_ops_verify(e.ops, e.backup, false, &res, &err) == DBB_ERR_BUSY);
	CHECK(strstr(err.message, e.backup) != NULL);
	dbb_verify_result_free(&res);
	/* a waiting one runs once the first is done */
	waiter.e = &e;
	waiter.wait = true;
	CHECK(pthread_create(&t2, NULL, bg_verify, &waiter) == 0);
	usleep(20000);
	CHECK(F.verifies == 1); /* still waiting */
	atomic_store(&F.release, true);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	CHECK(first.rc == DBB_OK && waiter.rc == DBB_OK);
	CHECK(F.verifies == 2);
	env_close(&e);
}

int main(void)
{
	test_ok_and_failed();
	test_not_implemented();
	test_one_at_a_time();
	DONE();
}
