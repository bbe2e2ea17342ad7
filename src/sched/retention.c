/* Retention: restic's forget policy (0.14) over backup files, then the guards. */
#include "dbbackupd/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DURATION_MAX 100000 /* per unit; far beyond any sensible retention */

/* ---- durations ---- */

dbb_code dbb_duration_parse(const char *s, struct dbb_duration *out, struct dbb_error *err)
{
	struct dbb_duration d = {0, 0, 0, 0};
	bool seen[4] = {false, false, false, false};
	if (!s)
		s = "";
	const char *start = s;
	while (*s == ' ' || *s == '\t')
		s++;
	while (*s && *s != ' ' && *s != '\t') {
		long v = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9') {
			if (++digits > 6)
				return dbb_fail(err, DBB_ERR_CONFIG,
				                "duration \"%.40s\": number too large", start);
			v = v * 10 + (*s - '0');
			s++;
		}
		if (digits == 0)
			return dbb_fail(
			    err, DBB_ERR_CONFIG,
			    "duration \"%.40s\": expected a number at \"%.10s\" (like 30d, "
			    "1y2m, 12h)",
			    start, s);
		if (v > DURATION_MAX)
			return dbb_fail(err, DBB_ERR_CONFIG, "duration \"%.40s\": %ld is too large",
			                start, v);
		int *slot;
		int idx;
		switch (*s) {
		case 'y':
			slot = &d.years;
			idx = 0;
			break;
		case 'm':
			slot = &d.months;
			idx = 1;
			break;
		case 'd':
			slot = &d.days;
			idx = 2;
			break;
		case 'h':
			slot = &d.hours;
			idx = 3;
			break;
		case '\0':
			return dbb_fail(
			    err, DBB_ERR_CONFIG,
			    "duration \"%.40s\": no unit after %ld (y, m = months, d, h)", start,
			    v);
		case 'w':
			return dbb_fail(
			    err, DBB_ERR_CONFIG,
			    "duration \"%.40s\": no 'w' unit in restic's durations (use %ldd)",
			    start, v * 7);
		default:
			return dbb_fail(
			    err, DBB_ERR_CONFIG,
			    "duration \"%.40s\": unknown unit '%c' (y, m = months, d, h)", start,
			    *s);
		}
		if (seen[idx])
			return dbb_fail(err, DBB_ERR_CONFIG,
			                "duration \"%.40s\": unit '%c' given twice", start, *s);
		seen[idx] = true;
		*slot = (int)v;
		s++;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s)
		return dbb_fail(err, DBB_ERR_CONFIG, "duration \"%.40s\": unexpected text after it",
		                start);
	*out = d;
	return DBB_OK;
}

bool dbb_duration_is_zero(const struct dbb_duration *d)
{
	return d->years == 0 && d->months == 0 && d->days == 0 && d->hours == 0;
}

void dbb_duration_format(const struct dbb_duration *d, char *buf, size_t cap)
{
	size_t len = 0;
	const int v[4] = {d->years, d->months, d->days, d->hours};
	const char unit[4] = {'y', 'm', 'd', 'h'};
	if (cap == 0)
		return;
	buf[0] = '\0';
	for (int i = 0; i < 4; i++) {
		if (v[i] == 0)
			continue;
		int k = snprintf(buf + len, cap - len, "%d%c", v[i], unit[i]);
		if (k < 0 || (size_t)k >= cap - len)
			return;
		len += (size_t)k;
	}
}

/* ---- time arithmetic as restic (Go's time package) does it ---- */

static int64_t floor_div64(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Go's time.Date(year, month, day, h, m, s, 0, loc): month and day may be
 * out of range and are normalised; a wall time that occurs twice or not at
 * all is resolved the way Go resolves it (the offset found at the wall time
 * read as UTC, corrected once). restic's KEEP_WITHIN goes through this. */
static int64_t go_date(const struct dbb_tz *tz, int64_t year, int64_t month, int64_t day, int hour,
                       int minute, int second)
{
	int64_t m0 = month - 1;
	year += floor_div64(m0, 12);
	m0 -= floor_div64(m0, 12) * 12;
	int64_t days = dbb_days_from_civil(year, (int)m0 + 1, 1) + (day - 1);
	int64_t unix = days * 86400 + hour * 3600 + minute * 60 + second;
	struct dbb_tz_period p;
	dbb_tz_period_at(tz, unix, &p);
	int64_t off = p.utoff;
	if (off != 0) {
		int64_t utc = unix - off;
		if (utc < p.start || utc >= p.end) {
			dbb_tz_period_at(tz, utc, &p);
			off = p.utoff;
		}
		unix -= off;
	}
	return unix;
}

/* latest.AddDate(-y, -m, -d).Add(-h hours) */
static int64_t within_threshold(const struct dbb_tz *tz, int64_t latest,
                                const struct dbb_duration *d)
{
	struct dbb_civil c;
	dbb_tz_to_local(tz, latest, &c, NULL);
	int64_t t = go_date(tz, c.year - d->years, (int64_t)c.month - d->months,
	                    (int64_t)c.day - d->days, c.hour, c.minute, c.second);
	return t - (int64_t)d->hours * 3600;
}

/* ---- sorting ---- */

static int cmp_newest_first(const void *a, const void *b)
{
	const struct dbb_retention_item *x = a, *y = b;
	if (x->when != y->when)
		return x->when > y->when ? -1 : 1;
	return -strverscmp(x->name ? x->name : "", y->name ? y->name : "");
}

void dbb_retention_sort(struct dbb_retention_item *items, size_t n)
{
	if (n > 1)
		qsort(items, n, sizeof(*items), cmp_newest_first);
}

/* ---- the policy ---- */

bool dbb_retention_policy_empty(const struct dbb_retention_policy *p)
{
	for (int b = 0; b < DBB_BUCKET_COUNT; b++)
		if (p->keep[b] != 0 || !dbb_duration_is_zero(&p->within_bucket[b]))
			return false;
	return dbb_duration_is_zero(&p->within);
}

/* restic's buckers: a number that changes exactly when the bucket does. */
static int64_t bucket_value(enum dbb_bucket b, const struct dbb_civil *c, size_t nr)
{
	int64_t iso_year;
	int week;
	switch (b) {
	case DBB_BUCKET_LAST:
		return (int64_t)nr;
	case DBB_BUCKET_HOURLY:
		return c->year * 1000000 + c->month * 10000 + c->day * 100 + c->hour;
	case DBB_BUCKET_DAILY:
		return c->year * 10000 + c->month * 100 + c->day;
	case DBB_BUCKET_WEEKLY:
		dbb_iso_week(c, &iso_year, &week);
		return iso_year * 100 + week;
	case DBB_BUCKET_MONTHLY:
		return c->year * 100 + c->month;
	case DBB_BUCKET_YEARLY:
	case DBB_BUCKET_COUNT:
		break;
	}
	return c->year;
}

static void reset(struct dbb_retention_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		items[i].keep = false;
		items[i].reasons = 0;
		memset(items[i].counters, 0, sizeof(items[i].counters));
	}
}

static void keep_for(struct dbb_retention_item *it, enum dbb_keep_reason r)
{
	it->keep = true;
	it->reasons |= 1u << r;
}

/* The newest item of a kind that is not in the future (restic's
 * findLatestTimestamp). */
static bool find_latest(const struct dbb_retention_item *items, size_t n, bool safety, time_t now,
                        int64_t *latest)
{
	bool found = false;
	for (size_t i = 0; i < n; i++) {
		if (items[i].safety != safety || items[i].when >= now)
			continue;
		if (!found || items[i].when > *latest)
			*latest = items[i].when;
		found = true;
	}
	return found;
}

void dbb_retention_apply_policy(const struct dbb_retention_policy *p, const struct dbb_tz *tz,
                                time_t now, struct dbb_retention_item *items, size_t n)
{
	int count[DBB_BUCKET_COUNT];
	int64_t last[DBB_BUCKET_COUNT], last_within[DBB_BUCKET_COUNT];
	int64_t within_t = INT64_MIN, bucket_t[DBB_BUCKET_COUNT];
	int64_t latest = 0;
	bool has_latest;
	reset(items, n);
	if (dbb_retention_policy_empty(p)) {
		for (size_t i = 0; i < n; i++)
			if (!items[i].safety)
				keep_for(&items[i], DBB_KEEP_POLICY_EMPTY);
		return;
	}
	has_latest = find_latest(items, n, false, now, &latest);
	if (!dbb_duration_is_zero(&p->within) && has_latest)
		within_t = within_threshold(tz, latest, &p->within);
	for (int b = 0; b < DBB_BUCKET_COUNT; b++) {
		count[b] = p->keep[b];
		last[b] = INT64_MIN;
		last_within[b] = INT64_MIN;
		bucket_t[b] = INT64_MIN;
		if (b != DBB_BUCKET_LAST && !dbb_duration_is_zero(&p->within_bucket[b]) &&
		    has_latest)
			bucket_t[b] = within_threshold(tz, latest, &p->within_bucket[b]);
	}
	size_t nr = 0; /* position among the regular items, newest first */
	for (size_t i = 0; i < n; i++) {
		struct dbb_retention_item *it = &items[i];
		struct dbb_civil c;
		if (it->safety)
			continue;
		dbb_tz_to_local(tz, it->when, &c, NULL);
		if (!dbb_duration_is_zero(&p->within) && it->when > within_t)
			keep_for(it, DBB_KEEP_WITHIN);
		for (int b = 0; b < DBB_BUCKET_COUNT; b++) {
			if (count[b] == 0 || count[b] < -1)
				continue;
			int64_t val = bucket_value((enum dbb_bucket)b, &c, nr);
			if (val != last[b]) {
				keep_for(it, (enum dbb_keep_reason)(DBB_KEEP_LAST + b));
				last[b] = val;
				if (count[b] > 0)
					count[b]--;
			}
		}
		for (int b = DBB_BUCKET_HOURLY; b < DBB_BUCKET_COUNT; b++) {
			if (dbb_duration_is_zero(&p->within_bucket[b]) || it->when <= bucket_t[b])
				continue;
			int64_t val = bucket_value((enum dbb_bucket)b, &c, nr);
			if (val != last_within[b]) {
				keep_for(it,
				         (enum dbb_keep_reason)(DBB_KEEP_WITHIN_HOURLY + b - 1));
				last_within[b] = val;
			}
		}
		if (it->keep)
			memcpy(it->counters, count, sizeof(count));
		nr++;
	}
}

/* ---- the guards ---- */

void dbb_retention_guard_safety(const struct dbb_retention_guards *g, const struct dbb_tz *tz,
                                time_t now, struct dbb_retention_item *items, size_t n)
{
	int64_t latest = 0, t = INT64_MIN;
	bool keep_all = dbb_duration_is_zero(&g->safety_within);
	if (!keep_all && find_latest(items, n, true, now, &latest))
		t = within_threshold(tz, latest, &g->safety_within);
	for (size_t i = 0; i < n; i++) {
		if (!items[i].safety)
			continue;
		if (keep_all)
			keep_for(&items[i], DBB_KEEP_GUARD_SAFETY);
		else if (items[i].when > t)
			keep_for(&items[i], DBB_KEEP_SAFETY_WITHIN);
	}
}

void dbb_retention_guard_validated(struct dbb_retention_item *items, size_t n)
{
	/* issue 20: a backup that passed a test-restore is the surest good one */
	for (size_t i = 0; i < n; i++) {
		if (items[i].safety || !items[i].verified)
			continue;
		if (!items[i].keep)
			keep_for(&items[i], DBB_KEEP_GUARD_VALIDATED);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (items[i].safety || !items[i].validated || items[i].verify_failed)
			continue;
		if (!items[i].keep)
			keep_for(&items[i], DBB_KEEP_GUARD_VALIDATED);
		return;
	}
}

void dbb_retention_guard_min(unsigned keep_min, struct dbb_retention_item *items, size_t n)
{
	unsigned kept = 0;
	for (size_t i = 0; i < n; i++)
		if (!items[i].safety && items[i].keep)
			kept++;
	for (size_t i = 0; i < n && kept < keep_min; i++) {
		if (items[i].safety || items[i].keep)
			continue;
		keep_for(&items[i], DBB_KEEP_GUARD_MIN);
		kept++;
	}
}

bool dbb_retention_guard_failing(time_t due, struct dbb_retention_item *items, size_t n)
{
	if (due == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!items[i].safety && items[i].when >= due)
			return false; /* a regular backup since the last due time */
	for (size_t i = 0; i < n; i++)
		if (!items[i].keep)
			keep_for(&items[i], DBB_KEEP_GUARD_FAILING);
	return true;
}

void dbb_retention_guards_default(struct dbb_retention_guards *g)
{
	g->keep_min = 1;
	g->safety_within = (struct dbb_duration){0, 0, 7, 0};
	g->due = 0;
}

size_t dbb_retention_plan(const struct dbb_retention_policy *p,
                          const struct dbb_retention_guards *g, const struct dbb_tz *tz, time_t now,
                          struct dbb_retention_item *items, size_t n)
{
	size_t deleted = 0;
	dbb_retention_sort(items, n);
	dbb_retention_apply_policy(p, tz, now, items, n);
	dbb_retention_guard_safety(g, tz, now, items, n);
	dbb_retention_guard_validated(items, n);
	dbb_retention_guard_min(g->keep_min, items, n);
	dbb_retention_guard_failing(g->due, items, n);
	for (size_t i = 0; i < n; i++)
		if (!items[i].keep)
			deleted++;
	return deleted;
}

void dbb_retention_reason_text(enum dbb_keep_reason r, const struct dbb_retention_policy *p,
                               const struct dbb_retention_guards *g, char *buf, size_t cap)
{
	static const char *const bucket_names[DBB_BUCKET_COUNT] = {"last",   "hourly",  "daily",
	                                                           "weekly", "monthly", "yearly"};
	char d[64] = "";
	if (cap == 0)
		return;
	switch (r) {
	case DBB_KEEP_POLICY_EMPTY:
		snprintf(buf, cap, "policy is empty");
		return;
	case DBB_KEEP_WITHIN:
		dbb_duration_format(&p->within, d, sizeof(d));
		snprintf(buf, cap, "within %s", d);
		return;
	case DBB_KEEP_LAST:
	case DBB_KEEP_HOURLY:
	case DBB_KEEP_DAILY:
	case DBB_KEEP_WEEKLY:
	case DBB_KEEP_MONTHLY:
	case DBB_KEEP_YEARLY:
		snprintf(buf, cap, "%s snapshot", bucket_names[r - DBB_KEEP_LAST]);
		return;
	case DBB_KEEP_WITHIN_HOURLY:
	case DBB_KEEP_WITHIN_DAILY:
	case DBB_KEEP_WITHIN_WEEKLY:
	case DBB_KEEP_WITHIN_MONTHLY:
	case DBB_KEEP_WITHIN_YEARLY: {
		int b = DBB_BUCKET_HOURLY + (r - DBB_KEEP_WITHIN_HOURLY);
		dbb_duration_format(&p->within_bucket[b], d, sizeof(d));
		snprintf(buf, cap, "%s within %s", bucket_names[b], d);
		return;
	}
	case DBB_KEEP_SAFETY_WITHIN:
		dbb_duration_format(&g->safety_within, d, sizeof(d));
		snprintf(buf, cap, "safety within %s", d);
		return;
	case DBB_KEEP_GUARD_SAFETY:
		snprintf(buf, cap, "safety backup (no KEEP_SAFETY_WITHIN)");
		return;
	case DBB_KEEP_GUARD_VALIDATED:
		snprintf(buf, cap, "newest validated backup");
		return;
	case DBB_KEEP_GUARD_MIN:
		snprintf(buf, cap, "keep min %u", g->keep_min);
		return;
	case DBB_KEEP_GUARD_FAILING:
		snprintf(buf, cap, "newest backup older than last due time");
		return;
	case DBB_KEEP_REASON_COUNT:
		break;
	}
	snprintf(buf, cap, "?");
}
