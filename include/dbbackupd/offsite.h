/* Offsite copies: every regular backup the daemon makes is uploaded to an
 * S3-compatible store (s3.h) by one uploader thread per ops object, from a
 * small queue persisted as a record next to each backup ("<name>.offsite",
 * storage.h), so uploads survive restarts; a store that is down never fails
 * a backup. See docs/offsite.md.
 *
 * The settings (S3_*, OFFSITE_*) are their own struct and table, loaded by
 * config.c as one member of each target's settings (cfg->offsite,
 * DBB_TARGET_FIELDS): one uploader per target. Offsite copies are on when
 * S3_BUCKET is set. */
#ifndef DBBACKUPD_OFFSITE_H
#define DBBACKUPD_OFFSITE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbbackupd/error.h"

struct dbb_setting;
struct dbb_ops;
struct dbb_storage;
struct dbb_metrics_target;

struct dbb_offsite_settings {
	char endpoint[512];          /* S3_ENDPOINT; "": https://s3.<region>.amazonaws.com */
	char region[64];             /* S3_REGION */
	char bucket[64];             /* S3_BUCKET; "": offsite copies off */
	char prefix[512];            /* S3_PREFIX; "": dbbackupd/<target name>/ */
	char access_key_id[128];     /* S3_ACCESS_KEY_ID */
	char secret_access_key[256]; /* S3_SECRET_ACCESS_KEY (secret) */
	char secret_access_key_file[PATH_MAX]; /* S3_SECRET_ACCESS_KEY_FILE (0600) */
	char addressing[16];                   /* S3_ADDRESSING: path or virtual */
	char storage_class[64];                /* S3_STORAGE_CLASS; "": the store's default */
	uint64_t part_size;                    /* S3_PART_SIZE */
	uint64_t max_send_speed;               /* S3_MAX_SEND_SPEED bytes/s; 0: no cap */
	bool allow_http;                       /* S3_ALLOW_HTTP: http:// to a non-loopback host */
	char mode[8];                          /* OFFSITE_MODE: copy or move */
	unsigned retry_initial;                /* OFFSITE_RETRY_INITIAL: first back-off, s */
	unsigned retry_limit;                  /* OFFSITE_RETRY_LIMIT: attempts before failed */
	char retention[512]; /* OFFSITE_RETENTION: "" (the local KEEP_*), none, or KEEP_*=... */
};

/* The table config.c loads into cfg->offsite (and --check-config lists). */
const struct dbb_setting *dbb_offsite_settings_table(size_t *count);

struct dbb_offsite;

/* Checks the settings (endpoint scheme, secret file, names) and makes the
 * uploader without starting it; *out is NULL when offsite copies are off
 * (S3_BUCKET empty). Registers itself as ops's backup hook. No request is
 * sent. */
dbb_code dbb_offsite_new(struct dbb_offsite **out, const struct dbb_offsite_settings *s,
                         struct dbb_ops *ops, struct dbb_storage *st, struct dbb_error *err);

/* Starts the uploader thread: records left pending (or failed) by an
 * earlier run are queued first. m (optional) gets the offsite gauges. NULL
 * off is fine. */
dbb_code dbb_offsite_start(struct dbb_offsite *off, struct dbb_metrics_target *m,
                           struct dbb_error *err);

/* Queues a backup just written (the ops backup hook): its record is written
 * as pending at once. Thread-safe. */
void dbb_offsite_enqueue(struct dbb_offsite *off, const char *name);

/* Stops the thread (an upload under way is cancelled and stays pending),
 * unregisters the hook, frees. NULL is fine. */
void dbb_offsite_free(struct dbb_offsite *off);

#endif
