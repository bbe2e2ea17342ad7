/* Retention: which backups a prune keeps and which it deletes.
 *
 * The policy (KEEP_LAST, KEEP_HOURLY ... KEEP_YEARLY, KEEP_WITHIN and the
 * KEEP_WITHIN_<bucket> variants) has the semantics of `restic forget` as in
 * restic 0.14 (Debian 12), checked against restic itself by
 * tests/retention/restic_oracle.sh:
 *   - backups are taken newest first; each KEEP_<bucket> n keeps the newest
 *     backup of each of the n newest hours/days/ISO weeks/months/years that
 *     hold a backup (buckets in the schedule's time zone); KEEP_LAST n keeps
 *     the n newest; -1 means no limit (restic >= 0.15; 0.14 has none);
 *   - a bucket count that is not reached does not keep anything more (0.14
 *     has no "keep the oldest" rule: that came with restic 0.15);
 *   - KEEP_WITHIN d keeps everything newer than (newest backup - d), where
 *     the newest backup is the newest that is not in the future, and d is
 *     restic's duration: years, months, days, hours ("1y2m", "30d", "36h";
 *     "m" is months), subtracted on the calendar in the time zone;
 *   - with no KEEP_* set, the policy keeps everything ("policy is empty").
 * Each kept backup carries restic's reasons ("last snapshot", "daily
 * snapshot", "within 30d", "daily within 30d") and counters.
 *
 * Then the guards, which no policy overrides, each a separate step:
 *   1. safety backups are outside the policy and its buckets; they are kept
 *      within KEEP_SAFETY_WITHIN of the newest safety backup (restic's
 *      within, on safety backups alone; zero: keep all of them);
 *   2. the newest regular backup that passed validation at write time is
 *      kept;
 *   3. at least KEEP_MIN regular backups are kept (the newest ones);
 *   4. while the newest regular backup is older than the newest due time of
 *      the schedule (the backups are failing), nothing at all is deleted.
 * A guard adds its reason only to a backup it saved from deletion, so with
 * no guard at work the result is exactly restic's.
 *
 * The caller passes only files the daemon recognises (the name whitelist);
 * nothing else is ever an item. Pure functions, no I/O, thread-safe. */
#ifndef DBBACKUPD_RETENTION_H
#define DBBACKUPD_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dbbackupd/error.h"
#include "dbbackupd/tz.h"

/* restic's duration: "6y5m234d37h" (any subset, in any order, each unit
 * once). No weeks or minutes: "m" is months, as in restic. */
struct dbb_duration {
	int years, months, days, hours;
};

/* DBB_ERR_CONFIG with the reason on a malformed duration. "" and "0d" give
 * the zero duration (unset). */
dbb_code dbb_duration_parse(const char *s, struct dbb_duration *out, struct dbb_error *err);
bool dbb_duration_is_zero(const struct dbb_duration *d);
/* restic's spelling: "1y2m", "30d", "" for zero. */
void dbb_duration_format(const struct dbb_duration *d, char *buf, size_t cap);

enum dbb_bucket {
	DBB_BUCKET_LAST,
	DBB_BUCKET_HOURLY,
	DBB_BUCKET_DAILY,
	DBB_BUCKET_WEEKLY,
	DBB_BUCKET_MONTHLY,
	DBB_BUCKET_YEARLY,
	DBB_BUCKET_COUNT
};

struct dbb_retention_policy {
	/* KEEP_LAST .. KEEP_YEARLY, indexed by enum dbb_bucket: 0 unset, n > 0,
	 * or -1 for all */
	int keep[DBB_BUCKET_COUNT];
	struct dbb_duration within; /* KEEP_WITHIN */
	/* KEEP_WITHIN_HOURLY .. KEEP_WITHIN_YEARLY (index 0, LAST, unused) */
	struct dbb_duration within_bucket[DBB_BUCKET_COUNT];
};

bool dbb_retention_policy_empty(const struct dbb_retention_policy *p);

struct dbb_retention_guards {
	unsigned keep_min;                 /* KEEP_MIN, default 1 */
	struct dbb_duration safety_within; /* KEEP_SAFETY_WITHIN, default 7d; zero: keep all */
	time_t due; /* newest due time of the schedule (dbb_cron_prev); 0: no schedule */
};

/* Defaults: keep_min 1, safety_within 7d, due 0. */
void dbb_retention_guards_default(struct dbb_retention_guards *g);

/* Why an item is kept, in restic's order of `matches`, then the guards. */
enum dbb_keep_reason {
	DBB_KEEP_POLICY_EMPTY,    /* "policy is empty" */
	DBB_KEEP_WITHIN,          /* "within 30d" */
	DBB_KEEP_LAST,            /* "last snapshot" */
	DBB_KEEP_HOURLY,          /* "hourly snapshot" */
	DBB_KEEP_DAILY,           /* "daily snapshot" */
	DBB_KEEP_WEEKLY,          /* "weekly snapshot" */
	DBB_KEEP_MONTHLY,         /* "monthly snapshot" */
	DBB_KEEP_YEARLY,          /* "yearly snapshot" */
	DBB_KEEP_WITHIN_HOURLY,   /* "hourly within 30d" */
	DBB_KEEP_WITHIN_DAILY,    /* "daily within 30d" */
	DBB_KEEP_WITHIN_WEEKLY,   /* "weekly within 30d" */
	DBB_KEEP_WITHIN_MONTHLY,  /* "monthly within 30d" */
	DBB_KEEP_WITHIN_YEARLY,   /* "yearly within 30d" */
	DBB_KEEP_SAFETY_WITHIN,   /* "safety within 7d" */
	DBB_KEEP_GUARD_SAFETY,    /* "safety backup (no KEEP_SAFETY_WITHIN)" */
	DBB_KEEP_GUARD_VALIDATED, /* "newest validated backup" */
	DBB_KEEP_GUARD_MIN,       /* "keep min 1" */
	DBB_KEEP_GUARD_FAILING,   /* "newest backup older than last due time" */
	DBB_KEEP_REASON_COUNT
};

struct dbb_retention_item {
	/* in */
	const char *name; /* not owned; only used to order equal timestamps */
	time_t when;      /* UTC, from the name */
	bool safety;      /* a safety_backup_... file */
	bool validated;   /* passed validation when it was written */
	/* issue 20: its last test-restore (POST /backup/verify) passed, or failed */
	bool verified, verify_failed;
	/* out */
	bool keep;
	uint32_t reasons;               /* bit (1u << enum dbb_keep_reason) */
	int counters[DBB_BUCKET_COUNT]; /* restic's counters after this item (kept ones) */
};

/* Sorts newest first: by time, equal times by name in version order
 * (strverscmp), so "..._120000_2.sql" counts as newer than "..._120000.sql". */
void dbb_retention_sort(struct dbb_retention_item *items, size_t n);

/* The steps, for items sorted by dbb_retention_sort, in this order. */

/* Resets every item's output, then applies the policy to the regular items
 * (restic's ApplyPolicy); safety items are left undecided (keep=false). */
void dbb_retention_apply_policy(const struct dbb_retention_policy *p, const struct dbb_tz *tz,
                                time_t now, struct dbb_retention_item *items, size_t n);
/* Guard 1: safety backups by KEEP_SAFETY_WITHIN. */
void dbb_retention_guard_safety(const struct dbb_retention_guards *g, const struct dbb_tz *tz,
                                time_t now, struct dbb_retention_item *items, size_t n);
/* Guard 2: the newest good regular backup: the newest verified one (a
 * test-restore passed), else the newest validated one whose test-restore
 * did not fail. */
void dbb_retention_guard_validated(struct dbb_retention_item *items, size_t n);
/* Guard 3: at least keep_min regular backups. */
void dbb_retention_guard_min(unsigned keep_min, struct dbb_retention_item *items, size_t n);
/* Guard 4: nothing is deleted while the newest regular backup is older than
 * `due` (or there is none). Returns true if it held everything back. */
bool dbb_retention_guard_failing(time_t due, struct dbb_retention_item *items, size_t n);

/* All of it: sort, policy, the four guards. Returns the number of items to
 * delete. */
size_t dbb_retention_plan(const struct dbb_retention_policy *p,
                          const struct dbb_retention_guards *g, const struct dbb_tz *tz, time_t now,
                          struct dbb_retention_item *items, size_t n);

/* The text of one reason, as restic prints it for the policy's ones
 * ("daily snapshot", "within 1y2m"). */
void dbb_retention_reason_text(enum dbb_keep_reason r, const struct dbb_retention_policy *p,
                               const struct dbb_retention_guards *g, char *buf, size_t cap);

#endif
