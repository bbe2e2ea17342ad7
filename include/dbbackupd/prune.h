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

struct dbb_prune_result {
	struct dbb_prune_entry *entries; /* newest first; malloc'd: dbb_prune_result_free */
	size_t count;
	size_t kept, removed; /* removed: planned for removal (dry run) or deleted */
	size_t failed;        /* deletes that failed (not a dry run) */
	bool held_back;       /* the newest backup is older than the newest due time: the
	                         "backups are failing" guard keeps everything */
	bool policy_empty;    /* no KEEP_* set: nothing is ever deleted */
};

/* Plans (dry_run) or applies the policy. DBB_ERR_BUSY when the lock stays
 * held past lock_wait_ms (not a dry run); a delete that fails is logged,
 * counted in res->failed, and the others go on (the first error is
 * returned after all were tried). res is filled on every path (free it). */
dbb_code dbb_ops_prune(struct dbb_ops *ops, const struct dbb_prune_policy *p, bool dry_run,
                       struct dbb_prune_result *res, struct dbb_error *err);
void dbb_prune_result_free(struct dbb_prune_result *res);

#endif
