/* Unit tests for storage/storage.c: atomic commit, names in the same second,
 * checksums, symlinks and temporaries. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "dbbackupd/storage.h"

static char path_buf[4200];

static const char *in(const char *dir, const char *name)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", dir, name);
	return path_buf;
}

static dbb_code write_one(struct dbb_storage *st, time_t when, const char *content, char *name)
{
	struct dbb_storage_tmp tmp;
	struct dbb_error err;
	dbb_code rc = dbb_storage_tmp_create(st, &tmp, &err);
	if (rc)
		return rc;
	if (write(tmp.fd, content, strlen(content)) != (ssize_t)strlen(content))
		return DBB_ERR_INTERNAL;
	struct dbb_backup_name nm = {"backup", "sqlite", "db", false, when};
	return dbb_storage_tmp_commit(
	    &tmp, &nm, "abababababababababababababababababababababababababababababababab", name,
	    &err);
}

int main(void)
{
	struct dbb_error err;
	char *dir = check_tmpdir();
	CHECK(dir != NULL);
	/* a stale temporary from a previous run is removed at open */
	int fd = open(in(dir, ".tmp-999-1"), O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0);
	close(fd);
	struct dbb_storage *st = NULL;
	CHECK(dbb_storage_open(&st, dir, &err) == DBB_OK);
	CHECK(access(in(dir, ".tmp-999-1"), F_OK) != 0);

	/* two backups in the same second get different names */
	char a[DBB_NAME_MAX], b[DBB_NAME_MAX];
	time_t when = 1731240000;
	CHECK(write_one(st, when, "first", a) == DBB_OK);
	CHECK(write_one(st, when, "second", b) == DBB_OK);
	CHECK_STR(a, "backup_sqlite_20241110_120000.db");
	CHECK_STR(b, "backup_sqlite_20241110_120000_2.db");
	CHECK(access(in(dir, "backup_sqlite_20241110_120000.db.sha256"), F_OK) == 0);

	/* listing: both, newest name first, sidecars and temporaries hidden */
	struct dbb_backup_info *items;
	size_t n;
	CHECK(dbb_storage_list(st, &items, &n, &err) == DBB_OK);
	CHECK(n == 2);
	if (n == 2) {
		CHECK_STR(items[0].name, b);
		CHECK(items[1].size_bytes == 5);
		CHECK(items[1].created_at == when);
		CHECK(!items[1].compressed);
		CHECK_STR(items[1].db, "sqlite");
		CHECK(strlen(items[1].sha256) == 64);
	}
	free(items);

	/* a symlink planted in the directory is never followed */
	CHECK(symlink("/etc/passwd", in(dir, "backup_sqlite_20200101_000000.db")) == 0);
	int rfd;
	struct stat sb;
	CHECK(dbb_storage_open_backup(st, "backup_sqlite_20200101_000000.db", &rfd, &sb, &err) ==
	      DBB_ERR_NOT_FOUND);
	CHECK(dbb_storage_list(st, &items, &n, &err) == DBB_OK && n == 2);
	free(items);
	CHECK(dbb_storage_delete(st, "backup_sqlite_20200101_000000.db", &err) ==
	      DBB_ERR_NOT_FOUND);
	CHECK(access("/etc/passwd", F_OK) == 0);

	/* names outside the whitelist never reach the file system */
	CHECK(dbb_storage_open_backup(st, "../etc/passwd", &rfd, &sb, &err) ==
	      DBB_ERR_INVALID_FILENAME);
	CHECK(dbb_storage_open_backup(st, "backup_sqlite_20241110_120000.db", &rfd, &sb, &err) ==
	      DBB_OK);
	close(rfd);

	/* delete removes the sidecar too */
	CHECK(dbb_storage_delete(st, a, &err) == DBB_OK);
	CHECK(access(in(dir, "backup_sqlite_20241110_120000.db.sha256"), F_OK) != 0);
	CHECK(dbb_storage_delete(st, a, &err) == DBB_ERR_NOT_FOUND);

	/* a discarded temporary leaves nothing */
	struct dbb_storage_tmp tmp;
	CHECK(dbb_storage_tmp_create(st, &tmp, &err) == DBB_OK);
	char tname[64];
	snprintf(tname, sizeof(tname), "%s", tmp.name);
	dbb_storage_tmp_discard(&tmp);
	CHECK(access(in(dir, tname), F_OK) != 0);

	dbb_storage_close(st);
	check_rmdir(dir);
	DONE();
}
