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
#include <stddef.h>

#include <jansson.h>

#include "dbbackupd/config.h"
#include "dbbackupd/error.h"
#include "dbbackupd/storage.h"
#include "dbbackupd/stream.h"

struct dbb_driver_ctx {
	const struct dbb_config *cfg;
	/* For drivers that need a scratch file (SQLite's backup API works on
	 * files): dbb_storage_tmp_create() in here, discard when done. */
	struct dbb_storage *storage;
};

struct dbb_dump_options {
	bool use_apoc; /* Neo4j only; other drivers ignore it */
};

struct dbb_driver {
	const char *name;      /* DB_TYPE value and the <db> part of file names */
	const char *extension; /* file extension without the dot: "db", "sql" */
	/* true: a failed restore leaves the database exactly as it was (one
	 * transaction). false: ops restores the safety backup on failure. */
	bool atomic_restore;

	/* Optional: the driver's own settings (environment variables, or the
	 * .env file), read and checked by config.c into a struct of
	 * settings_size bytes inside struct dbb_config (all the drivers'
	 * together at most DBB_DRIVER_SETTINGS_MAX) and listed by
	 * --check-config, whatever DB_TYPE; the driver reads its own with
	 * dbb_config_driver_settings(cfg). */
	const struct dbb_setting *settings;
	size_t settings_count;
	size_t settings_size;

	/* Optional: says whether the first bytes of a decompressed file (at
	 * most DBB_SNIFF_HEAD) are a file of this database: NULL if not, else
	 * what it is ("a PostgreSQL SQL dump"), with *restorable set to false
	 * for a form restore refuses (pg_dump's custom format). The format
	 * sniffer (sniff.h) asks every driver, so that each can say what a
	 * wrong file is without knowing the others' markers. */
	const char *(*recognise)(const unsigned char *head, size_t len, bool *restorable);

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

	/* Statistics as a JSON object (new reference in *out). */
	dbb_code (*stats)(const struct dbb_driver_ctx *ctx, json_t **out, struct dbb_error *err);
};

/* Looks a driver up by DB_TYPE; NULL if unknown. */
const struct dbb_driver *dbb_driver_find(const char *name);

/* The i-th registered driver (registry order), NULL past the last. */
const struct dbb_driver *dbb_driver_at(size_t i);

/* "sqlite, postgresql, ..." for messages. */
const char *dbb_driver_names(void);

#endif
