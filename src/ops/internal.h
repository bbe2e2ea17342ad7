/* Internal interface of the operation layer: the ops object, shared by the
 * files of src/ops/ (ops.c: backup, restore, the lock and the journal;
 * query.c: the reads; upload.c: upload sessions; observe.c: the metrics
 * observer). */
#ifndef DBBACKUPD_OPS_INTERNAL_H
#define DBBACKUPD_OPS_INTERNAL_H

#include <pthread.h>
#include <time.h>

#include "dbbackupd/age.h"
#include "dbbackupd/ops.h"

struct dbb_ops {
	const struct dbb_config *cfg;
	const struct dbb_driver *drv;
	struct dbb_storage *st;
	pthread_mutex_t mu;
	pthread_cond_t idle; /* signalled when the lock is released */
	bool busy;
	bool brief; /* the holder said it lets go within a moment (a deletion) */
	char running[160];
	time_t running_since;
	bool interrupted; /* a journal is on disk from an unfinished restore */
	struct dbb_interrupted_restore intr;
	struct dbb_ops_observer observer; /* set before and cleared after serving */
	/* SAFETY_COMPRESSION, parsed once: level 0 is the codec's own
	 * (GZIP_LEVEL, ZSTD_LEVEL) */
	enum dbb_compression safety_codec;
	int safety_level;
	dbb_ops_backup_hook backup_hook; /* the same; offsite copies */
	void *backup_hook_cls;
	/* issue 18 (remote.c): the store lent by the offsite uploader, and the
	 * calls using it (under mu; remote_idle when they reach 0) */
	struct dbb_ops_remote remote;
	bool has_remote;
	unsigned remote_users;
	pthread_cond_t remote_idle;
	/* issue 19 (docs/encryption.md): ENCRYPT_RECIPIENTS(_FILE), parsed once;
	 * n == 0: backups are not encrypted. Safety backups are encrypted to
	 * these and to run_id's recipient, a key made at start-up and never
	 * written anywhere, so that a rollback needs no AGE_IDENTITY_FILE. The
	 * notes are the sidecar's "# age-recipient: ..." lines. */
	struct dbb_age_recipients recipients, safety_recipients;
	struct dbb_age_identity run_id;
	char *age_note, *safety_age_note;
};

/* What the driver's functions are given. */
void dbb_ops_driver_ctx(const struct dbb_ops *ops, struct dbb_driver_ctx *ctx);

/* ---- observe.c: one watch per operation, reported to the observer ---- */
struct dbb_ops_watch {
	enum dbb_metric_op kind;
	struct timespec t0; /* CLOCK_MONOTONIC */
};
/* The operation starts (the observer's running gauge goes up). */
void dbb_ops_watch_begin(struct dbb_ops *ops, struct dbb_ops_watch *w, enum dbb_metric_op kind);
/* It ended with rc, having read or written bytes (and received
 * upload_bytes): reported once; returns its duration in seconds. */
double dbb_ops_watch_end(struct dbb_ops *ops, const struct dbb_ops_watch *w, dbb_code rc,
                         uint64_t bytes, uint64_t upload_bytes);

/* ---- remote.c (issue 18): the store lent by the offsite uploader, for
 * one call (false: none lent); dbb_ops_remote_put releases it. */
bool dbb_ops_remote_get(struct dbb_ops *ops, struct dbb_ops_remote *out);
void dbb_ops_remote_put(struct dbb_ops *ops);

/* ---- ops.c, for remote.c (issue 18) ----
 * Restores a backup fetched from the object store into tmp (consumed:
 * discarded whatever happens) like an upload: validated before the lock,
 * within MAX_RESTORE_BYTES and the free space. label names it in the log
 * and the journal. */
dbb_code dbb_ops_restore_fetched(struct dbb_ops *ops, struct dbb_storage_tmp *tmp,
                                 const char *label, bool safety_backup,
                                 struct dbb_restore_result *res, struct dbb_error *err);

/* ---- ops.c, for verify.c (issue 20) ----
 * Reads the listed backup name, open on fd, as a restore of it would: with
 * validate_first, one pass through the driver's validate (nothing touched;
 * DBB_ERR_INVALID_BACKUP says what the file is), then fd → [age] →
 * gunzip|unzstd → fn, and whatever fn left is drained so every checksum of
 * the stream is verified to the last byte. */
typedef dbb_code (*dbb_ops_reader)(void *arg, const struct dbb_driver_ctx *ctx,
                                   struct dbb_source *in, struct dbb_error *err);
dbb_code dbb_ops_read_listed(struct dbb_ops *ops, int fd, const char *name, bool validate_first,
                             dbb_ops_reader fn, void *arg, struct dbb_error *err);

/* ---- prune.c, for remote_prune.c (issue 18) ---- */
struct dbb_prune_policy;
struct dbb_prune_entry;
struct dbb_prune_remote;
struct dbb_retention_item;
/* Plans items (dbb_retention_plan) into *entries (calloc'd), counting. */
dbb_code dbb_prune_plan_items(const struct dbb_prune_policy *p, struct dbb_retention_item *items,
                              size_t count, struct dbb_prune_entry **entries, size_t *kept,
                              size_t *removed, bool *held_back, bool *policy_empty,
                              struct dbb_error *err);
/* The audit line of a retention delete; where: "" or " location=remote". */
void dbb_prune_audit_delete(const struct dbb_ops *ops, const char *name, const char *where,
                            dbb_code rc);
/* Prunes (or plans, dry_run) the store's objects into *out; never fails
 * the caller: out->rc says. */
void dbb_ops_prune_remote(struct dbb_ops *ops, const struct dbb_prune_policy *p, bool dry_run,
                          struct dbb_prune_remote *out);

#endif
