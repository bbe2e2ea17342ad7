/* Test helper for the restic oracle (restic_oracle.sh): generates snapshot
 * times, and applies a retention policy the way the daemon will, printing
 * the kept items in the form the script also makes of restic's output. */
#include "dbbackupd/retention.h"
#include "dbbackupd/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 4096

static int usage(void)
{
	fprintf(stderr, "usage: retention_oracle generate --tz ZONE --seed N\n"
	                "       retention_oracle apply --tz ZONE --now EPOCH [--keep-last N] ... "
	                "[--keep-within D] [--keep-within-daily D] ... < 'id RFC3339' lines\n");
	return 2;
}

/* xorshift64*: the same numbers everywhere, so a failure can be replayed */
static uint64_t rng_state;

static uint64_t rnd(uint64_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 2685821657736338717ULL) % n;
}

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct dbb_civil c = {
	    .year = y, .month = mo, .day = d, .hour = h, .minute = mi, .second = s};
	return dbb_civil_to_seconds(&c);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* A few hundred instants over 2021-2023: scattered ones, busy days, the
 * hours around each DST change of the zone, year and ISO-week edges, a
 * dense last month, and one in the future. Printed as local wall times
 * (restic backup --time reads them in its TZ). */
static int generate(const struct dbb_tz *tz, uint64_t seed)
{
	static int64_t t[MAX_ITEMS];
	size_t n = 0;
	const int64_t start = utc(2021, 1, 1, 0, 0, 0), end = utc(2024, 1, 1, 0, 0, 0);
	rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (int i = 0; i < 70; i++)
		t[n++] = start + (int64_t)rnd((uint64_t)(end - start - 45 * 86400));
	for (int day = 0; day < 6; day++) { /* busy days: many per hour */
		int64_t d0 = start + (int64_t)rnd((uint64_t)(end - start) / 86400) * 86400;
		for (int i = 0; i < 12; i++)
			t[n++] = d0 + (int64_t)rnd(86400);
	}
	struct dbb_tz_period p;
	for (int64_t x = start; x < end && n < MAX_ITEMS - 200;) { /* around each DST change */
		dbb_tz_period_at(tz, x, &p);
		if (p.end >= end)
			break;
		for (int i = -3; i <= 3; i++)
			t[n++] = p.end + i * 1500 + (int64_t)rnd(600);
		x = p.end;
	}
	for (int y = 2021; y <= 2023; y++) { /* year ends, in UTC and local */
		t[n++] = utc(y, 12, 31, 22, 30, 0) + (int64_t)rnd(60);
		t[n++] = utc(y, 12, 31, 23, 30, 0) + (int64_t)rnd(60);
		t[n++] = utc(y, 1, 1, 0, 30, 0) + (int64_t)rnd(60);
	}
	for (int w = 0; w < 6; w++) { /* Sunday night / Monday morning */
		int64_t d = utc(2022, 5, 1, 0, 0, 0) + w * 7 * 86400 + w * 86400 * 31;
		struct dbb_civil c;
		dbb_civil_from_seconds(d, &c);
		d += ((7 - c.wday) % 7) * 86400; /* a Sunday */
		t[n++] = d + 22 * 3600 + 1800;
		t[n++] = d + 23 * 3600 + 2400;
		t[n++] = d + 24 * 3600 + 600;
	}
	for (int i = 0; i < 40; i++) /* the last 45 days: about daily, some bunched */
		t[n++] = end - 45 * 86400 + (int64_t)rnd(45 * 86400);
	for (int i = 0; i < 8; i++)
		t[n++] = end - 86400 + (int64_t)rnd(3 * 3600);
	t[n++] = utc(2099, 6, 1, 12, 0, 0); /* in the future: not the "latest" */
	qsort(t, n, sizeof(t[0]), cmp_i64);
	int64_t prev = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		if (t[i] == prev)
			continue;
		prev = t[i];
		struct dbb_civil c;
		dbb_tz_to_local(tz, t[i], &c, NULL);
		printf("%04lld-%02d-%02d %02d:%02d:%02d\n", (long long)c.year, c.month, c.day,
		       c.hour, c.minute, c.second);
	}
	return 0;
}

/* 2021-01-01T10:00:00(.frac)(Z|+01:00) */
static bool parse_rfc3339(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n == 0)
		return false;
	s += n;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	int64_t off = 0;
	if (*s == '+' || *s == '-') {
		int oh, om;
		if (sscanf(s + 1, "%2d:%2d", &oh, &om) != 2)
			return false;
		off = (oh * 3600 + om * 60) * (*s == '-' ? -1 : 1);
	} else if (*s != 'Z') {
		return false;
	}
	*out = utc(y, mo, d, h, mi, sec) - off;
	return true;
}

static const struct {
	const char *flag;
	int bucket;
	bool duration;
} flags[] = {
    {"--keep-last", DBB_BUCKET_LAST, false},
    {"--keep-hourly", DBB_BUCKET_HOURLY, false},
    {"--keep-daily", DBB_BUCKET_DAILY, false},
    {"--keep-weekly", DBB_BUCKET_WEEKLY, false},
    {"--keep-monthly", DBB_BUCKET_MONTHLY, false},
    {"--keep-yearly", DBB_BUCKET_YEARLY, false},
    {"--keep-within", -1, true},
    {"--keep-within-hourly", DBB_BUCKET_HOURLY, true},
    {"--keep-within-daily", DBB_BUCKET_DAILY, true},
    {"--keep-within-weekly", DBB_BUCKET_WEEKLY, true},
    {"--keep-within-monthly", DBB_BUCKET_MONTHLY, true},
    {"--keep-within-yearly", DBB_BUCKET_YEARLY, true},
};

static int apply(const struct dbb_tz *tz, time_t now, const struct dbb_retention_policy *p)
{
	static struct dbb_retention_item items[MAX_ITEMS];
	static char names[MAX_ITEMS][80];
	char line[256];
	size_t n = 0;
	while (fgets(line, sizeof(line), stdin)) {
		char ts[64];
		int64_t when;
		if (n == MAX_ITEMS || sscanf(line, "%79s %63s", names[n], ts) != 2 ||
		    !parse_rfc3339(ts, &when)) {
			fprintf(stderr, "bad input line: %s", line);
			return 2;
		}
		items[n] = (struct dbb_retention_item){.name = names[n], .when = (time_t)when};
		n++;
	}
	dbb_retention_sort(items, n);
	dbb_retention_apply_policy(p, tz, now, items, n);
	static const char *const counter_names[DBB_BUCKET_COUNT] = {"last",   "hourly",  "daily",
	                                                            "weekly", "monthly", "yearly"};
	for (size_t i = 0; i < n; i++) {
		if (!items[i].keep)
			continue;
		printf("%s", items[i].name);
		const char *sep = " ";
		for (int r = 0; r < DBB_KEEP_REASON_COUNT; r++) {
			if (!(items[i].reasons & (1u << r)))
				continue;
			char text[96];
			dbb_retention_reason_text((enum dbb_keep_reason)r, p, NULL, text,
			                          sizeof(text));
			printf("%s%s", sep, text);
			sep = ",";
		}
		for (int b = 0; b < DBB_BUCKET_COUNT; b++)
			if (items[i].counters[b] != 0)
				printf(" %s=%d", counter_names[b], items[i].counters[b]);
		printf("\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *zone = NULL;
	long long now = -1, seed = -1;
	struct dbb_retention_policy pol;
	struct dbb_error err;
	struct dbb_tz *tz = NULL;
	int rc = 2;
	memset(&pol, 0, sizeof(pol));
	if (argc < 2)
		return usage();
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool known = false;
		if (!v)
			return usage();
		if (strcmp(a, "--tz") == 0) {
			zone = v;
			known = true;
		} else if (strcmp(a, "--now") == 0) {
			now = strtoll(v, NULL, 10);
			known = true;
		} else if (strcmp(a, "--seed") == 0) {
			seed = strtoll(v, NULL, 10);
			known = true;
		}
		for (size_t f = 0; !known && f < sizeof(flags) / sizeof(flags[0]); f++) {
			if (strcmp(a, flags[f].flag) != 0)
				continue;
			known = true;
			if (!flags[f].duration) {
				pol.keep[flags[f].bucket] = (int)strtol(v, NULL, 10);
				continue;
			}
			struct dbb_duration *d =
			    flags[f].bucket < 0 ? &pol.within : &pol.within_bucket[flags[f].bucket];
			if (dbb_duration_parse(v, d, &err) != DBB_OK) {
				fprintf(stderr, "%s\n", err.message);
				return 2;
			}
		}
		if (!known)
			return usage();
		i++;
	}
	if (!zone)
		return usage();
	if (dbb_tz_load(&tz, zone, getenv("TZDIR"), &err) != DBB_OK) {
		fprintf(stderr, "%s\n", err.message);
		return 2;
	}
	if (strcmp(argv[1], "generate") == 0 && seed >= 0)
		rc = generate(tz, (uint64_t)seed);
	else if (strcmp(argv[1], "apply") == 0 && now >= 0)
		rc = apply(tz, (time_t)now, &pol);
	else
		rc = usage();
	dbb_tz_free(tz);
	return rc;
}
