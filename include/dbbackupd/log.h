/* Logging: one line per event on stderr, "2026-11-25T21:00:00Z LEVEL message".
 * Callers never pass tokens or passwords. Thread-safe (one fprintf a line). */
#ifndef DBBACKUPD_LOG_H
#define DBBACKUPD_LOG_H

enum dbb_log_level { DBB_LOG_DEBUG, DBB_LOG_INFO, DBB_LOG_WARN, DBB_LOG_ERROR };

/* "debug", "info", "warn", "error"; returns -1 if unknown. */
int dbb_log_set_level(const char *name);

void dbb_log(enum dbb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define dbb_debug(...) dbb_log(DBB_LOG_DEBUG, __VA_ARGS__)
#define dbb_info(...)  dbb_log(DBB_LOG_INFO, __VA_ARGS__)
#define dbb_warn(...)  dbb_log(DBB_LOG_WARN, __VA_ARGS__)
#define dbb_error(...) dbb_log(DBB_LOG_ERROR, __VA_ARGS__)

#endif
