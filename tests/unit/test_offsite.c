/* Unit tests for offsite/offsite.c and the records of storage/: the settings
 * table and its checks (no request is sent), a backup queued by the hook is
 * recorded pending under its key, records live and die with their backup. */
#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "dbbackupd/config.h"
#include "dbbackupd/driver.h"
#include "dbbackupd/offsite.h"
#include "dbbackupd/ops.h"
#include "dbbackupd/storage.h"

static const struct dbb_driver fake = {.name = "fake"};

static const struct dbb_setting *find(const char *name)
{
	size_t n;
	const struct dbb_setting *t = dbb_offsite_settings_table(&n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

static void test_table(void)
{
	size_t n;
	const struct dbb_setting *t = dbb_offsite_settings_table(&n);
	CHECK(n >= 13);
	for (size_t i = 0; i < n; i++)
		CHECK(strncmp(t[i].name, "S3_", 3) == 0 || strncmp(t[i].name, "OFFSITE_", 8) == 0);
	CHECK(find("S3_SECRET_ACCESS_KEY") && find("S3_SECRET_ACCESS_KEY")->secret);
	CHECK(find("S3_ACCESS_KEY_ID") && !find("S3_ACCESS_KEY_ID")->secret);
	CHECK(find("S3_PART_SIZE") && strcmp(find("S3_PART_SIZE")->def, "64M") == 0);
	CHECK(find("OFFSITE_MODE") && strcmp(find("OFFSITE_MODE")->def, "copy") == 0);
	CHECK(find("S3_ADDRESSING") && strcmp(find("S3_ADDRESSING")->def, "path") == 0);
	CHECK(find("S3_BUCKET") && strcmp(find("S3_BUCKET")->def, "") == 0);
}

/* A configuration that works against a loopback store. */
static void good(struct dbb_offsite_settings *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->endpoint, sizeof(s->endpoint), "http://127.0.0.1:9");
	snprintf(s->region, sizeof(s->region), "us-east-1");
	snprintf(s->bucket, sizeof(s->bucket), "bucket");
	snprintf(s->access_key_id, sizeof(s->access_key_id), "AKIDEXAMPLE");
	snprintf(s->secret_access_key, sizeof(s->secret_access_key), "s3cr3t-s3cr3t-s3cr3t");
	snprintf(s->addressing, sizeof(s->addressing), "path");
	snprintf(s->mode, sizeof(s->mode), "copy");
	s->part_size = 64ULL << 20;
	s->retry_initial = 30;
	s->retry_limit = 10;
}

/* dbb_offsite_new's code and message for s (the uploader freed at once). */
static dbb_code try_new(const struct dbb_offsite_settings *s, struct dbb_ops *ops,
                        struct dbb_storage *st, struct dbb_error *err, bool *made)
{
	struct dbb_offsite *off = NULL;
	memset(err, 0, sizeof(*err));
	dbb_code rc = dbb_offsite_new(&off, s, ops, st, err);
	*made = off != NULL;
	dbb_offsite_free(off);
	return rc;
}

static void test_settings(struct dbb_ops *ops, struct dbb_storage *st, const char *dir)
{
	struct dbb_offsite_settings s;
	struct dbb_error err;
	bool made;

	good(&s);
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_OK && made);

	memset(&s, 0, sizeof(s)); /* no bucket, nothing else: off */
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_OK && !made);

	good(&s);
	s.bucket[0] = '\0'; /* an endpoint without a bucket is a mistake */
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_ERR_CONFIG &&
	      strstr(err.message, "S3_BUCKET"));

	good(&s);
	snprintf(s.mode, sizeof(s.mode), "sync");
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_ERR_CONFIG &&
	      strstr(err.message, "OFFSITE_MODE"));

	good(&s);
	snprintf(s.addressing, sizeof(s.addressing), "dns");
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_ERR_CONFIG &&
	      strstr(err.message, "S3_ADDRESSING"));

	good(&s);
	s.access_key_id[0] = '\0';
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_ERR_CONFIG &&
	      strstr(err.message, "S3_ACCESS_KEY_ID"));

	good(&s);
	s.secret_access_key[0] = '\0';
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_ERR_CONFIG &&
	      strstr(err.message, "S3_SECRET_ACCESS_KEY"));

	/* plain http: loopback, or with S3_ALLOW_HTTP */
	good(&s);
	snprintf(s.endpoint, sizeof(s.endpoint), "http://s3.example.com");
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_ERR_CONFIG &&
	      strstr(err.message, "S3_ALLOW_HTTP") && !strstr(err.message, "s3cr3t"));
	s.allow_http = true;
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_OK && made);
	good(&s);
	snprintf(s.endpoint, sizeof(s.endpoint), "http://localhost:8333");
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_OK && made);
	snprintf(s.endpoint, sizeof(s.endpoint), "https://s3.example.com");
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_OK && made);
	snprintf(s.endpoint, sizeof(s.endpoint), "s3.example.com");
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_ERR_CONFIG);
	s.endpoint[0] = '\0'; /* AWS by region */
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_OK && made);

	good(&s);
	s.part_size = 1 << 20; /* below S3's 5 MiB */
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_ERR_CONFIG);
	good(&s);
	snprintf(s.prefix, sizeof(s.prefix), "/abs/");
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_ERR_CONFIG);

	/* the secret from a file: one of the two, owner-only */
	char path[2048];
	snprintf(path, sizeof(path), "%.2000s/secret", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && write(fd, "from-a-file-secret\n", 19) == 19);
	if (fd >= 0)
		close(fd);
	good(&s);
	snprintf(s.secret_access_key_file, sizeof(s.secret_access_key_file), "%s", path);
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_ERR_CONFIG && strstr(err.message, "both"));
	s.secret_access_key[0] = '\0';
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_OK && made);
	CHECK(chmod(path, 0640) == 0);
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_ERR_CONFIG &&
	      strstr(err.message, "chmod 600") && !strstr(err.message, "from-a-file"));
	snprintf(s.secret_access_key_file, sizeof(s.secret_access_key_file), "%.2000s/none", dir);
	CHECK(try_new(&s, ops, st, &err, &made) == DBB_ERR_CONFIG);
	unlink(path);
}

/* A committed backup named like the daemon's. */
static void make_backup(struct dbb_storage *st, const char *sha, char name[DBB_NAME_MAX])
{
	struct dbb_storage_tmp t;
	struct dbb_error err = {0};
	struct dbb_backup_name nm = {"backup", "fake", "sql", "", 1700000000};
	CHECK(dbb_storage_tmp_create(st, &t, &err) == DBB_OK);
	CHECK(write(t.fd, "x", 1) == 1);
	CHECK(dbb_storage_tmp_commit(&t, &nm, sha, name, &err) == DBB_OK);
}

static void test_records(struct dbb_ops *ops, struct dbb_storage *st)
{
	const char *sha = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";
	char name[DBB_NAME_MAX], buf[DBB_RECORD_MAX], side[DBB_NAME_MAX + 64];
	struct dbb_error err = {0};
	make_backup(st, sha, name);

	/* records of a backup: offsite writable, sha256 only readable */
	CHECK(dbb_storage_record_read(st, name, "offsite", buf, sizeof(buf), &err) ==
	      DBB_ERR_NOT_FOUND);
	CHECK(dbb_storage_record_write(st, name, "offsite", "{\"state\":\"x\"}", &err) == DBB_OK);
	CHECK(dbb_storage_record_read(st, name, "offsite", buf, sizeof(buf), &err) == DBB_OK);
	CHECK_STR(buf, "{\"state\":\"x\"}");
	CHECK(dbb_storage_record_read(st, name, "sha256", buf, sizeof(buf), &err) == DBB_OK &&
	      strncmp(buf, sha, 64) == 0);
	CHECK(dbb_storage_record_write(st, name, "sha256", "x", &err) != DBB_OK);
	CHECK(dbb_storage_record_write(st, name, "../x", "x", &err) != DBB_OK);
	CHECK(dbb_storage_record_write(st, "../etc/passwd", "offsite", "x", &err) != DBB_OK);
	CHECK(dbb_storage_record_write(st, "backup_fake_20200101_000000.sql", "offsite", "x",
	                               &err) == DBB_ERR_NOT_FOUND);

	/* the listing carries it; a record is never listed itself */
	struct dbb_backup_info *items = NULL;
	size_t n = 0;
	CHECK(dbb_storage_list(st, &items, &n, &err) == DBB_OK && n == 1);
	if (n == 1)
		CHECK_STR(items[0].offsite, "{\"state\":\"x\"}");
	free(items);

	/* the hook's enqueue records it pending under its key (not started:
	 * no thread, nothing sent) */
	struct dbb_offsite_settings s;
	struct dbb_offsite *off = NULL;
	good(&s);
	CHECK(dbb_offsite_new(&off, &s, ops, st, &err) == DBB_OK && off);
	dbb_offsite_enqueue(off, name);
	CHECK(dbb_storage_record_read(st, name, "offsite", buf, sizeof(buf), &err) == DBB_OK);
	CHECK(strstr(buf, "\"state\":\"pending\"") && strstr(buf, "\"attempts\":0"));
	snprintf(side, sizeof(side), "\"key\":\"dbbackupd/fake/%s\"", name);
	CHECK(strstr(buf, side) != NULL);
	dbb_offsite_enqueue(off, "backup_fake_20200101_000000.sql"); /* gone: no record */
	CHECK(dbb_storage_record_read(st, "backup_fake_20200101_000000.sql", "offsite", buf,
	                              sizeof(buf), &err) == DBB_ERR_NOT_FOUND);
	dbb_offsite_free(off);

	/* a custom prefix */
	snprintf(s.prefix, sizeof(s.prefix), "team/a/");
	CHECK(dbb_offsite_new(&off, &s, ops, st, &err) == DBB_OK && off);
	dbb_offsite_enqueue(off, name);
	CHECK(dbb_storage_record_read(st, name, "offsite", buf, sizeof(buf), &err) == DBB_OK);
	snprintf(side, sizeof(side), "\"key\":\"team/a/%s\"", name);
	CHECK(strstr(buf, side) != NULL);
	dbb_offsite_free(off);

	/* deleted with its backup */
	CHECK(dbb_storage_delete(st, name, &err) == DBB_OK);
	CHECK(dbb_storage_record_read(st, name, "offsite", buf, sizeof(buf), &err) ==
	      DBB_ERR_NOT_FOUND);
}

int main(void)
{
	struct dbb_config cfg;
	struct dbb_storage *st = NULL;
	struct dbb_ops *ops = NULL;
	struct dbb_error err = {0};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	memset(&cfg, 0, sizeof(cfg));
	char *dir = check_tmpdir();
	CHECK(dir != NULL);
	if (!dir)
		DONE();
	char bdir[4200];
	snprintf(bdir, sizeof(bdir), "%s/backups", dir);
	CHECK(dbb_storage_open(&st, bdir, &err) == DBB_OK);
	CHECK(dbb_ops_new(&ops, &cfg, &fake, st, &err) == DBB_OK);
	test_table();
	if (st && ops) {
		test_settings(ops, st, dir);
		test_records(ops, st);
	}
	dbb_ops_free(ops);
	dbb_storage_close(st);
	char cmd[4300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
	curl_global_cleanup();
	DONE();
}
