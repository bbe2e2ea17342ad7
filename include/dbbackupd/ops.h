/* The operation layer: the only way from HTTP (and anything else that
 * drives the daemon) to the driver and the backups directory.
 *
 * Backup and restore orchestration, the same for every driver: the
 * per-database lock (one mutating operation at a time, 409 for the others),
 * the stream chains (driver → gzip|zstd → sha256 → temporary file), staging and
 * validation before anything is touched, the safety backup, and the rollback
 * from it when a non-atomic restore fails. The reads (stats, health, list,
 * download, disk usage) and upload sessions go through here too, and every
 * backup and restore is reported to one observer (the metrics). */
#ifndef DBBACKUPD_OPS_H
#define DBBACKUPD_OPS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "dbbackupd/config.h"
#include "dbbackupd/driver.h"
#include "dbbackupd/error.h"
#include "dbbackupd/metrics.h"
#include "dbbackupd/storage.h"

struct dbb_ops;

dbb_code dbb_ops_new(struct dbb_ops **out, const struct dbb_config *cfg,
                     const struct dbb_driver *driver, struct dbb_storage *st,
                     struct dbb_error *err);
void dbb_ops_free(struct dbb_ops *ops);

/* The driver's name (DB_TYPE): "postgresql". */
const char *dbb_ops_database_type(const struct dbb_ops *ops);
/* The target's name (docs/targets.md), the one in its files' names
 * (backup_NAME_...): by default the driver's name. */
const char *dbb_ops_target_name(const struct dbb_ops *ops);

/* ---- the observer ----
 * Told when a backup or restore starts and how it ended; called from the
 * request's thread, so it must be thread-safe. Set before the operations
 * can run and cleared (NULL) after they are over. */
struct dbb_ops_report {
	enum dbb_metric_op kind; /* DBB_METRIC_BACKUP or DBB_METRIC_RESTORE */
	dbb_code rc;             /* DBB_OK, or what the client was told */
	double seconds;          /* from the call to its end, lock wait included */
	uint64_t bytes;          /* backup file written, or backup file a restore read */
	uint64_t upload_bytes;   /* a restore from an upload: bytes received */
};
struct dbb_ops_observer {
	void *cls;
	void (*started)(void *cls, enum dbb_metric_op kind);
	void (*finished)(void *cls, const struct dbb_ops_report *r);
};
void dbb_ops_set_observer(struct dbb_ops *ops, const struct dbb_ops_observer *obs);
/* The observer that records into m, the target's series (running gauge,
 * operation counters and durations, bytes, the last successful backup's
 * time). */
void dbb_ops_observe_metrics(struct dbb_ops *ops, struct dbb_metrics_target *m);

/* ---- the backup hook ----
 * Called with the file name after each successful dbb_ops_create_backup (a
 * regular backup, never a safety backup), once the lock is released, from
 * the caller's thread; it must be quick and thread-safe (offsite copies
 * queue the file). Set before the operations can run, cleared (NULL) after. */
typedef void (*dbb_ops_backup_hook)(void *cls, const char *filename);
void dbb_ops_set_backup_hook(struct dbb_ops *ops, dbb_ops_backup_hook fn, void *cls);

struct dbb_backup_result {
	char filename[DBB_NAME_MAX];
	uint64_t size_bytes; /* of the file written */
	char sha256[65];
	double seconds; /* the whole call */
};

struct dbb_restore_result {
	bool safety_backup_created;
	char safety_backup_filename[DBB_NAME_MAX];
	bool rollback_attempted; /* safety backup restored after a failure */
	bool rollback_succeeded;
	uint64_t bytes_read; /* the backup file (or upload) restored; 0 on failure */
	double seconds;      /* the whole call */
};

/* A busy answer (409 operation_in_progress) carries "Retry-After: this"
 * (seconds). */
#define DBB_BUSY_RETRY_AFTER_S 5

/* How long a delete (and prune) waits for a running operation before its
 * 409: long enough for a rotation job not to fail on a short backup. */
#define DBB_DELETE_WAIT_MS 3000

/* The lock: what names the running operation for the 409 message. A holder
 * that marked itself brief (dbb_ops_lock_brief) is waited for, up to
 * DBB_DELETE_WAIT_MS, rather than refused: a backup requested while
 * retention or OFFSITE_MODE=move deletes a file is not a 409. */
dbb_code dbb_ops_lock(struct dbb_ops *ops, const char *what, struct dbb_error *err);
/* The same, waiting up to wait_ms (or DBB_DELETE_WAIT_MS for a brief
 * holder, whichever is longer) for a running operation to end before
 * answering DBB_ERR_BUSY (0: do not wait but for a brief holder). For
 * callers that would rather queue briefly than refuse: deletes and prune,
 * the scheduler. */
dbb_code dbb_ops_lock_wait(struct dbb_ops *ops, const char *what, unsigned wait_ms,
                           struct dbb_error *err);
/* The holder (of the lock) says it lets go within a moment: deletes and
 * prune. Cleared by dbb_ops_unlock. */
void dbb_ops_lock_brief(struct dbb_ops *ops);
void dbb_ops_unlock(struct dbb_ops *ops);

/* The codec compress=true means: COMPRESSION (gzip unless set to zstd). */
enum dbb_compression dbb_ops_default_compression(const struct dbb_ops *ops);

/* Takes the lock itself. codec: DBB_COMPRESSION_NONE, _GZIP or _ZSTD (the
 * file name gets "", ".gz" or ".zst"). */
dbb_code dbb_ops_create_backup(struct dbb_ops *ops, enum dbb_compression codec,
                               const struct dbb_dump_options *opt, struct dbb_backup_result *res,
                               struct dbb_error *err);

/* Restores a listed backup. Takes the lock itself. */
dbb_code dbb_ops_restore_file(struct dbb_ops *ops, const char *name, bool safety_backup,
                              struct dbb_restore_result *res, struct dbb_error *err);

/* Restores an uploaded file already spooled to tmp (consumed: discarded
 * whatever happens). The file is validated first, without the lock (it
 * reads only the spooled file); the lock is taken after (DBB_ERR_BUSY when
 * another operation runs), so an upload, however slow, never holds it while
 * its body arrives. The decompressed input is limited to MAX_RESTORE_BYTES
 * and to the backups directory's free space less a reserve
 * (DBB_ERR_PAYLOAD_TOO_LARGE, nothing left behind); a listed backup, which
 * the daemon wrote, has no such limit. */
dbb_code dbb_ops_restore_upload(struct dbb_ops *ops, struct dbb_storage_tmp *tmp,
                                bool safety_backup, struct dbb_restore_result *res,
                                struct dbb_error *err);

/* ---- the restore journal ----
 * Before a restore touches the database (after validation and the safety
 * backup), a hidden DBB_RESTORE_JOURNAL file is written and fsynced in the
 * backups directory naming the source and the safety backup; it is removed
 * when the restore ends with the database whole (success, or a failure that
 * was rolled back). If the daemon dies in between, dbb_ops_new finds it, logs
 * an error naming the safety backup and reports it here (GET /backup/list,
 * GET /health) until a restore succeeds. */
#define DBB_RESTORE_JOURNAL ".restore-in-progress"

struct dbb_interrupted_restore {
	char source[DBB_NAME_MAX + 32];   /* a backup name, or "the uploaded file" */
	char safety_backup[DBB_NAME_MAX]; /* empty when none was made */
	char started_at[32];              /* ISO 8601 UTC */
};

/* True (and *out filled) while an interrupted restore is on record. */
bool dbb_ops_interrupted_restore(struct dbb_ops *ops, struct dbb_interrupted_restore *out);

/* ---- upload sessions ----
 * An upload being received: it owns its temporary file in the backups
 * directory (the body is spooled there as it arrives, never held in
 * memory), and takes the database lock only for its restore, after the
 * whole body has arrived and been validated. */
struct dbb_ops_upload;

dbb_code dbb_ops_upload_begin(struct dbb_ops *ops, struct dbb_ops_upload **out,
                              struct dbb_error *err);
/* Appends body bytes; DBB_ERR_PAYLOAD_TOO_LARGE past MAX_UPLOAD_BYTES. */
dbb_code dbb_ops_upload_write(struct dbb_ops_upload *up, const void *data, size_t n,
                              struct dbb_error *err);
uint64_t dbb_ops_upload_bytes(const struct dbb_ops_upload *up);
/* Validates and restores what was received (dbb_ops_restore_upload). The
 * temporary file is consumed whatever happens; call once. */
dbb_code dbb_ops_upload_restore(struct dbb_ops_upload *up, bool safety_backup,
                                struct dbb_restore_result *res, struct dbb_error *err);
/* Discards the temporary file (if still there) and frees. NULL is fine. */
void dbb_ops_upload_free(struct dbb_ops_upload *up);

/* ---- backups that live only in the object store (issue 18, ops/remote.c) ----
 * The offsite uploader (offsite.h) lends the operation layer a view of the
 * store: its listing under the target's S3_PREFIX and a verified download.
 * Listing, download and restore of a file missing from the backups
 * directory go through it; a fetched file is a temporary of the backups
 * directory (removed on every path) and is restored like an upload. */
struct dbb_remote_object {
	const char *name; /* the key without S3_PREFIX (any text: checked here) */
	uint64_t size;
	time_t last_modified; /* 0 when unknown */
	const char *etag, *storage_class;
};
typedef int (*dbb_ops_remote_fn)(const struct dbb_remote_object *o, void *ud);
struct dbb_remote_fetch {
	uint64_t size;
	bool verified;   /* the object's x-amz-meta-sha256 matched the bytes */
	char sha256[65]; /* of the bytes received */
};
struct dbb_remote_retention;
struct dbb_ops_remote {
	void *cls;
	const char *bucket, *prefix; /* for messages and the listing's keys */
	/* every object under the prefix, in key order, at most max; *truncated
	 * when more were left. Errors: DBB_ERR_OFFSITE_DOWN (the store
	 * cannot be asked; the message says why), DBB_ERR_SHUTTING_DOWN. */
	dbb_code (*list)(void *cls, size_t max, dbb_ops_remote_fn fn, void *ud, bool *truncated,
	                 struct dbb_error *err);
	/* the object of name into fd (from offset 0), refused beyond max_bytes
	 * (DBB_ERR_NO_SPACE) before any byte is written; its SHA-256 checked
	 * against x-amz-meta-sha256 when it has one (DBB_ERR_INVALID_BACKUP);
	 * DBB_ERR_NOT_FOUND when absent. */
	dbb_code (*fetch)(void *cls, const char *name, int fd, uint64_t max_bytes,
	                  struct dbb_remote_fetch *out, struct dbb_error *err);
	/* retention (remote_prune.c): OFFSITE_RETENTION; a HEAD saying whether
	 * the object carries x-amz-meta-sha256; a deletion */
	const struct dbb_remote_retention *retention;
	dbb_code (*verified)(void *cls, const char *name, bool *has_sha256, struct dbb_error *err);
	dbb_code (*remove)(void *cls, const char *name, struct dbb_error *err);
};
/* Lends (r copied) or takes back (NULL) the store; taking it back waits for
 * the calls under way (the lender cancels its transfers first). */
void dbb_ops_set_remote(struct dbb_ops *ops, const struct dbb_ops_remote *r);
bool dbb_ops_has_remote(struct dbb_ops *ops);

/* An object of the store with a backup's name (dbb_name_is_valid). */
struct dbb_remote_info {
	char name[DBB_NAME_MAX];
	uint64_t size_bytes;
	time_t created_at;       /* from the name (UTC), else last_modified */
	time_t last_modified;    /* the store's; 0 when unknown */
	const char *compression; /* "none", "gzip", "zstd", from the name's suffix */
	bool encrypted;          /* the name ends in .age (issue 19) */
	bool safety;
	char db[DBB_NAME_MAX];
	char etag[80];
	char storage_class[32];
};
#define DBB_REMOTE_LIST_MAX 10000 /* objects read per listing */
/* The store's backups, newest first (*items malloc'd; free() it); *key_prefix
 * the prefix of their keys (the caller's buffer of cap bytes).
 * DBB_ERR_OFFSITE_OFF without a store. */
dbb_code dbb_ops_list_remote(struct dbb_ops *ops, struct dbb_remote_info **items, size_t *count,
                             bool *truncated, char *key_prefix, size_t cap, struct dbb_error *err);
/* A backup that is not in the directory, fetched from the store (verified)
 * into a temporary of the backups directory that is already unlinked: *fd
 * (the caller's to close) is all that is left of it. DBB_ERR_NOT_FOUND
 * without a store or when the store has no such object. */
dbb_code dbb_ops_open_remote(struct dbb_ops *ops, const char *name, int *fd, uint64_t *size,
                             struct dbb_error *err);
/* POST /backup/restore/{file}: a file of the directory is restored by
 * dbb_ops_restore_file; one that is only in the store is fetched into a
 * temporary (verified), then validated and restored like an uploaded file,
 * and the temporary removed whatever happens. */
dbb_code dbb_ops_restore_any(struct dbb_ops *ops, const char *name, bool safety_backup,
                             struct dbb_restore_result *res, struct dbb_error *err);

/* ---- test-restores (issue 20, ops/verify.c) ----
 * A listed backup is restored into the driver's scratch place (a scratch
 * file, a scratch database or schema: driver.h's verify), never the live
 * database, checked and counted. It takes no lock of the target (a backup
 * or restore of the live database runs beside it) but one verification
 * runs at a time in the daemon (the scratch place has one name, which two
 * targets on one server may share): another gets DBB_ERR_BUSY, or with
 * wait (the scheduler) waits its turn. */
struct dbb_verify_result {
	bool verify_ok; /* false: the backup failed the test, reason says why */
	char reason[DBB_ERROR_MESSAGE_MAX];
	time_t verified_at;      /* when it ended */
	double duration_seconds; /* the test-restore itself */
	struct dbb_stats counts; /* tables with their exact rows (verify_ok only) */
	bool recorded;           /* the outcome is in the backup's "verify" record */
};
/* DBB_OK: a verdict (res->verify_ok), recorded in the backup's "verify"
 * record and reported to the metrics' last-verified time. Any error: no
 * verdict, nothing recorded: DBB_ERR_NOT_FOUND (no such backup),
 * DBB_ERR_NOT_IMPLEMENTED (the driver has no test-restore), DBB_ERR_BUSY
 * (another verification runs), DBB_ERR_RESTORE_CONFLICT (the scratch place
 * cannot be made, or an encrypted backup without its key),
 * DBB_ERR_DB_UNAVAILABLE... res->counts is initialised here whatever the
 * result: dbb_verify_result_free releases it. */
dbb_code dbb_ops_verify(struct dbb_ops *ops, const char *name, bool wait,
                        struct dbb_verify_result *res, struct dbb_error *err);
/* VERIFY_AFTER_BACKUP: the scheduler verifies each backup it made. */
bool dbb_ops_verify_after_backup(const struct dbb_ops *ops);
void dbb_verify_result_free(struct dbb_verify_result *res);
/* res->counts as JSON text, {"table_count":N,"total_rows":N,"tables":
 * {"schema.name":rows}} (malloc'd; NULL when out of memory). */
char *dbb_verify_counts_text(const struct dbb_verify_result *res);
/* A backup's "verify" record (struct dbb_backup_info's verify): its
 * verify_ok and verified_at; false when it is empty or unreadable. */
bool dbb_verify_record_parse(const char *text, bool *ok, time_t *at);

/* ---- reads (no lock: they run beside a backup or restore) ---- */

/* Statistics of the live database. *out is initialised here; the caller
 * frees it with dbb_stats_free whatever the result. */
dbb_code dbb_ops_stats(struct dbb_ops *ops, struct dbb_stats *out, struct dbb_error *err);

/* Readiness of the database (the driver's health check) and of the backups
 * directory (a file can be created there; its free space). */
struct dbb_ops_health {
	bool db_ok, dir_ok;
	uint64_t free_bytes;
	char db_message[DBB_ERROR_MESSAGE_MAX];
	char dir_message[DBB_ERROR_MESSAGE_MAX];
};
void dbb_ops_health(struct dbb_ops *ops, struct dbb_ops_health *out);

/* Opens a listed backup to send it: *fd is the caller's to close. */
dbb_code dbb_ops_open_download(struct dbb_ops *ops, const char *name, int *fd, uint64_t *size,
                               struct dbb_error *err);

/* The backups, newest first (*items malloc'd; free() it). *stamp is taken
 * before reading, for a cache of the listing: it stays current
 * (dbb_ops_list_current) until the directory changes. */
dbb_code dbb_ops_list(struct dbb_ops *ops, struct dbb_storage_stamp *stamp,
                      struct dbb_backup_info **items, size_t *count, struct dbb_error *err);
bool dbb_ops_list_current(struct dbb_ops *ops, const struct dbb_storage_stamp *stamp,
                          unsigned max_age_s);

/* What is on disk, for GET /metrics (out->ok false when listing failed). */
void dbb_ops_disk_usage(struct dbb_ops *ops, struct dbb_metrics_disk *out);

/* Deletes a backup and its sidecar. Takes the lock itself, waiting up to
 * DBB_DELETE_WAIT_MS for a running operation (logged) before DBB_ERR_BUSY. */
dbb_code dbb_ops_delete(struct dbb_ops *ops, const char *name, struct dbb_error *err);

#endif
