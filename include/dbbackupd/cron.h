/* Cron schedules (BACKUP_SCHEDULE): the standard five-field expression
 * "minute hour day-of-month month day-of-week" with Vixie cron's semantics,
 * evaluated in a time zone (include/dbbackupd/tz.h).
 *
 * Syntax per field: "*", a number, a range "1-5", a step "/n" after a
 * range or after "*" (every 15 minutes; "10-50/20"), and comma lists of
 * those (docs/schedules.md has the examples). Months take
 * jan..dec, days of week sun..sat (case-insensitive, also as range ends);
 * day of week 7 is Sunday. Macros: @yearly @annually @monthly @weekly @daily
 * @midnight @hourly. Not supported (an error says so): seconds or year
 * fields, L W # ?, H, @reboot, "5/10" (write 5-59/10).
 *
 * Day rule (Vixie cron): if day-of-month or day-of-week starts with "*",
 * a day must match both fields; when both are restricted, matching either is
 * enough ("0 0 1,15 * mon" runs on the 1st, the 15th and every Monday).
 *
 * DST rule: a wall time that does not exist (clocks set forward) runs once,
 * at the next valid minute (the end of the gap); one that occurs twice
 * (clocks set back) runs once, at its first occurrence. A dbb_cron is a
 * plain value; all functions are pure and thread-safe. */
#ifndef DBBACKUPD_CRON_H
#define DBBACKUPD_CRON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "dbbackupd/error.h"
#include "dbbackupd/tz.h"

struct dbb_cron {
	uint64_t minutes; /* bit n: minute n, 0-59 */
	uint32_t hours;   /* bit n: hour n, 0-23 */
	uint32_t mdays;   /* bit n: day n of the month, 1-31 */
	uint16_t months;  /* bit n: month n, 1-12 */
	uint8_t wdays;    /* bit n: weekday n, 0-6, Sunday 0 */
	bool mday_star;   /* the day-of-month field started with '*' */
	bool wday_star;   /* the day-of-week field started with '*' */
};

/* Parses expr. On error returns DBB_ERR_CONFIG with a message naming the
 * field and the reason, e.g. `day-of-month "32": 32 is out of range 1-31`.
 * Expressions that can never run (`0 0 30 2 *`) are refused too. */
dbb_code dbb_cron_parse(const char *expr, struct dbb_cron *out, struct dbb_error *err);

/* Whether a wall-clock minute matches (seconds are ignored). */
bool dbb_cron_matches(const struct dbb_cron *c, const struct dbb_civil *wall);

/* The first run strictly after `after` (UTC seconds), evaluated in tz.
 * DBB_ERR_INTERNAL only if no run exists in the next 400 years, which a
 * parsed expression cannot do. */
dbb_code dbb_cron_next(const struct dbb_cron *c, const struct dbb_tz *tz, time_t after,
                       time_t *next, struct dbb_error *err);

/* The last run strictly before `before`: the newest due time. For the
 * catch-up rule, pass now + 1 to include a run due exactly now. */
dbb_code dbb_cron_prev(const struct dbb_cron *c, const struct dbb_tz *tz, time_t before,
                       time_t *prev, struct dbb_error *err);

#endif
