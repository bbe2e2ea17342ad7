/* Notifications (NOTIFY_*): one event per finished operation of the
 * schedule, of retention, and per failed API create or restore, sent as a
 * webhook POST of one JSON object (signed with HMAC-SHA-256 when
 * NOTIFY_WEBHOOK_SECRET is set: header X-Dbbackupd-Signature:
 * sha256=<hex of HMAC(secret, body)>) and as one short plain-text mail over
 * SMTP (libcurl: smtps://, or smtp:// with STARTTLS required unless the host
 * is loopback). A small queue and one thread deliver them, with retries,
 * back-off and a timeout; dbb_notify never blocks and never fails the
 * operation. An event that cannot be delivered is logged and counted
 * (dbbackupd_notifications_failed_total). NOTIFY_ON: failure,recovery
 * (failures, and a success that follows a failure) or all. */
#ifndef DBBACKUPD_NOTIFY_H
#define DBBACKUPD_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "dbbackupd/error.h"
#include "dbbackupd/metrics.h"
#include "dbbackupd/schedule_config.h"
#include "dbbackupd/storage.h"

struct dbb_notifier;

struct dbb_notify_event {
	const char *target;    /* the target's name (docs/targets.md) */
	const char *operation; /* "backup", "prune", "restore", "verify" */
	const char *trigger;   /* "schedule", "api" */
	bool success;
	bool recovery;   /* a success after one or more failures */
	char error[256]; /* the message of a failure */
	char file[DBB_NAME_MAX];
	uint64_t size_bytes;
	double duration_seconds;
	unsigned deleted; /* prune: files deleted */
	time_t at;        /* when it ended; 0: now */
};

/* Copies what it needs from cfg. m (may be NULL) counts undeliverable
 * events. With neither NOTIFY_WEBHOOK_URL nor NOTIFY_SMTP_URL set, no
 * thread is started and dbb_notify drops everything. */
dbb_code dbb_notifier_new(struct dbb_notifier **out, const struct dbb_schedule_config *cfg,
                          struct dbb_metrics_target *m, struct dbb_error *err);
/* Queues ev if NOTIFY_ON asks for it. Thread-safe; n may be NULL. */
void dbb_notify(struct dbb_notifier *n, const struct dbb_notify_event *ev);
/* Delivers what is queued (each attempt bounded by its timeout, no more
 * retries), stops the thread, frees. NULL is fine. */
void dbb_notifier_free(struct dbb_notifier *n);

/* The event as the webhook's JSON body (malloc'd), for tests too. */
char *dbb_notify_event_json(const struct dbb_notify_event *ev);

#endif
