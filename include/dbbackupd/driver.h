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
#include <stdint.h>

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

/* ---- statistics ----
 * What GET /backup/stats shows, the same field names for every database:
 * common fields, then the extras a database has. Built with the functions
 * below (each fails only when out of memory, DBB_ERR_INTERNAL); owns all its
 * strings; dbb_stats_free releases it. */
#define DBB_STATS_UNKNOWN (-1) /* an integer not known or not applicable: omitted */

struct dbb_stats_table {
	char *schema; /* NULL: the database has no schemas */
	char *name;
	int64_t rows;       /* an estimate, or the exact count with rows_exact */
	int64_t size_bytes; /* data and indexes; DBB_STATS_UNKNOWN */
	char *engine;       /* NULL: one engine only */
};

/* A named integer: an extra ("view_count") or an entry of a map ("Person"). */
struct dbb_stats_count {
	char *name;
	int64_t value;
};

/* A map of counts ("labels": {"Person": 2}). */
struct dbb_stats_map {
	char *key;
	struct dbb_stats_count *items;
	size_t n, cap;
};

/* A list of strings that may be null as a whole (present false). */
struct dbb_stats_strings {
	bool present;
	char **v;
	size_t n;
};

/* A schema object: a Neo4j constraint or index. NULL strings: null. */
struct dbb_stats_object {
	char *name, *type, *entity_type, *state;
	struct dbb_stats_strings labels_or_types, properties;
};

/* A list of schema objects ("constraints": [...]). */
struct dbb_stats_objects {
	char *key;
	struct dbb_stats_object *items;
	size_t n, cap;
};

struct dbb_stats {
	/* common */
	char *database;       /* the database's name */
	char *server_version; /* NULL: not known */
	int64_t size_bytes;   /* database_size_bytes */
	int64_t table_count;  /* DBB_STATS_UNKNOWN for a database without tables */
	int64_t total_rows;   /* total_row_estimate */
	bool rows_exact;      /* table rows are counts, not estimates */
	bool tables_truncated;
	struct dbb_stats_table *tables;
	size_t ntables, tables_cap;
	/* extras */
	struct dbb_stats_count *extras; /* top-level integers: "view_count" */
	size_t nextras, extras_cap;
	struct dbb_stats_map *maps;
	size_t nmaps;
	struct dbb_stats_objects *lists;
	size_t nlists;
};

void dbb_stats_init(struct dbb_stats *st);
void dbb_stats_free(struct dbb_stats *st);
/* *field = a copy of value (NULL stays NULL). */
dbb_code dbb_stats_text(char **field, const char *value, struct dbb_error *err);
dbb_code dbb_stats_add_table(struct dbb_stats *st, const char *schema, const char *name,
                             int64_t rows, int64_t size_bytes, const char *engine,
                             struct dbb_error *err);
dbb_code dbb_stats_add_extra(struct dbb_stats *st, const char *name, int64_t value,
                             struct dbb_error *err);
/* The map key (made on first use, so an empty map shows as {}). */
dbb_code dbb_stats_map(struct dbb_stats *st, const char *key, struct dbb_stats_map **out,
                       struct dbb_error *err);
/* Adds name=value to the map key (made on first use). */
dbb_code dbb_stats_add_count(struct dbb_stats *st, const char *key, const char *name, int64_t value,
                             struct dbb_error *err);
/* The list key (made on first use, so an empty list shows as []). */
dbb_code dbb_stats_list(struct dbb_stats *st, const char *key, struct dbb_stats_objects **out,
                        struct dbb_error *err);
/* A new zeroed object at the end of list; the caller fills it with copies
 * (dbb_stats_text, dbb_stats_strings_add). */
dbb_code dbb_stats_add_object(struct dbb_stats_objects *list, struct dbb_stats_object **out,
                              struct dbb_error *err);
dbb_code dbb_stats_strings_add(struct dbb_stats_strings *s, const char *value,
                               struct dbb_error *err);

struct dbb_dump_options {
	bool use_apoc; /* Neo4j only; other drivers ignore it */
};

struct dbb_driver {
	const char *name;      /* DB_TYPE value and the <db> part of file names */
	const char *extension; /* file extension without the dot: "db", "sql" */
	/* true: a failed restore leaves the database exactly as it was (one
	 * transaction). false: ops restores the safety backup on failure. */
	bool atomic_restore;
	/* true (with atomic_restore): restore itself checks, in the same pass,
	 * everything validate checks of the bytes it reads, reads them to
	 * their end (so the decoder's checksums have run) and commits only
	 * then; anything wrong rolls the transaction back. ops then restores
	 * without a validation pass first when there is no safety backup to
	 * overlap it with (issue 22: the file is decompressed once). */
	bool restore_validates;
	/* true: verify (below) checks, in its one pass, everything validate
	 * checks of the bytes it reads, so ops runs no validation pass before
	 * it (issue 20). */
	bool verify_validates;

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

	/* Cheap reachability check: DBB_OK or DBB_ERR_DB_UNAVAILABLE (or
	 * DBB_ERR_CONFIG when the settings name something that is not this
	 * database, e.g. an SQLITE_PATH that is no SQLite file). */
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

	/* Statistics of the live database into *out (dbb_stats_init'ed by the
	 * caller, who frees it whatever the result). */
	dbb_code (*stats)(const struct dbb_driver_ctx *ctx, struct dbb_stats *out,
	                  struct dbb_error *err);

	/* Optional (issue 20): what a dump will write, roughly, from one cheap
	 * query (the database's size on disk): a job's bytes_total while it
	 * dumps. An error or 0: unknown. */
	dbb_code (*size_estimate)(const struct dbb_driver_ctx *ctx, uint64_t *bytes,
	                          struct dbb_error *err);

	/* Optional (issue 20, a test-restore): restores the backup read from
	 * in into a scratch place of the driver's own, never the live
	 * database (a scratch file from ctx->scratch; a scratch database or
	 * schema of dbb_verify_config), checks it, and counts each table's
	 * rows into *counts (dbb_stats_init'ed by the caller, who frees it;
	 * exact rows, rows_exact set). The scratch place is removed on every
	 * path. ops calls it after validate read the whole backup, unless
	 * verify_validates says it checks, in the same pass, everything
	 * validate does. DBB_ERR_INVALID_BACKUP or DBB_ERR_RESTORE_FAILED: the backup
	 * failed the test (the message says why); any other code: the test
	 * could not run (DBB_ERR_RESTORE_CONFLICT: the scratch place cannot be
	 * made, naming the privilege; DBB_ERR_DB_UNAVAILABLE...). NULL: the
	 * database has no test-restore (501). */
	dbb_code (*verify)(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
	                   struct dbb_stats *counts, struct dbb_error *err);
};

/* The settings of a verification's scratch database (issue 20): a copy of
 * cfg (*out malloc'd; dbb_verify_config_free wipes and frees it) whose
 * db_name is VERIFY_DB_NAME and whose host, port, user and password are
 * the VERIFY_DB_* ones where set. DBB_ERR_CONFIG when that is the live
 * database itself (same name on the same server). */
dbb_code dbb_verify_config(const struct dbb_config *cfg, struct dbb_config **out,
                           struct dbb_error *err);
void dbb_verify_config_free(struct dbb_config *c);

/* Looks a driver up by DB_TYPE; NULL if unknown. */
const struct dbb_driver *dbb_driver_find(const char *name);

/* The i-th registered driver (registry order), NULL past the last. */
const struct dbb_driver *dbb_driver_at(size_t i);

/* "sqlite, postgresql, ..." for messages. */
const char *dbb_driver_names(void);

#endif
