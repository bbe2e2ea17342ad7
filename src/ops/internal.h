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

#endif
