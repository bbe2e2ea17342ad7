/* Logging: one line per event on stderr, "2026-11-25T21:00:00Z LEVEL message"
 * (LOG_FORMAT=text; " req=ID" at the end while the thread serves a request)
 * or one JSON object {"time","level","msg"[,"request_id"]} (LOG_FORMAT=json).
 * Callers never pass tokens or passwords. Thread-safe (one fprintf a line). */
#ifndef DBBACKUPD_LOG_H
#define DBBACKUPD_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum dbb_log_level { DBB_LOG_DEBUG, DBB_LOG_INFO, DBB_LOG_WARN, DBB_LOG_ERROR };

/* "debug", "info", "warn", "error"; returns -1 if unknown. */
int dbb_log_set_level(const char *name);
/* "text" or "json"; returns -1 if unknown. */
int dbb_log_set_format(const char *name);

/* A request id: at most this many characters of [A-Za-z0-9._-]. */
#define DBB_REQUEST_ID_MAX 64
/* The request the calling thread serves from now on (NULL or "": none);
 * every line it logs carries the id. Thread-local: the HTTP server sets it
 * when a callback of a request begins and clears it when it returns. */
void dbb_log_context(const char *request_id);
/* The calling thread's request id ("" none), for threads it starts. */
const char *dbb_log_context_id(void);

/* Control bytes in the message (from any source: a tool's stderr, a client's
 * input) are never written as they are: line breaks and tabs become spaces,
 * every other control byte '?', so one event is one line and a terminal
 * reading the log interprets nothing. */
void dbb_log(enum dbb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes `in` (NULL: empty) as one logfmt value into out (cap >= 16 bytes,
 * NUL-terminated). Bare when it is not empty and made only of printable
 * ASCII other than space, '"', '=' and '\\' (and always_quote is false);
 * otherwise in double quotes, with '"' and '\\' escaped by a backslash, \n \r
 * \t, and every other byte outside printable ASCII as \xNN. A value that
 * does not fit is cut and ends in "...". Anything a client or a token
 * controls goes through this before it reaches a log line, so it can
 * neither end its field nor forge another. */
void dbb_log_quote(char *out, size_t cap, const char *in, bool always_quote);

#define dbb_debug(...) dbb_log(DBB_LOG_DEBUG, __VA_ARGS__)
#define dbb_info(...)  dbb_log(DBB_LOG_INFO, __VA_ARGS__)
#define dbb_warn(...)  dbb_log(DBB_LOG_WARN, __VA_ARGS__)
#define dbb_error(...) dbb_log(DBB_LOG_ERROR, __VA_ARGS__)

#endif
