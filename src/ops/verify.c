/* Test-restores (issue 20, docs/operations.md "Test restores"): a listed
 * backup is read as a restore would read it and handed to the driver's
 * verify, which restores it into a scratch place of its own (never the
 * live database), checks it and counts its tables. The verdict is written
 * next to the backup (its "verify" record) for the list and the metrics.
 *
 * Serialised daemon-wide, not per target: a verification holds no target
 * lock (the live database is not touched, so a backup or restore of it runs
 * beside), but the scratch place has one name (VERIFY_DB_NAME) that two
 * targets on one server may share, and a second verification would drop
 * the first one's scratch database under it. One at a time; another gets
 * 409 operation_in_progress. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "dbbackupd/log.h"
#include "dbbackupd/progress.h"
#include "ops/internal.h"

static pthread_mutex_t verify_mu = PTHREAD_MUTEX_INITIALIZER;
/* what runs, for the 409 (under name_mu) */
static pthread_mutex_t name_mu = PTHREAD_MUTEX_INITIALIZER;
static char verify_running[DBB_NAME_MAX + 64];
static time_t verify_since;

static dbb_code verify_begin(struct dbb_ops *ops, const char *name, bool wait,
                             struct dbb_error *err)
{
	if ((wait ? pthread_mutex_lock(&verify_mu) : pthread_mutex_trylock(&verify_mu)) == 0) {
		pthread_mutex_lock(&name_mu);
		snprintf(verify_running, sizeof(verify_running), "%s (target %s)", name,
		         dbb_ops_target_name(ops));
		verify_since = time(NULL);
		pthread_mutex_unlock(&name_mu);
		return DBB_OK;
	}
	char what[sizeof(verify_running)], since[32];
	struct tm tm;
	pthread_mutex_lock(&name_mu);
	snprintf(what, sizeof(what), "%s", verify_running);
	gmtime_r(&verify_since, &tm);
	pthread_mutex_unlock(&name_mu);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return dbb_fail(err, DBB_ERR_BUSY,
	                "another verification is running: %s (since %s); one runs at a time, "
	                "try again when it has finished",
	                what, since);
}

static void verify_end(void)
{
	pthread_mutex_lock(&name_mu);
	verify_running[0] = '\0';
	pthread_mutex_unlock(&name_mu);
	pthread_mutex_unlock(&verify_mu);
}

/* What the driver's verify is handed (dbb_ops_read_listed's reader). */
struct verify_call {
	const struct dbb_driver *drv;
	struct dbb_stats *counts;
};

static dbb_code verify_reader(void *arg, const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                              struct dbb_error *err)
{
	struct verify_call *c = arg;
	return c->drv->verify(ctx, in, c->counts, err);
}

/* A failure that is the backup's (the verdict), not the test's. */
static bool is_verdict(dbb_code rc)
{
	return rc == DBB_ERR_INVALID_BACKUP || rc == DBB_ERR_RESTORE_FAILED;
}

static void iso_time(time_t t, char *out, size_t cap)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* {"table_count", "total_rows", "tables": {"schema.name": rows}} (tables
 * left out with limit_tables when over the limit). */
static json_t *counts_json(const struct dbb_stats *st, bool with_tables)
{
	json_t *o = json_pack("{s:I, s:I}", "table_count", (json_int_t)st->ntables, "total_rows",
	                      (json_int_t)(st->total_rows < 0 ? 0 : st->total_rows));
	if (!o || !with_tables)
		return o;
	json_t *t = json_object();
	for (size_t i = 0; t && i < st->ntables; i++) {
		const struct dbb_stats_table *tb = &st->tables[i];
		char key[512];
		if (tb->schema)
			snprintf(key, sizeof(key), "%s.%s", tb->schema, tb->name);
		else
			snprintf(key, sizeof(key), "%s", tb->name);
		json_object_set_new(t, key, json_integer((json_int_t)tb->rows));
	}
	if (t)
		json_object_set_new(o, "tables", t);
	return o;
}

/* The record written next to the backup: at most DBB_VERIFY_RECORD_MAX
 * bytes (the list reads it), so a long table list is left out of it
 * ("tables_truncated") and a long reason cut; the reply has them all.
 * NULL when out of memory. */
static char *record_text(const struct dbb_verify_result *res)
{
	char at[32];
	iso_time(res->verified_at, at, sizeof(at));
	for (int attempt = 0; attempt < 3; attempt++) {
		json_t *o = json_pack("{s:b, s:s, s:f}", "verify_ok", res->verify_ok, "verified_at",
		                      at, "duration_seconds", res->duration_seconds);
		if (!o)
			return NULL;
		if (res->verify_ok) {
			json_t *c = counts_json(&res->counts, attempt == 0);
			if (c && attempt > 0)
				json_object_set_new(c, "tables_truncated", json_true());
			json_object_set_new(o, "counts", c ? c : json_null());
		} else {
			char reason[DBB_ERROR_MESSAGE_MAX];
			/* the last attempt leaves it out (escapes may grow it sixfold) */
			snprintf(reason, sizeof(reason), "%.*s", attempt == 0 ? 400 : 60,
			         attempt == 2 ? "see the log" : res->reason);
			json_object_set_new(o, "reason", json_string(reason));
		}
		char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (!text || strlen(text) < DBB_VERIFY_RECORD_MAX)
			return text;
		free(text);
	}
	return NULL;
}

char *dbb_verify_counts_text(const struct dbb_verify_result *res)
{
	json_t *c = counts_json(&res->counts, true);
	char *text = c ? json_dumps(c, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(c);
	return text;
}

bool dbb_verify_record_parse(const char *text, bool *ok, time_t *at)
{
	json_t *o = text && text[0] ? json_loads(text, 0, NULL) : NULL;
	json_t *v = json_object_get(o, "verify_ok");
	const char *s = json_string_value(json_object_get(o, "verified_at"));
	struct tm tm;
	bool good = json_is_boolean(v) && s;
	if (good) {
		memset(&tm, 0, sizeof(tm));
		const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
		good = end && *end == '\0';
	}
	if (good) {
		*ok = json_is_true(v);
		*at = timegm(&tm);
	}
	json_decref(o);
	return good;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

bool dbb_ops_verify_after_backup(const struct dbb_ops *ops)
{
	return ops->cfg->verify_after_backup;
}

dbb_code dbb_ops_verify(struct dbb_ops *ops, const char *name, bool wait,
                        struct dbb_verify_result *res, struct dbb_error *err)
{
	int fd = -1;
	struct stat sb;
	struct timespec t0;
	memset(res, 0, sizeof(*res));
	dbb_stats_init(&res->counts);
	dbb_code rc = dbb_storage_open_backup(ops->st, name, &fd, &sb, err);
	if (rc)
		return rc;
	if (!ops->drv->verify) {
		close(fd);
		return dbb_fail(err, DBB_ERR_NOT_IMPLEMENTED,
		                "test-restores are not supported for %s yet: the backup was not "
		                "touched (docs/operations.md, \"Test restores\")",
		                ops->drv->name);
	}
	rc = verify_begin(ops, name, wait, err);
	if (rc) {
		close(fd);
		return rc;
	}
	dbb_info("verify of %s started", name);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct verify_call call = {ops->drv, &res->counts};
	/* a driver whose verify checks what it reads needs no pass before */
	bool validate_first = !ops->drv->verify_validates;
	struct dbb_error verr = {0};
	dbb_progress_phase("verifying", (uint64_t)sb.st_size);
	rc = dbb_ops_read_listed(ops, fd, name, validate_first, verify_reader, &call, &verr);
	res->duration_seconds = seconds_since(&t0);
	res->verified_at = time(NULL);
	verify_end();
	close(fd);
	/* a cancelled job's verification says nothing of the backup */
	if (rc && dbb_progress_cancelled()) {
		dbb_info("verify of %s cancelled: nothing recorded", name);
		return dbb_fail(err, DBB_ERR_CANCELLED,
		                "the verification was cancelled; nothing was recorded");
	}
	if (rc && !is_verdict(rc)) {
		dbb_error("verify of %s could not run: %s", name, verr.message);
		*err = verr;
		return rc;
	}
	res->verify_ok = rc == DBB_OK;
	if (rc) {
		snprintf(res->reason, sizeof(res->reason), "%s", verr.message);
		dbb_stats_free(&res->counts);
		dbb_stats_init(&res->counts);
		dbb_warn("verify of %s: FAILED in %.2fs: %s", name, res->duration_seconds,
		         res->reason);
	} else {
		dbb_info("verify of %s: ok in %.2fs (%zu tables, %lld rows)", name,
		         res->duration_seconds, res->counts.ntables,
		         (long long)res->counts.total_rows);
	}
	char *text = record_text(res);
	struct dbb_error rerr = {0};
	if (!text)
		dbb_warn("verify of %s: its outcome was not recorded: out of memory", name);
	else if (dbb_storage_record_write(ops->st, name, "verify", text, &rerr))
		dbb_warn("verify of %s: its outcome was not recorded: %s", name, rerr.message);
	else
		res->recorded = true;
	free(text);
	return DBB_OK;
}

void dbb_verify_result_free(struct dbb_verify_result *res)
{
	dbb_stats_free(&res->counts);
}
