/* Prometheus metrics: process-wide counters kept with lock-free atomics
 * (no mutex on the request path), rendered as Prometheus text exposition
 * format 0.0.4 by GET /metrics. The server owns one struct dbb_metrics;
 * handlers record into it through req->srv->metrics. */
#ifndef DBBACKUPD_METRICS_H
#define DBBACKUPD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dbbackupd/error.h"

struct dbb_metrics;

/* One label set per route of the router's table: method and path template
 * ("/backup/download/{filename}"). Requests that match no route are counted
 * under route="unmatched". */
struct dbb_metrics_route {
	const char *method;
	const char *path;
};

enum dbb_metric_op { DBB_METRIC_BACKUP, DBB_METRIC_RESTORE, DBB_METRIC_OP_COUNT };

/* success; rejected: the request was refused before or without changing
 * anything (4xx: bad name, not found, invalid backup, busy); failed: the
 * operation itself failed (5xx). */
enum dbb_metric_outcome {
	DBB_OUTCOME_SUCCESS,
	DBB_OUTCOME_REJECTED,
	DBB_OUTCOME_FAILED,
	DBB_OUTCOME_COUNT
};

enum dbb_auth_failure {
	DBB_AUTHFAIL_MISSING,     /* no bearer token */
	DBB_AUTHFAIL_EXPIRED,     /* a token past its exp */
	DBB_AUTHFAIL_INVALID,     /* any other bad token */
	DBB_AUTHFAIL_FORBIDDEN,   /* valid token, role too low */
	DBB_AUTHFAIL_UNAVAILABLE, /* no verification keys */
	DBB_AUTHFAIL_COUNT
};

enum dbb_metric_bytes {
	DBB_BYTES_BACKUP_WRITTEN,  /* backup files written by create */
	DBB_BYTES_RESTORE_READ,    /* backup files read by restore */
	DBB_BYTES_UPLOAD_RECEIVED, /* uploaded backup bytes spooled */
	DBB_BYTES_COUNT
};

/* A target's series (docs/targets.md): its operations, bytes, last backup
 * and what is on disk. With more than one target each carries
 * target="NAME"; a daemon of one target renders exactly as before targets
 * existed (no target label). */
struct dbb_metrics_target;
struct dbb_metrics_target_info {
	const char *name;
	const char *database;
};

/* Copies nothing: routes, names and databases must outlive the metrics.
 * dbb_metrics_new: one target (no target label). */
dbb_code dbb_metrics_new(struct dbb_metrics **out, const char *database,
                         const struct dbb_metrics_route *routes, size_t nroutes,
                         struct dbb_error *err);
dbb_code dbb_metrics_new_targets(struct dbb_metrics **out,
                                 const struct dbb_metrics_target_info *targets, size_t ntargets,
                                 const struct dbb_metrics_route *routes, size_t nroutes,
                                 struct dbb_error *err);
/* The i-th target's series (in the order given); NULL past the end. */
struct dbb_metrics_target *dbb_metrics_target(struct dbb_metrics *m, size_t i);
void dbb_metrics_free(struct dbb_metrics *m);

/* route == nroutes: unmatched. */
void dbb_metrics_request(struct dbb_metrics *m, size_t route, unsigned status, double seconds);
/* rc is the operation's result code: mapped to the outcome. */
void dbb_metrics_operation(struct dbb_metrics_target *m, enum dbb_metric_op op, dbb_code rc,
                           double seconds);
/* A running operation (gauge): +1 when it starts, -1 when it ends. */
void dbb_metrics_running(struct dbb_metrics_target *m, enum dbb_metric_op op, int delta);
void dbb_metrics_bytes(struct dbb_metrics_target *m, enum dbb_metric_bytes kind, uint64_t n);
void dbb_metrics_auth_failure(struct dbb_metrics *m, enum dbb_auth_failure reason);
/* The last backup the daemon itself made (time of success). */
void dbb_metrics_backup_succeeded(struct dbb_metrics_target *m, time_t when);
/* ... its size and how long it took. */
void dbb_metrics_last_backup(struct dbb_metrics_target *m, uint64_t bytes, double seconds);

/* A target's offsite copies (offsite.h): files waiting for upload, and the
 * time of the last verified upload (0: none yet). Its gauges are rendered
 * once this has been called. */
void dbb_metrics_offsite(struct dbb_metrics_target *m, uint64_t pending, time_t last_success);

enum dbb_metric_outcome dbb_metrics_outcome(dbb_code rc);

/* issue 17: a target's schedule state (set by its scheduler after each run
 * and each computation of the next due time; rendered only once set), and
 * its notifications that could not be delivered. */
struct dbb_metrics_schedule {
	time_t last_success, last_failure, next_run; /* 0: none */
	unsigned consecutive_failures;
};
void dbb_metrics_schedule(struct dbb_metrics_target *m, const struct dbb_metrics_schedule *s);
void dbb_metrics_notification_failed(struct dbb_metrics_target *m);

/* What is on disk, read by the /metrics handler at scrape time. */
struct dbb_metrics_disk {
	bool ok; /* false: listing failed (only the error gauge is set) */
	uint64_t backups, backup_bytes;
	uint64_t safety, safety_bytes;
	time_t newest_backup; /* newest regular backup's creation time, 0 if none */
	time_t last_verified; /* newest successful test-restore (issue 20), 0 if none */
	uint64_t free_bytes;
	int database_up; /* the database's health check: 1, 0; -1 not checked */
};

/* The whole exposition as a malloc'd NUL-terminated string; NULL when out
 * of memory. disk: one per target, in the targets' order. */
char *dbb_metrics_render(struct dbb_metrics *m, const struct dbb_metrics_disk *disk, size_t *len);

#endif
