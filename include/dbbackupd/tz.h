/* Time zones for schedules and retention buckets (SCHEDULE_TZ): IANA zones
 * read from the system's tzdata (TZif files, version 2+ 64-bit data plus the
 * POSIX TZ footer rule for instants past the table), and the calendar
 * arithmetic around them.
 *
 * Why not localtime_r/mktime: they read the process-wide TZ, and switching
 * it (setenv + tzset) in a multi-threaded daemon races with every other
 * thread's localtime_r/strftime (and with getenv). A loaded dbb_tz is an
 * immutable value: any number of threads may use one at once, and several
 * zones can be used side by side (one per target). Nothing here touches TZ,
 * errno-style globals or locale. Leap seconds are not supported (the
 * "right/" zones are refused). */
#ifndef DBBACKUPD_TZ_H
#define DBBACKUPD_TZ_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "dbbackupd/error.h"

#define DBB_TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define DBB_TZ_NAME_MAX    256

struct dbb_tz;

/* Loads zone `name` ("Europe/Berlin"; "UTC" is built in and needs no tzdata)
 * from directory `dir` (NULL: DBB_TZ_DEFAULT_DIR; the caller may pass
 * $TZDIR). The name must be a relative path of [A-Za-z0-9._+-] components,
 * none of them "." or "..". DBB_ERR_CONFIG with a message naming the zone
 * and the reason (unknown zone, not a TZif file, truncated, ...). */
dbb_code dbb_tz_load(struct dbb_tz **out, const char *name, const char *dir, struct dbb_error *err);
/* Parses a TZif image already in memory (tests, fuzzing). */
dbb_code dbb_tz_parse(struct dbb_tz **out, const char *name, const unsigned char *data, size_t len,
                      struct dbb_error *err);
void dbb_tz_free(struct dbb_tz *tz);
const char *dbb_tz_name(const struct dbb_tz *tz);

/* A stretch of time with one UTC offset: [start, end) in UTC seconds;
 * INT64_MIN / INT64_MAX when unbounded. Consecutive periods may share an
 * offset (a change of abbreviation only). */
struct dbb_tz_period {
	int64_t start, end;
	int32_t utoff; /* seconds east of UTC */
	bool isdst;
	char abbr[16];
};

void dbb_tz_period_at(const struct dbb_tz *tz, int64_t t, struct dbb_tz_period *p);

/* A proleptic Gregorian calendar date and wall-clock time. */
struct dbb_civil {
	int64_t year;
	int month;  /* 1-12 */
	int day;    /* 1-31 */
	int hour;   /* 0-23 */
	int minute; /* 0-59 */
	int second; /* 0-59 */
	int wday;   /* 0-6, Sunday 0 (set by the conversions, ignored as input) */
	int yday;   /* 0-365 (likewise) */
};

/* Days since 1970-01-01 of a date (day may run past the month's end or be
 * <= 0: it is counted from the first of the month). */
int64_t dbb_days_from_civil(int64_t year, int month, int day);
/* Seconds since the epoch of a civil time read as UTC, and back. */
int64_t dbb_civil_to_seconds(const struct dbb_civil *c);
void dbb_civil_from_seconds(int64_t s, struct dbb_civil *c);
bool dbb_is_leap_year(int64_t year);
int dbb_days_in_month(int64_t year, int month);
/* ISO 8601 week (Monday first; week 1 holds the year's first Thursday). */
void dbb_iso_week(const struct dbb_civil *c, int64_t *iso_year, int *week);

/* Wall-clock time in tz at instant t; *utoff (if non-NULL) gets the offset. */
void dbb_tz_to_local(const struct dbb_tz *tz, int64_t t, struct dbb_civil *out, int32_t *utoff);

enum dbb_tz_local_kind {
	DBB_TZ_LOCAL_UNIQUE,   /* the wall time occurs once */
	DBB_TZ_LOCAL_REPEATED, /* it occurs twice (clocks set back): first occurrence */
	DBB_TZ_LOCAL_SKIPPED,  /* it never occurs (clocks set forward): the instant the gap ends */
};

/* The instant of a wall-clock time in tz, by the schedule's DST rule: a time
 * that occurs twice maps to its first occurrence; a time that does not exist
 * maps to the first instant after the gap (the next valid minute). The
 * mapping never decreases as the wall time increases. */
int64_t dbb_tz_from_local(const struct dbb_tz *tz, const struct dbb_civil *wall,
                          enum dbb_tz_local_kind *kind);

#endif
