/* Backup and restore orchestration, the same for every driver: the
 * per-database lock (one mutating operation at a time, 409 for the others),
 * the stream chains (driver → gzip|zstd → sha256 → temporary file), staging and
 * validation before anything is touched, the safety backup, and the rollback
 * from it when a non-atomic restore fails. */
#ifndef DBBACKUPD_OPS_H
#define DBBACKUPD_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "dbbackupd/config.h"
#include "dbbackupd/driver.h"
#include "dbbackupd/error.h"
#include "dbbackupd/storage.h"

struct dbb_ops;

dbb_code dbb_ops_new(struct dbb_ops **out, const struct dbb_config *cfg,
                     const struct dbb_driver *driver, struct dbb_storage *st,
                     struct dbb_error *err);
void dbb_ops_free(struct dbb_ops *ops);

const struct dbb_driver *dbb_ops_driver(const struct dbb_ops *ops);
struct dbb_storage *dbb_ops_storage(const struct dbb_ops *ops);
void dbb_ops_driver_ctx(const struct dbb_ops *ops, struct dbb_driver_ctx *ctx);

struct dbb_backup_result {
	char filename[DBB_NAME_MAX];
	uint64_t size_bytes;
	char sha256[65];
};

struct dbb_restore_result {
	bool safety_backup_created;
	char safety_backup_filename[DBB_NAME_MAX];
	bool rollback_attempted; /* safety backup restored after a failure */
	bool rollback_succeeded;
};

/* The lock: what names the running operation for the 409 message. */
dbb_code dbb_ops_lock(struct dbb_ops *ops, const char *what, struct dbb_error *err);
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

/* Deletes a backup and its sidecar. Takes the lock itself. */
dbb_code dbb_ops_delete(struct dbb_ops *ops, const char *name, struct dbb_error *err);

#endif
