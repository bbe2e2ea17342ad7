/* IANA time zones from TZif files and POSIX TZ rules, without the process's TZ. */
#include "dbbackupd/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(sizeof(time_t) == 8, "64-bit time_t expected");

#define TZIF_MAX_FILE   (1024 * 1024)
#define TZIF_MAX_TIMES  100000
#define TZ_MAX_UTOFF    (26 * 3600) /* RFC 8536 recommends [-89999, 93599] */
#define TZ_SCAN_SECONDS (27 * 3600) /* wider than any offset */

struct tz_type {
	int32_t utoff;
	bool isdst;
	char abbr[16];
};

/* A POSIX TZ rule date: Jn (1-365, no Feb 29), n (0-365), Mm.w.d. */
struct tz_rule_date {
	char kind; /* 'J', 'N', 'M' */
	int a, b, c;
	int32_t time; /* seconds after local midnight, may be negative or > 24 h */
};

struct tz_posix {
	bool present;
	bool has_dst;
	struct tz_type std, dst;
	struct tz_rule_date start, end;
};

struct dbb_tz {
	char name[DBB_TZ_NAME_MAX];
	size_t timecnt;
	int64_t *trans;
	uint8_t *trans_type;
	size_t typecnt;
	struct tz_type *types;
	struct tz_posix footer;
};

/* ---- calendar ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

bool dbb_is_leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int dbb_days_in_month(int64_t year, int month)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (month == 2 && dbb_is_leap_year(year))
		return 29;
	return dim[month - 1];
}

/* Howard Hinnant's days_from_civil, with the day allowed to overflow. */
int64_t dbb_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468 + (d - 1);
}

static void civil_from_days(int64_t z, struct dbb_civil *c)
{
	int64_t days = z;
	z += 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	c->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	c->month = (int)(mp < 10 ? mp + 3 : mp - 9);
	c->year = yoe + era * 400 + (c->month <= 2);
	c->wday = (int)floor_mod(days + 4, 7); /* 1970-01-01 was a Thursday */
	c->yday = (int)(days - dbb_days_from_civil(c->year, 1, 1));
}

int64_t dbb_civil_to_seconds(const struct dbb_civil *c)
{
	return dbb_days_from_civil(c->year, c->month, c->day) * 86400 + c->hour * 3600 +
	       c->minute * 60 + c->second;
}

void dbb_civil_from_seconds(int64_t s, struct dbb_civil *c)
{
	int64_t days = floor_div(s, 86400);
	int64_t rem = s - days * 86400;
	civil_from_days(days, c);
	c->hour = (int)(rem / 3600);
	c->minute = (int)(rem % 3600 / 60);
	c->second = (int)(rem % 60);
}

void dbb_iso_week(const struct dbb_civil *c, int64_t *iso_year, int *week)
{
	int64_t days = dbb_days_from_civil(c->year, c->month, c->day);
	int isowday = (int)floor_mod(days + 3, 7) + 1; /* Monday 1 ... Sunday 7 */
	struct dbb_civil thu;
	civil_from_days(days + 4 - isowday, &thu); /* the Thursday of the same week */
	*iso_year = thu.year;
	*week = thu.yday / 7 + 1;
}

/* ---- POSIX TZ strings (the TZif footer) ---- */

static bool parse_abbr(const char **sp, char out[16])
{
	const char *s = *sp;
	size_t n = 0;
	if (*s == '<') {
		s++;
		while (s[n] && s[n] != '>') {
			char ch = s[n];
			if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			      (ch >= '0' && ch <= '9') || ch == '+' || ch == '-'))
				return false;
			n++;
		}
		if (s[n] != '>' || n < 3 || n > 15)
			return false;
		memcpy(out, s, n);
		out[n] = '\0';
		*sp = s + n + 1;
		return true;
	}
	while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z'))
		n++;
	if (n < 3 || n > 15)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	*sp = s + n;
	return true;
}

static bool parse_num(const char **sp, int min, int max, int *out)
{
	const char *s = *sp;
	int v = 0, n = 0;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (*s - '0');
		if (++n > 3)
			return false;
		s++;
	}
	if (n == 0 || v < min || v > max)
		return false;
	*out = v;
	*sp = s;
	return true;
}

/* [+-]h[h[h]][:mm[:ss]], hours at most max_hours; returns seconds. */
static bool parse_hms(const char **sp, int max_hours, int32_t *out)
{
	const char *s = *sp;
	int sign = 1, h, m = 0, sec = 0;
	if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		s++;
	}
	if (!parse_num(&s, 0, max_hours, &h))
		return false;
	if (*s == ':') {
		s++;
		if (!parse_num(&s, 0, 59, &m))
			return false;
		if (*s == ':') {
			s++;
			if (!parse_num(&s, 0, 59, &sec))
				return false;
		}
	}
	*out = sign * (h * 3600 + m * 60 + sec);
	*sp = s;
	return true;
}

static bool parse_rule_date(const char **sp, struct tz_rule_date *d)
{
	const char *s = *sp;
	if (*s == 'J') {
		s++;
		d->kind = 'J';
		if (!parse_num(&s, 1, 365, &d->a))
			return false;
	} else if (*s == 'M') {
		s++;
		d->kind = 'M';
		if (!parse_num(&s, 1, 12, &d->a) || *s++ != '.' || !parse_num(&s, 1, 5, &d->b) ||
		    *s++ != '.' || !parse_num(&s, 0, 6, &d->c))
			return false;
	} else {
		d->kind = 'N';
		if (!parse_num(&s, 0, 365, &d->a))
			return false;
	}
	d->time = 7200;
	if (*s == '/') {
		s++;
		if (!parse_hms(&s, 167, &d->time))
			return false;
	}
	*sp = s;
	return true;
}

static bool parse_posix(const char *s, struct tz_posix *p)
{
	int32_t off;
	memset(p, 0, sizeof(*p));
	if (*s == '\0')
		return true; /* empty footer: the last transition holds forever */
	if (!parse_abbr(&s, p->std.abbr) || !parse_hms(&s, 24, &off))
		return false;
	p->std.utoff = -off; /* POSIX offsets count west of Greenwich */
	p->present = true;
	if (*s == '\0')
		return true;
	if (!parse_abbr(&s, p->dst.abbr))
		return false;
	p->has_dst = true;
	p->dst.isdst = true;
	p->dst.utoff = p->std.utoff + 3600;
	if (*s != ',' && *s != '\0') {
		if (!parse_hms(&s, 24, &off))
			return false;
		p->dst.utoff = -off;
	}
	if (*s == '\0') { /* no rule: the traditional US one, as glibc does */
		p->start = (struct tz_rule_date){'M', 3, 2, 0, 7200};
		p->end = (struct tz_rule_date){'M', 11, 1, 0, 7200};
		return true;
	}
	if (*s++ != ',' || !parse_rule_date(&s, &p->start) || *s++ != ',' ||
	    !parse_rule_date(&s, &p->end))
		return false;
	return *s == '\0';
}

/* Local midnight (as seconds read as UTC) of a rule date in a year. */
static int64_t rule_day(const struct tz_rule_date *d, int64_t year)
{
	int64_t jan1 = dbb_days_from_civil(year, 1, 1);
	if (d->kind == 'J')
		return jan1 + d->a - 1 + (dbb_is_leap_year(year) && d->a >= 60);
	if (d->kind == 'N')
		return jan1 + d->a;
	int64_t first = dbb_days_from_civil(year, d->a, 1);
	int wday1 = (int)floor_mod(first + 4, 7);
	int day = 1 + (d->c - wday1 + 7) % 7 + (d->b - 1) * 7;
	int dim = dbb_days_in_month(year, d->a);
	while (day > dim)
		day -= 7;
	return first + day - 1;
}

struct rule_transition {
	int64_t at;
	bool to_dst;
};

static void posix_period(const struct tz_posix *p, int64_t t, struct dbb_tz_period *out)
{
	if (!p->has_dst) {
		out->start = INT64_MIN;
		out->end = INT64_MAX;
		out->utoff = p->std.utoff;
		out->isdst = false;
		memcpy(out->abbr, p->std.abbr, sizeof(out->abbr));
		return;
	}
	struct dbb_civil c;
	dbb_civil_from_seconds(t, &c);
	struct rule_transition tr[6];
	size_t n = 0;
	for (int64_t y = c.year - 1; y <= c.year + 1; y++) {
		tr[n++] = (struct rule_transition){
		    rule_day(&p->start, y) * 86400 + p->start.time - p->std.utoff, true};
		tr[n++] = (struct rule_transition){
		    rule_day(&p->end, y) * 86400 + p->end.time - p->dst.utoff, false};
	}
	/* insertion sort; on a tie the DST start goes last (it wins) */
	for (size_t i = 1; i < n; i++) {
		struct rule_transition x = tr[i];
		size_t j = i;
		while (j > 0 && (tr[j - 1].at > x.at ||
		                 (tr[j - 1].at == x.at && tr[j - 1].to_dst && !x.to_dst))) {
			tr[j] = tr[j - 1];
			j--;
		}
		tr[j] = x;
	}
	size_t cur = n;
	for (size_t i = 0; i < n; i++)
		if (tr[i].at <= t)
			cur = i;
	bool dst;
	if (cur == n) {
		out->start = INT64_MIN;
		out->end = tr[0].at;
		dst = !tr[0].to_dst;
	} else {
		out->start = tr[cur].at;
		out->end = cur + 1 < n ? tr[cur + 1].at : INT64_MAX;
		dst = tr[cur].to_dst;
	}
	const struct tz_type *ty = dst ? &p->dst : &p->std;
	out->utoff = ty->utoff;
	out->isdst = dst;
	memcpy(out->abbr, ty->abbr, sizeof(out->abbr));
}

/* ---- lookups ---- */

static void type_period(const struct tz_type *ty, int64_t start, int64_t end,
                        struct dbb_tz_period *out)
{
	out->start = start;
	out->end = end;
	out->utoff = ty->utoff;
	out->isdst = ty->isdst;
	memcpy(out->abbr, ty->abbr, sizeof(out->abbr));
}

void dbb_tz_period_at(const struct dbb_tz *tz, int64_t t, struct dbb_tz_period *p)
{
	size_t n = tz->timecnt;
	if (n == 0 || t >= tz->trans[n - 1]) {
		if (tz->footer.present) {
			posix_period(&tz->footer, t, p);
			if (n > 0 && p->start < tz->trans[n - 1])
				p->start = tz->trans[n - 1];
			return;
		}
		if (n == 0)
			type_period(&tz->types[0], INT64_MIN, INT64_MAX, p);
		else
			type_period(&tz->types[tz->trans_type[n - 1]], tz->trans[n - 1], INT64_MAX,
			            p);
		return;
	}
	if (t < tz->trans[0]) {
		type_period(&tz->types[0], INT64_MIN, tz->trans[0], p);
		return;
	}
	size_t lo = 0, hi = n - 1; /* trans[lo] <= t < trans[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	type_period(&tz->types[tz->trans_type[lo]], tz->trans[lo], tz->trans[hi], p);
}

void dbb_tz_to_local(const struct dbb_tz *tz, int64_t t, struct dbb_civil *out, int32_t *utoff)
{
	struct dbb_tz_period p;
	dbb_tz_period_at(tz, t, &p);
	dbb_civil_from_seconds(t + p.utoff, out);
	if (utoff)
		*utoff = p.utoff;
}

/* Walks the periods around the wall time in time order: the wall-clock
 * ranges of consecutive periods either leave a gap (clocks forward) or
 * overlap (clocks back). */
int64_t dbb_tz_from_local(const struct dbb_tz *tz, const struct dbb_civil *wall,
                          enum dbb_tz_local_kind *kind)
{
	int64_t w = dbb_civil_to_seconds(wall);
	struct dbb_tz_period p;
	int64_t found = 0;
	int solutions = 0;
	enum dbb_tz_local_kind k = DBB_TZ_LOCAL_UNIQUE;
	dbb_tz_period_at(tz, w - TZ_SCAN_SECONDS, &p);
	for (;;) {
		int64_t t = w - p.utoff;
		if (t >= p.start && t < p.end) {
			if (solutions++ == 0)
				found = t;
		} else if (t < p.start && solutions == 0) {
			found = p.start; /* w falls in the gap before this period */
			k = DBB_TZ_LOCAL_SKIPPED;
			solutions = 1;
			break;
		}
		if (p.end == INT64_MAX || p.end > w + TZ_SCAN_SECONDS)
			break;
		dbb_tz_period_at(tz, p.end, &p);
	}
	if (solutions == 0) /* unreachable with sane offsets */
		found = w - p.utoff;
	if (solutions > 1 && k == DBB_TZ_LOCAL_UNIQUE)
		k = DBB_TZ_LOCAL_REPEATED;
	if (kind)
		*kind = k;
	return found;
}

/* ---- TZif ---- */

struct reader {
	const unsigned char *p;
	size_t left;
};

static bool take(struct reader *r, size_t n, const unsigned char **out)
{
	if (r->left < n)
		return false;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return true;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
	char version;
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static bool read_header(struct reader *r, struct tzif_counts *c)
{
	const unsigned char *h;
	if (!take(r, 44, &h) || memcmp(h, "TZif", 4) != 0)
		return false;
	c->version = (char)h[4];
	c->isutcnt = be32(h + 20);
	c->isstdcnt = be32(h + 24);
	c->leapcnt = be32(h + 28);
	c->timecnt = be32(h + 32);
	c->typecnt = be32(h + 36);
	c->charcnt = be32(h + 40);
	return true;
}

static void tz_free_parts(struct dbb_tz *tz)
{
	free(tz->trans);
	free(tz->trans_type);
	free(tz->types);
}

void dbb_tz_free(struct dbb_tz *tz)
{
	if (!tz)
		return;
	tz_free_parts(tz);
	free(tz);
}

const char *dbb_tz_name(const struct dbb_tz *tz)
{
	return tz->name;
}

static dbb_code parse_v2(struct dbb_tz *tz, struct reader *r, struct dbb_error *err)
{
	struct tzif_counts c;
	const unsigned char *tt, *ti, *ty, *chars, *skip;
	if (!read_header(r, &c))
		return dbb_fail(err, DBB_ERR_CONFIG, "second TZif header missing");
	if (c.leapcnt != 0)
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "zone with leap seconds (\"right/\" zones) is not supported");
	if (c.typecnt == 0 || c.typecnt > 256 || c.timecnt > TZIF_MAX_TIMES || c.charcnt > 4096 ||
	    (c.isstdcnt != 0 && c.isstdcnt != c.typecnt) ||
	    (c.isutcnt != 0 && c.isutcnt != c.typecnt))
		return dbb_fail(err, DBB_ERR_CONFIG, "inconsistent TZif counts");
	if (!take(r, (size_t)c.timecnt * 8, &tt) || !take(r, c.timecnt, &ti) ||
	    !take(r, (size_t)c.typecnt * 6, &ty) || !take(r, c.charcnt, &chars) ||
	    !take(r, (size_t)c.isstdcnt + c.isutcnt, &skip))
		return dbb_fail(err, DBB_ERR_CONFIG, "truncated TZif data");
	tz->timecnt = c.timecnt;
	tz->typecnt = c.typecnt;
	tz->trans = calloc(c.timecnt ? c.timecnt : 1, sizeof(*tz->trans));
	tz->trans_type = calloc(c.timecnt ? c.timecnt : 1, 1);
	tz->types = calloc(c.typecnt, sizeof(*tz->types));
	if (!tz->trans || !tz->trans_type || !tz->types)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	for (uint32_t i = 0; i < c.typecnt; i++) {
		const unsigned char *e = ty + 6 * i;
		int32_t off = (int32_t)be32(e);
		if (off < -TZ_MAX_UTOFF || off > TZ_MAX_UTOFF || e[4] > 1 || e[5] >= c.charcnt)
			return dbb_fail(err, DBB_ERR_CONFIG, "bad TZif local time type %u", i);
		const char *abbr = (const char *)chars + e[5];
		size_t len = strnlen(abbr, c.charcnt - e[5]);
		if (len == c.charcnt - e[5])
			return dbb_fail(err, DBB_ERR_CONFIG, "unterminated TZif abbreviation");
		tz->types[i].utoff = off;
		tz->types[i].isdst = e[4];
		snprintf(tz->types[i].abbr, sizeof(tz->types[i].abbr), "%.*s", (int)len, abbr);
	}
	for (uint32_t i = 0; i < c.timecnt; i++) {
		tz->trans[i] = be64(tt + 8 * i);
		tz->trans_type[i] = ti[i];
		if (ti[i] >= c.typecnt || (i > 0 && tz->trans[i] <= tz->trans[i - 1]))
			return dbb_fail(err, DBB_ERR_CONFIG, "bad TZif transition %u", i);
	}
	/* footer: "\n" POSIX-TZ "\n" */
	char rule[128];
	const unsigned char *nl;
	if (!take(r, 1, &nl) || *nl != '\n')
		return dbb_fail(err, DBB_ERR_CONFIG, "TZif footer missing");
	const unsigned char *end = memchr(r->p, '\n', r->left);
	size_t len = end ? (size_t)(end - r->p) : 0;
	if (!end || len >= sizeof(rule))
		return dbb_fail(err, DBB_ERR_CONFIG, "TZif footer unterminated or too long");
	memcpy(rule, r->p, len);
	rule[len] = '\0';
	if (!parse_posix(rule, &tz->footer))
		return dbb_fail(err, DBB_ERR_CONFIG, "cannot parse TZ rule \"%s\"", rule);
	return DBB_OK;
}

dbb_code dbb_tz_parse(struct dbb_tz **out, const char *name, const unsigned char *data, size_t len,
                      struct dbb_error *err)
{
	struct dbb_tz *tz = calloc(1, sizeof(*tz));
	struct reader r = {data, len};
	struct tzif_counts c;
	const unsigned char *skip;
	dbb_code rc = DBB_OK;
	*out = NULL;
	if (!tz)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	snprintf(tz->name, sizeof(tz->name), "%s", name);
	if (!read_header(&r, &c)) {
		rc = dbb_fail(err, DBB_ERR_CONFIG, "not a TZif file");
		goto out;
	}
	if (c.version < '2') {
		rc = dbb_fail(err, DBB_ERR_CONFIG, "TZif version 1 (no 64-bit data)");
		goto out;
	}
	/* skip the 32-bit block */
	if (c.timecnt > TZIF_MAX_TIMES || c.typecnt > 256 || c.charcnt > 4096 || c.leapcnt > 1000 ||
	    c.isstdcnt > 256 || c.isutcnt > 256 ||
	    !take(&r,
	          (size_t)c.timecnt * 5 + (size_t)c.typecnt * 6 + c.charcnt +
	              (size_t)c.leapcnt * 8 + c.isstdcnt + c.isutcnt,
	          &skip)) {
		rc = dbb_fail(err, DBB_ERR_CONFIG, "truncated TZif data");
		goto out;
	}
	rc = parse_v2(tz, &r, err);
out:
	if (rc != DBB_OK) {
		dbb_error_prefix(err, "time zone %s", name);
		dbb_tz_free(tz);
		return rc;
	}
	*out = tz;
	return DBB_OK;
}

static bool valid_zone_name(const char *name)
{
	size_t len = strnlen(name, DBB_TZ_NAME_MAX);
	if (len == 0 || len >= DBB_TZ_NAME_MAX || name[0] == '/')
		return false;
	const char *comp = name;
	for (size_t i = 0; i <= len; i++) {
		char ch = name[i];
		if (ch == '/' || ch == '\0') {
			size_t n = (size_t)(name + i - comp);
			if (n == 0 || (n == 1 && comp[0] == '.') ||
			    (n == 2 && comp[0] == '.' && comp[1] == '.'))
				return false;
			comp = name + i + 1;
			continue;
		}
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '+' || ch == '-'))
			return false;
	}
	return true;
}

static dbb_code load_utc(struct dbb_tz **out, struct dbb_error *err)
{
	struct dbb_tz *tz = calloc(1, sizeof(*tz));
	if (tz)
		tz->types = calloc(1, sizeof(*tz->types));
	if (!tz || !tz->types) {
		dbb_tz_free(tz);
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	}
	snprintf(tz->name, sizeof(tz->name), "UTC");
	snprintf(tz->types[0].abbr, sizeof(tz->types[0].abbr), "UTC");
	tz->typecnt = 1;
	*out = tz;
	return DBB_OK;
}

dbb_code dbb_tz_load(struct dbb_tz **out, const char *name, const char *dir, struct dbb_error *err)
{
	char path[PATH_MAX];
	unsigned char *buf = NULL;
	struct stat sb;
	dbb_code rc = DBB_OK;
	int fd = -1;
	*out = NULL;
	if (!name || strcmp(name, "UTC") == 0)
		return load_utc(out, err);
	if (!valid_zone_name(name))
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "time zone \"%.64s\": not an IANA zone name (like Europe/Berlin)",
		                name);
	if (!dir || !*dir)
		dir = DBB_TZ_DEFAULT_DIR;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return dbb_fail(err, DBB_ERR_CONFIG, "time zone %s: path too long", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			rc = dbb_fail(err, DBB_ERR_CONFIG,
			              "unknown time zone %s (no %s; is tzdata installed?)", name,
			              path);
		else
			rc = dbb_fail_errno(err, errno, DBB_ERR_CONFIG,
			                    "time zone %s: cannot open %s", name, path);
		goto out;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > TZIF_MAX_FILE) {
		rc = dbb_fail(err, DBB_ERR_CONFIG, "time zone %s: %s is not a zone file", name,
		              path);
		goto out;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		goto out;
	}
	size_t got = 0;
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = dbb_fail_errno(err, n < 0 ? errno : EIO, DBB_ERR_CONFIG,
			                    "time zone %s: cannot read %s", name, path);
			goto out;
		}
		got += (size_t)n;
	}
	rc = dbb_tz_parse(out, name, buf, got, err);
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}
