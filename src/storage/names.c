/* Backup file names: the whitelist and the timestamp inside a name. */
#include "dbbackupd/storage.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static size_t span_alnum(const char *s)
{
	size_t n = 0;
	while (lower_alnum(s[n]))
		n++;
	return n;
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* <YYYYMMDD>_<HHMMSS>(_<n>)?.<ext>(.gz|.zst)?(.age)? at p. */
static bool parse_stamp_rest(const char *p)
{
	if (!digits(p, 8) || p[8] != '_' || !digits(p + 9, 6))
		return false;
	p += 15;
	if (*p == '_') {
		p++;
		if (*p < '1' || *p > '9')
			return false;
		size_t n = 0;
		while (p[n] >= '0' && p[n] <= '9')
			n++;
		if (n > 4)
			return false;
		p += n;
	}
	if (*p != '.')
		return false;
	p++;
	size_t n = span_alnum(p);
	if (n == 0 || n > 10 || (n == 3 && strncmp(p, "age", 3) == 0)) /* .age: encryption */
		return false;
	p += n;
	if (strncmp(p, ".gz", 3) == 0)
		p += 3;
	else if (strncmp(p, ".zst", 4) == 0)
		p += 4;
	return *p == '\0' || strcmp(p, ".age") == 0; /* issue 19: encrypted */
}

bool dbb_name_is_encrypted(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	return dbb_name_is_valid(name) && n > 4 && strcmp(name + n - 4, ".age") == 0;
}

const char *dbb_name_compression(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n > 4 && strcmp(name + n - 4, ".age") == 0)
		n -= 4;
	if (n > 3 && strncmp(name + n - 3, ".gz", 3) == 0)
		return "gzip";
	if (n > 4 && strncmp(name + n - 4, ".zst", 4) == 0)
		return "zstd";
	return "none";
}

/* (safety_)?backup_<db>_<YYYYMMDD>_<HHMMSS>(_<n>)?.<ext>(.gz|.zst)?(.age)?
 * <db> is a target's name, [a-z0-9][a-z0-9_-]{0,31}: the first '_' after
 * which the rest is a time stamp and an extension ends it. *db_len: its
 * length. */
static bool parse_name(const char *name, const char **ts, size_t *db_len)
{
	size_t len = strnlen(name, DBB_NAME_MAX);
	if (len == 0 || len >= DBB_NAME_MAX)
		return false;
	const char *p = name;
	if (strncmp(p, "safety_", 7) == 0)
		p += 7;
	if (strncmp(p, "backup_", 7) != 0)
		return false;
	p += 7;
	if (!lower_alnum(p[0]))
		return false;
	for (size_t n = 1; n <= 32; n++) {
		char c = p[n];
		if (c == '_' && parse_stamp_rest(p + n + 1)) {
			*ts = p + n + 1;
			*db_len = n;
			return true;
		}
		if (!lower_alnum(c) && c != '_' && c != '-')
			return false;
	}
	return false;
}

bool dbb_name_target(const char *name, char *out, size_t cap)
{
	const char *ts;
	size_t n;
	if (!name || !parse_name(name, &ts, &n))
		return false;
	snprintf(out, cap, "%.*s", (int)n, name + (strncmp(name, "safety_", 7) == 0 ? 14 : 7));
	return true;
}

bool dbb_name_is_valid(const char *name)
{
	const char *ts;
	size_t n;
	return name && parse_name(name, &ts, &n) && dbb_name_timestamp(name, &(time_t){0});
}

bool dbb_name_timestamp(const char *name, time_t *out)
{
	const char *ts;
	size_t n;
	if (!name || !parse_name(name, &ts, &n))
		return false;
	int v[6];
	const int widths[6] = {4, 2, 2, 2, 2, 2};
	const char *p = ts;
	for (int i = 0; i < 6; i++) {
		if (i == 3)
			p++; /* the '_' */
		v[i] = 0;
		for (int k = 0; k < widths[i]; k++)
			v[i] = v[i] * 10 + (*p++ - '0');
	}
	if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60)
		return false;
	struct tm tm = {0};
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*out = t;
	return true;
}
