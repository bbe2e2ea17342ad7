/* The settings of schedules, retention and notifications (issue 17):
 * BACKUP_SCHEDULE, SCHEDULE_*, KEEP_*, NOTIFY_*. One struct with its own
 * settings table, loaded into each target's settings as one member
 * (schedule, in DBB_TARGET_FIELDS: the default target's from the
 * environment, another's from its NAME.env); documented in
 * setup/.env.template, docs/operations.md ("Schedules and retention") and
 * docs/targets.md. */
#ifndef DBBACKUPD_SCHEDULE_CONFIG_H
#define DBBACKUPD_SCHEDULE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "dbbackupd/cron.h"
#include "dbbackupd/error.h"
#include "dbbackupd/retention.h"

struct dbb_setting;

struct dbb_schedule_config {
	char schedule[128]; /* BACKUP_SCHEDULE: cron expression; empty: none */
	char tz[256];       /* SCHEDULE_TZ: IANA zone, default UTC */
	char compress[8];   /* SCHEDULE_COMPRESS: true, false, gzip or zstd */
	unsigned jitter;    /* SCHEDULE_JITTER: random delay, at most this many seconds */
	bool catch_up;      /* SCHEDULE_CATCH_UP: one run at start-up if one was missed */
	int keep_last;      /* KEEP_LAST .. KEEP_YEARLY: 0 unset, n, or -1 for all */
	int keep_hourly;
	int keep_daily;
	int keep_weekly;
	int keep_monthly;
	int keep_yearly;
	char keep_within[32];        /* KEEP_WITHIN: restic duration ("30d", "1y2m") */
	unsigned keep_min;           /* KEEP_MIN: regular backups always kept, default 1 */
	char keep_safety_within[32]; /* KEEP_SAFETY_WITHIN: default 7d */
	char notify_webhook_url[512];
	char notify_webhook_secret[256]; /* HMAC-SHA-256 key of the signature header */
	char notify_smtp_url[512];       /* smtps:// or smtp:// (STARTTLS unless loopback) */
	char notify_mail_from[256];
	char notify_mail_to[512];
	char notify_on[32]; /* "failure,recovery" (default) or "all" */
};

/* The settings table (config.h's struct dbb_setting), for dbb_config_load. */
const struct dbb_setting *dbb_schedule_settings(size_t *count);

/* The settings in their parsed form. */
struct dbb_schedule_parsed {
	bool scheduled; /* BACKUP_SCHEDULE set */
	struct dbb_cron cron;
	struct dbb_retention_policy policy;
	struct dbb_retention_guards guards; /* guards.due is left 0 */
	bool notify_all;                    /* NOTIFY_ON=all */
};

/* Checks and parses every value (the time zone is loaded by the caller:
 * dbb_tz_load). DBB_ERR_CONFIG with one line naming the variable. */
dbb_code dbb_schedule_config_parse(const struct dbb_schedule_config *c,
                                   struct dbb_schedule_parsed *out, struct dbb_error *err);

#endif
