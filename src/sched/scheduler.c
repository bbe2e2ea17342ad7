/* The scheduler: cron-timed backups, prune after each, status and metrics. */
#include "dbbackupd/scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "dbbackupd/log.h"

struct dbb_scheduler {
	struct dbb_ops *ops;
	const struct dbb_schedule_config *cfg;
	struct dbb_schedule_parsed parsed;
	struct dbb_tz *tz; /* owned */
	struct dbb_metrics_target *metrics;
	struct dbb_notifier *notifier;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu; /* guards what follows */
	pthread_cond_t cv;
	bool stopping;
	bool busy;  /* a run is in progress */
	time_t due; /* newest due time reached (for the failing guard) */
	struct dbb_schedule_status st;
};

const struct dbb_tz *dbb_scheduler_tz(const struct dbb_scheduler *s)
{
	return s->tz;
}

static void publish_locked(struct dbb_scheduler *s)
{
	if (!s->metrics || !s->st.scheduled)
		return;
	struct dbb_metrics_schedule m = {
	    .last_success = s->st.last_success_at,
	    .last_failure = s->st.last_failure_at,
	    .next_run = s->st.next_run,
	    .consecutive_failures = s->st.consecutive_failures,
	};
	dbb_metrics_schedule(s->metrics, &m);
}

dbb_code dbb_scheduler_new(struct dbb_scheduler **out, struct dbb_ops *ops,
                           const struct dbb_schedule_config *cfg,
                           struct dbb_metrics_target *metrics, struct dbb_notifier *notifier,
                           struct dbb_error *err)
{
	struct dbb_scheduler *s = calloc(1, sizeof(*s));
	dbb_code rc;
	*out = NULL;
	if (!s)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	s->ops = ops;
	s->cfg = cfg;
	s->metrics = metrics;
	s->notifier = notifier;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	rc = dbb_schedule_config_parse(cfg, &s->parsed, err);
	if (!rc) {
		rc = dbb_tz_load(&s->tz, cfg->tz, getenv("TZDIR"), err);
		if (rc)
			dbb_error_prefix(err, "SCHEDULE_TZ");
	}
	if (rc) {
		dbb_scheduler_free(s);
		return rc;
	}
	s->st.scheduled = s->parsed.scheduled;
	snprintf(s->st.expression, sizeof(s->st.expression), "%s", cfg->schedule);
	snprintf(s->st.tz, sizeof(s->st.tz), "%s", cfg->tz);
	if (s->parsed.scheduled) {
		time_t now = time(NULL), prev = 0, next = 0;
		struct dbb_error e = {0};
		if (dbb_cron_prev(&s->parsed.cron, s->tz, now + 1, &prev, &e) == DBB_OK)
			s->due = prev;
		if (dbb_cron_next(&s->parsed.cron, s->tz, now, &next, &e) == DBB_OK)
			s->st.next_run = next;
		publish_locked(s);
	}
	*out = s;
	return DBB_OK;
}

/* ---- one run ---- */

static void audit_create(const struct dbb_scheduler *s, const char *file, dbb_code rc)
{
	char f[DBB_NAME_MAX + 16];
	dbb_log_quote(f, sizeof(f), file, true);
	dbb_info("audit action=create outcome=%s status=%u user=\"scheduler\" sub=\"\" role=- "
	         "file=%s target=%s",
	         rc ? dbb_code_name(rc) : "success", rc ? dbb_code_http_status(rc) : 200, f,
	         dbb_ops_target_name(s->ops));
}

static enum dbb_compression schedule_codec(const struct dbb_scheduler *s)
{
	const char *v = s->cfg->compress;
	if (strcasecmp(v, "gzip") == 0)
		return DBB_COMPRESSION_GZIP;
	if (strcasecmp(v, "zstd") == 0)
		return DBB_COMPRESSION_ZSTD;
	if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0)
		return DBB_COMPRESSION_NONE;
	return dbb_ops_default_compression(s->ops);
}

static bool stopping(struct dbb_scheduler *s)
{
	pthread_mutex_lock(&s->mu);
	bool v = s->stopping;
	pthread_mutex_unlock(&s->mu);
	return v;
}

/* Waits (in slices, so a stop is seen) until no operation holds the lock. */
static dbb_code wait_idle(struct dbb_scheduler *s, struct dbb_error *err)
{
	for (unsigned waited = 0;; waited++) {
		dbb_error_clear(err);
		dbb_code rc = dbb_ops_lock_wait(s->ops, "the scheduler's wait", 1000, err);
		if (rc == DBB_OK) {
			dbb_ops_unlock(s->ops);
			return DBB_OK;
		}
		if (rc != DBB_ERR_BUSY || waited >= DBB_SCHEDULER_LOCK_WAIT_S || stopping(s))
			return rc;
	}
}

static dbb_code prune_with(struct dbb_scheduler *s, time_t due, bool dry_run, const char *trigger,
                           struct dbb_prune_result *res, struct dbb_error *err)
{
	struct dbb_prune_policy p = {
	    .policy = &s->parsed.policy,
	    .guards = s->parsed.guards,
	    .tz = s->tz,
	    .lock_wait_ms = 60 * 1000,
	};
	struct timespec t0, t1;
	p.guards.due = due;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	dbb_code rc = dbb_ops_prune(s->ops, &p, dry_run, res, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (dry_run)
		return rc;
	size_t deleted = 0;
	for (size_t i = 0; i < res->count; i++)
		deleted += res->entries[i].deleted;
	if (rc)
		dbb_error("retention of target %s: prune failed: %s", dbb_ops_target_name(s->ops),
		          err->message);
	else
		dbb_info("retention of target %s: %zu kept, %zu deleted%s",
		         dbb_ops_target_name(s->ops), res->kept, deleted,
		         res->held_back ? " (held back: the newest backup is older than the last "
		                          "due time)"
		                        : "");
	struct dbb_notify_event ev = {
	    .target = dbb_ops_target_name(s->ops),
	    .operation = "prune",
	    .trigger = trigger,
	    .success = rc == DBB_OK,
	    .deleted = (unsigned)deleted,
	    .duration_seconds =
	        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	};
	if (rc)
		snprintf(ev.error, sizeof(ev.error), "%.250s", err->message);
	else if (res->held_back)
		snprintf(ev.error, sizeof(ev.error),
		         "nothing deleted: the newest backup is older than the last due time");
	dbb_notify(s->notifier, &ev);
	return rc;
}

dbb_code dbb_scheduler_prune(struct dbb_scheduler *s, bool dry_run, struct dbb_prune_result *res,
                             struct dbb_error *err)
{
	pthread_mutex_lock(&s->mu);
	time_t due = s->due;
	pthread_mutex_unlock(&s->mu);
	return prune_with(s, due, dry_run, "api", res, err);
}

/* VERIFY_AFTER_BACKUP (issue 20): a test-restore of the backup just made,
 * waiting for another verification to end; its outcome is recorded
 * (dbb_ops_verify) and notified as operation "verify" (a backup that fails
 * it, or a test that could not run, is a failure). */
static void verify_scheduled(struct dbb_scheduler *s, const char *file)
{
	struct dbb_verify_result vr;
	struct dbb_error err = {0};
	dbb_code rc = dbb_ops_verify(s->ops, file, true, &vr, &err);
	struct dbb_notify_event ev = {
	    .target = dbb_ops_target_name(s->ops),
	    .operation = "verify",
	    .trigger = "schedule",
	    .success = rc == DBB_OK && vr.verify_ok,
	    .duration_seconds = vr.duration_seconds,
	};
	snprintf(ev.file, sizeof(ev.file), "%s", file);
	if (rc)
		snprintf(ev.error, sizeof(ev.error), "the test-restore could not run: %.200s",
		         err.message);
	else if (!vr.verify_ok)
		snprintf(ev.error, sizeof(ev.error), "the test-restore failed: %.200s", vr.reason);
	dbb_verify_result_free(&vr);
	dbb_notify(s->notifier, &ev);
}

static void run_once(struct dbb_scheduler *s, time_t due)
{
	struct dbb_error err = {0};
	struct dbb_backup_result res = {0};
	struct dbb_dump_options opt = {0};
	time_t started = time(NULL);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	dbb_info("schedule of target %s: backup due at %lld starts", dbb_ops_target_name(s->ops),
	         (long long)due);
	dbb_code rc = wait_idle(s, &err);
	if (!rc)
		rc = dbb_ops_create_backup(s->ops, schedule_codec(s), &opt, &res, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	audit_create(s, rc ? "" : res.filename, rc);

	pthread_mutex_lock(&s->mu);
	bool recovery = rc == DBB_OK && s->st.consecutive_failures > 0;
	s->due = due;
	s->st.has_last = true;
	s->st.last_started = started;
	s->st.last_seconds =
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	s->st.last_success = rc == DBB_OK;
	snprintf(s->st.last_file, sizeof(s->st.last_file), "%s", rc ? "" : res.filename);
	snprintf(s->st.last_error, sizeof(s->st.last_error), "%.250s", rc ? err.message : "");
	if (rc) {
		s->st.consecutive_failures++;
		s->st.last_failure_at = time(NULL);
	} else {
		s->st.consecutive_failures = 0;
		s->st.last_success_at = time(NULL);
	}
	publish_locked(s);
	struct dbb_notify_event ev = {
	    .target = dbb_ops_target_name(s->ops),
	    .operation = "backup",
	    .trigger = "schedule",
	    .success = rc == DBB_OK,
	    .recovery = recovery,
	    .size_bytes = res.size_bytes,
	    .duration_seconds = s->st.last_seconds,
	};
	snprintf(ev.error, sizeof(ev.error), "%s", s->st.last_error);
	snprintf(ev.file, sizeof(ev.file), "%s", s->st.last_file);
	pthread_mutex_unlock(&s->mu);
	dbb_notify(s->notifier, &ev);
	if (rc) {
		dbb_error("schedule of target %s: backup failed: %s", dbb_ops_target_name(s->ops),
		          err.message);
		return;
	}
	if (dbb_ops_verify_after_backup(s->ops))
		verify_scheduled(s, res.filename);
	struct dbb_prune_result pr;
	struct dbb_error perr = {0};
	if (!dbb_retention_policy_empty(&s->parsed.policy))
		prune_with(s, due, false, "schedule", &pr, &perr);
	else
		memset(&pr, 0, sizeof(pr));
	dbb_prune_result_free(&pr);
}

/* One run, unless a stop came first; busy while it runs. */
static void run_guarded(struct dbb_scheduler *s, time_t due)
{
	pthread_mutex_lock(&s->mu);
	bool stop = s->stopping;
	s->busy = !stop;
	pthread_mutex_unlock(&s->mu);
	if (stop)
		return;
	run_once(s, due);
	pthread_mutex_lock(&s->mu);
	s->busy = false;
	pthread_mutex_unlock(&s->mu);
}

bool dbb_scheduler_busy(struct dbb_scheduler *s)
{
	if (!s)
		return false;
	pthread_mutex_lock(&s->mu);
	bool b = s->busy;
	pthread_mutex_unlock(&s->mu);
	return b;
}

/* The newest regular backup of this database, 0 if none. */
static time_t newest_backup(struct dbb_scheduler *s)
{
	struct dbb_backup_info *items = NULL;
	struct dbb_storage_stamp stamp;
	struct dbb_error err = {0};
	size_t n = 0;
	time_t newest = 0;
	if (dbb_ops_list(s->ops, &stamp, &items, &n, &err) == DBB_OK)
		for (size_t i = 0; i < n; i++)
			if (!items[i].safety &&
			    strcmp(items[i].db, dbb_ops_target_name(s->ops)) == 0 &&
			    items[i].created_at > newest)
				newest = items[i].created_at;
	free(items);
	return newest;
}

static unsigned jitter(const struct dbb_scheduler *s)
{
	unsigned r = 0;
	if (s->cfg->jitter == 0 || getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return 0;
	return r % (s->cfg->jitter + 1);
}

/* Sleeps until `at` (UTC) or a stop; true when stopping. */
static bool sleep_until(struct dbb_scheduler *s, time_t at)
{
	struct timespec until = {.tv_sec = at, .tv_nsec = 0};
	pthread_mutex_lock(&s->mu);
	while (!s->stopping && time(NULL) < at)
		pthread_cond_timedwait(&s->cv, &s->mu, &until);
	bool stop = s->stopping;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

static void *thread_main(void *arg)
{
	struct dbb_scheduler *s = arg;
	struct dbb_error err = {0};
	time_t now = time(NULL), last_due = 0, next = 0;
	if (s->cfg->catch_up &&
	    dbb_cron_prev(&s->parsed.cron, s->tz, now + 1, &last_due, &err) == DBB_OK &&
	    newest_backup(s) < last_due) {
		dbb_info("schedule of target %s: the newest backup is older than the last due "
		         "time: catch-up run now (SCHEDULE_CATCH_UP)",
		         dbb_ops_target_name(s->ops));
		run_guarded(s, last_due);
	}
	while (!stopping(s)) {
		now = time(NULL);
		if (dbb_cron_next(&s->parsed.cron, s->tz, now, &next, &err) != DBB_OK) {
			dbb_error("schedule of target %s: %s", dbb_ops_target_name(s->ops),
			          err.message);
			break;
		}
		pthread_mutex_lock(&s->mu);
		s->st.next_run = next;
		s->st.next_utoff = 0;
		publish_locked(s);
		pthread_mutex_unlock(&s->mu);
		if (sleep_until(s, next + (time_t)jitter(s)))
			break;
		run_guarded(s, next);
	}
	return NULL;
}

dbb_code dbb_scheduler_start(struct dbb_scheduler *s, struct dbb_error *err)
{
	if (!s->parsed.scheduled)
		return DBB_OK;
	if (pthread_create(&s->thread, NULL, thread_main, s) != 0)
		return dbb_fail(err, DBB_ERR_INTERNAL, "cannot start the scheduler thread");
	s->started = true;
	dbb_info("schedule of target %s: \"%s\" in %s; next run at %lld",
	         dbb_ops_target_name(s->ops), s->cfg->schedule, s->cfg->tz,
	         (long long)s->st.next_run);
	return DBB_OK;
}

void dbb_scheduler_status(struct dbb_scheduler *s, struct dbb_schedule_status *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->st;
	pthread_mutex_unlock(&s->mu);
	if (out->next_run)
		dbb_tz_to_local(s->tz, out->next_run, &(struct dbb_civil){0}, &out->next_utoff);
}

void dbb_scheduler_request_stop(struct dbb_scheduler *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void dbb_scheduler_stop(struct dbb_scheduler *s)
{
	if (!s || !s->started)
		return;
	dbb_scheduler_request_stop(s);
	pthread_join(s->thread, NULL);
	s->started = false;
}

void dbb_scheduler_free(struct dbb_scheduler *s)
{
	if (!s)
		return;
	dbb_scheduler_stop(s);
	dbb_tz_free(s->tz);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}
