/* Five-field cron expressions: parsing, and next/previous run in a time zone. */
#include "dbbackupd/cron.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CRON_EXPR_MAX  256
#define CRON_FIELDS    5
#define CRON_MAX_STEPS 2000000 /* bounds a search; real ones take far fewer */
#define CRON_MAX_YEARS 400
#define TZ_WINDOW      (54 * 3600)

struct field_def {
	const char *name;
	int min, max;
	const char *const *names; /* 3-letter names for min, min+1, ... */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const wday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct field_def fields[CRON_FIELDS] = {
    {"minute", 0, 59, NULL},           {"hour", 0, 23, NULL},
    {"day-of-month", 1, 31, NULL},     {"month", 1, 12, month_names},
    {"day-of-week", 0, 7, wday_names},
};

static const struct {
	const char *name;
	const char *expr;
} macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

/* ---- parsing ---- */

struct token {
	const char *s;
	size_t len;
};

/* Reads a value (number or name) at *p, which ends at `end`. */
static dbb_code parse_value(const struct field_def *f, const struct token *tok, const char **p,
                            const char *end, int *out, struct dbb_error *err)
{
	const char *s = *p;
	if (s < end && *s >= '0' && *s <= '9') {
		long v = 0;
		int digits = 0;
		while (s < end && *s >= '0' && *s <= '9') {
			if (++digits > 4)
				return dbb_fail(err, DBB_ERR_CONFIG, "%s \"%.*s\": number too long",
				                f->name, (int)tok->len, tok->s);
			v = v * 10 + (*s - '0');
			s++;
		}
		if (v < f->min || v > f->max)
			return dbb_fail(err, DBB_ERR_CONFIG,
			                "%s \"%.*s\": %ld is out of range %d-%d", f->name,
			                (int)tok->len, tok->s, v, f->min, f->max);
		*out = (int)v;
		*p = s;
		return DBB_OK;
	}
	size_t n = 0;
	while (s + n < end && ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z')))
		n++;
	if (n == 0) {
		if (s < end && strchr("LW#?H", *s))
			return dbb_fail(err, DBB_ERR_CONFIG,
			                "%s \"%.*s\": '%c' is not supported (standard five-field "
			                "cron syntax only)",
			                f->name, (int)tok->len, tok->s, *s);
		return dbb_fail(err, DBB_ERR_CONFIG, "%s \"%.*s\": expected a number%s", f->name,
		                (int)tok->len, tok->s, f->names ? " or a name" : "");
	}
	if (f->names && n == 3)
		for (int i = 0; f->names[i]; i++)
			if (strncasecmp(s, f->names[i], 3) == 0) {
				*out = f->min + i;
				*p = s + 3;
				return DBB_OK;
			}
	if (n == 1 && strchr("LWH", *s))
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "%s \"%.*s\": '%c' is not supported (standard five-field cron "
		                "syntax only)",
		                f->name, (int)tok->len, tok->s, *s);
	if (f->names)
		return dbb_fail(err, DBB_ERR_CONFIG, "%s \"%.*s\": unknown name \"%.*s\" (%s)",
		                f->name, (int)tok->len, tok->s, (int)n, s,
		                f->names == month_names ? "jan..dec" : "sun..sat");
	return dbb_fail(err, DBB_ERR_CONFIG,
	                "%s \"%.*s\": names are only allowed for month and "
	                "day-of-week",
	                f->name, (int)tok->len, tok->s);
}

/* One comma-separated element: "*", "*" "/n", "a", "a-b", "a-b/n". */
static dbb_code parse_element(const struct field_def *f, const struct token *tok, const char *s,
                              const char *end, uint64_t *bits, struct dbb_error *err)
{
	int lo, hi, step = 1;
	bool range = false;
	dbb_code rc;
	if (s == end)
		return dbb_fail(err, DBB_ERR_CONFIG, "%s \"%.*s\": empty list element", f->name,
		                (int)tok->len, tok->s);
	if (*s == '*') {
		lo = f->min;
		hi = f->max;
		range = true;
		s++;
	} else {
		if ((rc = parse_value(f, tok, &s, end, &lo, err)) != DBB_OK)
			return rc;
		hi = lo;
		if (s < end && *s == '-') {
			s++;
			if ((rc = parse_value(f, tok, &s, end, &hi, err)) != DBB_OK)
				return rc;
			if (hi < lo)
				return dbb_fail(err, DBB_ERR_CONFIG,
				                "%s \"%.*s\": range %d-%d runs backwards%s",
				                f->name, (int)tok->len, tok->s, lo, hi,
				                f->names == wday_names && hi == 0
				                    ? " (Sunday ending a range is 7: fri-7)"
				                    : "");
			range = true;
		}
	}
	if (s < end && *s == '/') {
		if (!range)
			return dbb_fail(
			    err, DBB_ERR_CONFIG,
			    "%s \"%.*s\": a step needs a range or '*' (write %d-%d/...)", f->name,
			    (int)tok->len, tok->s, lo, f->max);
		s++;
		long v = 0;
		int digits = 0;
		while (s < end && *s >= '0' && *s <= '9' && digits < 5) {
			v = v * 10 + (*s - '0');
			digits++;
			s++;
		}
		if (digits == 0 || digits > 4 || v < 1)
			return dbb_fail(err, DBB_ERR_CONFIG,
			                "%s \"%.*s\": step must be a number from 1 to 9999",
			                f->name, (int)tok->len, tok->s);
		step = (int)v;
	}
	if (s != end) {
		if (strchr("LW#?H", *s))
			return dbb_fail(err, DBB_ERR_CONFIG,
			                "%s \"%.*s\": '%c' is not supported (standard five-field "
			                "cron syntax only)",
			                f->name, (int)tok->len, tok->s, *s);
		return dbb_fail(err, DBB_ERR_CONFIG, "%s \"%.*s\": unexpected '%c'", f->name,
		                (int)tok->len, tok->s, *s);
	}
	for (int v = lo; v <= hi; v += step)
		*bits |= (uint64_t)1 << v;
	return DBB_OK;
}

static dbb_code parse_field(const struct field_def *f, const struct token *tok, uint64_t *bits,
                            struct dbb_error *err)
{
	const char *s = tok->s, *end = tok->s + tok->len;
	*bits = 0;
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *e = comma ? comma : end;
		dbb_code rc = parse_element(f, tok, s, e, bits, err);
		if (rc != DBB_OK)
			return rc;
		if (!comma)
			return DBB_OK;
		s = comma + 1;
	}
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* An expression that can never run: a day of month that no selected month
 * has, while the day-of-week field does not widen it. */
static dbb_code check_feasible(const struct dbb_cron *c, const struct token *dom,
                               const struct token *mon, struct dbb_error *err)
{
	static const int max_days[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (!c->wday_star)
		return DBB_OK; /* OR with day-of-week, or AND with a day-of-month holding 1 */
	for (int m = 1; m <= 12; m++) {
		if (!(c->months & (1u << m)))
			continue;
		for (int d = 1; d <= max_days[m]; d++)
			if (c->mdays & (1u << d))
				return DBB_OK;
	}
	return dbb_fail(err, DBB_ERR_CONFIG, "day-of-month \"%.*s\" never occurs in month \"%.*s\"",
	                (int)dom->len, dom->s, (int)mon->len, mon->s);
}

dbb_code dbb_cron_parse(const char *expr, struct dbb_cron *out, struct dbb_error *err)
{
	struct token tok[CRON_FIELDS];
	size_t ntok = 0;
	uint64_t bits[CRON_FIELDS];
	memset(out, 0, sizeof(*out));
	if (!expr)
		return dbb_fail(err, DBB_ERR_CONFIG, "empty cron expression");
	size_t len = strnlen(expr, CRON_EXPR_MAX + 1);
	if (len > CRON_EXPR_MAX)
		return dbb_fail(err, DBB_ERR_CONFIG, "cron expression longer than %d characters",
		                CRON_EXPR_MAX);
	while (len > 0 && (is_space(expr[len - 1]) || expr[len - 1] == '\n'))
		len--;
	while (len > 0 && is_space(*expr)) {
		expr++;
		len--;
	}
	if (len == 0)
		return dbb_fail(err, DBB_ERR_CONFIG, "empty cron expression");
	if (expr[0] == '@') {
		for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
			if (strlen(macros[i].name) == len && memcmp(expr, macros[i].name, len) == 0)
				return dbb_cron_parse(macros[i].expr, out, err);
		if (len == 7 && memcmp(expr, "@reboot", 7) == 0)
			return dbb_fail(err, DBB_ERR_CONFIG,
			                "@reboot is not supported (the daemon has no reboot to run "
			                "at; see SCHEDULE_CATCH_UP)");
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "unknown macro \"%.*s\" (@yearly, @annually, @monthly, @weekly, "
		                "@daily, @midnight, @hourly)",
		                (int)len, expr);
	}
	for (size_t i = 0; i < len;) {
		if (is_space(expr[i])) {
			i++;
			continue;
		}
		if ((unsigned char)expr[i] < 0x20 || (unsigned char)expr[i] >= 0x7f)
			return dbb_fail(err, DBB_ERR_CONFIG,
			                "cron expression: unexpected character (byte 0x%02x)",
			                (unsigned char)expr[i]);
		size_t j = i;
		while (j < len && !is_space(expr[j]) && (unsigned char)expr[j] >= 0x20 &&
		       (unsigned char)expr[j] < 0x7f)
			j++;
		if (ntok < CRON_FIELDS)
			tok[ntok] = (struct token){expr + i, j - i};
		ntok++;
		i = j;
	}
	if (ntok != CRON_FIELDS)
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "expected 5 fields (minute hour day-of-month month day-of-week), "
		                "got %zu%s",
		                ntok,
		                ntok > CRON_FIELDS ? " (seconds, year and command fields are not "
		                                     "supported)"
		                                   : "");
	for (int i = 0; i < CRON_FIELDS; i++) {
		dbb_code rc = parse_field(&fields[i], &tok[i], &bits[i], err);
		if (rc != DBB_OK)
			return rc;
	}
	out->minutes = bits[0];
	out->hours = (uint32_t)bits[1];
	out->mdays = (uint32_t)bits[2];
	out->months = (uint16_t)bits[3];
	if (bits[4] & (1u << 7))
		bits[4] |= 1; /* 7 is Sunday too */
	out->wdays = (uint8_t)(bits[4] & 0x7f);
	out->mday_star = tok[2].s[0] == '*';
	out->wday_star = tok[4].s[0] == '*';
	return check_feasible(out, &tok[2], &tok[3], err);
}

/* ---- matching and searching in wall-clock time ---- */

static bool day_matches(const struct dbb_cron *c, const struct dbb_civil *w, int wday)
{
	bool md = c->mdays & (1u << w->day);
	bool wd = c->wdays & (1u << wday);
	if (c->mday_star || c->wday_star)
		return md && wd;
	return md || wd;
}

static int wday_of(const struct dbb_civil *w)
{
	int64_t days = dbb_days_from_civil(w->year, w->month, w->day);
	int64_t r = (days + 4) % 7;
	return (int)(r < 0 ? r + 7 : r);
}

bool dbb_cron_matches(const struct dbb_cron *c, const struct dbb_civil *wall)
{
	return (c->months & (1u << wall->month)) && day_matches(c, wall, wday_of(wall)) &&
	       (c->hours & (1u << wall->hour)) && (c->minutes & ((uint64_t)1 << wall->minute));
}

static int64_t floor_to(int64_t s, int64_t unit)
{
	int64_t q = s / unit;
	if (s % unit != 0 && s < 0)
		q--;
	return q * unit;
}

/* The first matching wall minute >= *s (local seconds read as UTC). */
static bool next_wall(const struct dbb_cron *c, int64_t *s, int64_t year_limit)
{
	struct dbb_civil w;
	int64_t x = floor_to(*s, 60);
	for (long i = 0; i < CRON_MAX_STEPS; i++) {
		dbb_civil_from_seconds(x, &w);
		if (w.year > year_limit)
			return false;
		if (!(c->months & (1u << w.month))) {
			x = dbb_days_from_civil(w.year, w.month + 1, 1) * 86400;
			continue;
		}
		if (!day_matches(c, &w, w.wday)) {
			x = floor_to(x, 86400) + 86400;
			continue;
		}
		if (!(c->hours & (1u << w.hour))) {
			x = floor_to(x, 3600) + 3600;
			continue;
		}
		if (!(c->minutes & ((uint64_t)1 << w.minute))) {
			x += 60;
			continue;
		}
		*s = x;
		return true;
	}
	return false;
}

/* The last matching wall minute <= *s. */
static bool prev_wall(const struct dbb_cron *c, int64_t *s, int64_t year_limit)
{
	struct dbb_civil w;
	int64_t x = floor_to(*s, 60);
	for (long i = 0; i < CRON_MAX_STEPS; i++) {
		dbb_civil_from_seconds(x, &w);
		if (w.year < year_limit)
			return false;
		if (!(c->months & (1u << w.month))) {
			x = dbb_days_from_civil(w.year, w.month, 1) * 86400 - 60;
			continue;
		}
		if (!day_matches(c, &w, w.wday)) {
			x = floor_to(x, 86400) - 60;
			continue;
		}
		if (!(c->hours & (1u << w.hour))) {
			x = floor_to(x, 3600) - 60;
			continue;
		}
		if (!(c->minutes & ((uint64_t)1 << w.minute))) {
			x -= 60;
			continue;
		}
		*s = x;
		return true;
	}
	return false;
}

static int64_t wall_to_utc(const struct dbb_tz *tz, int64_t wall)
{
	struct dbb_civil w;
	dbb_civil_from_seconds(wall, &w);
	return dbb_tz_from_local(tz, &w, NULL);
}

/* Wall minutes map to instants monotonically (tz.h), so the first candidate
 * whose instant is past `after` is the answer. Every wall minute up to the
 * wall-clock reading of `after` maps to an instant <= after; in a repeated
 * hour the loop steps over the minutes whose first occurrence has passed. */
dbb_code dbb_cron_next(const struct dbb_cron *c, const struct dbb_tz *tz, time_t after,
                       time_t *next, struct dbb_error *err)
{
	struct dbb_tz_period p;
	dbb_tz_period_at(tz, after, &p);
	int64_t w = floor_to((int64_t)after + p.utoff, 60) + 60;
	struct dbb_civil start;
	dbb_civil_from_seconds(w, &start);
	int64_t limit = start.year + CRON_MAX_YEARS;
	for (int i = 0; i < 100000; i++) {
		if (!next_wall(c, &w, limit))
			break;
		int64_t t = wall_to_utc(tz, w);
		if (t > (int64_t)after) {
			*next = (time_t)t;
			return DBB_OK;
		}
		w += 60;
	}
	return dbb_fail(err, DBB_ERR_INTERNAL, "cron: no run within %d years", CRON_MAX_YEARS);
}

/* Symmetric to next: no wall minute above the largest wall-clock reading
 * of the last 54 hours before `before` can map to an instant before it. */
dbb_code dbb_cron_prev(const struct dbb_cron *c, const struct dbb_tz *tz, time_t before,
                       time_t *prev, struct dbb_error *err)
{
	struct dbb_tz_period p;
	int32_t maxoff = INT32_MIN;
	dbb_tz_period_at(tz, (int64_t)before - TZ_WINDOW, &p);
	for (;;) {
		if (p.utoff > maxoff)
			maxoff = p.utoff;
		if (p.end >= (int64_t)before || p.end == INT64_MAX)
			break;
		dbb_tz_period_at(tz, p.end, &p);
	}
	int64_t w = floor_to((int64_t)before - 1 + maxoff, 60);
	struct dbb_civil start;
	dbb_civil_from_seconds(w, &start);
	int64_t limit = start.year - CRON_MAX_YEARS;
	for (int i = 0; i < 100000; i++) {
		if (!prev_wall(c, &w, limit))
			break;
		int64_t t = wall_to_utc(tz, w);
		if (t < (int64_t)before) {
			*prev = (time_t)t;
			return DBB_OK;
		}
		w -= 60;
	}
	return dbb_fail(err, DBB_ERR_INTERNAL, "cron: no run within %d years", CRON_MAX_YEARS);
}
