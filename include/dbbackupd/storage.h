/* The backups directory: the only module that touches it. Every file is
 * opened relative to one directory fd, never following symlinks; client
 * names pass a strict whitelist first. New files are written under a hidden
 * temporary name, fsynced, renamed into place without replacing anything and
 * the directory fsynced, so a partial file is never visible. Each backup has
 * a SHA-256 recorded at write time in a sidecar "<name>.sha256" (sha256sum
 * format, so `sha256sum -c` works by hand). */
#ifndef DBBACKUPD_STORAGE_H
#define DBBACKUPD_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "dbbackupd/error.h"

#define DBB_NAME_MAX   128
#define DBB_RECORD_MAX 1024
/* a test-restore's record (issue 20) is at most this long, NUL included */
#define DBB_VERIFY_RECORD_MAX 512
#define DBB_TMP_PREFIX        ".tmp-"

struct dbb_storage;

/* Opens (creating it if missing) the backups directory and removes stale
 * temporaries left by a previous run. */
dbb_code dbb_storage_open(struct dbb_storage **out, const char *dir, struct dbb_error *err);
void dbb_storage_close(struct dbb_storage *st);
const char *dbb_storage_dir(const struct dbb_storage *st);

/* Whitelist: (safety_)?backup_<db>_<YYYYMMDD>_<HHMMSS>(_<n>)?.<ext>(.gz|.zst)?(.age)?
 * with <db> a target's name ([a-z0-9][a-z0-9_-]{0,31}) and <ext> lowercase
 * alphanumerics. Nothing else is ever served, listed, restored or deleted. */
bool dbb_name_is_valid(const char *name);
/* A valid name ending in .age: an age-encrypted backup (docs/encryption.md). */
bool dbb_name_is_encrypted(const char *name);
/* The codec a name says, under any .age: "gzip" (.gz), "zstd" (.zst) or
 * "none" (static strings). For files that cannot be sniffed: encrypted
 * ones, objects in the store. */
const char *dbb_name_compression(const char *name);
/* The <db> part (the target's name) of a valid name into out. */
bool dbb_name_target(const char *name, char *out, size_t cap);

/* Parses the UTC timestamp in a valid name. */
bool dbb_name_timestamp(const char *name, time_t *out);

/* ---- writing a new file ---- */
struct dbb_storage_tmp {
	struct dbb_storage *st;
	int fd; /* owned until commit/discard */
	char name[64];
};

dbb_code dbb_storage_tmp_create(struct dbb_storage *st, struct dbb_storage_tmp *tmp,
                                struct dbb_error *err);
/* Absolute path of the temporary (for SQLite, which needs a path). */
void dbb_storage_tmp_path(const struct dbb_storage_tmp *tmp, char *buf, size_t cap);

struct dbb_backup_name {
	const char *prefix;    /* "backup" or "safety_backup" */
	const char *db;        /* driver name */
	const char *extension; /* "db", "sql", "cypher" */
	const char *suffix;    /* "", ".gz" or ".zst" (dbb_compression_suffix), then
	                        * ".age" when encrypted (issue 19) */
	time_t when;
};

/* fsyncs the temporary, renames it to the first free name built from `nm`
 * (adding _2, _3... when a name of the same second exists), writes the
 * SHA-256 sidecar, fsyncs the directory. The temporary is consumed either
 * way. final_name receives the name. */
dbb_code dbb_storage_tmp_commit(struct dbb_storage_tmp *tmp, const struct dbb_backup_name *nm,
                                const char *sha256_hex, char final_name[DBB_NAME_MAX],
                                struct dbb_error *err);
/* The same, with note ("# ..." lines, which sha256sum -c skips; NULL:
 * none) after the sidecar's checksum line: an encrypted backup's recipients. */
dbb_code dbb_storage_tmp_commit_note(struct dbb_storage_tmp *tmp, const struct dbb_backup_name *nm,
                                     const char *sha256_hex, const char *note,
                                     char final_name[DBB_NAME_MAX], struct dbb_error *err);
/* Closes and unlinks the temporary. Safe on a consumed or zeroed tmp. */
void dbb_storage_tmp_discard(struct dbb_storage_tmp *tmp);

/* ---- reading, listing, deleting ---- */

/* Opens a listed backup read-only (O_NOFOLLOW, regular files only). */
dbb_code dbb_storage_open_backup(struct dbb_storage *st, const char *name, int *fd, struct stat *sb,
                                 struct dbb_error *err);

struct dbb_backup_info {
	char name[DBB_NAME_MAX];
	uint64_t size_bytes;
	time_t created_at;       /* from the name (UTC), else mtime */
	time_t modified_at;      /* mtime: when its last byte was written */
	bool compressed;         /* by magic bytes, never by name (but encrypted) */
	const char *compression; /* "none", "gzip", "zstd" (static) */
	bool encrypted;          /* an age file (by its first bytes); then compressed and
	                          * compression come from its name (.gz.age, .zst.age) */
	bool safety;
	char db[DBB_NAME_MAX];              /* the target's name */
	char sha256[65];                    /* empty if no sidecar */
	char offsite[DBB_RECORD_MAX];       /* its offsite record (JSON, offsite.h); "" if none */
	char verify[DBB_VERIFY_RECORD_MAX]; /* its last test-restore (JSON, ops.h); "" if none */
};

/* Lists valid backups, newest first. *items is malloc'd; free() it. */
dbb_code dbb_storage_list(struct dbb_storage *st, struct dbb_backup_info **items, size_t *count,
                          struct dbb_error *err);

dbb_code dbb_storage_delete(struct dbb_storage *st, const char *name, struct dbb_error *err);

/* ---- records next to a backup ----
 * "<name>.<kind>": kind "sha256" is the checksum sidecar above (read only
 * here), kind "offsite" the offsite copy's state (offsite.h), kind "verify"
 * the last test-restore's outcome (ops.h, dbb_ops_verify), written
 * atomically (temporary, fsync, rename, directory fsync) and removed with
 * the backup. A record is never listed or served. */
/* DBB_ERR_NOT_FOUND when the backup itself is gone (no record is made for
 * it then). */
dbb_code dbb_storage_record_write(struct dbb_storage *st, const char *name, const char *kind,
                                  const char *text, struct dbb_error *err);
/* Reads at most cap-1 bytes, NUL-terminated. DBB_ERR_NOT_FOUND when absent. */
dbb_code dbb_storage_record_read(struct dbb_storage *st, const char *name, const char *kind,
                                 char *buf, size_t cap, struct dbb_error *err);

/* ---- change detection, for caches of the listing ----
 * A stamp taken before a listing is still current while nothing was
 * committed or deleted through this module and the directory's mtime and
 * ctime did not move (changes made by hand). A directory changed less than
 * a second before the stamp is never "current": its timestamps may not have
 * ticked yet for a change made in the same instant. */
struct dbb_storage_stamp {
	uint64_t generation;
	struct timespec mtime, ctime;
	struct timespec taken; /* CLOCK_REALTIME */
	bool settled;
};
void dbb_storage_stamp(struct dbb_storage *st, struct dbb_storage_stamp *out);
/* True if nothing changed since `s` was taken and it is at most max_age_s old. */
bool dbb_storage_stamp_current(struct dbb_storage *st, const struct dbb_storage_stamp *s,
                               unsigned max_age_s);

/* ---- small state files ----
 * Hidden files of the daemon's own (the restore journal), named ".<word>":
 * never listed (not a valid backup name) and not removed at start-up (not a
 * temporary). Written atomically: temporary, fsync, rename, directory fsync. */
dbb_code dbb_storage_state_write(struct dbb_storage *st, const char *name, const char *text,
                                 struct dbb_error *err);
/* Reads at most cap-1 bytes, NUL-terminated. DBB_ERR_NOT_FOUND when absent. */
dbb_code dbb_storage_state_read(struct dbb_storage *st, const char *name, char *buf, size_t cap,
                                struct dbb_error *err);
/* Removes it (absent is not an error) and fsyncs the directory. */
dbb_code dbb_storage_state_remove(struct dbb_storage *st, const char *name, struct dbb_error *err);

/* Bytes free for unprivileged writers in the directory's file system, and
 * its size. */
dbb_code dbb_storage_space(struct dbb_storage *st, uint64_t *free_bytes, uint64_t *total_bytes,
                           struct dbb_error *err);

/* Total bytes free for unprivileged writers in the directory. */
dbb_code dbb_storage_free_bytes(struct dbb_storage *st, uint64_t *out, struct dbb_error *err);

#endif
