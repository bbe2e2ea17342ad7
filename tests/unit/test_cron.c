/* Unit tests for sched/cron.c: parsing (good and bad expressions), next and
 * previous runs against a table generated from croniter (cron_table.h, see
 * cron_table_gen.py), and hand-checked rows for DST changes in
 * Europe/Berlin and America/New_York, Feb 29 and the day-of-month /
 * day-of-week rule. `test_cron --dump` reads "zone|expr|after|n" lines and
 * prints our next and previous n runs, for the generator. */
#include "check.h"
#include "dbbackupd/cron.h"

#include <stdint.h>

struct cron_row {
	const char *zone;
	const char *expr;
	int64_t after;
	int64_t next[3];
	int64_t prev[3];
};

#include "cron_table.h"

static int64_t utc(int y, int mo, int d, int h, int mi)
{
	struct dbb_civil c = {.year = y, .month = mo, .day = d, .hour = h, .minute = mi};
	return dbb_civil_to_seconds(&c);
}

static struct dbb_tz *zone(const char *name)
{
	static struct {
		char name[64];
		struct dbb_tz *tz;
	} cache[8];
	struct dbb_error err;
	for (size_t i = 0; i < 8; i++) {
		if (cache[i].tz && strcmp(cache[i].name, name) == 0)
			return cache[i].tz;
		if (!cache[i].tz) {
			if (dbb_tz_load(&cache[i].tz, name, NULL, &err) != DBB_OK) {
				fprintf(stderr, "%s\n", err.message);
				return NULL;
			}
			snprintf(cache[i].name, sizeof(cache[i].name), "%s", name);
			return cache[i].tz;
		}
	}
	return NULL;
}

static bool parse(const char *expr, struct dbb_cron *c)
{
	struct dbb_error err;
	if (dbb_cron_parse(expr, c, &err) != DBB_OK) {
		fprintf(stderr, "parse %s: %s\n", expr, err.message);
		return false;
	}
	return true;
}

/* The next n runs after `after` equal want[] (n <= 8). */
static bool runs_are(const char *tzname, const char *expr, int64_t after, const int64_t *want,
                     int n)
{
	struct dbb_cron c;
	struct dbb_error err;
	struct dbb_tz *tz = zone(tzname);
	time_t t = (time_t)after;
	if (!tz || !parse(expr, &c))
		return false;
	for (int i = 0; i < n; i++) {
		if (dbb_cron_next(&c, tz, t, &t, &err) != DBB_OK || t != want[i]) {
			fprintf(stderr, "%s \"%s\" after %lld: run %d is %lld, want %lld\n", tzname,
			        expr, (long long)after, i, (long long)t, (long long)want[i]);
			return false;
		}
	}
	return true;
}

static bool prev_runs_are(const char *tzname, const char *expr, int64_t before, const int64_t *want,
                          int n)
{
	struct dbb_cron c;
	struct dbb_error err;
	struct dbb_tz *tz = zone(tzname);
	time_t t = (time_t)before;
	if (!tz || !parse(expr, &c))
		return false;
	for (int i = 0; i < n; i++) {
		if (dbb_cron_prev(&c, tz, t, &t, &err) != DBB_OK || t != want[i]) {
			fprintf(stderr, "%s \"%s\" before %lld: run -%d is %lld, want %lld\n",
			        tzname, expr, (long long)before, i, (long long)t,
			        (long long)want[i]);
			return false;
		}
	}
	return true;
}

#define RUNS(tz, expr, after, ...)                                                                 \
	CHECK(runs_are(tz, expr, after, (const int64_t[]){__VA_ARGS__},                            \
	               (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))))
#define PREV(tz, expr, before, ...)                                                                \
	CHECK(prev_runs_are(tz, expr, before, (const int64_t[]){__VA_ARGS__},                      \
	                    (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))))

static void test_parse_good(void)
{
	struct dbb_cron c;
	CHECK(parse("* * * * *", &c));
	CHECK(c.minutes == (UINT64_C(1) << 60) - 1 && c.hours == (1u << 24) - 1);
	CHECK(c.mdays == 0xfffffffe && c.months == 0x1ffe && c.wdays == 0x7f);
	CHECK(c.mday_star && c.wday_star);
	CHECK(parse("*/15 * * * *", &c));
	CHECK(c.minutes == ((UINT64_C(1) << 0) | (UINT64_C(1) << 15) | (UINT64_C(1) << 30) |
	                    (UINT64_C(1) << 45)));
	CHECK(parse("10-50/20 1-5 * * *", &c));
	CHECK(c.minutes == ((UINT64_C(1) << 10) | (UINT64_C(1) << 30) | (UINT64_C(1) << 50)));
	CHECK(c.hours == 0x3e);
	CHECK(parse("0 0 1,15 * *", &c));
	CHECK(c.mdays == ((1u << 1) | (1u << 15)) && !c.mday_star && c.wday_star);
	CHECK(parse("0 0 * JAN,jul Mon-fri", &c));
	CHECK(c.months == ((1u << 1) | (1u << 7)) && c.wdays == 0x3e && !c.wday_star);
	CHECK(parse("0 0 * * 7", &c));
	CHECK(c.wdays == 1); /* 7 is Sunday */
	CHECK(parse("0 0 * * 5-7", &c));
	CHECK(c.wdays == ((1u << 5) | (1u << 6) | 1u));
	CHECK(parse("0 0 * * sun", &c) && c.wdays == 1);
	CHECK(parse("0 0 */2 * mon", &c) && c.mday_star && !c.wday_star); /* Vixie: '*' first */
	CHECK(parse("  0\t2 * * *  \n", &c) && c.hours == (1u << 2));
	CHECK(parse("0 0 1-31/10 * *", &c));
	CHECK(c.mdays == ((1u << 1) | (1u << 11) | (1u << 21) | (1u << 31)));
	CHECK(parse("0 */25 * * *", &c) && c.hours == 1); /* a step beyond the range */

	static const struct {
		const char *macro, *expr;
	} macros[] = {
	    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
	    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
	    {"@hourly", "0 * * * *"},
	};
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
		struct dbb_cron a, b;
		CHECK(parse(macros[i].macro, &a) && parse(macros[i].expr, &b));
		CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	}
}

static void test_parse_bad(void)
{
	static const struct {
		const char *expr, *message;
	} bad[] = {
	    {"", "empty cron expression"},
	    {"   ", "empty cron expression"},
	    {"* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
	    {"0 * * * * *", "got 6 (seconds, year and command fields are not supported)"},
	    {"0 2 * * * /usr/bin/backup", "got 6"},
	    {"60 * * * *", "minute \"60\": 60 is out of range 0-59"},
	    {"* 24 * * *", "hour \"24\": 24 is out of range 0-23"},
	    {"0 0 0 * *", "day-of-month \"0\": 0 is out of range 1-31"},
	    {"0 0 32 * *", "day-of-month \"32\": 32 is out of range 1-31"},
	    {"0 0 * 13 *", "month \"13\": 13 is out of range 1-12"},
	    {"0 0 * * 8", "day-of-week \"8\": 8 is out of range 0-7"},
	    {"0 0 * foo *", "month \"foo\": unknown name \"foo\" (jan..dec)"},
	    {"0 0 * * monday", "day-of-week \"monday\": unknown name \"monday\" (sun..sat)"},
	    {"0 0 * jan-mon *", "month \"jan-mon\": unknown name \"mon\""},
	    {"0 mon * * *", "hour \"mon\": names are only allowed for month and day-of-week"},
	    {"5-1 * * * *", "minute \"5-1\": range 5-1 runs backwards"},
	    {"0 0 * * fri-sun", "range 5-0 runs backwards (Sunday ending a range is 7: fri-7)"},
	    {"*/0 * * * *", "minute \"*/0\": step must be a number from 1 to 9999"},
	    {"*/ * * * *", "step must be a number"},
	    {"5/10 * * * *", "minute \"5/10\": a step needs a range or '*' (write 5-59/...)"},
	    {"1,,2 * * * *", "minute \"1,,2\": empty list element"},
	    {"1, * * * *", "empty list element"},
	    {"1-* * * * *", "minute \"1-*\": expected a number"},
	    {"0 0 L * *", "day-of-month \"L\": 'L' is not supported"},
	    {"0 0 15W * *", "'W' is not supported"},
	    {"0 0 * * 5#3", "day-of-week \"5#3\": '#' is not supported"},
	    {"0 0 ? * *", "'?' is not supported"},
	    {"H * * * *", "'H' is not supported"},
	    {"0 0 * * 5L", "'L' is not supported"},
	    {"1.5 * * * *", "unexpected '.'"},
	    {"00000 * * * *", "number too long"},
	    {"0 0 30 2 *", "day-of-month \"30\" never occurs in month \"2\""},
	    {"0 0 31 apr,jun *", "day-of-month \"31\" never occurs in month \"apr,jun\""},
	    {"@reboot", "@reboot is not supported"},
	    {"@every 5m", "unknown macro \"@every 5m\""},
	    {"@DAILY", "unknown macro"},
	    {"0 0 * * \xc3\xa9", "unexpected character (byte 0xc3)"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dbb_cron c;
		struct dbb_error err = {0};
		dbb_code rc = dbb_cron_parse(bad[i].expr, &c, &err);
		CHECK(rc == DBB_ERR_CONFIG);
		if (rc != DBB_ERR_CONFIG || !strstr(err.message, bad[i].message))
			fprintf(stderr, "\"%s\": got \"%s\", want \"%s\"\n", bad[i].expr,
			        err.message, bad[i].message);
		CHECK(strstr(err.message, bad[i].message) != NULL);
	}
	struct dbb_cron c;
	struct dbb_error err;
	char big[400];
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(dbb_cron_parse(big, &c, &err) == DBB_ERR_CONFIG);
	CHECK(dbb_cron_parse(NULL, &c, &err) == DBB_ERR_CONFIG);
	/* both day fields restricted: OR, so Feb 30 still runs on Mondays */
	CHECK(parse("0 0 30 2 mon", &c));
}

static void test_table(void)
{
	size_t n = sizeof(cron_table) / sizeof(cron_table[0]);
	CHECK(n >= 100);
	for (size_t i = 0; i < n; i++) {
		const struct cron_row *r = &cron_table[i];
		CHECK(runs_are(r->zone, r->expr, r->after, r->next, 3));
		CHECK(prev_runs_are(r->zone, r->expr, r->after, r->prev, 3));
	}
}

/* Berlin 2024: clocks forward 2024-03-31 02:00 CET -> 03:00 CEST (01:00 UTC),
 * back 2024-10-27 03:00 CEST -> 02:00 CET (01:00 UTC). New York 2024:
 * forward 2024-03-10 02:00 EST -> 03:00 EDT (07:00 UTC), back 2024-11-03
 * 02:00 EDT -> 01:00 EST (06:00 UTC). A skipped wall time runs once at the
 * end of the gap; a repeated one runs once, at its first occurrence. */
static void test_dst(void)
{
	const char *B = "Europe/Berlin", *N = "America/New_York";
	/* 02:30 daily: on the spring day 02:30 does not exist -> 03:00 CEST */
	RUNS(B, "30 2 * * *", utc(2024, 3, 29, 12, 0), utc(2024, 3, 30, 1, 30),
	     utc(2024, 3, 31, 1, 0), utc(2024, 4, 1, 0, 30));
	PREV(B, "30 2 * * *", utc(2024, 4, 1, 0, 0), utc(2024, 3, 31, 1, 0),
	     utc(2024, 3, 30, 1, 30));
	/* ... on the fall day 02:30 occurs twice -> once, at 02:30 CEST */
	RUNS(B, "30 2 * * *", utc(2024, 10, 26, 12, 0), utc(2024, 10, 27, 0, 30),
	     utc(2024, 10, 28, 1, 30));
	PREV(B, "30 2 * * *", utc(2024, 10, 28, 0, 0), utc(2024, 10, 27, 0, 30),
	     utc(2024, 10, 26, 0, 30));
	/* from inside the second 02:xx hour, the first 02:30 has passed */
	RUNS(B, "30 2 * * *", utc(2024, 10, 27, 1, 10), utc(2024, 10, 28, 1, 30));
	/* hourly: 02:00 is skipped in spring (01:00, then 03:00 CEST), and
	 * the second 02:00 in the fall does not run */
	RUNS(B, "0 * * * *", utc(2024, 3, 30, 23, 30), utc(2024, 3, 31, 0, 0),
	     utc(2024, 3, 31, 1, 0), utc(2024, 3, 31, 2, 0));
	RUNS(B, "0 * * * *", utc(2024, 10, 26, 23, 30), utc(2024, 10, 27, 0, 0),
	     utc(2024, 10, 27, 2, 0), utc(2024, 10, 27, 3, 0));
	PREV(B, "0 * * * *", utc(2024, 10, 27, 2, 30), utc(2024, 10, 27, 2, 0),
	     utc(2024, 10, 27, 0, 0), utc(2024, 10, 26, 23, 0));
	/* every 15 minutes: 02:00-02:45 in spring collapse into 03:00 CEST */
	RUNS(B, "*/15 * * * *", utc(2024, 3, 31, 0, 40), utc(2024, 3, 31, 0, 45),
	     utc(2024, 3, 31, 1, 0), utc(2024, 3, 31, 1, 15));
	PREV(B, "*/15 * * * *", utc(2024, 3, 31, 1, 10), utc(2024, 3, 31, 1, 0),
	     utc(2024, 3, 31, 0, 45));
	/* ... and the repeated 02:00-02:45 CET runs do not happen */
	RUNS(B, "*/15 * * * *", utc(2024, 10, 27, 0, 40), utc(2024, 10, 27, 0, 45),
	     utc(2024, 10, 27, 2, 0), utc(2024, 10, 27, 2, 15));
	RUNS(B, "*/15 * * * *", utc(2024, 10, 27, 1, 20), utc(2024, 10, 27, 2, 0));
	PREV(B, "*/15 * * * *", utc(2024, 10, 27, 2, 0), utc(2024, 10, 27, 0, 45),
	     utc(2024, 10, 27, 0, 30));
	PREV(B, "*/15 * * * *", utc(2024, 10, 27, 1, 20), utc(2024, 10, 27, 0, 45));

	RUNS(N, "30 2 * * *", utc(2024, 3, 9, 12, 0), utc(2024, 3, 10, 7, 0),
	     utc(2024, 3, 11, 6, 30));
	PREV(N, "30 2 * * *", utc(2024, 3, 11, 0, 0), utc(2024, 3, 10, 7, 0),
	     utc(2024, 3, 9, 7, 30));
	RUNS(N, "30 1 * * *", utc(2024, 11, 2, 12, 0), utc(2024, 11, 3, 5, 30),
	     utc(2024, 11, 4, 6, 30));
	RUNS(N, "30 2 * * *", utc(2024, 11, 2, 12, 0), utc(2024, 11, 3, 7, 30));
	RUNS(N, "0 * * * *", utc(2024, 3, 10, 5, 30), utc(2024, 3, 10, 6, 0),
	     utc(2024, 3, 10, 7, 0), utc(2024, 3, 10, 8, 0));
	RUNS(N, "0 * * * *", utc(2024, 11, 3, 4, 30), utc(2024, 11, 3, 5, 0),
	     utc(2024, 11, 3, 7, 0), utc(2024, 11, 3, 8, 0));
	PREV(N, "0 * * * *", utc(2024, 11, 3, 7, 0), utc(2024, 11, 3, 5, 0),
	     utc(2024, 11, 3, 4, 0));
	RUNS(N, "*/15 * * * *", utc(2024, 3, 10, 6, 50), utc(2024, 3, 10, 7, 0),
	     utc(2024, 3, 10, 7, 15));
	RUNS(N, "*/15 * * * *", utc(2024, 11, 3, 5, 50), utc(2024, 11, 3, 7, 0));
	PREV(N, "*/15 * * * *", utc(2024, 11, 3, 7, 0), utc(2024, 11, 3, 5, 45));

	/* the number of runs on each change day, as the rule implies */
	static const struct {
		const char *tz, *expr;
		int y, m, d;
		int runs;
	} days[] = {
	    {"Europe/Berlin", "*/15 * * * *", 2024, 3, 31, 92},
	    {"Europe/Berlin", "*/15 * * * *", 2024, 10, 27, 96},
	    {"Europe/Berlin", "0 * * * *", 2024, 3, 31, 23},
	    {"Europe/Berlin", "0 * * * *", 2024, 10, 27, 24},
	    {"Europe/Berlin", "30 2 * * *", 2024, 3, 31, 1},
	    {"Europe/Berlin", "30 2 * * *", 2024, 10, 27, 1},
	    {"America/New_York", "* * * * *", 2024, 3, 10, 23 * 60},
	    {"America/New_York", "* * * * *", 2024, 11, 3, 24 * 60},
	    {"America/New_York", "0 2 * * *", 2024, 3, 10, 1},
	    {"America/New_York", "0 1 * * *", 2024, 11, 3, 1},
	    {"Europe/Berlin", "*/15 * * * *", 2150, 3, 29, 92}, /* past the table */
	};
	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		struct dbb_tz *tz = zone(days[i].tz);
		struct dbb_cron c;
		struct dbb_error err;
		if (!tz || !parse(days[i].expr, &c)) {
			CHECK(false);
			continue;
		}
		struct dbb_civil w0 = {.year = days[i].y, .month = days[i].m, .day = days[i].d};
		struct dbb_civil w1 = w0;
		w1.day++;
		int64_t from = dbb_tz_from_local(tz, &w0, NULL),
		        to = dbb_tz_from_local(tz, &w1, NULL);
		time_t t = (time_t)(from - 1);
		int runs = 0;
		while (dbb_cron_next(&c, tz, t, &t, &err) == DBB_OK && t < to)
			runs++;
		if (runs != days[i].runs)
			fprintf(stderr, "%s \"%s\" %d-%d-%d: %d runs, want %d\n", days[i].tz,
			        days[i].expr, days[i].y, days[i].m, days[i].d, runs, days[i].runs);
		CHECK(runs == days[i].runs);
	}
}

static void test_calendar_rules(void)
{
	/* Feb 29: only in leap years, and 2100 is not one */
	RUNS("UTC", "0 0 29 2 *", utc(2023, 1, 1, 0, 0), utc(2024, 2, 29, 0, 0),
	     utc(2028, 2, 29, 0, 0), utc(2032, 2, 29, 0, 0));
	RUNS("UTC", "0 0 29 2 *", utc(2096, 3, 1, 0, 0), utc(2104, 2, 29, 0, 0));
	PREV("UTC", "0 0 29 2 *", utc(2104, 1, 1, 0, 0), utc(2096, 2, 29, 0, 0));
	RUNS("Europe/Berlin", "30 1 29 feb *", utc(2025, 1, 1, 0, 0), utc(2028, 2, 29, 0, 30));
	/* the 31st: only months that have one */
	RUNS("UTC", "0 12 31 * *", utc(2024, 3, 31, 12, 0), utc(2024, 5, 31, 12, 0),
	     utc(2024, 7, 31, 12, 0), utc(2024, 8, 31, 12, 0));
	/* 1-5 and names: weekdays at 09:00 (2024-06-07 is a Friday) */
	RUNS("UTC", "0 9 * * 1-5", utc(2024, 6, 7, 9, 0), utc(2024, 6, 10, 9, 0),
	     utc(2024, 6, 11, 9, 0));
	RUNS("UTC", "0 9 * * MON-Fri", utc(2024, 6, 7, 9, 0), utc(2024, 6, 10, 9, 0));
	/* day-of-month OR day-of-week when both are restricted: the 1st and
	 * 15th, and every Monday (2024-07: Mondays 1, 8, 15, 22, 29) */
	RUNS("UTC", "0 0 1,15 * mon", utc(2024, 6, 30, 0, 0), utc(2024, 7, 1, 0, 0),
	     utc(2024, 7, 8, 0, 0), utc(2024, 7, 15, 0, 0), utc(2024, 7, 22, 0, 0),
	     utc(2024, 7, 29, 0, 0), utc(2024, 8, 1, 0, 0), utc(2024, 8, 5, 0, 0));
	/* ... but AND when one of them starts with '*' (Vixie cron): odd days
	 * that are Mondays */
	RUNS("UTC", "0 0 */2 * mon", utc(2024, 6, 30, 0, 0), utc(2024, 7, 1, 0, 0),
	     utc(2024, 7, 15, 0, 0), utc(2024, 7, 29, 0, 0), utc(2024, 8, 5, 0, 0));
	/* 7 and 0 are both Sunday (2024-06-09 is a Sunday) */
	RUNS("UTC", "0 0 * * 7", utc(2024, 6, 5, 0, 0), utc(2024, 6, 9, 0, 0),
	     utc(2024, 6, 16, 0, 0));
	/* strictly after, strictly before; now+1 includes a run due now */
	RUNS("UTC", "*/15 * * * *", utc(2024, 1, 1, 10, 15), utc(2024, 1, 1, 10, 30));
	PREV("UTC", "*/15 * * * *", utc(2024, 1, 1, 10, 15), utc(2024, 1, 1, 10, 0));
	PREV("UTC", "*/15 * * * *", utc(2024, 1, 1, 10, 15) + 1, utc(2024, 1, 1, 10, 15));
	RUNS("UTC", "@yearly", utc(2024, 12, 31, 23, 59) + 59, utc(2025, 1, 1, 0, 0));
	/* a time zone that skipped a whole day (Samoa, 2011-12-30) */
	RUNS("Pacific/Apia", "0 12 * * *", utc(2011, 12, 29, 0, 0), utc(2011, 12, 29, 22, 0),
	     utc(2011, 12, 30, 10, 0), utc(2011, 12, 30, 22, 0));
}

/* prev and next are inverse around any instant, across DST changes too. */
static void test_inverse(void)
{
	static const char *const exprs[] = {"*/15 * * * *", "0 * * * *",      "30 2 * * *",
	                                    "0 0 29 2 *",   "0 0 1,15 * mon", "7 1-3 * * 0",
	                                    "45 23 * * 6"};
	static const char *const zones[] = {"UTC", "Europe/Berlin", "America/New_York",
	                                    "Australia/Lord_Howe"};
	uint64_t x = 88172645463325252ULL;
	bool ok = true;
	for (int i = 0; i < 3000 && ok; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		const char *e = exprs[x % 7], *z = zones[(x >> 8) % 4];
		/* instants near DST changes more often than not */
		int64_t t = utc(2024, (x >> 16) % 2 ? 3 : 10, 20 + (int)((x >> 20) % 15), 0, 0) +
		            (int64_t)((x >> 32) % (3 * 86400));
		struct dbb_cron c;
		struct dbb_error err;
		time_t p, n, pn, np;
		if (!parse(e, &c) || dbb_cron_prev(&c, zone(z), t, &p, &err) != DBB_OK ||
		    dbb_cron_next(&c, zone(z), t, &n, &err) != DBB_OK ||
		    dbb_cron_next(&c, zone(z), p, &pn, &err) != DBB_OK ||
		    dbb_cron_prev(&c, zone(z), n, &np, &err) != DBB_OK) {
			ok = false;
			break;
		}
		/* p < t < n with nothing in between */
		if (!(p < t && t < n && pn >= t && np <= t)) {
			fprintf(stderr, "%s \"%s\" t=%lld: prev %lld next %lld\n", z, e,
			        (long long)t, (long long)p, (long long)n);
			ok = false;
		}
	}
	CHECK(ok);
}

static int dump(void)
{
	char line[512];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		char *z = strtok(line, "|"), *e = strtok(NULL, "|"), *a = strtok(NULL, "|"),
		     *ns = strtok(NULL, "|");
		struct dbb_cron c;
		struct dbb_error err;
		struct dbb_tz *tz = z ? zone(z) : NULL;
		if (!tz || !e || !a || !ns || dbb_cron_parse(e, &c, &err) != DBB_OK) {
			printf("error\n");
			continue;
		}
		int n = (int)strtol(ns, NULL, 10);
		time_t t = (time_t)strtoll(a, NULL, 10);
		for (int i = 0; i < n && dbb_cron_next(&c, tz, t, &t, &err) == DBB_OK; i++)
			printf("%s%lld", i ? " " : "", (long long)t);
		printf(" |");
		t = (time_t)strtoll(a, NULL, 10);
		for (int i = 0; i < n && dbb_cron_prev(&c, tz, t, &t, &err) == DBB_OK; i++)
			printf(" %lld", (long long)t);
		printf("\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--dump") == 0)
		return dump();
	test_parse_good();
	test_parse_bad();
	test_table();
	test_dst();
	test_calendar_rules();
	test_inverse();
	DONE();
}
