/* The scheduler: one per ops object. With BACKUP_SCHEDULE set it runs one
 * thread that sleeps until the next due time (plus SCHEDULE_JITTER), then
 * makes the same backup as POST /backup/create (dbb_ops_create_backup: the
 * same lock, files and an audit line with user="scheduler"), waiting for
 * the lock up to DBB_SCHEDULER_LOCK_WAIT_S when another operation holds it,
 * and after a success prunes (prune.h) with the KEEP_* policy. At start-up,
 * with SCHEDULE_CATCH_UP, one run is made at once when the newest backup is
 * older than the last due time. Every run is reported to the metrics and
 * the notifier. Without a schedule no thread runs, but prune (POST
 * /backup/prune) and the status still work. Stopping never waits for the
 * next due time (a backup already running is finished). */
#ifndef DBBACKUPD_SCHEDULER_H
#define DBBACKUPD_SCHEDULER_H

#include <stdbool.h>
#include <time.h>

#include "dbbackupd/error.h"
#include "dbbackupd/metrics.h"
#include "dbbackupd/notify.h"
#include "dbbackupd/ops.h"
#include "dbbackupd/prune.h"
#include "dbbackupd/schedule_config.h"

#define DBB_SCHEDULER_LOCK_WAIT_S 3600

struct dbb_scheduler;

/* cfg must outlive the scheduler; metrics (its target's series) and notifier
 * may be NULL. The time zone is read from $TZDIR or the system's tzdata. */
dbb_code dbb_scheduler_new(struct dbb_scheduler **out, struct dbb_ops *ops,
                           const struct dbb_schedule_config *cfg,
                           struct dbb_metrics_target *metrics, struct dbb_notifier *notifier,
                           struct dbb_error *err);
/* Starts the thread (when scheduled); call once the daemon serves. */
dbb_code dbb_scheduler_start(struct dbb_scheduler *s, struct dbb_error *err);
/* Asks the thread to stop: no new run starts, the wait for the next due
 * time (or for the lock) ends; a backup running goes on. Does not wait.
 * NULL is fine. */
void dbb_scheduler_request_stop(struct dbb_scheduler *s);
/* True while a scheduled run (backup and its prune) is in progress: the
 * shutdown waits for it like for a request (SHUTDOWN_TIMEOUT). */
bool dbb_scheduler_busy(struct dbb_scheduler *s);
/* Stops the thread (a backup it runs is finished first; the wait for the
 * next due time is not). Status and prune still work after. NULL is fine. */
void dbb_scheduler_stop(struct dbb_scheduler *s);
/* Stops and frees. NULL is fine. */
void dbb_scheduler_free(struct dbb_scheduler *s);

struct dbb_schedule_status {
	bool scheduled;
	char expression[128];
	char tz[256];
	time_t next_run;     /* 0: none */
	int32_t next_utoff;  /* the zone's offset at next_run */
	bool has_last;       /* a scheduled run has ended */
	time_t last_started; /* of the last run */
	double last_seconds;
	bool last_success;
	char last_file[DBB_NAME_MAX];
	char last_error[256];
	unsigned consecutive_failures;
	time_t last_success_at, last_failure_at;
};
void dbb_scheduler_status(struct dbb_scheduler *s, struct dbb_schedule_status *out);

/* Prune with this scheduler's policy, zone and guards (the newest due time
 * the scheduler has reached). Reported to the notifier like a scheduled
 * prune (trigger "api"). */
dbb_code dbb_scheduler_prune(struct dbb_scheduler *s, bool dry_run, struct dbb_prune_result *res,
                             struct dbb_error *err);

/* The zone of the schedule (for formatting local times). */
const struct dbb_tz *dbb_scheduler_tz(const struct dbb_scheduler *s);

#endif
