/* The clean before an in-place PostgreSQL restore: what it drops is worked
 * out from the catalog, so it covers every kind of object by construction
 * instead of a list of special cases (docs/driver-postgresql.md, "The
 * clean").
 *
 * Two halves share one catalog query (the census of user objects):
 *
 * - pg_clean_check() runs it read-only, before anything is touched (before
 *   the safety backup), and refuses when an object stands in the way: one
 *   the connected role does not own (so cannot drop, or would re-create with
 *   another owner), one only a superuser may drop, or a kind of object this
 *   code does not know.
 * - pg_clean_write() writes the clean itself: one DO block that, inside the
 *   restore's transaction, takes the census again, drops every schema but
 *   public, every object in public, every object that lives in no schema
 *   (extensions, publications, event triggers, casts, foreign servers, large
 *   objects...), and then takes the census once more and raises an error if
 *   anything is left, so the transaction rolls back before the dump is
 *   loaded into a database that is not empty. */
#ifndef DBBACKUPD_DRIVER_PG_CLEAN_H
#define DBBACKUPD_DRIVER_PG_CLEAN_H

#include <libpq-fe.h>

#include "dbbackupd/error.h"
#include "dbbackupd/stream.h"

/* The oldest server the clean works with (DROP ROUTINE, pg_proc.prokind). */
#define PG_CLEAN_MIN_SERVER 110000

/* Read-only, on an open connection to the database to restore. DBB_OK when
 * the clean can empty it; DBB_ERR_RESTORE_CONFLICT (409) naming the first
 * objects that stand in the way and how many there are; a lost connection
 * is DBB_ERR_DB_UNAVAILABLE, a failed query DBB_ERR_INTERNAL. */
dbb_code pg_clean_check(PGconn *conn, struct dbb_error *err);

/* Writes the clean (SQL for psql, ending in a newline) to out. It must run
 * inside the restore's transaction, after BEGIN and before the dump. */
dbb_code pg_clean_write(struct dbb_sink *out, struct dbb_error *err);

/* Copies a libpq message (in may be NULL) into out on one line: newlines,
 * returns and tabs become spaces, trailing blanks go. Shared by the driver
 * and the clean, which both report libpq's errors. */
void pg_message_one_line(const char *in, char *out, size_t cap);

#endif
