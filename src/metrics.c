/* Prometheus counters with lock-free atomics, and their text rendering. */
#include "dbbackupd/metrics.h"

#include <dirent.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Statuses the daemon answers with; anything else is counted as "other". */
static const unsigned statuses[] = {200, 206, 301, 304, 400, 401, 403, 404, 405,
                                    409, 413, 415, 416, 422, 500, 503, 507};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1) /* + other */

/* Upper bounds (seconds) of the backup/restore duration histogram. */
static const double buckets[] = {0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 10800};
#define NBUCKET (sizeof(buckets) / sizeof(buckets[0]))

/* ... and of the HTTP request duration histogram (a list answers in
 * milliseconds, a download or a restore takes minutes to hours). */
static const double request_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                         2.5,   5,    10,    30,   60,  300,  900, 3600};
#define NRBUCKET (sizeof(request_buckets) / sizeof(request_buckets[0]))

static const char *const op_names[DBB_METRIC_OP_COUNT] = {"backup", "restore"};
static const char *const outcome_names[DBB_OUTCOME_COUNT] = {"success", "rejected", "failed"};
static const char *const authfail_names[DBB_AUTHFAIL_COUNT] = {
    "missing_token", "expired_token", "invalid_token", "insufficient_role", "auth_unavailable"};
/* each kind of bytes its own counter: they do not add up to anything */
static const struct {
	const char *name, *help;
} bytes_metrics[DBB_BYTES_COUNT] = {
    {"dbbackupd_backup_written_bytes_total",
     "Bytes of backup files written by create (API and schedule)."},
    {"dbbackupd_restore_read_bytes_total", "Bytes of backup files read by finished restores."},
    {"dbbackupd_upload_received_bytes_total",
     "Bytes of uploaded backups received and handed to a restore."},
};

typedef _Atomic uint64_t counter;

struct op_series {
	counter count;
	counter sum_us;
	counter bucket[NBUCKET]; /* non-cumulative; summed when rendered */
};

struct request_series {
	counter count;
	counter sum_us;
	counter bucket[NRBUCKET]; /* non-cumulative; summed when rendered */
};

/* One target's series. */
struct dbb_metrics_target {
	const char *name; /* NULL: no target label (a daemon of one target) */
	const char *database;
	struct op_series ops[DBB_METRIC_OP_COUNT][DBB_OUTCOME_COUNT];
	_Atomic int64_t running[DBB_METRIC_OP_COUNT];
	counter bytes[DBB_BYTES_COUNT];
	_Atomic int64_t last_success;
	/* the last backup this process made: its size and duration */
	_Atomic uint64_t last_backup_bytes, last_backup_us;
	_Atomic int64_t last_restore[DBB_OUTCOME_COUNT]; /* Unix time, by outcome */
	/* issue 17: its schedule and notifications */
	atomic_bool scheduled;
	_Atomic int64_t sched_last_success, sched_last_failure, sched_next_run;
	_Atomic int64_t sched_failures;
	counter notify_failed;
	atomic_bool offsite_on; /* its offsite copies report (dbb_metrics_offsite) */
	_Atomic int64_t offsite_pending, offsite_last_success;
};

struct dbb_metrics {
	const char *database; /* the default target's */
	struct dbb_metrics_target *targets;
	size_t ntargets;
	const struct dbb_metrics_route *routes;
	size_t nroutes;
	counter *requests;                  /* [(nroutes + 1) * NSTATUS] */
	counter *not_allowed;               /* [nroutes]: 405s, by the route of their path */
	struct request_series *request_dur; /* [nroutes + 1] */
	counter authfail[DBB_AUTHFAIL_COUNT];
	time_t started;
};

dbb_code dbb_metrics_new(struct dbb_metrics **out, const char *database,
                         const struct dbb_metrics_route *routes, size_t nroutes,
                         struct dbb_error *err)
{
	const struct dbb_metrics_target_info one = {NULL, database};
	return dbb_metrics_new_targets(out, &one, 1, routes, nroutes, err);
}

dbb_code dbb_metrics_new_targets(struct dbb_metrics **out,
                                 const struct dbb_metrics_target_info *targets, size_t ntargets,
                                 const struct dbb_metrics_route *routes, size_t nroutes,
                                 struct dbb_error *err)
{
	struct dbb_metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	m->database = targets[0].database;
	m->routes = routes;
	m->nroutes = nroutes;
	m->requests = calloc((nroutes + 1) * NSTATUS, sizeof(counter));
	m->not_allowed = calloc(nroutes + 1, sizeof(counter));
	m->request_dur = calloc(nroutes + 1, sizeof(*m->request_dur));
	m->targets = calloc(ntargets, sizeof(*m->targets));
	if (!m->requests || !m->not_allowed || !m->request_dur || !m->targets) {
		dbb_metrics_free(m);
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	}
	m->ntargets = ntargets;
	for (size_t i = 0; i < ntargets; i++) {
		m->targets[i].name = ntargets > 1 ? targets[i].name : NULL;
		m->targets[i].database = targets[i].database;
	}
	m->started = time(NULL);
	*out = m;
	return DBB_OK;
}

struct dbb_metrics_target *dbb_metrics_target(struct dbb_metrics *m, size_t i)
{
	return i < m->ntargets ? &m->targets[i] : NULL;
}

void dbb_metrics_free(struct dbb_metrics *m)
{
	if (!m)
		return;
	free(m->requests);
	free(m->not_allowed);
	free(m->request_dur);
	free(m->targets);
	free(m);
}

static size_t status_index(unsigned status)
{
	for (size_t i = 0; i + 1 < NSTATUS; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUS - 1;
}

static uint64_t to_us(double seconds)
{
	return seconds > 0 ? (uint64_t)(seconds * 1e6) : 0;
}

/* One observation of a histogram: its (non-cumulative) bucket, sum and
 * count. */
static void observe(counter *bucket, const double *bounds, size_t n, counter *sum_us,
                    counter *count, double seconds)
{
	size_t b = 0;
	while (b < n && seconds > bounds[b])
		b++;
	if (b < n)
		atomic_fetch_add_explicit(&bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(sum_us, to_us(seconds), memory_order_relaxed);
	atomic_fetch_add_explicit(count, 1, memory_order_relaxed);
}

void dbb_metrics_request(struct dbb_metrics *m, size_t route, unsigned status, double seconds)
{
	if (route > m->nroutes)
		route = m->nroutes;
	if (status == 405 && route < m->nroutes) {
		/* a method the path does not take: its path's count, and the
		 * durations of requests no route served */
		atomic_fetch_add_explicit(&m->not_allowed[route], 1, memory_order_relaxed);
		route = m->nroutes;
	} else {
		atomic_fetch_add_explicit(&m->requests[route * NSTATUS + status_index(status)], 1,
		                          memory_order_relaxed);
	}
	struct request_series *s = &m->request_dur[route];
	observe(s->bucket, request_buckets, NRBUCKET, &s->sum_us, &s->count, seconds);
}

enum dbb_metric_outcome dbb_metrics_outcome(dbb_code rc)
{
	if (rc == DBB_OK)
		return DBB_OUTCOME_SUCCESS;
	unsigned status = dbb_code_http_status(rc);
	return status >= 400 && status < 500 ? DBB_OUTCOME_REJECTED : DBB_OUTCOME_FAILED;
}

void dbb_metrics_operation(struct dbb_metrics_target *m, enum dbb_metric_op op, dbb_code rc,
                           double seconds)
{
	enum dbb_metric_outcome outcome = dbb_metrics_outcome(rc);
	struct op_series *s = &m->ops[op][outcome];
	if (op == DBB_METRIC_RESTORE)
		atomic_store(&m->last_restore[outcome], (int64_t)time(NULL));
	observe(s->bucket, buckets, NBUCKET, &s->sum_us, &s->count, seconds);
}

void dbb_metrics_running(struct dbb_metrics_target *m, enum dbb_metric_op op, int delta)
{
	atomic_fetch_add_explicit(&m->running[op], delta, memory_order_relaxed);
}

void dbb_metrics_bytes(struct dbb_metrics_target *m, enum dbb_metric_bytes kind, uint64_t n)
{
	atomic_fetch_add_explicit(&m->bytes[kind], n, memory_order_relaxed);
}

void dbb_metrics_auth_failure(struct dbb_metrics *m, enum dbb_auth_failure reason)
{
	atomic_fetch_add_explicit(&m->authfail[reason], 1, memory_order_relaxed);
}

void dbb_metrics_backup_succeeded(struct dbb_metrics_target *m, time_t when)
{
	int64_t prev = atomic_load_explicit(&m->last_success, memory_order_relaxed);
	while (prev < (int64_t)when &&
	       !atomic_compare_exchange_weak_explicit(&m->last_success, &prev, (int64_t)when,
	                                              memory_order_relaxed, memory_order_relaxed))
		;
}

void dbb_metrics_last_backup(struct dbb_metrics_target *m, uint64_t bytes, double seconds)
{
	atomic_store(&m->last_backup_bytes, bytes);
	atomic_store(&m->last_backup_us, to_us(seconds));
}

void dbb_metrics_schedule(struct dbb_metrics_target *m, const struct dbb_metrics_schedule *s)
{
	atomic_store(&m->sched_last_success, (int64_t)s->last_success);
	atomic_store(&m->sched_last_failure, (int64_t)s->last_failure);
	atomic_store(&m->sched_next_run, (int64_t)s->next_run);
	atomic_store(&m->sched_failures, (int64_t)s->consecutive_failures);
	atomic_store(&m->scheduled, true);
}

void dbb_metrics_notification_failed(struct dbb_metrics_target *m)
{
	atomic_fetch_add_explicit(&m->notify_failed, 1, memory_order_relaxed);
}

void dbb_metrics_offsite(struct dbb_metrics_target *m, uint64_t pending, time_t last_success)
{
	atomic_store(&m->offsite_pending, (int64_t)pending);
	atomic_store(&m->offsite_last_success, (int64_t)last_success);
	atomic_store(&m->offsite_on, true);
}

static uint64_t get(counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static void help(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* A histogram's series under name{labels}: cumulative buckets, +Inf,
 * sum and count. */
static void render_histogram(FILE *f, const char *name, const char *labels, counter *bucket,
                             const double *bounds, size_t n, counter *sum_us, counter *count)
{
	uint64_t cum = 0, total = get(count);
	for (size_t b = 0; b < n; b++) {
		cum += get(&bucket[b]);
		fprintf(f, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels, bounds[b],
		        (unsigned long long)cum);
	}
	fprintf(f, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels, (unsigned long long)total);
	fprintf(f, "%s_sum{%s} %.6f\n", name, labels, (double)get(sum_us) / 1e6);
	fprintf(f, "%s_count{%s} %llu\n", name, labels, (unsigned long long)total);
}

/* The method and route labels of series r (nroutes: no route matched;
 * its method label is "other", never empty). */
static void route_labels(const struct dbb_metrics *m, size_t r, const char **method,
                         const char **path)
{
	*method = r < m->nroutes ? m->routes[r].method : "other";
	*path = r < m->nroutes ? m->routes[r].path : "unmatched";
}

static void render_requests(struct dbb_metrics *m, FILE *f)
{
	const char *method, *path;
	help(f, "dbbackupd_http_requests_total", "counter",
	     "HTTP requests answered, by route and status (a 405: method \"other\" and the "
	     "route of its path; no route: \"unmatched\").");
	for (size_t r = 0; r <= m->nroutes; r++) {
		route_labels(m, r, &method, &path);
		for (size_t s = 0; s < NSTATUS; s++) {
			uint64_t n = get(&m->requests[r * NSTATUS + s]);
			if (!n)
				continue;
			char st[16];
			if (s + 1 < NSTATUS)
				snprintf(st, sizeof(st), "%u", statuses[s]);
			else
				snprintf(st, sizeof(st), "other");
			fprintf(f,
			        "dbbackupd_http_requests_total{method=\"%s\",route=\"%s\","
			        "status=\"%s\"} %llu\n",
			        method, path, st, (unsigned long long)n);
		}
		uint64_t n405 = r < m->nroutes ? get(&m->not_allowed[r]) : 0;
		if (n405)
			fprintf(f,
			        "dbbackupd_http_requests_total{method=\"other\",route=\"%s\","
			        "status=\"405\"} %llu\n",
			        path, (unsigned long long)n405);
	}
	help(f, "dbbackupd_http_request_duration_seconds", "histogram",
	     "Time from the first byte of a request to the end of its response, by route.");
	for (size_t r = 0; r <= m->nroutes; r++) {
		struct request_series *s = &m->request_dur[r];
		if (!get(&s->count))
			continue;
		route_labels(m, r, &method, &path);
		char labels[300];
		snprintf(labels, sizeof(labels), "method=\"%s\",route=\"%s\"", method, path);
		render_histogram(f, "dbbackupd_http_request_duration_seconds", labels, s->bucket,
		                 request_buckets, NRBUCKET, &s->sum_us, &s->count);
	}
}

/* The labels of a target's series: database="x" and, when the daemon
 * serves several targets, target="NAME" (label names in order). */
static void target_labels(const struct dbb_metrics_target *t, char *buf, size_t cap)
{
	if (t->name)
		snprintf(buf, cap, "database=\"%s\",target=\"%s\"", t->database, t->name);
	else
		snprintf(buf, cap, "database=\"%s\"", t->database);
}

/* ",target=\"NAME\"" or "" (for series without a database label). */
static void target_label(const struct dbb_metrics_target *t, char *buf, size_t cap)
{
	if (t->name)
		snprintf(buf, cap, "target=\"%s\",", t->name);
	else
		buf[0] = '\0';
}

static void render_ops(struct dbb_metrics *m, FILE *f)
{
	char tl[128];
	help(f, "dbbackupd_operations_total", "counter",
	     "Backups and restores finished, by database and outcome (success, rejected: "
	     "refused without changing anything, failed).");
	for (size_t t = 0; t < m->ntargets; t++) {
		target_labels(&m->targets[t], tl, sizeof(tl));
		for (size_t o = 0; o < DBB_METRIC_OP_COUNT; o++)
			for (size_t r = 0; r < DBB_OUTCOME_COUNT; r++)
				fprintf(f,
				        "dbbackupd_operations_total{operation=\"%s\",%s,"
				        "outcome=\"%s\"} %llu\n",
				        op_names[o], tl, outcome_names[r],
				        (unsigned long long)get(&m->targets[t].ops[o][r].count));
	}
	help(f, "dbbackupd_operation_duration_seconds", "histogram",
	     "Duration of backups and restores, by database and outcome.");
	for (size_t t = 0; t < m->ntargets; t++) {
		target_labels(&m->targets[t], tl, sizeof(tl));
		for (size_t o = 0; o < DBB_METRIC_OP_COUNT; o++) {
			for (size_t r = 0; r < DBB_OUTCOME_COUNT; r++) {
				struct op_series *s = &m->targets[t].ops[o][r];
				char labels[256];
				snprintf(labels, sizeof(labels),
				         "operation=\"%s\",%s,outcome=\"%s\"", op_names[o], tl,
				         outcome_names[r]);
				render_histogram(f, "dbbackupd_operation_duration_seconds", labels,
				                 s->bucket, buckets, NBUCKET, &s->sum_us,
				                 &s->count);
			}
		}
	}
	help(f, "dbbackupd_operations_running", "gauge", "Backups and restores running now.");
	for (size_t t = 0; t < m->ntargets; t++) {
		target_labels(&m->targets[t], tl, sizeof(tl));
		for (size_t o = 0; o < DBB_METRIC_OP_COUNT; o++)
			fprintf(f, "dbbackupd_operations_running{operation=\"%s\",%s} %lld\n",
			        op_names[o], tl,
			        (long long)atomic_load_explicit(&m->targets[t].running[o],
			                                        memory_order_relaxed));
	}
	for (size_t k = 0; k < DBB_BYTES_COUNT; k++) {
		help(f, bytes_metrics[k].name, "counter", bytes_metrics[k].help);
		for (size_t t = 0; t < m->ntargets; t++) {
			target_labels(&m->targets[t], tl, sizeof(tl));
			fprintf(f, "%s{%s} %llu\n", bytes_metrics[k].name, tl,
			        (unsigned long long)get(&m->targets[t].bytes[k]));
		}
	}
	help(f, "dbbackupd_last_backup_size_bytes", "gauge",
	     "Size of the last backup this process made; 0 if none yet.");
	for (size_t t = 0; t < m->ntargets; t++) {
		target_labels(&m->targets[t], tl, sizeof(tl));
		fprintf(f, "dbbackupd_last_backup_size_bytes{%s} %llu\n", tl,
		        (unsigned long long)atomic_load(&m->targets[t].last_backup_bytes));
	}
	help(f, "dbbackupd_last_backup_duration_seconds", "gauge",
	     "Duration of the last backup this process made; 0 if none yet.");
	for (size_t t = 0; t < m->ntargets; t++) {
		target_labels(&m->targets[t], tl, sizeof(tl));
		fprintf(f, "dbbackupd_last_backup_duration_seconds{%s} %.6f\n", tl,
		        (double)atomic_load(&m->targets[t].last_backup_us) / 1e6);
	}
	help(f, "dbbackupd_last_restore_timestamp_seconds", "gauge",
	     "Unix time of the last restore that ended with each outcome; 0 if none. The "
	     "last restore failed when outcome=\"failed\" is the newest.");
	for (size_t t = 0; t < m->ntargets; t++) {
		target_labels(&m->targets[t], tl, sizeof(tl));
		for (size_t r = 0; r < DBB_OUTCOME_COUNT; r++)
			fprintf(
			    f, "dbbackupd_last_restore_timestamp_seconds{%s,outcome=\"%s\"} %lld\n",
			    tl, outcome_names[r],
			    (long long)atomic_load(&m->targets[t].last_restore[r]));
	}
}

/* disk: one per target. */
static void render_disk(struct dbb_metrics *m, const struct dbb_metrics_disk *disk, FILE *f)
{
	char tl[128];
	help(f, "dbbackupd_last_successful_backup_timestamp_seconds", "gauge",
	     "Unix time of the newest successful backup (made by this process or found in "
	     "the backups directory); 0 if none.");
	for (size_t t = 0; t < m->ntargets; t++) {
		const struct dbb_metrics_disk *d = &disk[t];
		int64_t last =
		    atomic_load_explicit(&m->targets[t].last_success, memory_order_relaxed);
		if (d->ok && (int64_t)d->newest_backup > last)
			last = (int64_t)d->newest_backup;
		target_labels(&m->targets[t], tl, sizeof(tl));
		fprintf(f, "dbbackupd_last_successful_backup_timestamp_seconds{%s} %lld\n", tl,
		        (long long)last);
	}
	help(f, "dbbackupd_last_verified_timestamp_seconds", "gauge",
	     "Unix time of the newest successful test-restore (POST /backup/verify) of a "
	     "backup still in the backups directory; 0 if none.");
	for (size_t t = 0; t < m->ntargets; t++) {
		target_labels(&m->targets[t], tl, sizeof(tl));
		fprintf(f, "dbbackupd_last_verified_timestamp_seconds{%s} %lld\n", tl,
		        (long long)(disk[t].ok ? disk[t].last_verified : 0));
	}
	help(f, "dbbackupd_database_up", "gauge",
	     "1 if the database answered its health check (at most 2 s old), 0 if not.");
	for (size_t t = 0; t < m->ntargets; t++) {
		if (disk[t].database_up < 0)
			continue;
		target_labels(&m->targets[t], tl, sizeof(tl));
		fprintf(f, "dbbackupd_database_up{%s} %d\n", tl, disk[t].database_up);
	}
	help(f, "dbbackupd_backup_dir_scrape_ok", "gauge",
	     "1 if the backups directory could be read for this scrape.");
	for (size_t t = 0; t < m->ntargets; t++) {
		if (m->targets[t].name)
			fprintf(f, "dbbackupd_backup_dir_scrape_ok{target=\"%s\"} %d\n",
			        m->targets[t].name, disk[t].ok ? 1 : 0);
		else
			fprintf(f, "dbbackupd_backup_dir_scrape_ok %d\n", disk[t].ok ? 1 : 0);
	}
	bool any_ok = false;
	for (size_t t = 0; t < m->ntargets; t++)
		any_ok = any_ok || disk[t].ok;
	if (!any_ok)
		return; /* only the error gauge */
	help(f, "dbbackupd_backups_on_disk", "gauge",
	     "Backup files in the backups directory, by type.");
	for (size_t t = 0; t < m->ntargets; t++) {
		if (!disk[t].ok)
			continue;
		target_label(&m->targets[t], tl, sizeof(tl));
		fprintf(f, "dbbackupd_backups_on_disk{%stype=\"backup\"} %llu\n", tl,
		        (unsigned long long)disk[t].backups);
		fprintf(f, "dbbackupd_backups_on_disk{%stype=\"safety_backup\"} %llu\n", tl,
		        (unsigned long long)disk[t].safety);
	}
	help(f, "dbbackupd_backups_on_disk_bytes", "gauge",
	     "Bytes of the backup files in the backups directory, by type.");
	for (size_t t = 0; t < m->ntargets; t++) {
		if (!disk[t].ok)
			continue;
		target_label(&m->targets[t], tl, sizeof(tl));
		fprintf(f, "dbbackupd_backups_on_disk_bytes{%stype=\"backup\"} %llu\n", tl,
		        (unsigned long long)disk[t].backup_bytes);
		fprintf(f, "dbbackupd_backups_on_disk_bytes{%stype=\"safety_backup\"} %llu\n", tl,
		        (unsigned long long)disk[t].safety_bytes);
	}
	help(f, "dbbackupd_backup_dir_free_bytes", "gauge",
	     "Bytes free for the daemon in the backups directory's file system.");
	for (size_t t = 0; t < m->ntargets; t++) {
		if (!disk[t].ok)
			continue;
		if (m->targets[t].name)
			fprintf(f, "dbbackupd_backup_dir_free_bytes{target=\"%s\"} %llu\n",
			        m->targets[t].name, (unsigned long long)disk[t].free_bytes);
		else
			fprintf(f, "dbbackupd_backup_dir_free_bytes %llu\n",
			        (unsigned long long)disk[t].free_bytes);
	}
}

/* The schedule's gauges of every target that has a schedule (none: not
 * rendered), and every target's failed notifications. */
static void render_schedule(struct dbb_metrics *m, FILE *f)
{
	static const struct {
		const char *name, *help;
		size_t at;
	} gauges[] = {
	    {"dbbackupd_last_success_timestamp_seconds",
	     "Unix time the last scheduled backup succeeded; 0 if none yet.",
	     offsetof(struct dbb_metrics_target, sched_last_success)},
	    {"dbbackupd_last_failure_timestamp_seconds",
	     "Unix time the last scheduled backup failed; 0 if none.",
	     offsetof(struct dbb_metrics_target, sched_last_failure)},
	    {"dbbackupd_next_run_timestamp_seconds",
	     "Unix time the next scheduled backup is due (BACKUP_SCHEDULE).",
	     offsetof(struct dbb_metrics_target, sched_next_run)},
	    {"dbbackupd_consecutive_failures",
	     "Scheduled backups that failed in a row since the last success.",
	     offsetof(struct dbb_metrics_target, sched_failures)},
	};
	char tl[128];
	bool any = false;
	for (size_t t = 0; t < m->ntargets; t++)
		any = any || atomic_load(&m->targets[t].scheduled);
	for (size_t i = 0; any && i < sizeof(gauges) / sizeof(gauges[0]); i++) {
		help(f, gauges[i].name, "gauge", gauges[i].help);
		for (size_t t = 0; t < m->ntargets; t++) {
			struct dbb_metrics_target *mt = &m->targets[t];
			if (!atomic_load(&mt->scheduled))
				continue;
			_Atomic int64_t *v = (_Atomic int64_t *)(void *)((char *)mt + gauges[i].at);
			target_labels(mt, tl, sizeof(tl));
			fprintf(f, "%s{%s} %lld\n", gauges[i].name, tl, (long long)atomic_load(v));
		}
	}
	help(f, "dbbackupd_notifications_failed_total", "counter",
	     "Notifications (webhook, mail) that could not be delivered after their retries.");
	for (size_t t = 0; t < m->ntargets; t++) {
		target_labels(&m->targets[t], tl, sizeof(tl));
		fprintf(f, "dbbackupd_notifications_failed_total{%s} %llu\n", tl,
		        (unsigned long long)get(&m->targets[t].notify_failed));
	}
}

/* The offsite gauges of every target with offsite copies (none: not
 * rendered). */
static void render_offsite(struct dbb_metrics *m, FILE *f)
{
	char tl[128];
	bool any = false;
	for (size_t t = 0; t < m->ntargets; t++)
		any = any || atomic_load(&m->targets[t].offsite_on);
	if (!any)
		return;
	help(f, "dbbackupd_offsite_pending", "gauge",
	     "Backups waiting for their offsite copy (queued or retrying).");
	for (size_t t = 0; t < m->ntargets; t++) {
		if (!atomic_load(&m->targets[t].offsite_on))
			continue;
		target_labels(&m->targets[t], tl, sizeof(tl));
		fprintf(f, "dbbackupd_offsite_pending{%s} %lld\n", tl,
		        (long long)atomic_load(&m->targets[t].offsite_pending));
	}
	help(f, "dbbackupd_offsite_last_success_timestamp_seconds", "gauge",
	     "Unix time of the last offsite copy uploaded and verified; 0 if none.");
	for (size_t t = 0; t < m->ntargets; t++) {
		if (!atomic_load(&m->targets[t].offsite_on))
			continue;
		target_labels(&m->targets[t], tl, sizeof(tl));
		fprintf(f, "dbbackupd_offsite_last_success_timestamp_seconds{%s} %lld\n", tl,
		        (long long)atomic_load(&m->targets[t].offsite_last_success));
	}
}

/* The standard process_* metrics of Prometheus's client libraries, read
 * from /proc/self (Linux): CPU time, memory, file descriptors, start time.
 * A value that cannot be read is left out, never made up. */
static void render_process(const struct dbb_metrics *m, FILE *f)
{
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	unsigned long long utime = 0, stime = 0, start = 0, vsize = 0;
	long long rss = 0;
	bool have_stat = false;
	char buf[1024];
	FILE *st = fopen("/proc/self/stat", "re");
	if (st) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, st);
		buf[n] = '\0';
		fclose(st);
		/* fields after the command name, which may hold spaces and ')' */
		const char *p = strrchr(buf, ')');
		have_stat =
		    p && tick > 0 &&
		    sscanf(p + 2,
		           "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d "
		           "%*d %*d %*d %llu %llu %lld",
		           &utime, &stime, &start, &vsize, &rss) == 5;
	}
	if (have_stat) {
		help(f, "process_cpu_seconds_total", "counter", "User and system CPU time spent.");
		fprintf(f, "process_cpu_seconds_total %.2f\n",
		        (double)(utime + stime) / (double)tick);
		help(f, "process_resident_memory_bytes", "gauge", "Resident memory size.");
		fprintf(f, "process_resident_memory_bytes %lld\n", rss * (long long)page);
		help(f, "process_virtual_memory_bytes", "gauge", "Virtual memory size.");
		fprintf(f, "process_virtual_memory_bytes %llu\n", vsize);
	}
	/* start time: boot time (btime of /proc/stat) + the process's start */
	long long btime = -1;
	FILE *ps = have_stat ? fopen("/proc/stat", "re") : NULL;
	while (ps && fgets(buf, sizeof(buf), ps))
		if (sscanf(buf, "btime %lld", &btime) == 1)
			break;
	if (ps)
		fclose(ps);
	help(f, "process_start_time_seconds", "gauge",
	     "Start time of the process since the Unix epoch, in seconds.");
	if (btime >= 0)
		fprintf(f, "process_start_time_seconds %.2f\n",
		        (double)btime + (double)start / (double)tick);
	else
		fprintf(f, "process_start_time_seconds %lld\n", (long long)m->started);
	long long fds = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL)
			fds += e->d_name[0] != '.';
		closedir(d);
		help(f, "process_open_fds", "gauge", "Number of open file descriptors.");
		fprintf(f, "process_open_fds %lld\n", fds - 1); /* less the listing's own */
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		help(f, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
		fprintf(f, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	}
}

char *dbb_metrics_render(struct dbb_metrics *m, const struct dbb_metrics_disk *disk, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return NULL;
	help(f, "dbbackupd_build_info", "gauge", "Version and database of this daemon.");
	fprintf(f, "dbbackupd_build_info{version=\"%s\",database=\"%s\"} 1\n", DBB_VERSION,
	        m->database);
	help(f, "dbbackupd_start_time_seconds", "gauge", "Unix time the daemon started.");
	fprintf(f, "dbbackupd_start_time_seconds %lld\n", (long long)m->started);
	render_requests(m, f);
	render_ops(m, f);
	help(f, "dbbackupd_auth_failures_total", "counter",
	     "Requests refused by authentication or the role check, by reason.");
	for (size_t r = 0; r < DBB_AUTHFAIL_COUNT; r++)
		fprintf(f, "dbbackupd_auth_failures_total{reason=\"%s\"} %llu\n", authfail_names[r],
		        (unsigned long long)get(&m->authfail[r]));
	render_disk(m, disk, f);
	render_schedule(m, f);
	render_offsite(m, f);
	render_process(m, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}
