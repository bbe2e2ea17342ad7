/* Unit tests for ops/remote.c and ops/remote_prune.c (issue 18) with an
 * object store in memory lent as struct dbb_ops_remote (the real store is
 * e2e.s3.remote's): without a store, the listing is offsite_not_configured
 * and a missing file stays 404; the listing keeps only backup names, newest
 * first, compression by suffix; a fetched file's bytes are served from an
 * fd whose temporary is already gone, and a fetch that fails part-way
 * (a SHA-256 mismatch) leaves no temporary and takes no lock; retention of
 * the store keeps what its policy and the guards say (the newest object
 * with a verified SHA-256 whatever the policy), deletes nothing in a dry
 * run, nothing when no recent object is verified, never another target's. */
#include <dirent.h>
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

#define MAX_OBJ 16
struct object {
	char name[200];
	const char *data;
	bool sha;      /* carries x-amz-meta-sha256 */
	bool mismatch; /* its bytes do not match it */
	bool gone;
};
struct store {
	struct object obj[MAX_OBJ];
	size_t n;
	bool down;
	unsigned removed;
};

static dbb_code down(struct dbb_error *err)
{
	return dbb_fail(err, DBB_ERR_OFFSITE_DOWN, "S3 ListObjectsV2: request failed");
}

static struct object *find(struct store *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->obj[i].gone && strcmp(s->obj[i].name, name) == 0)
			return &s->obj[i];
	return NULL;
}

static dbb_code s_list(void *cls, size_t max, dbb_ops_remote_fn fn, void *ud, bool *truncated,
                       struct dbb_error *err)
{
	struct store *s = cls;
	*truncated = false;
	if (s->down)
		return down(err);
	for (size_t i = 0; i < s->n && i < max; i++) {
		if (s->obj[i].gone)
			continue;
		struct dbb_remote_object o = {.name = s->obj[i].name,
		                              .size = strlen(s->obj[i].data),
		                              .last_modified = 1700000000,
		                              .etag = "\"e\"",
		                              .storage_class = "STANDARD"};
		if (fn(&o, ud))
			break;
	}
	return DBB_OK;
}

static dbb_code s_fetch(void *cls, const char *name, int fd, uint64_t max_bytes,
                        struct dbb_remote_fetch *out, struct dbb_error *err)
{
	struct store *s = cls;
	(void)max_bytes;
	memset(out, 0, sizeof(*out));
	if (s->down)
		return down(err);
	struct object *o = find(s, name);
	if (!o)
		return dbb_fail(err, DBB_ERR_NOT_FOUND, "NoSuchKey");
	size_t len = strlen(o->data);
	if (write(fd, o->data, len) != (ssize_t)len)
		return dbb_fail(err, DBB_ERR_INTERNAL, "write");
	if (o->mismatch)
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		                "SHA-256 of the bytes received differs");
	out->size = len;
	out->verified = o->sha;
	return DBB_OK;
}

static dbb_code s_verified(void *cls, const char *name, bool *has, struct dbb_error *err)
{
	struct object *o = find(cls, name);
	if (!o)
		return dbb_fail(err, DBB_ERR_NOT_FOUND, "NoSuchKey");
	*has = o->sha;
	return DBB_OK;
}

static dbb_code s_remove(void *cls, const char *name, struct dbb_error *err)
{
	struct store *s = cls;
	struct object *o = find(s, name);
	(void)err;
	if (o)
		o->gone = true;
	s->removed++;
	return DBB_OK;
}

static void put(struct store *s, const char *name, const char *data, bool sha)
{
	struct object *o = &s->obj[s->n++];
	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->data = data;
	o->sha = sha;
}

/* "backup_fake_<UTC of now - hours_ago>.txt<suffix>" */
static const char *name_at(int hours_ago, const char *suffix, char *buf, size_t cap)
{
	time_t t = time(NULL) - (time_t)hours_ago * 3600;
	struct tm tm;
	char stamp[32];
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M%S", &tm);
	snprintf(buf, cap, "backup_fake_%s.txt%s", stamp, suffix);
	return buf;
}

struct env {
	char *dir;
	struct dbb_config cfg;
	struct dbb_storage *st;
	struct dbb_ops *ops;
	struct dbb_tz *tz;
	struct store store;
	struct dbb_remote_retention retention;
};

static void env_open(struct env *e, bool with_store)
{
	struct dbb_error err = {0};
	memset(e, 0, sizeof(*e));
	e->dir = strdup(check_tmpdir());
	CHECK(dbb_storage_open(&e->st, e->dir, &err) == DBB_OK);
	CHECK(dbb_ops_new(&e->ops, &e->cfg, &fake, e->st, &err) == DBB_OK);
	CHECK(dbb_tz_load(&e->tz, "UTC", NULL, &err) == DBB_OK);
	CHECK(dbb_remote_retention_parse("", &e->retention, &err) == DBB_OK);
	if (with_store)
		dbb_ops_set_remote(e->ops, &(struct dbb_ops_remote){
		                               .cls = &e->store,
		                               .bucket = "bkt",
		                               .prefix = "dbbackupd/fake/",
		                               .list = s_list,
		                               .fetch = s_fetch,
		                               .retention = &e->retention,
		                               .verified = s_verified,
		                               .remove = s_remove,
		                           });
}

static void env_close(struct env *e)
{
	dbb_ops_set_remote(e->ops, NULL);
	dbb_tz_free(e->tz);
	dbb_ops_free(e->ops);
	dbb_storage_close(e->st);
	check_rmdir(e->dir);
	free(e->dir);
}

/* files in the backups directory whose names start with prefix */
static int files_with(const struct env *e, const char *prefix)
{
	int n = 0;
	DIR *d = opendir(e->dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return n;
}

static void test_without_store(void)
{
	struct env e;
	struct dbb_error err = {0};
	struct dbb_remote_info *items = NULL;
	struct dbb_restore_result res;
	size_t n = 9;
	bool trunc = true;
	char prefix[64], name[64];
	int fd = -1;
	uint64_t size = 0;
	env_open(&e, false);
	CHECK(!dbb_ops_has_remote(e.ops));
	CHECK(dbb_ops_list_remote(e.ops, &items, &n, &trunc, prefix, sizeof(prefix), &err) ==
	      DBB_ERR_OFFSITE_OFF);
	CHECK(items == NULL && n == 0);
	CHECK(strstr(err.message, "S3_BUCKET") != NULL);
	CHECK(dbb_code_http_status(DBB_ERR_OFFSITE_OFF) == 409);
	CHECK_STR(dbb_code_name(DBB_ERR_OFFSITE_OFF), "offsite_not_configured");
	CHECK(dbb_code_http_status(DBB_ERR_OFFSITE_DOWN) == 503);
	CHECK_STR(dbb_code_name(DBB_ERR_OFFSITE_DOWN), "offsite_unavailable");
	name_at(1, "", name, sizeof(name));
	CHECK(dbb_ops_open_remote(e.ops, name, &fd, &size, &err) == DBB_ERR_NOT_FOUND);
	CHECK(fd < 0);
	CHECK(dbb_ops_restore_any(e.ops, name, true, &res, &err) == DBB_ERR_NOT_FOUND);
	env_close(&e);
}

static void test_list(void)
{
	struct env e;
	struct dbb_error err = {0};
	struct dbb_remote_info *items = NULL;
	size_t n = 0;
	bool trunc = true;
	char prefix[64], a[64], b[64], c[64];
	env_open(&e, true);
	put(&e.store, name_at(5, ".gz", a, sizeof(a)), "aaaa", true);
	put(&e.store, "notes.txt", "n", false);
	put(&e.store, "sub/backup_fake_20200101_000000.txt", "s", false);
	put(&e.store, name_at(1, ".zst", b, sizeof(b)), "bb", true);
	put(&e.store, "safety_backup_fake_20200101_000000.txt", "c", false);
	snprintf(c, sizeof(c), "safety_backup_fake_20200101_000000.txt");
	CHECK(dbb_ops_list_remote(e.ops, &items, &n, &trunc, prefix, sizeof(prefix), &err) ==
	      DBB_OK);
	CHECK_STR(prefix, "dbbackupd/fake/");
	CHECK(!trunc);
	CHECK(n == 3);
	if (n == 3) {
		CHECK_STR(items[0].name, b); /* newest first */
		CHECK_STR(items[0].compression, "zstd");
		CHECK(items[0].size_bytes == 2 && !items[0].safety);
		CHECK_STR(items[0].db, "fake");
		CHECK_STR(items[1].name, a);
		CHECK_STR(items[1].compression, "gzip");
		CHECK_STR(items[2].name, c);
		CHECK(items[2].safety);
		CHECK_STR(items[2].compression, "none");
		CHECK(items[2].created_at == 1577836800); /* from the name */
		CHECK(items[2].last_modified == 1700000000);
		CHECK_STR(items[2].etag, "\"e\"");
		CHECK_STR(items[2].storage_class, "STANDARD");
	}
	free(items);
	e.store.down = true;
	CHECK(dbb_ops_list_remote(e.ops, &items, &n, &trunc, prefix, sizeof(prefix), &err) ==
	      DBB_ERR_OFFSITE_DOWN);
	env_close(&e);
}

static void test_fetch(void)
{
	struct env e;
	struct dbb_error err = {0};
	struct dbb_restore_result res;
	char a[64], t[64], buf[32] = {0};
	int fd = -1;
	uint64_t size = 0;
	env_open(&e, true);
	put(&e.store, name_at(2, "", a, sizeof(a)), "remote bytes", true);
	put(&e.store, name_at(1, "", t, sizeof(t)), "tampered", true);
	e.store.obj[1].mismatch = true;

	CHECK(dbb_ops_open_remote(e.ops, a, &fd, &size, &err) == DBB_OK);
	CHECK(size == 12);
	CHECK(files_with(&e, ".tmp-") == 0); /* unlinked before it is served */
	CHECK(fd >= 0 && pread(fd, buf, sizeof(buf) - 1, 0) == 12);
	CHECK_STR(buf, "remote bytes");
	if (fd >= 0)
		close(fd);
	CHECK(files_with(&e, "backup_") == 0); /* never made local */

	fd = -1;
	CHECK(dbb_ops_open_remote(e.ops, t, &fd, &size, &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(fd < 0);
	CHECK(files_with(&e, ".tmp-") == 0);
	CHECK(dbb_ops_open_remote(e.ops, "backup_fake_20190101_000000.txt", &fd, &size, &err) ==
	      DBB_ERR_NOT_FOUND);
	CHECK(strstr(err.message, "s3://bkt/dbbackupd/fake/") != NULL);
	CHECK(dbb_ops_open_remote(e.ops, "../etc/passwd", &fd, &size, &err) ==
	      DBB_ERR_INVALID_FILENAME);

	/* a restore of the tampered object: refused before the lock, nothing left */
	CHECK(dbb_ops_restore_any(e.ops, t, true, &res, &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(!res.safety_backup_created);
	CHECK(files_with(&e, ".tmp-") == 0 && files_with(&e, "safety_") == 0);
	CHECK(dbb_ops_lock(e.ops, "a test", &err) == DBB_OK);
	dbb_ops_unlock(e.ops);
	e.store.down = true;
	CHECK(dbb_ops_restore_any(e.ops, a, true, &res, &err) == DBB_ERR_OFFSITE_DOWN);
	CHECK(files_with(&e, ".tmp-") == 0);
	env_close(&e);
}

static void test_prune(void)
{
	struct env e;
	struct dbb_error err = {0};
	struct dbb_prune_result r;
	struct dbb_retention_policy local = {0};
	char newest[64], good[64], old[64], older[64];
	env_open(&e, true);
	CHECK(dbb_remote_retention_parse("KEEP_LAST=1", &e.retention, &err) == DBB_OK);
	put(&e.store, name_at(1, "", newest, sizeof(newest)), "x", false); /* put by another tool */
	put(&e.store, name_at(2, "", good, sizeof(good)), "x", true);
	put(&e.store, name_at(3, "", old, sizeof(old)), "x", true);
	put(&e.store, name_at(4, "", older, sizeof(older)), "x", false);
	put(&e.store, "backup_other_20200101_000000.txt", "x", false);
	struct dbb_prune_policy pp = {.policy = &local, .tz = e.tz};
	dbb_retention_guards_default(&pp.guards);

	CHECK(dbb_ops_prune(e.ops, &pp, true, &r, &err) == DBB_OK);
	CHECK(r.remote.on && r.remote.rc == DBB_OK);
	CHECK(r.remote.count == 4 && r.remote.kept == 2 && r.remote.removed == 2);
	CHECK(e.store.removed == 0); /* a dry run */
	for (size_t i = 0; i < r.remote.count; i++) {
		const struct dbb_prune_entry *x = &r.remote.entries[i];
		if (strcmp(x->name, good) == 0)
			CHECK(x->keep && x->validated && x->nwhy == 1 &&
			      strcmp(x->why[0], "newest validated backup") == 0);
		else if (strcmp(x->name, newest) == 0)
			CHECK(x->keep);
		else
			CHECK(!x->keep);
	}
	dbb_prune_result_free(&r);

	CHECK(dbb_ops_prune(e.ops, &pp, false, &r, &err) == DBB_OK);
	CHECK(e.store.removed == 2 && r.remote.failed == 0);
	CHECK(find(&e.store, old) == NULL && find(&e.store, older) == NULL);
	CHECK(find(&e.store, good) && find(&e.store, newest));
	CHECK(find(&e.store, "backup_other_20200101_000000.txt") != NULL);
	dbb_prune_result_free(&r);

	/* none of the recent objects verified: nothing deleted, said why */
	e.store.obj[1].sha = false;
	put(&e.store, name_at(5, "", old, sizeof(old)), "x", false);
	CHECK(dbb_ops_prune(e.ops, &pp, false, &r, &err) == DBB_OK);
	CHECK(r.remote.rc != DBB_OK && strstr(r.remote.error, "x-amz-meta-sha256"));
	CHECK(e.store.removed == 2 && find(&e.store, old));
	dbb_prune_result_free(&r);

	/* the store down: the local prune stands, the store's part says why */
	e.store.down = true;
	CHECK(dbb_ops_prune(e.ops, &pp, false, &r, &err) == DBB_OK);
	CHECK(r.remote.rc == DBB_ERR_OFFSITE_DOWN && e.store.removed == 2);
	dbb_prune_result_free(&r);

	/* OFFSITE_RETENTION=none */
	e.store.down = false;
	CHECK(dbb_remote_retention_parse("none", &e.retention, &err) == DBB_OK);
	CHECK(dbb_ops_prune(e.ops, &pp, false, &r, &err) == DBB_OK);
	CHECK(!r.remote.on && e.store.removed == 2);
	dbb_prune_result_free(&r);
	env_close(&e);
}

int main(void)
{
	dbb_log_set_level("error");
	test_without_store();
	test_list();
	test_fetch();
	test_prune();
	DONE();
}
