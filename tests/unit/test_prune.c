/* Unit tests for ops/prune.c: the retention policy and its guards applied
 * to a backups directory (files made by hand, with or without their
 * .sha256 sidecar): what is deleted (with its sidecar), what is never
 * touched (unrecognised names, another database's files), the guards, the
 * dry run and its reasons, and the lock. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "dbbackupd/driver.h"
#include "dbbackupd/log.h"
#include "dbbackupd/prune.h"

static const struct dbb_driver fake = {.name = "fake", .extension = "txt"};

struct env {
	char *dir;
	struct dbb_config cfg;
	struct dbb_storage *st;
	struct dbb_ops *ops;
	struct dbb_tz *tz;
};

static char path_buf[4200];

static const char *in_dir(const struct env *e, const char *name)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", e->dir, name);
	return path_buf;
}

static bool exists(const struct env *e, const char *name)
{
	return access(in_dir(e, name), F_OK) == 0;
}

static void write_file(const struct env *e, const char *name, const char *text)
{
	int fd = open(in_dir(e, name), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
		close(fd);
	}
}

static void touch(const struct env *e, const char *name)
{
	write_file(e, name, "x");
}

/* A backup made `days_ago` days and an hour before now, validated when
 * it has its sidecar. Returns its name in buf. */
static const char *backup(const struct env *e, const char *prefix, int days_ago, bool sidecar,
                          char *buf, size_t cap)
{
	time_t t = time(NULL) - 3600 - (time_t)days_ago * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	char stamp[32], side[DBB_NAME_MAX + 16], line[DBB_NAME_MAX + 80];
	strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M%S", &tm);
	snprintf(buf, cap, "%s_fake_%s.txt", prefix, stamp);
	touch(e, buf);
	if (sidecar) {
		snprintf(side, sizeof(side), "%s.sha256", buf);
		/* sha256sum's line for "x" */
		snprintf(line, sizeof(line),
		         "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881  %s\n",
		         buf);
		write_file(e, side, line);
	}
	return buf;
}

static void env_open(struct env *e)
{
	struct dbb_error err = {0};
	memset(e, 0, sizeof(*e));
	e->dir = strdup(check_tmpdir());
	CHECK(dbb_storage_open(&e->st, e->dir, &err) == DBB_OK);
	CHECK(dbb_ops_new(&e->ops, &e->cfg, &fake, e->st, &err) == DBB_OK);
	CHECK(dbb_tz_load(&e->tz, "UTC", NULL, &err) == DBB_OK);
}

static void env_close(struct env *e)
{
	dbb_tz_free(e->tz);
	dbb_ops_free(e->ops);
	dbb_storage_close(e->st);
	check_rmdir(e->dir);
	free(e->dir);
}

static struct dbb_prune_policy policy(const struct env *e, const struct dbb_retention_policy *p)
{
	struct dbb_prune_policy pp = {.policy = p, .tz = e->tz, .lock_wait_ms = 0};
	dbb_retention_guards_default(&pp.guards);
	return pp;
}

static bool has_why(const struct dbb_prune_result *r, const char *name, const char *why)
{
	for (size_t i = 0; i < r->count; i++)
		if (strcmp(r->entries[i].name, name) == 0)
			for (size_t k = 0; k < r->entries[i].nwhy; k++)
				if (strcmp(r->entries[i].why[k], why) == 0)
					return true;
	return false;
}

static void test_keep_last(void)
{
	struct env e;
	struct dbb_error err = {0};
	struct dbb_prune_result r;
	char b[5][DBB_NAME_MAX], other[] = "backup_mysql_20200101_000000.sql";
	env_open(&e);
	for (int i = 0; i < 5; i++)
		backup(&e, "backup", i, true, b[i], sizeof(b[i])); /* b[0] newest */
	touch(&e, "notes.txt");
	touch(&e, "backup_fake_old.txt");
	touch(&e, other);
	struct dbb_retention_policy p = {.keep = {[DBB_BUCKET_LAST] = 2}};
	struct dbb_prune_policy pp = policy(&e, &p);

	/* dry run: the plan, nothing deleted */
	CHECK(dbb_ops_prune(e.ops, &pp, true, &r, &err) == DBB_OK);
	CHECK(r.count == 5 && r.kept == 2 && r.removed == 3 && !r.held_back);
	CHECK(has_why(&r, b[0], "last 1") && has_why(&r, b[1], "last 2"));
	CHECK(r.entries[0].nmatches == 1 && strcmp(r.entries[0].matches[0], "last snapshot") == 0);
	dbb_prune_result_free(&r);
	CHECK(exists(&e, b[4]));

	CHECK(dbb_ops_prune(e.ops, &pp, false, &r, &err) == DBB_OK);
	CHECK(r.kept == 2 && r.removed == 3 && r.failed == 0);
	dbb_prune_result_free(&r);
	CHECK(exists(&e, b[0]) && exists(&e, b[1]));
	CHECK(!exists(&e, b[2]) && !exists(&e, b[3]) && !exists(&e, b[4]));
	char side[DBB_NAME_MAX + 16];
	snprintf(side, sizeof(side), "%s.sha256", b[4]);
	CHECK(!exists(&e, side)); /* the sidecar went with it */
	CHECK(exists(&e, "notes.txt") && exists(&e, "backup_fake_old.txt") && exists(&e, other));

	/* an empty policy deletes nothing */
	struct dbb_retention_policy none = {0};
	pp = policy(&e, &none);
	CHECK(dbb_ops_prune(e.ops, &pp, false, &r, &err) == DBB_OK);
	CHECK(r.policy_empty && r.removed == 0 && r.kept == 2);
	dbb_prune_result_free(&r);
	env_close(&e);
}

static void test_guards(void)
{
	struct env e;
	struct dbb_error err = {0};
	struct dbb_prune_result r;
	char b[4][DBB_NAME_MAX], s[2][DBB_NAME_MAX];
	env_open(&e);
	backup(&e, "backup", 0, false, b[0], sizeof(b[0])); /* newest: not validated */
	for (int i = 1; i < 4; i++)
		backup(&e, "backup", i, true, b[i], sizeof(b[i]));
	backup(&e, "safety_backup", 1, true, s[0], sizeof(s[0]));
	backup(&e, "safety_backup", 30, true, s[1], sizeof(s[1]));
	struct dbb_retention_policy p = {.keep = {[DBB_BUCKET_LAST] = 1}};
	struct dbb_prune_policy pp = policy(&e, &p);

	/* the backups are failing: the newest is older than the due time */
	pp.guards.due = time(NULL) - 60;
	CHECK(dbb_ops_prune(e.ops, &pp, false, &r, &err) == DBB_OK);
	CHECK(r.held_back && r.removed == 0);
	dbb_prune_result_free(&r);
	CHECK(exists(&e, b[3]) && exists(&e, s[1]));

	/* KEEP_MIN=3 over KEEP_LAST=1; the newest validated (b[1]) is among them */
	pp.guards.due = 0;
	pp.guards.keep_min = 3;
	CHECK(dbb_ops_prune(e.ops, &pp, true, &r, &err) == DBB_OK);
	CHECK(!r.held_back && has_why(&r, b[2], "keep min 3"));
	dbb_prune_result_free(&r);

	/* KEEP_MIN=1: the newest is kept by the policy, the newest validated
	 * one by its guard; safety backups by KEEP_SAFETY_WITHIN (7d) only */
	pp.guards.keep_min = 1;
	CHECK(dbb_ops_prune(e.ops, &pp, false, &r, &err) == DBB_OK);
	CHECK(has_why(&r, b[1], "newest validated backup"));
	dbb_prune_result_free(&r);
	CHECK(exists(&e, b[0]) && exists(&e, b[1]) && !exists(&e, b[2]) && !exists(&e, b[3]));
	CHECK(exists(&e, s[0]) && !exists(&e, s[1]));

	/* a running operation: not a dry run waits, then is busy */
	CHECK(dbb_ops_lock(e.ops, "a test", &err) == DBB_OK);
	pp.lock_wait_ms = 50;
	CHECK(dbb_ops_prune(e.ops, &pp, false, &r, &err) == DBB_ERR_BUSY);
	dbb_prune_result_free(&r);
	CHECK(dbb_ops_prune(e.ops, &pp, true, &r, &err) == DBB_OK);
	dbb_prune_result_free(&r);
	dbb_ops_unlock(e.ops);
	env_close(&e);
}

int main(void)
{
	dbb_log_set_level("error");
	test_keep_last();
	test_guards();
	DONE();
}
