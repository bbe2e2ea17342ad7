/* Unit tests for targets (docs/targets.md): TARGET_NAME and TARGETS_DIR
 * loading, bad target files, schedules/retention/notifications/offsite
 * settings per target, target names in backup file names, roles scoped to
 * a target, per-target metrics. */
#include <stdlib.h>
#include <sys/stat.h>

#include "check.h"
#include "dbbackupd/auth.h"
#include "dbbackupd/config.h"
#include "dbbackupd/metrics.h"
#include "dbbackupd/storage.h"

static char dir[4096], targets[4200];

static void write_file(const char *name, const char *text)
{
	char path[4400];
	snprintf(path, sizeof(path), "%s/%s", targets, name);
	FILE *f = fopen(path, "w");
	if (!f)
		exit(2);
	fputs(text, f);
	fclose(f);
}

static void remove_file(const char *name)
{
	char path[4400];
	snprintf(path, sizeof(path), "%s/%s", targets, name);
	remove(path);
}

/* Loads the daemon's settings and its targets; the error in err. */
static dbb_code load(struct dbb_config *cfg, struct dbb_config **all, size_t *n,
                     struct dbb_error *err)
{
	*all = NULL;
	*n = 0;
	dbb_code rc = dbb_config_load(cfg, "/nonexistent/.env", err);
	if (!rc)
		rc = dbb_config_load_targets(cfg, all, n, err);
	return rc;
}

static void test_config(void)
{
	struct dbb_config cfg, *all;
	struct dbb_error err;
	size_t n;

	/* no TARGETS_DIR: one target, named after DB_TYPE, in BACKUP_DIR */
	CHECK(load(&cfg, &all, &n, &err) == DBB_OK);
	CHECK(n == 1);
	CHECK_STR(all[0].name, "sqlite");
	CHECK(all[0].is_default);
	CHECK_STR(all[0].target_dir, "/b");
	CHECK_STR(cfg.target.name, cfg.name); /* the union: both names, one field */
	free(all);

	/* TARGET_NAME names the default target */
	setenv("TARGET_NAME", "app", 1);
	CHECK(load(&cfg, &all, &n, &err) == DBB_OK);
	CHECK_STR(all[0].name, "app");
	free(all);
	setenv("TARGET_NAME", "App", 1);
	CHECK(load(&cfg, &all, &n, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "TARGET_NAME") != NULL);
	unsetenv("TARGET_NAME");

	/* TARGETS_DIR: one target per NAME.env, sorted, their own settings
	 * from their file only (not the environment), the daemon's copied */
	setenv("TARGETS_DIR", targets, 1);
	setenv("DB_HOST", "env-host", 1);
	write_file("pg.env", "DB_TYPE=postgresql\nDB_NAME=app\nDB_USER=u\nDB_PASSWORD=s3cret\n"
	                     "COMPRESSION=zstd\n");
	write_file("my-db_2.env", "DB_TYPE=mysql\nDB_HOST=db.example\nDB_NAME=shop\n");
	write_file("README.txt", "not a target\n");
	write_file(".hidden.env", "DB_TYPE=oracle\n");
	CHECK(load(&cfg, &all, &n, &err) == DBB_OK);
	CHECK(n == 3);
	if (n == 3) {
		CHECK_STR(all[0].name, "sqlite");
		CHECK_STR(all[0].db_host, "env-host");
		CHECK_STR(all[1].name, "my-db_2");
		CHECK_STR(all[1].db_type, "mysql");
		CHECK_STR(all[1].db_host, "db.example");
		CHECK_STR(all[1].target_dir, "/b/my-db_2");
		CHECK(!all[1].is_default);
		CHECK_STR(all[2].name, "pg");
		CHECK_STR(all[2].db_host, "localhost"); /* its default, not the environment's */
		CHECK_STR(all[2].db_password, "s3cret");
		CHECK_STR(all[2].compression, "zstd");
		CHECK_STR(all[2].compression, "zstd");
		CHECK(all[2].port == cfg.port); /* daemon-wide: the daemon's */
		CHECK_STR(all[0].compression, "gzip");
	}
	/* --check-config lists a target's settings, its secret masked */
	char out[8192] = "";
	FILE *mem = fmemopen(out, sizeof(out) - 1, "w");
	dbb_config_dump_target(&all[n - 1], mem);
	fclose(mem);
	CHECK(strstr(out, "pg: DB_PASSWORD=********\n") != NULL);
	CHECK(strstr(out, "s3cret") == NULL);
	CHECK(strstr(out, "pg: DB_NAME=app\n") != NULL);
	free(all);
	unsetenv("DB_HOST");

	/* a bad file: one line naming the file and the variable */
	write_file("bad.env", "GZIP_LEVEL=12\n");
	CHECK(load(&cfg, &all, &n, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "bad.env: ") != NULL);
	CHECK(strstr(err.message, "GZIP_LEVEL") != NULL);
	CHECK(strchr(err.message, '\n') == NULL);
	write_file("bad.env", "PORT=9000\n");
	CHECK(load(&cfg, &all, &n, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "bad.env: PORT is a daemon-wide setting") != NULL);
	write_file("bad.env", "TARGET_NAME=other\n");
	CHECK(load(&cfg, &all, &n, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "bad.env: TARGET_NAME") != NULL);
	write_file("bad.env", "DB_TYPPE=mysql\n");
	CHECK(load(&cfg, &all, &n, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "DB_TYPPE") != NULL);
	write_file("bad.env", "DB_TYPE=oracle\n");
	CHECK(load(&cfg, &all, &n, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "bad.env: DB_TYPE") != NULL);
	remove_file("bad.env");
	write_file("Bad.env", "DB_TYPE=sqlite\n");
	CHECK(load(&cfg, &all, &n, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "Bad.env") != NULL);
	remove_file("Bad.env");
	write_file("sqlite.env", "DB_TYPE=sqlite\n"); /* the default target's name */
	CHECK(load(&cfg, &all, &n, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "sqlite.env") != NULL);
	remove_file("sqlite.env");
	/* NEO4J_* are a target's settings too */
	write_file("graph.env", "DB_TYPE=neo4j\nNEO4J_DATABASE=g\n");
	CHECK(load(&cfg, &all, &n, &err) == DBB_OK);
	free(all);
	remove_file("graph.env");
	setenv("TARGETS_DIR", "/nonexistent/targets", 1);
	CHECK(load(&cfg, &all, &n, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "TARGETS_DIR") != NULL);
	unsetenv("TARGETS_DIR");
}

/* Schedules, retention, notifications and offsite copies are a target's
 * settings: the default target's from the environment, another's from its
 * file only (issues 16, 17, 18). */
static void test_per_target_settings(void)
{
	struct dbb_config cfg, *all;
	struct dbb_error err;
	size_t n;

	remove_file("pg.env"); /* test_config's */
	remove_file("my-db_2.env");
	setenv("TARGETS_DIR", targets, 1);
	setenv("BACKUP_SCHEDULE", "0 3 * * *", 1);
	setenv("KEEP_LAST", "5", 1);
	setenv("S3_BUCKET", "env-bucket", 1);
	write_file("nightly.env", "DB_TYPE=sqlite\nBACKUP_SCHEDULE='* * * * *'\nKEEP_LAST=3\n"
	                          "KEEP_DAILY=7\nSCHEDULE_TZ=Europe/Berlin\n"
	                          "NOTIFY_WEBHOOK_URL=https://hooks.example/x\n"
	                          "NOTIFY_WEBHOOK_SECRET=hook-s3cret\nS3_BUCKET=own-bucket\n"
	                          "S3_ACCESS_KEY_ID=AK\nS3_SECRET_ACCESS_KEY=s3-s3cret\n");
	write_file("plain.env", "DB_TYPE=sqlite\n");
	CHECK(load(&cfg, &all, &n, &err) == DBB_OK);
	CHECK(n == 3);
	if (n == 3) {
		/* the default target: the environment */
		CHECK_STR(all[0].schedule.schedule, "0 3 * * *");
		CHECK(all[0].schedule.keep_last == 5);
		CHECK_STR(all[0].offsite.bucket, "env-bucket");
		CHECK_STR(cfg.schedule.schedule, "0 3 * * *");
		/* nightly: its file */
		CHECK_STR(all[1].name, "nightly");
		CHECK_STR(all[1].schedule.schedule, "* * * * *");
		CHECK(all[1].schedule.keep_last == 3);
		CHECK(all[1].schedule.keep_daily == 7);
		CHECK_STR(all[1].schedule.tz, "Europe/Berlin");
		CHECK_STR(all[1].schedule.notify_webhook_url, "https://hooks.example/x");
		CHECK_STR(all[1].offsite.bucket, "own-bucket");
		CHECK_STR(all[1].offsite.secret_access_key, "s3-s3cret");
		/* plain: the defaults, not the environment's */
		CHECK_STR(all[2].name, "plain");
		CHECK_STR(all[2].schedule.schedule, "");
		CHECK(all[2].schedule.keep_last == 0);
		CHECK(all[2].schedule.keep_min == all[0].schedule.keep_min);
		CHECK_STR(all[2].schedule.tz, "UTC");
		CHECK_STR(all[2].offsite.bucket, "");
		CHECK_STR(all[2].offsite.mode, all[0].offsite.mode);
		/* --check-config lists them per target, secrets masked */
		char out[16384] = "";
		FILE *mem = fmemopen(out, sizeof(out) - 1, "w");
		dbb_config_dump_target(&all[1], mem);
		fclose(mem);
		CHECK(strstr(out, "nightly: BACKUP_SCHEDULE=* * * * *\n") != NULL);
		CHECK(strstr(out, "nightly: KEEP_LAST=3\n") != NULL);
		CHECK(strstr(out, "nightly: S3_BUCKET=own-bucket\n") != NULL);
		CHECK(strstr(out, "nightly: S3_SECRET_ACCESS_KEY=********\n") != NULL);
		CHECK(strstr(out, "nightly: NOTIFY_WEBHOOK_SECRET=********\n") != NULL);
		CHECK(strstr(out, "s3cret") == NULL);
	}
	free(all);
	unsetenv("BACKUP_SCHEDULE");
	unsetenv("KEEP_LAST");
	unsetenv("S3_BUCKET");

	/* a bad value in a target's file: the file and the variable */
	write_file("nightly.env", "DB_TYPE=sqlite\nBACKUP_SCHEDULE='61 * * * *'\n");
	CHECK(load(&cfg, &all, &n, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "nightly.env: ") != NULL);
	CHECK(strstr(err.message, "BACKUP_SCHEDULE") != NULL);
	write_file("nightly.env", "DB_TYPE=sqlite\nKEEP_LAST=x\n");
	CHECK(load(&cfg, &all, &n, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "nightly.env: ") != NULL);
	CHECK(strstr(err.message, "KEEP_LAST") != NULL);
	write_file("nightly.env", "DB_TYPE=sqlite\nOFFSITE_MODE=x\nS3_PART_SIZE=lots\n");
	CHECK(load(&cfg, &all, &n, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "nightly.env: S3_PART_SIZE") != NULL);
	/* a typo is still not a setting, in a target's file as anywhere */
	write_file("nightly.env", "DB_TYPE=sqlite\nKEEP_LASTT=3\n");
	CHECK(load(&cfg, &all, &n, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "KEEP_LASTT is not a target's setting") != NULL);
	const char *like = dbb_config_lookalike("KEEP_LASTT");
	CHECK(like && strcmp(like, "KEEP_LAST") == 0);
	like = dbb_config_lookalike("S3_BUKET");
	CHECK(like && strcmp(like, "S3_BUCKET") == 0);
	remove_file("nightly.env");
	remove_file("plain.env");
	unsetenv("TARGETS_DIR");
}

static void test_names(void)
{
	char db[DBB_NAME_MAX];
	CHECK(dbb_target_name_is_valid("pg"));
	CHECK(dbb_target_name_is_valid("my-db_2"));
	CHECK(dbb_target_name_is_valid("0123456789abcdef0123456789abcdef"));
	CHECK(!dbb_target_name_is_valid("0123456789abcdef0123456789abcdef0"));
	CHECK(!dbb_target_name_is_valid(""));
	CHECK(!dbb_target_name_is_valid("-pg"));
	CHECK(!dbb_target_name_is_valid("_pg"));
	CHECK(!dbb_target_name_is_valid("PG"));
	CHECK(!dbb_target_name_is_valid("p.g"));
	CHECK(!dbb_target_name_is_valid("p/g"));
	/* target names in backup file names */
	CHECK(dbb_name_is_valid("backup_my-db_2_20260101_120000.sql.gz"));
	CHECK(dbb_name_target("backup_my-db_2_20260101_120000.sql.gz", db, sizeof(db)));
	CHECK_STR(db, "my-db_2");
	CHECK(dbb_name_target("safety_backup_a_20260101_120000_2.db", db, sizeof(db)));
	CHECK_STR(db, "a");
	CHECK(dbb_name_target("backup_postgresql_20260101_120000.sql", db, sizeof(db)));
	CHECK_STR(db, "postgresql");
	CHECK(dbb_name_is_valid("backup_0123456789abcdef0123456789abcdef_20260101_120000.db"));
	CHECK(!dbb_name_is_valid("backup_0123456789abcdef0123456789abcdef0_20260101_120000.db"));
	CHECK(!dbb_name_is_valid("backup_-pg_20260101_120000.sql"));
	CHECK(!dbb_name_is_valid("backup_p.g_20260101_120000.sql"));
	CHECK(!dbb_name_is_valid("backup_pg/x_20260101_120000.sql"));
	CHECK(!dbb_name_is_valid("backup__20260101_120000.sql"));
}

static void test_roles(void)
{
	struct dbb_principal who = {0};
	dbb_principal_add_role(&who, "viewer");
	dbb_principal_add_role(&who, "operator:pg");
	dbb_principal_add_role(&who, "admin:my-db");
	dbb_principal_add_role(&who, "operator:Bad");  /* not a target name: ignored */
	dbb_principal_add_role(&who, "superuser:pg");  /* not a role: ignored */
	dbb_principal_add_role(&who, "operator:pg:x"); /* ignored */
	dbb_principal_add_role(&who, "viewer:pg");     /* lower: the higher stays */
	CHECK(who.role == DBB_ROLE_VIEWER);
	CHECK(dbb_principal_role(&who, "pg") == DBB_ROLE_OPERATOR);
	CHECK(dbb_principal_role(&who, "my-db") == DBB_ROLE_ADMIN);
	CHECK(dbb_principal_role(&who, "other") == DBB_ROLE_VIEWER);
	CHECK(dbb_principal_role(&who, NULL) == DBB_ROLE_VIEWER);
	CHECK(dbb_principal_role_any(&who) == DBB_ROLE_ADMIN);
	struct dbb_principal none = {0};
	dbb_principal_add_role(&none, "operator:pg");
	CHECK(none.role == DBB_ROLE_NONE);
	CHECK(dbb_principal_role(&none, "sqlite") == DBB_ROLE_NONE);
	CHECK(dbb_principal_role(&none, "pg") == DBB_ROLE_OPERATOR);
	/* more targets than fit: the extra ones are ignored, never another's */
	struct dbb_principal many = {0};
	for (int i = 0; i < DBB_SCOPED_ROLES_MAX + 4; i++) {
		char r[64];
		snprintf(r, sizeof(r), "admin:t%d", i);
		dbb_principal_add_role(&many, r);
	}
	CHECK(many.nscoped == DBB_SCOPED_ROLES_MAX);
	CHECK(dbb_principal_role(&many, "t0") == DBB_ROLE_ADMIN);
	CHECK(dbb_principal_role(&many, "t19") == DBB_ROLE_NONE);
}

/* With several targets each series carries target="NAME"; with one, none. */
static void test_metrics(void)
{
	static const struct dbb_metrics_route routes[] = {{"POST", "/backup/create"}};
	const struct dbb_metrics_target_info two[] = {{"app", "sqlite"}, {"pg", "postgresql"}};
	struct dbb_metrics_disk disk[2] = {{.ok = true, .backups = 2}, {.ok = true, .backups = 5}};
	struct dbb_metrics *m = NULL;
	struct dbb_error err;
	size_t len;
	CHECK(dbb_metrics_new_targets(&m, two, 2, routes, 1, &err) == DBB_OK);
	if (!m)
		return;
	CHECK(dbb_metrics_target(m, 2) == NULL);
	dbb_metrics_operation(dbb_metrics_target(m, 1), DBB_METRIC_BACKUP, DBB_OK, 1.0);
	dbb_metrics_operation(dbb_metrics_target(m, 1), DBB_METRIC_BACKUP, DBB_OK, 1.0);
	dbb_metrics_operation(dbb_metrics_target(m, 0), DBB_METRIC_BACKUP, DBB_ERR_BUSY, 0.0);
	dbb_metrics_backup_succeeded(dbb_metrics_target(m, 1), 1234);
	char *t = dbb_metrics_render(m, disk, &len);
	CHECK(t && strstr(t, "dbbackupd_operations_total{operation=\"backup\",database="
	                     "\"postgresql\",target=\"pg\",outcome=\"success\"} 2\n"));
	CHECK(t && strstr(t, "dbbackupd_operations_total{operation=\"backup\",database="
	                     "\"sqlite\",target=\"app\",outcome=\"rejected\"} 1\n"));
	CHECK(t && strstr(t, "dbbackupd_operations_total{operation=\"backup\",database="
	                     "\"sqlite\",target=\"app\",outcome=\"success\"} 0\n"));
	CHECK(t && strstr(t, "dbbackupd_last_successful_backup_timestamp_seconds{database="
	                     "\"postgresql\",target=\"pg\"} 1234\n"));
	CHECK(t && strstr(t, "dbbackupd_backups_on_disk{target=\"pg\",type=\"backup\"} 5\n"));
	CHECK(t && strstr(t, "dbbackupd_backups_on_disk{target=\"app\",type=\"backup\"} 2\n"));
	CHECK(t && strstr(t, "dbbackupd_backup_dir_scrape_ok{target=\"pg\"} 1\n"));
	/* one HELP per family, whatever the number of targets */
	const char *h = t ? strstr(t, "# HELP dbbackupd_operations_total ") : NULL;
	CHECK(h && !strstr(h + 1, "# HELP dbbackupd_operations_total "));
	free(t);
	dbb_metrics_free(m);
	/* one target: no label, as before targets existed */
	CHECK(dbb_metrics_new_targets(&m, two, 1, routes, 1, &err) == DBB_OK);
	t = m ? dbb_metrics_render(m, disk, &len) : NULL;
	CHECK(t && strstr(t, "dbbackupd_operations_total{operation=\"backup\",database="
	                     "\"sqlite\",outcome=\"success\"} 0\n"));
	CHECK(t && !strstr(t, "target="));
	free(t);
	dbb_metrics_free(m);
}

/* Each target's schedule and offsite gauges: target="NAME" with several
 * targets, only for the targets that have them; none with one target. */
static void test_metrics_schedule(void)
{
	static const struct dbb_metrics_route routes[] = {{"POST", "/backup/create"}};
	const struct dbb_metrics_target_info two[] = {{"app", "sqlite"}, {"pg", "postgresql"}};
	struct dbb_metrics_disk disk[2] = {{.ok = true}, {.ok = true}};
	struct dbb_metrics *m = NULL;
	struct dbb_error err;
	size_t len;
	const struct dbb_metrics_schedule s = {.next_run = 1700, .consecutive_failures = 2};
	CHECK(dbb_metrics_new_targets(&m, two, 2, routes, 1, &err) == DBB_OK);
	if (!m)
		return;
	char *t = dbb_metrics_render(m, disk, &len);
	CHECK(t && !strstr(t, "dbbackupd_next_run_timestamp_seconds"));
	CHECK(t && !strstr(t, "dbbackupd_offsite_pending"));
	free(t);
	dbb_metrics_schedule(dbb_metrics_target(m, 1), &s);
	dbb_metrics_offsite(dbb_metrics_target(m, 1), 4, 1600);
	dbb_metrics_notification_failed(dbb_metrics_target(m, 0));
	t = dbb_metrics_render(m, disk, &len);
	CHECK(t && strstr(t, "dbbackupd_next_run_timestamp_seconds{database=\"postgresql\","
	                     "target=\"pg\"} 1700\n"));
	CHECK(t && strstr(t, "dbbackupd_consecutive_failures{database=\"postgresql\","
	                     "target=\"pg\"} 2\n"));
	CHECK(t && !strstr(t, "dbbackupd_next_run_timestamp_seconds{database=\"sqlite\""));
	CHECK(t && strstr(t, "dbbackupd_offsite_pending{database=\"postgresql\",target=\"pg\"} "
	                     "4\n"));
	CHECK(t && strstr(t, "dbbackupd_offsite_last_success_timestamp_seconds{database="
	                     "\"postgresql\",target=\"pg\"} 1600\n"));
	CHECK(t && !strstr(t, "dbbackupd_offsite_pending{database=\"sqlite\""));
	CHECK(t && strstr(t, "dbbackupd_notifications_failed_total{database=\"sqlite\","
	                     "target=\"app\"} 1\n"));
	CHECK(t && strstr(t, "dbbackupd_notifications_failed_total{database=\"postgresql\","
	                     "target=\"pg\"} 0\n"));
	const char *h = t ? strstr(t, "# HELP dbbackupd_next_run_timestamp_seconds ") : NULL;
	CHECK(h && !strstr(h + 1, "# HELP dbbackupd_next_run_timestamp_seconds "));
	free(t);
	dbb_metrics_free(m);
	/* one target: as before targets existed */
	CHECK(dbb_metrics_new_targets(&m, two, 1, routes, 1, &err) == DBB_OK);
	if (!m)
		return;
	dbb_metrics_schedule(dbb_metrics_target(m, 0), &s);
	dbb_metrics_offsite(dbb_metrics_target(m, 0), 4, 1600);
	t = dbb_metrics_render(m, disk, &len);
	CHECK(t && strstr(t, "dbbackupd_next_run_timestamp_seconds{database=\"sqlite\"} 1700\n"));
	CHECK(t && strstr(t, "dbbackupd_offsite_pending{database=\"sqlite\"} 4\n"));
	CHECK(t && strstr(t, "dbbackupd_notifications_failed_total{database=\"sqlite\"} 0\n"));
	CHECK(t && !strstr(t, "target="));
	free(t);
	dbb_metrics_free(m);
}

int main(void)
{
	umask(022);
	static const char *const vars[] = {
	    "PORT",        "DB_TYPE",         "DB_HOST",     "BACKUP_DIR", "TARGET_NAME",
	    "TARGETS_DIR", "DB_NAME",         "COMPRESSION", "GZIP_LEVEL", "DB_PASSWORD",
	    "DB_USER",     "BACKUP_SCHEDULE", "KEEP_LAST",   "S3_BUCKET",  "SCHEDULE_TZ"};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	char *tmp = check_tmpdir();
	if (!tmp)
		return 2;
	snprintf(dir, sizeof(dir), "%s", tmp);
	snprintf(targets, sizeof(targets), "%s/targets", dir);
	mkdir(targets, 0755);
	setenv("BACKUP_DIR", "/b", 1);
	test_config();
	test_per_target_settings();
	test_names();
	test_roles();
	test_metrics();
	test_metrics_schedule();
	check_rmdir(dir);
	DONE();
}
