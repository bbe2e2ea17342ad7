/* The database driver interface. One `static const struct dbb_driver` per
 * database, registered in driver/registry.c; nothing else switches on the
 * database type.
 *
 * Drivers never see HTTP, gzip or backup file names: dump writes plain bytes
 * to a sink, validate and restore read plain (already decompressed) bytes
 * from a source. The operation layer (ops/) builds the chains, takes the
 * per-database lock, makes the safety backup and rolls back.
 *
 * Every function is called from a request thread and must be thread-safe
 * with respect to list/stats calls running at the same time (open your own
 * connection per call; keep no mutable globals). */
#ifndef DBBACKUPD_DRIVER_H
#define DBBACKUPD_DRIVER_H

#include <stdbool.h>

#include <jansson.h>

#include "dbbackupd/config.h"
#include "dbbackupd/error.h"
#include "dbbackupd/stream.h"

/* A scratch file the operation layer made for a driver (SQLite's backup API
 * works on files): empty, read-write, on the file system whose free space
 * the restore limits count. The driver knows it by its fd and by the path a
 * library that opens files by name needs, never where it lives. */
struct dbb_scratch {
	int fd;
	char path[PATH_MAX + 80];
	/* Closes and removes it; NULL in a zeroed or discarded scratch. */
	void (*discard)(struct dbb_scratch *self);
	void *owner; /* the operation layer's */
};

struct dbb_driver_ctx {
	const struct dbb_config *cfg;
	/* Makes a scratch file (see above); out->discard releases it. */
	dbb_code (*scratch)(const struct dbb_driver_ctx *ctx, struct dbb_scratch *out,
	                    struct dbb_error *err);
	void *scratch_arg; /* the operation layer's */
};

/* Safe on a zeroed or discarded scratch. */
static inline void dbb_scratch_discard(struct dbb_scratch *s)
{
	if (s->discard)
		s->discard(s);
}

/* What a driver's stage() kept: defined by the driver, opaque to ops. */
struct dbb_staged;

struct dbb_dump_options {
	bool use_apoc; /* Neo4j only; other drivers ignore it */
};

struct dbb_driver {
	const char *name;      /* DB_TYPE value and the <db> part of file names */
	const char *extension; /* file extension without the dot: "db", "sql" */
	/* true: a failed restore leaves the database exactly as it was (one
	 * transaction). false: ops restores the safety backup on failure. */
	bool atomic_restore;

	/* Checks the driver's settings at start-up (no connection made).
	 * Returns DBB_ERR_CONFIG naming the variable. */
	dbb_code (*check_config)(const struct dbb_config *cfg, struct dbb_error *err);

	/* Cheap reachability check: DBB_OK or DBB_ERR_DB_UNAVAILABLE. */
	dbb_code (*health)(const struct dbb_driver_ctx *ctx, struct dbb_error *err);

	/* Writes a complete, consistent backup to out. On failure the caller
	 * discards whatever was written. */
	dbb_code (*dump)(const struct dbb_driver_ctx *ctx, const struct dbb_dump_options *opt,
	                 struct dbb_sink *out, struct dbb_error *err);

	/* Reads the whole decompressed backup and checks it is one this driver
	 * can restore, touching nothing. DBB_ERR_INVALID_BACKUP with a message
	 * saying what the file is otherwise. */
	dbb_code (*validate)(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
	                     struct dbb_error *err);

	/* Optional: checks, touching nothing, that restore can replace the
	 * database's contents (for example that its clean can drop every object
	 * there is). Called after validate and before the safety backup.
	 * DBB_ERR_RESTORE_CONFLICT (409) naming what stands in the way. */
	dbb_code (*check_restore)(const struct dbb_driver_ctx *ctx, struct dbb_error *err);

	/* Optional (NULL when restore cleans atomically itself): removes every
	 * user object of the database before restore. */
	dbb_code (*clean)(const struct dbb_driver_ctx *ctx, struct dbb_error *err);

	/* Replaces the database's contents with the backup read from in. */
	dbb_code (*restore)(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
	                    struct dbb_error *err);

	/* Optional, for a driver that must copy the backup aside to check it
	 * (SQLite): stage is validate that keeps what it checked in *staged
	 * (NULL on failure), restore_staged restores from that instead of
	 * reading the backup again, and discard_staged frees it (NULL is
	 * fine). With them a restore decompresses and checks the backup once.
	 * All three or none. */
	dbb_code (*stage)(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
	                  struct dbb_staged **staged, struct dbb_error *err);
	dbb_code (*restore_staged)(const struct dbb_driver_ctx *ctx, struct dbb_staged *staged,
	                           struct dbb_error *err);
	void (*discard_staged)(struct dbb_staged *staged);

	/* Statistics as a JSON object (new reference in *out). */
	dbb_code (*stats)(const struct dbb_driver_ctx *ctx, json_t **out, struct dbb_error *err);
};

/* Looks a driver up by DB_TYPE; NULL if unknown. */
const struct dbb_driver *dbb_driver_find(const char *name);

/* "sqlite, postgresql, ..." for messages. */
const char *dbb_driver_names(void);

#endif
