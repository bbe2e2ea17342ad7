/* Prune: the retention policy and its guards (retention.h) applied to the
 * backups of one ops object, in the operation layer. Deletes take the
 * operation lock (waiting a bounded time), go through the same storage
 * path as DELETE /backup/delete/{file} (the sidecar goes too) and each
 * writes an audit line with user="retention". Only files whose names the
 * daemon recognises and that belong to this database are ever items; a
 * regular backup counts as validated when it has the SHA-256 sidecar the
 * daemon writes after a complete, checked dump. */
#ifndef DBBACKUPD_PRUNE_H
#define DBBACKUPD_PRUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dbbackupd/ops.h"
#include "dbbackupd/retention.h"
#include "dbbackupd/tz.h"

struct dbb_prune_policy {
	const struct dbb_retention_policy *policy;
	struct dbb_retention_guards guards; /* guards.due: newest due time, 0 without schedule */
	const struct dbb_tz *tz;            /* buckets are counted in it */
	unsigned lock_wait_ms;              /* how long to wait for a running operation */
};

#define DBB_PRUNE_REASONS_MAX 8

struct dbb_prune_entry {
	char name[DBB_NAME_MAX];
	time_t created_at;
	bool safety, validated;
	bool keep;
	bool deleted;                   /* not a dry run: removed */
	uint32_t reasons;               /* bit (1u << enum dbb_keep_reason) */
	int counters[DBB_BUCKET_COUNT]; /* restic's counters after this one */
	size_t nmatches;                /* restic's texts ("daily snapshot") */
	char matches[DBB_PRUNE_REASONS_MAX][64];
	size_t nwhy; /* with the bucket ("daily 2026-11-30", "last 3") */
	char why[DBB_PRUNE_REASONS_MAX][64];
};

/* The objects of the offsite copies' store (issue 18, ops/remote_prune.c),
 * pruned with OFFSITE_RETENTION (by default the same KEEP_* as the local
 * files) and the same guards: "validated" is the newest regular object
 * whose x-amz-meta-sha256 a HEAD showed (an upload the daemon verified). */
struct dbb_prune_remote {
	bool on;     /* offsite copies on, OFFSITE_RETENTION not none */
	dbb_code rc; /* DBB_OK, or why nothing was deleted remotely */
	char error[DBB_ERROR_MESSAGE_MAX];
	struct dbb_prune_entry *entries; /* newest first; freed with the result */
	size_t count, kept, removed, failed;
	bool held_back, policy_empty;
};

struct dbb_prune_result {
	struct dbb_prune_entry *entries; /* newest first; malloc'd: dbb_prune_result_free */
	size_t count;
	size_t kept, removed;           /* removed: planned for removal (dry run) or deleted */
	size_t failed;                  /* deletes that failed (not a dry run) */
	bool held_back;                 /* the newest backup is older than the newest due time: the
	                                   "backups are failing" guard keeps everything */
	bool policy_empty;              /* no KEEP_* set: nothing is ever deleted */
	struct dbb_prune_remote remote; /* issue 18: the store's objects; a failure there
	                                   is in remote.rc, never in the call's result */
};

/* OFFSITE_RETENTION, parsed (dbb_remote_retention_parse). */
enum dbb_remote_retention_mode {
	DBB_REMOTE_RETENTION_LOCAL, /* "": the local KEEP_* and guards */
	DBB_REMOTE_RETENTION_NONE,  /* "none": the store's objects are never pruned */
	DBB_REMOTE_RETENTION_OWN    /* "KEEP_DAILY=30,KEEP_MIN=3": its own */
};
struct dbb_remote_retention {
	enum dbb_remote_retention_mode mode;
	struct dbb_retention_policy policy;
	unsigned keep_min;                 /* KEEP_MIN (1 when not given) */
	struct dbb_duration safety_within; /* KEEP_SAFETY_WITHIN (7d when not given) */
};
/* "", "none", or KEEP_* assignments separated by commas or spaces
 * (KEEP_LAST, KEEP_HOURLY .. KEEP_YEARLY, KEEP_WITHIN, KEEP_MIN,
 * KEEP_SAFETY_WITHIN; values as the local settings'). DBB_ERR_CONFIG with
 * the reason otherwise. */
dbb_code dbb_remote_retention_parse(const char *text, struct dbb_remote_retention *out,
                                    struct dbb_error *err);

/* Plans (dry_run) or applies the policy. DBB_ERR_BUSY when the lock stays
 * held past lock_wait_ms (not a dry run); a delete that fails is logged,
 * counted in res->failed, and the others go on (the first error is
 * returned after all were tried). res is filled on every path (free it). */
dbb_code dbb_ops_prune(struct dbb_ops *ops, const struct dbb_prune_policy *p, bool dry_run,
                       struct dbb_prune_result *res, struct dbb_error *err);
void dbb_prune_result_free(struct dbb_prune_result *res);

#endif
