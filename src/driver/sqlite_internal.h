/* Internal interface of the SQLite driver, shared by its files only:
 *   sqlite.c       - the driver vtable: dump, stage/validate, restore, stats
 *   sqlite_check.c - opening and checking a database file nobody vouches for
 *                    (an upload, a file in the backups directory)
 *   sqlite_mem.c   - SQLite's allocator, with one memory budget for the
 *                    connections that read such files
 *   sqlite_vfs.c   - a VFS combining small writes, for the restore's copy
 *
 * The bounds of a check (docs/driver-sqlite.md, "Validation"): */
#ifndef DBBACKUPD_DRIVER_SQLITE_INTERNAL_H
#define DBBACKUPD_DRIVER_SQLITE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "dbbackupd/error.h"

/* Memory SQLite may hold for all the checks running at once. */
#define DBB_SQLITE_CHECK_MEMORY (64 << 20)
/* Largest string or blob a check reads or computes (SQLITE_LIMIT_LENGTH). */
#define DBB_SQLITE_CHECK_MAX_VALUE (16 << 20)
/* Time a check may take: a base plus an allowance per GiB of file. */
#define DBB_SQLITE_CHECK_BASE_S    30
#define DBB_SQLITE_CHECK_PER_GIB_S 240

/* ---- sqlite_mem.c ---- */

/* Installs the accounting allocator (SQLITE_CONFIG_MALLOC). It must run
 * before SQLite is initialised: the driver's check_config does it at
 * start-up. Returns false when SQLite was initialised already; the budget
 * is then not enforced (the other bounds still are). Idempotent. */
bool dbb_sqlite_mem_install(void);

/* From begin to end, every allocation SQLite makes on the calling thread
 * counts towards one budget of `budget` bytes shared by all threads inside
 * such a section; one that would exceed it fails (SQLITE_NOMEM). Blocks
 * keep their charge until freed, whichever thread frees them. Allocations
 * of other threads (the live database's connections) are never refused. */
void dbb_sqlite_mem_untrusted_begin(int64_t budget);
/* Returns true if an allocation was refused on this thread since begin. */
bool dbb_sqlite_mem_untrusted_end(void);

/* What a block is charged beyond its size: the headers of this allocator,
 * SQLite's and malloc's, so that many small blocks count as what they cost. */
#define DBB_SQLITE_MEM_OVERHEAD 32

/* Bytes charged now, and the most charged at once since the start. */
int64_t dbb_sqlite_mem_charged(void);
int64_t dbb_sqlite_mem_charged_peak(void);

/* ---- sqlite_vfs.c ---- */

/* The name of a VFS that combines consecutive writes into writes of up to
 * 128 KiB (registered on first use), for the restore's copy into the live
 * database; NULL if it could not be registered (use the default). Exact for
 * connections with synchronous=FULL (the file says why). */
const char *dbb_sqlite_vfs_combining(void);

/* ---- sqlite_check.c ---- */

/* Checks that the file at `path` (a staged copy that nothing else writes)
 * is an SQLite database the daemon may restore, touching nothing:
 *  - opened read-only and immutable, SQLITE_DBCONFIG_DEFENSIVE, untrusted
 *    schema, no triggers, views or extensions, small limits (value length,
 *    SQL length, expression depth, ...), a memory budget and a deadline;
 *  - every schema entry is one its own DDL produces: the schema is replayed
 *    in an empty in-memory database and must come out identical;
 *  - PRAGMA integrity_check answers "ok".
 * DBB_ERR_INVALID_BACKUP with the reason otherwise. */
dbb_code dbb_sqlite_check(const char *path, struct dbb_error *err);

#endif
