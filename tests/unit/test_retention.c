/* Unit tests for sched/retention.c: restic's durations, the forget policy
 * (restic 0.14 semantics; the broad check against restic itself is
 * tests/retention/restic_oracle.sh) and each guard on its own. */
#include "check.h"
#include "dbbackupd/retention.h"

#include <stdint.h>

#define MAXN 64

static int64_t utc(int y, int mo, int d, int h, int mi)
{
	struct dbb_civil c = {.year = y, .month = mo, .day = d, .hour = h, .minute = mi};
	return dbb_civil_to_seconds(&c);
}

static struct dbb_tz *zone(const char *name)
{
	struct dbb_tz *tz = NULL;
	struct dbb_error err;
	if (dbb_tz_load(&tz, name, NULL, &err) != DBB_OK)
		fprintf(stderr, "%s\n", err.message);
	return tz;
}

/* A set of items built from times; names are "r<i>" or "s<i>" (safety). */
struct set {
	struct dbb_retention_item it[MAXN];
	char names[MAXN][16];
	size_t n;
};

static void add(struct set *s, int64_t when, bool safety, bool validated)
{
	size_t i = s->n++;
	snprintf(s->names[i], sizeof(s->names[i]), "%c%zu", safety ? 's' : 'r', i);
	s->it[i] = (struct dbb_retention_item){
	    .name = s->names[i], .when = (time_t)when, .safety = safety, .validated = validated};
}

static struct dbb_retention_item *find(struct set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->it[i].name, name) == 0)
			return &s->it[i];
	return NULL;
}

/* The kept names, newest first, space-separated. */
static const char *kept(struct set *s)
{
	static char buf[1024];
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < s->n; i++)
		if (s->it[i].keep)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
			                        len ? " " : "", s->it[i].name);
	return buf;
}

static bool has(struct set *s, const char *name, enum dbb_keep_reason r)
{
	struct dbb_retention_item *it = find(s, name);
	return it && (it->reasons & (1u << r));
}

static void policy_only(struct set *s, const struct dbb_retention_policy *p, const char *tzname,
                        int64_t now)
{
	struct dbb_tz *tz = zone(tzname);
	dbb_retention_sort(s->it, s->n);
	dbb_retention_apply_policy(p, tz, (time_t)now, s->it, s->n);
	dbb_tz_free(tz);
}

#define CHECK_KEPT(s, want)                                                                        \
	do {                                                                                       \
		const char *got_ = kept(s);                                                        \
		if (strcmp(got_, want) != 0)                                                       \
			fprintf(stderr, "kept \"%s\", want \"%s\"\n", got_, want);                 \
		CHECK_STR(got_, want);                                                             \
	} while (0)

static void test_durations(void)
{
	struct dbb_duration d;
	struct dbb_error err;
	char buf[64];
	CHECK(dbb_duration_parse("30d", &d, &err) == DBB_OK && d.days == 30 && d.years == 0);
	CHECK(dbb_duration_parse("1y2m", &d, &err) == DBB_OK && d.years == 1 && d.months == 2);
	CHECK(dbb_duration_parse("2m3d12h", &d, &err) == DBB_OK && d.months == 2 && d.days == 3 &&
	      d.hours == 12);
	CHECK(dbb_duration_parse("12h1y", &d, &err) == DBB_OK && d.hours == 12 && d.years == 1);
	CHECK(dbb_duration_parse(" 7d ", &d, &err) == DBB_OK && d.days == 7);
	CHECK(dbb_duration_parse("", &d, &err) == DBB_OK && dbb_duration_is_zero(&d));
	CHECK(dbb_duration_parse("0d", &d, &err) == DBB_OK && dbb_duration_is_zero(&d));
	dbb_duration_parse("12h1y", &d, &err);
	dbb_duration_format(&d, buf, sizeof(buf));
	CHECK_STR(buf, "1y12h"); /* restic's order */
	dbb_duration_parse("2m3d12h", &d, &err);
	dbb_duration_format(&d, buf, sizeof(buf));
	CHECK_STR(buf, "2m3d12h");

	static const struct {
		const char *s, *message;
	} bad[] = {
	    {"2w3d4h", "no 'w' unit in restic's durations (use 14d)"},
	    {"5", "no unit after 5"},
	    {"d", "expected a number"},
	    {"1x", "unknown unit 'x'"},
	    {"1d2d", "unit 'd' given twice"},
	    {"-1d", "expected a number"},
	    {"1d 2h", "unexpected text"},
	    {"9999999d", "number too large"},
	    {"200000y", "too large"},
	    {"30min", "expected a number at \"in\""}, /* 30m is 30 months */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.message[0] = '\0';
		CHECK(dbb_duration_parse(bad[i].s, &d, &err) == DBB_ERR_CONFIG);
		if (!strstr(err.message, bad[i].message))
			fprintf(stderr, "\"%s\": got \"%s\"\n", bad[i].s, err.message);
		CHECK(strstr(err.message, bad[i].message) != NULL);
	}
}

static void test_policy(void)
{
	struct set s;
	struct dbb_retention_policy p;
	const int64_t now = utc(2030, 1, 1, 0, 0);

	/* no KEEP_*: everything stays */
	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	for (int i = 0; i < 4; i++)
		add(&s, utc(2024, 1, 1 + i, 12, 0), false, true);
	CHECK(dbb_retention_policy_empty(&p));
	policy_only(&s, &p, "UTC", now);
	CHECK_KEPT(&s, "r3 r2 r1 r0");
	CHECK(has(&s, "r0", DBB_KEEP_POLICY_EMPTY));

	/* KEEP_LAST 3 with restic's counters */
	p.keep[DBB_BUCKET_LAST] = 3;
	policy_only(&s, &p, "UTC", now);
	CHECK_KEPT(&s, "r3 r2 r1");
	CHECK(find(&s, "r3")->counters[DBB_BUCKET_LAST] == 2);
	CHECK(find(&s, "r1")->counters[DBB_BUCKET_LAST] == 0);
	CHECK(has(&s, "r2", DBB_KEEP_LAST) && !has(&s, "r0", DBB_KEEP_LAST));

	/* KEEP_DAILY: the newest of each day, days in the time zone.
	 * 23:30 UTC on Jan 1 is already Jan 2 in Berlin. */
	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	add(&s, utc(2024, 1, 1, 10, 0), false, true);  /* r0: Jan 1 */
	add(&s, utc(2024, 1, 1, 20, 0), false, true);  /* r1: Jan 1 */
	add(&s, utc(2024, 1, 1, 23, 30), false, true); /* r2: Jan 1 UTC, Jan 2 Berlin */
	add(&s, utc(2024, 1, 2, 8, 0), false, true);   /* r3: Jan 2 */
	p.keep[DBB_BUCKET_DAILY] = 5;
	policy_only(&s, &p, "UTC", now);
	CHECK_KEPT(&s, "r3 r2");
	policy_only(&s, &p, "Europe/Berlin", now);
	CHECK_KEPT(&s, "r3 r1");
	CHECK(find(&s, "r1")->counters[DBB_BUCKET_DAILY] == 3);
	/* a count not reached keeps nothing more: r0 goes (restic 0.14 has no
	 * "keep the oldest" rule) */
	CHECK(!find(&s, "r0")->keep);
	/* -1: every day, without limit */
	p.keep[DBB_BUCKET_DAILY] = -1;
	policy_only(&s, &p, "Europe/Berlin", now);
	CHECK_KEPT(&s, "r3 r1");

	/* KEEP_WEEKLY: ISO weeks, Monday first. 2024-01-07 is a Sunday. */
	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	add(&s, utc(2024, 1, 6, 12, 0), false, true);   /* r0 Sat, week 1 */
	add(&s, utc(2024, 1, 7, 12, 0), false, true);   /* r1 Sun, week 1 */
	add(&s, utc(2024, 1, 8, 12, 0), false, true);   /* r2 Mon, week 2 */
	add(&s, utc(2023, 12, 31, 12, 0), false, true); /* r3 Sun, 2023 week 52 */
	p.keep[DBB_BUCKET_WEEKLY] = 10;
	policy_only(&s, &p, "UTC", now);
	CHECK_KEPT(&s, "r2 r1 r3");
	/* KEEP_MONTHLY, KEEP_YEARLY, KEEP_HOURLY together */
	memset(&p, 0, sizeof(p));
	p.keep[DBB_BUCKET_MONTHLY] = 1;
	p.keep[DBB_BUCKET_YEARLY] = 2;
	p.keep[DBB_BUCKET_HOURLY] = 1;
	policy_only(&s, &p, "UTC", now);
	CHECK_KEPT(&s, "r2 r3");
	CHECK(has(&s, "r2", DBB_KEEP_MONTHLY) && has(&s, "r2", DBB_KEEP_YEARLY) &&
	      has(&s, "r2", DBB_KEEP_HOURLY));
	CHECK(has(&s, "r3", DBB_KEEP_YEARLY) && !has(&s, "r3", DBB_KEEP_MONTHLY));
}

static void test_within(void)
{
	struct set s;
	struct dbb_retention_policy p;
	struct dbb_error err;
	const int64_t now = utc(2030, 1, 1, 0, 0);

	/* counted from the newest backup, not from now */
	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	add(&s, utc(2021, 3, 31, 12, 0), false, true); /* r0: the newest */
	add(&s, utc(2021, 3, 3, 12, 0), false,
	    true); /* r1: exactly 1m before (Go: Feb 31 = Mar 3) */
	add(&s, utc(2021, 3, 3, 12, 1), false, true);  /* r2 */
	add(&s, utc(2021, 2, 28, 12, 0), false, true); /* r3 */
	CHECK(dbb_duration_parse("1m", &p.within, &err) == DBB_OK);
	policy_only(&s, &p, "UTC", now);
	CHECK_KEPT(&s, "r0 r2"); /* strictly newer than the threshold */
	CHECK(has(&s, "r2", DBB_KEEP_WITHIN));
	/* a backup in the future is not the newest: the threshold stays, and
	 * the future one is kept as within too */
	add(&s, utc(2099, 1, 1, 0, 0), false, true); /* r4 */
	policy_only(&s, &p, "UTC", now);
	CHECK_KEPT(&s, "r4 r0 r2");
	/* when every backup is in the future, within keeps them all */
	policy_only(&s, &p, "UTC", utc(2000, 1, 1, 0, 0));
	CHECK_KEPT(&s, "r4 r0 r2 r1 r3");

	/* hours are subtracted after the calendar part; across a DST change the
	 * calendar part keeps the wall time: 2024-03-31 12:00 CEST minus 1d is
	 * 2024-03-30 12:00 CET, 23 hours earlier */
	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	add(&s, utc(2024, 3, 31, 10, 0), false, true); /* r0: 12:00 CEST */
	add(&s, utc(2024, 3, 30, 11, 0), false, true); /* r1: 12:00 CET, the threshold */
	add(&s, utc(2024, 3, 30, 11, 1), false, true); /* r2 */
	CHECK(dbb_duration_parse("1d", &p.within, &err) == DBB_OK);
	policy_only(&s, &p, "Europe/Berlin", now);
	CHECK_KEPT(&s, "r0 r2");
	policy_only(&s, &p, "UTC", now); /* in UTC: 24 hours, r1 is newer */
	CHECK_KEPT(&s, "r0 r2 r1");

	/* within buckets: the newest per day, but only inside the window */
	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	for (int d = 0; d < 5; d++) {
		add(&s, utc(2024, 5, 10 - d, 9, 0), false, true);
		add(&s, utc(2024, 5, 10 - d, 18, 0), false, true);
	}
	CHECK(dbb_duration_parse("3d", &p.within_bucket[DBB_BUCKET_DAILY], &err) == DBB_OK);
	policy_only(&s, &p, "UTC", now);
	/* newest May 10 18:00; window from May 7 18:00 (exclusive): days 10, 9, 8 */
	CHECK_KEPT(&s, "r1 r3 r5");
	CHECK(has(&s, "r1", DBB_KEEP_WITHIN_DAILY));
}

static void test_guard_safety(void)
{
	struct set s;
	struct dbb_retention_policy p;
	struct dbb_retention_guards g;
	struct dbb_tz *tz = zone("UTC");
	const int64_t now = utc(2030, 1, 1, 0, 0);
	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	dbb_retention_guards_default(&g);
	CHECK(g.keep_min == 1 && g.safety_within.days == 7 && g.due == 0);
	add(&s, utc(2024, 6, 1, 0, 0), false, true); /* r0 */
	add(&s, utc(2024, 6, 2, 0, 0), false, true); /* r1 */
	add(&s, utc(2024, 6, 10, 0, 0), true, true); /* s2: newest of all */
	add(&s, utc(2024, 6, 4, 0, 0), true, true);  /* s3: within 7d of s2 */
	add(&s, utc(2024, 6, 2, 12, 0), true, true); /* s4: older than 7d before s2 */
	p.keep[DBB_BUCKET_LAST] = 1;
	/* safety backups never take a bucket: KEEP_LAST 1 keeps r1 */
	CHECK(dbb_retention_plan(&p, &g, tz, (time_t)now, s.it, s.n) == 2);
	CHECK_KEPT(&s, "s2 s3 r1");
	CHECK(has(&s, "s2", DBB_KEEP_SAFETY_WITHIN) && !has(&s, "s2", DBB_KEEP_LAST));
	CHECK(has(&s, "r1", DBB_KEEP_LAST));
	/* zero KEEP_SAFETY_WITHIN: all safety backups stay */
	g.safety_within = (struct dbb_duration){0, 0, 0, 0};
	CHECK(dbb_retention_plan(&p, &g, tz, (time_t)now, s.it, s.n) == 1);
	CHECK(has(&s, "s4", DBB_KEEP_GUARD_SAFETY));
	/* an empty policy leaves safety backups to their own rule */
	memset(&p, 0, sizeof(p));
	dbb_retention_guards_default(&g);
	CHECK(dbb_retention_plan(&p, &g, tz, (time_t)now, s.it, s.n) == 1);
	CHECK(!find(&s, "s4")->keep && find(&s, "r0")->keep);
	dbb_tz_free(tz);
}

static void test_guard_validated(void)
{
	struct set s;
	struct dbb_retention_policy p;
	struct dbb_tz *tz = zone("UTC");
	const int64_t now = utc(2030, 1, 1, 0, 0);
	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	add(&s, utc(2024, 6, 3, 0, 0), false, false); /* r0: newest, not validated */
	add(&s, utc(2024, 6, 2, 0, 0), false, true);  /* r1: newest validated */
	add(&s, utc(2024, 6, 1, 0, 0), false, true);  /* r2 */
	add(&s, utc(2024, 6, 4, 0, 0), true, true);   /* s3: safety, not a candidate */
	p.keep[DBB_BUCKET_LAST] = 1;
	dbb_retention_sort(s.it, s.n);
	dbb_retention_apply_policy(&p, tz, (time_t)now, s.it, s.n);
	CHECK_KEPT(&s, "r0");
	dbb_retention_guard_validated(s.it, s.n);
	CHECK_KEPT(&s, "r0 r1");
	CHECK(has(&s, "r1", DBB_KEEP_GUARD_VALIDATED) && !has(&s, "r2", DBB_KEEP_GUARD_VALIDATED));
	/* when the policy keeps it anyway, the guard adds nothing */
	find(&s, "r0")->validated = true;
	dbb_retention_apply_policy(&p, tz, (time_t)now, s.it, s.n);
	dbb_retention_guard_validated(s.it, s.n);
	CHECK_KEPT(&s, "r0");
	CHECK(!has(&s, "r0", DBB_KEEP_GUARD_VALIDATED));
	/* issue 20: the newest verified backup (a test-restore passed) is the
	 * good one kept, over a newer one only validated */
	find(&s, "r0")->validated = false;
	find(&s, "r2")->verified = true;
	dbb_retention_apply_policy(&p, tz, (time_t)now, s.it, s.n);
	dbb_retention_guard_validated(s.it, s.n);
	CHECK_KEPT(&s, "r0 r2");
	CHECK(has(&s, "r2", DBB_KEEP_GUARD_VALIDATED));
	/* ... and one whose test-restore failed is passed over */
	find(&s, "r2")->verified = false;
	find(&s, "r1")->verify_failed = true;
	dbb_retention_apply_policy(&p, tz, (time_t)now, s.it, s.n);
	dbb_retention_guard_validated(s.it, s.n);
	CHECK_KEPT(&s, "r0 r2");
	dbb_tz_free(tz);
}

static void test_guard_min(void)
{
	struct set s;
	struct dbb_retention_policy p;
	struct dbb_error err;
	struct dbb_tz *tz = zone("UTC");
	const int64_t now = utc(2030, 1, 1, 0, 0);
	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	for (int i = 0; i < 5; i++)
		add(&s, utc(2024, 6, 1 + i, 0, 0), false, false);
	add(&s, utc(2024, 6, 9, 0, 0), true, false); /* a safety backup does not count */
	CHECK(dbb_duration_parse("1h", &p.within, &err) == DBB_OK);
	dbb_retention_sort(s.it, s.n);
	dbb_retention_apply_policy(&p, tz, (time_t)now, s.it, s.n);
	CHECK_KEPT(&s, "r4");
	dbb_retention_guard_min(3, s.it, s.n);
	CHECK_KEPT(&s, "r4 r3 r2");
	CHECK(has(&s, "r3", DBB_KEEP_GUARD_MIN) && !has(&s, "r4", DBB_KEEP_GUARD_MIN));
	dbb_retention_guard_min(10, s.it, s.n); /* more than there are */
	CHECK_KEPT(&s, "r4 r3 r2 r1 r0");
	dbb_retention_guard_min(0, s.it, s.n);
	CHECK_KEPT(&s, "r4 r3 r2 r1 r0");
	dbb_tz_free(tz);
}

static void test_guard_failing(void)
{
	struct set s;
	struct dbb_retention_policy p;
	struct dbb_retention_guards g;
	struct dbb_tz *tz = zone("UTC");
	const int64_t now = utc(2024, 6, 10, 12, 0);
	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	dbb_retention_guards_default(&g);
	for (int i = 0; i < 5; i++)
		add(&s, utc(2024, 6, 1 + i, 2, 0), false,
		    true);                           /* daily at 02:00, last on the 5th */
	add(&s, utc(2024, 5, 1, 0, 0), true, true);  /* s5: an old safety backup */
	add(&s, utc(2024, 5, 20, 0, 0), true, true); /* s6: newer by 19 days */
	p.keep[DBB_BUCKET_LAST] = 2;
	/* the schedule was due on the 10th at 02:00 and nothing came since the
	 * 5th: the backups are failing, nothing is deleted */
	g.due = (time_t)utc(2024, 6, 10, 2, 0);
	CHECK(dbb_retention_plan(&p, &g, tz, (time_t)now, s.it, s.n) == 0);
	CHECK(has(&s, "r0", DBB_KEEP_GUARD_FAILING) && has(&s, "s5", DBB_KEEP_GUARD_FAILING));
	CHECK(!has(&s, "r4", DBB_KEEP_GUARD_FAILING)); /* kept by the policy already */
	/* a backup at (or after) the due time: the policy applies again */
	g.due = (time_t)utc(2024, 6, 5, 2, 0);
	CHECK(dbb_retention_plan(&p, &g, tz, (time_t)now, s.it, s.n) == 4);
	CHECK_KEPT(&s, "r4 r3 s6");
	/* no schedule: no due time, no guard */
	g.due = 0;
	CHECK(dbb_retention_plan(&p, &g, tz, (time_t)now, s.it, s.n) == 4);
	/* the guard alone, and with no regular backup at all */
	dbb_retention_apply_policy(&p, tz, (time_t)now, s.it, s.n);
	CHECK(dbb_retention_guard_failing((time_t)utc(2024, 6, 10, 2, 0), s.it, s.n));
	CHECK(!dbb_retention_guard_failing((time_t)utc(2024, 6, 5, 2, 0), s.it, s.n));
	struct set only_safety;
	memset(&only_safety, 0, sizeof(only_safety));
	add(&only_safety, utc(2024, 1, 1, 0, 0), true, true);
	CHECK(dbb_retention_guard_failing((time_t)utc(2024, 6, 10, 2, 0), only_safety.it, 1));
	CHECK(only_safety.it[0].keep);
	dbb_tz_free(tz);
}

static void test_plan_and_texts(void)
{
	struct set s;
	struct dbb_retention_policy p;
	struct dbb_retention_guards g;
	struct dbb_error err;
	struct dbb_tz *tz = zone("UTC");
	char buf[96];
	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	dbb_retention_guards_default(&g);
	/* equal timestamps: "_2" is newer than the plain name, "_10" than "_9" */
	const char *names[] = {"backup_x_20240101_120000_9.sql", "backup_x_20240101_120000.sql",
	                       "backup_x_20240101_120000_10.sql", "backup_x_20240101_120000_2.sql"};
	for (size_t i = 0; i < 4; i++)
		s.it[i] = (struct dbb_retention_item){.name = names[i],
		                                      .when = (time_t)utc(2024, 1, 1, 12, 0)};
	s.n = 4;
	p.keep[DBB_BUCKET_LAST] = 1;
	CHECK(dbb_retention_plan(&p, &g, tz, (time_t)utc(2030, 1, 1, 0, 0), s.it, s.n) == 3);
	CHECK_STR(s.it[0].name, "backup_x_20240101_120000_10.sql");
	CHECK(s.it[0].keep);
	CHECK_STR(s.it[3].name, "backup_x_20240101_120000.sql");
	CHECK(dbb_retention_plan(&p, &g, tz, 0, s.it, 0) == 0); /* nothing at all */

	CHECK(dbb_duration_parse("30d", &p.within, &err) == DBB_OK);
	CHECK(dbb_duration_parse("2m", &p.within_bucket[DBB_BUCKET_WEEKLY], &err) == DBB_OK);
	g.keep_min = 3;
	static const struct {
		enum dbb_keep_reason r;
		const char *text;
	} texts[] = {
	    {DBB_KEEP_POLICY_EMPTY, "policy is empty"},
	    {DBB_KEEP_WITHIN, "within 30d"},
	    {DBB_KEEP_LAST, "last snapshot"},
	    {DBB_KEEP_HOURLY, "hourly snapshot"},
	    {DBB_KEEP_DAILY, "daily snapshot"},
	    {DBB_KEEP_WEEKLY, "weekly snapshot"},
	    {DBB_KEEP_MONTHLY, "monthly snapshot"},
	    {DBB_KEEP_YEARLY, "yearly snapshot"},
	    {DBB_KEEP_WITHIN_WEEKLY, "weekly within 2m"},
	    {DBB_KEEP_SAFETY_WITHIN, "safety within 7d"},
	    {DBB_KEEP_GUARD_SAFETY, "safety backup (no KEEP_SAFETY_WITHIN)"},
	    {DBB_KEEP_GUARD_VALIDATED, "newest validated backup"},
	    {DBB_KEEP_GUARD_MIN, "keep min 3"},
	    {DBB_KEEP_GUARD_FAILING, "newest backup older than last due time"},
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		dbb_retention_reason_text(texts[i].r, &p, &g, buf, sizeof(buf));
		CHECK_STR(buf, texts[i].text);
	}
	dbb_tz_free(tz);
}

int main(void)
{
	test_durations();
	test_policy();
	test_within();
	test_guard_safety();
	test_guard_validated();
	test_guard_min();
	test_guard_failing();
	test_plan_and_texts();
	DONE();
}
