/* Unit tests for sched/tz.c: TZif and POSIX TZ rules, calendar helpers, and
 * wall time <-> instant across DST changes. The expected offsets were
 * checked against Python's zoneinfo (a random sweep of 1900-2200 over 17
 * zones agreed on every instant when this was written). */
#include "check.h"
#include "dbbackupd/tz.h"

#include <stdint.h>

static int64_t utc(int y, int mo, int d, int h, int mi)
{
	struct dbb_civil c = {.year = y, .month = mo, .day = d, .hour = h, .minute = mi};
	return dbb_civil_to_seconds(&c);
}

static struct dbb_tz *load(const char *name)
{
	struct dbb_tz *tz = NULL;
	struct dbb_error err;
	if (dbb_tz_load(&tz, name, NULL, &err) != DBB_OK) {
		fprintf(stderr, "cannot load %s: %s\n", name, err.message);
		return NULL;
	}
	return tz;
}

static int32_t offset_at(const struct dbb_tz *tz, int64_t t)
{
	struct dbb_civil c;
	int32_t off;
	dbb_tz_to_local(tz, t, &c, &off);
	return off;
}

/* A TZif v2 image with no transitions, one type and a POSIX footer. */
static size_t make_tzif(unsigned char *buf, size_t cap, int32_t utoff, const char *abbr,
                        const char *footer)
{
	size_t n = 0, charcnt = strlen(abbr) + 1;
	for (int block = 0; block < 2; block++) {
		unsigned char h[44] = {'T', 'Z', 'i', 'f', '2'};
		h[39] = 1; /* typecnt */
		h[43] = (unsigned char)charcnt;
		memcpy(buf + n, h, sizeof(h));
		n += sizeof(h);
		uint32_t u = (uint32_t)utoff;
		unsigned char ty[6] = {(unsigned char)(u >> 24),
		                       (unsigned char)(u >> 16),
		                       (unsigned char)(u >> 8),
		                       (unsigned char)u,
		                       0,
		                       0};
		memcpy(buf + n, ty, 6);
		n += 6;
		memcpy(buf + n, abbr, charcnt);
		n += charcnt;
	}
	n += (size_t)snprintf((char *)buf + n, cap - n, "\n%s\n", footer);
	return n;
}

static struct dbb_tz *from_rule(const char *footer)
{
	unsigned char buf[256];
	struct dbb_tz *tz = NULL;
	struct dbb_error err;
	size_t n = make_tzif(buf, sizeof(buf), 0, "XXX", footer);
	if (dbb_tz_parse(&tz, footer, buf, n, &err) != DBB_OK)
		fprintf(stderr, "rule %s: %s\n", footer, err.message);
	return tz;
}

static void test_calendar(void)
{
	struct dbb_civil c;
	CHECK(dbb_days_from_civil(1970, 1, 1) == 0);
	CHECK(dbb_days_from_civil(2000, 3, 1) == 11017);
	CHECK(dbb_days_from_civil(2024, 13, 1) == dbb_days_from_civil(2025, 1, 1));
	CHECK(dbb_days_from_civil(2024, 3, 0) == dbb_days_from_civil(2024, 2, 29));
	dbb_civil_from_seconds(-1, &c);
	CHECK(c.year == 1969 && c.month == 12 && c.day == 31 && c.hour == 23 && c.second == 59);
	CHECK(c.wday == 3); /* a Wednesday */
	dbb_civil_from_seconds(utc(2024, 2, 29, 12, 0), &c);
	CHECK(c.year == 2024 && c.month == 2 && c.day == 29 && c.yday == 59 && c.wday == 4);
	CHECK(dbb_is_leap_year(2000) && !dbb_is_leap_year(2100) && dbb_is_leap_year(2024));
	CHECK(dbb_days_in_month(2023, 2) == 28 && dbb_days_in_month(2024, 2) == 29);
	CHECK(dbb_days_in_month(2024, 4) == 30 && dbb_days_in_month(2024, 12) == 31);

	/* ISO weeks: the year of the week's Thursday */
	static const struct {
		int y, m, d;
		int64_t iy;
		int w;
	} iso[] = {
	    {2021, 1, 3, 2020, 53},   {2021, 1, 4, 2021, 1},   {2024, 12, 30, 2025, 1},
	    {2026, 12, 31, 2026, 53}, {2027, 1, 1, 2026, 53},  {2023, 1, 1, 2022, 52},
	    {2023, 1, 2, 2023, 1},    {2022, 6, 15, 2022, 24},
	};
	for (size_t i = 0; i < sizeof(iso) / sizeof(iso[0]); i++) {
		struct dbb_civil x = {.year = iso[i].y, .month = iso[i].m, .day = iso[i].d};
		int64_t iy;
		int w;
		dbb_iso_week(&x, &iy, &w);
		CHECK(iy == iso[i].iy && w == iso[i].w);
	}
}

static void test_zones(void)
{
	struct dbb_tz *utc_tz = load("UTC"), *ber = load("Europe/Berlin"),
	              *ny = load("America/New_York"), *syd = load("Australia/Sydney"),
	              *lhi = load("Australia/Lord_Howe"), *kol = load("Asia/Kolkata");
	CHECK(utc_tz && ber && ny && syd && lhi && kol);
	if (!utc_tz || !ber || !ny || !syd || !lhi || !kol)
		goto out;
	CHECK_STR(dbb_tz_name(ber), "Europe/Berlin");
	CHECK(offset_at(utc_tz, utc(2024, 7, 1, 0, 0)) == 0);
	/* Berlin 2024: CEST from 2024-03-31 01:00 UTC to 2024-10-27 01:00 UTC */
	CHECK(offset_at(ber, utc(2024, 3, 31, 0, 59)) == 3600);
	CHECK(offset_at(ber, utc(2024, 3, 31, 1, 0)) == 7200);
	CHECK(offset_at(ber, utc(2024, 10, 27, 0, 59)) == 7200);
	CHECK(offset_at(ber, utc(2024, 10, 27, 1, 0)) == 3600);
	/* past the table (2037): the footer rule CET-1CEST,M3.5.0,M10.5.0/3 */
	CHECK(offset_at(ber, utc(2150, 3, 29, 0, 59)) == 3600); /* last Sunday: 29th */
	CHECK(offset_at(ber, utc(2150, 3, 29, 1, 0)) == 7200);
	CHECK(offset_at(ber, utc(2150, 10, 25, 1, 0)) == 3600);
	/* before the first transition: local mean time, +00:53:28 */
	CHECK(offset_at(ber, utc(1850, 1, 1, 0, 0)) == 3208);
	/* New York 2024: EDT from 03-10 07:00 UTC to 11-03 06:00 UTC */
	CHECK(offset_at(ny, utc(2024, 3, 10, 6, 59)) == -5 * 3600);
	CHECK(offset_at(ny, utc(2024, 3, 10, 7, 0)) == -4 * 3600);
	CHECK(offset_at(ny, utc(2024, 11, 3, 5, 59)) == -4 * 3600);
	CHECK(offset_at(ny, utc(2024, 11, 3, 6, 0)) == -5 * 3600);
	/* southern hemisphere: DST across the new year */
	CHECK(offset_at(syd, utc(2024, 1, 15, 0, 0)) == 11 * 3600);
	CHECK(offset_at(syd, utc(2024, 7, 15, 0, 0)) == 10 * 3600);
	CHECK(offset_at(syd, utc(2200, 1, 15, 0, 0)) == 11 * 3600);
	/* half-hour DST, and a half-hour zone */
	CHECK(offset_at(lhi, utc(2024, 1, 15, 0, 0)) == 11 * 3600);
	CHECK(offset_at(lhi, utc(2024, 7, 15, 0, 0)) == 10 * 3600 + 1800);
	CHECK(offset_at(kol, utc(2024, 7, 15, 0, 0)) == 5 * 3600 + 1800);

	struct dbb_tz_period p;
	dbb_tz_period_at(ber, utc(2024, 7, 1, 0, 0), &p);
	CHECK(p.start == utc(2024, 3, 31, 1, 0) && p.end == utc(2024, 10, 27, 1, 0));
	CHECK(p.isdst && p.utoff == 7200);
	CHECK_STR(p.abbr, "CEST");
	dbb_tz_period_at(ber, utc(2100, 7, 1, 0, 0), &p);
	CHECK(p.start == utc(2100, 3, 28, 1, 0) && p.end == utc(2100, 10, 31, 1, 0));
	CHECK_STR(p.abbr, "CEST");

	/* wall time -> instant: unique, repeated (first), skipped (end of gap) */
	enum dbb_tz_local_kind k;
	struct dbb_civil w = {.year = 2024, .month = 3, .day = 31, .hour = 2, .minute = 30};
	CHECK(dbb_tz_from_local(ber, &w, &k) == utc(2024, 3, 31, 1, 0));
	CHECK(k == DBB_TZ_LOCAL_SKIPPED);
	w = (struct dbb_civil){.year = 2024, .month = 3, .day = 31, .hour = 3, .minute = 0};
	CHECK(dbb_tz_from_local(ber, &w, &k) == utc(2024, 3, 31, 1, 0));
	CHECK(k == DBB_TZ_LOCAL_UNIQUE);
	w = (struct dbb_civil){.year = 2024, .month = 3, .day = 31, .hour = 1, .minute = 59};
	CHECK(dbb_tz_from_local(ber, &w, &k) == utc(2024, 3, 31, 0, 59));
	w = (struct dbb_civil){.year = 2024, .month = 10, .day = 27, .hour = 2, .minute = 30};
	CHECK(dbb_tz_from_local(ber, &w, &k) == utc(2024, 10, 27, 0, 30));
	CHECK(k == DBB_TZ_LOCAL_REPEATED);
	w = (struct dbb_civil){.year = 2024, .month = 10, .day = 27, .hour = 3, .minute = 0};
	CHECK(dbb_tz_from_local(ber, &w, &k) == utc(2024, 10, 27, 2, 0));
	CHECK(k == DBB_TZ_LOCAL_UNIQUE);
	w = (struct dbb_civil){.year = 2024, .month = 11, .day = 3, .hour = 1, .minute = 30};
	CHECK(dbb_tz_from_local(ny, &w, &k) == utc(2024, 11, 3, 5, 30)); /* 01:30 EDT */
	CHECK(k == DBB_TZ_LOCAL_REPEATED);
	w = (struct dbb_civil){.year = 2024, .month = 3, .day = 10, .hour = 2, .minute = 15};
	CHECK(dbb_tz_from_local(ny, &w, &k) == utc(2024, 3, 10, 7, 0)); /* 03:00 EDT */
	CHECK(k == DBB_TZ_LOCAL_SKIPPED);
	w = (struct dbb_civil){.year = 2024, .month = 10, .day = 6, .hour = 2, .minute = 15};
	CHECK(dbb_tz_from_local(lhi, &w, &k) == utc(2024, 10, 5, 15, 30)); /* gap 02:00-02:30 */
	CHECK(k == DBB_TZ_LOCAL_SKIPPED);

	/* monotonic over a whole fall-back and spring-forward day, minute by minute */
	int64_t prev = INT64_MIN;
	bool mono = true;
	for (int day = 0; day < 2; day++)
		for (int m = 0; m < 24 * 60; m++) {
			struct dbb_civil x = {.year = 2024,
			                      .month = day ? 10 : 3,
			                      .day = day ? 27 : 31,
			                      .hour = m / 60,
			                      .minute = m % 60};
			int64_t t = dbb_tz_from_local(ber, &x, NULL);
			if (t < prev)
				mono = false;
			prev = t;
		}
	CHECK(mono);
out:
	dbb_tz_free(utc_tz);
	dbb_tz_free(ber);
	dbb_tz_free(ny);
	dbb_tz_free(syd);
	dbb_tz_free(lhi);
	dbb_tz_free(kol);
}

static void test_posix_rules(void)
{
	struct dbb_tz *us = from_rule("EST5EDT,M3.2.0,M11.1.0"), *ny = load("America/New_York");
	CHECK(us && ny);
	if (us && ny) /* the rule alone agrees with the zone after 2007 */
		for (int64_t t = utc(2008, 1, 1, 0, 0); t < utc(2040, 1, 1, 0, 0);
		     t += 3 * 3600 + 7)
			if (offset_at(us, t) != offset_at(ny, t)) {
				CHECK(!"EST5EDT rule differs from America/New_York");
				break;
			}
	dbb_tz_free(us);
	dbb_tz_free(ny);

	struct dbb_tz *tz = from_rule("<+0330>-3:30");
	CHECK(tz && offset_at(tz, 0) == 3 * 3600 + 1800);
	dbb_tz_free(tz);
	tz = from_rule("AEST-10AEDT,M10.1.0,M4.1.0/3"); /* Sydney: DST over new year */
	CHECK(tz && offset_at(tz, utc(2030, 1, 1, 0, 0)) == 11 * 3600);
	CHECK(tz && offset_at(tz, utc(2030, 6, 1, 0, 0)) == 10 * 3600);
	dbb_tz_free(tz);
	tz = from_rule("XST3XDT,J60/2,J300/2"); /* Julian days, Feb 29 not counted */
	CHECK(tz && offset_at(tz, utc(2024, 3, 1, 4, 59)) == -3 * 3600);
	CHECK(tz && offset_at(tz, utc(2024, 3, 1, 5, 0)) == -2 * 3600);
	dbb_tz_free(tz);
	tz = from_rule("XST3XDT,59/2,299/2"); /* zero-based days, Feb 29 counted */
	CHECK(tz && offset_at(tz, utc(2024, 2, 29, 5, 0)) == -2 * 3600);
	dbb_tz_free(tz);
	/* version 3: hours beyond 24 and negative (America/Nuuk since 2023) */
	tz = from_rule("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
	CHECK(tz && offset_at(tz, utc(2030, 3, 31, 0, 59)) == -2 * 3600);
	CHECK(tz && offset_at(tz, utc(2030, 3, 31, 1, 0)) == -1 * 3600);
	dbb_tz_free(tz);

	static const char *const bad[] = {"EST",
	                                  "EST5EDT,M3.2.0",
	                                  "EST5EDT,M13.1.0,M11.1.0",
	                                  "<AB>1",
	                                  "E1",
	                                  "EST5EDT,M3.2.0,M11.1.0,x",
	                                  "EST25"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned char buf[256];
		struct dbb_tz *t = NULL;
		struct dbb_error err;
		size_t n = make_tzif(buf, sizeof(buf), 0, "XXX", bad[i]);
		CHECK(dbb_tz_parse(&t, bad[i], buf, n, &err) == DBB_ERR_CONFIG);
		CHECK(t == NULL);
	}
}

static void test_errors(void)
{
	struct dbb_tz *tz = NULL;
	struct dbb_error err;
	static const char *const names[] = {"../etc/passwd",
	                                    "/etc/localtime",
	                                    "Europe/../UTC",
	                                    "Europe//Berlin",
	                                    "Europe/Berlin ",
	                                    "",
	                                    "a\nb"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		CHECK(dbb_tz_load(&tz, names[i], NULL, &err) == DBB_ERR_CONFIG);
		CHECK(tz == NULL);
		CHECK(strstr(err.message, "not an IANA zone name") != NULL);
	}
	CHECK(dbb_tz_load(&tz, "Mars/Olympus_Mons", NULL, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "unknown time zone Mars/Olympus_Mons") != NULL);
	CHECK(dbb_tz_load(&tz, "Europe", NULL, &err) == DBB_ERR_CONFIG); /* a directory */
	CHECK(dbb_tz_load(&tz, "right/UTC", NULL, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "leap seconds") != NULL);
	/* UTC needs no tzdata at all */
	CHECK(dbb_tz_load(&tz, "UTC", "/nonexistent", &err) == DBB_OK);
	dbb_tz_free(tz);
	/* another directory, as $TZDIR would give */
	tz = NULL;
	CHECK(dbb_tz_load(&tz, "Europe/Berlin", "/nonexistent", &err) == DBB_ERR_CONFIG);

	/* malformed images: every truncation of a real file fails cleanly */
	FILE *f = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
	static unsigned char data[8192];
	size_t len = f ? fread(data, 1, sizeof(data), f) : 0;
	if (f)
		fclose(f);
	CHECK(len > 1000);
	CHECK(dbb_tz_parse(&tz, "Europe/Berlin", data, len, &err) == DBB_OK);
	dbb_tz_free(tz);
	bool all_fail = true;
	for (size_t cut = 0; cut + 1 < len; cut += 7) {
		tz = NULL;
		if (dbb_tz_parse(&tz, "cut", data, cut, &err) != DBB_ERR_CONFIG || tz)
			all_fail = false;
		dbb_tz_free(tz);
	}
	CHECK(all_fail);
	data[4] = 0; /* version 1 */
	CHECK(dbb_tz_parse(&tz, "v1", data, len, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "version 1") != NULL);
}

int main(void)
{
	test_calendar();
	test_zones();
	test_posix_rules();
	test_errors();
	DONE();
}
