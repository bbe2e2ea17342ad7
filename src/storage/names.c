/* Backup file names: the whitelist and the timestamp inside a name. */
#include "dbbackupd/storage.h"

#include <ctype.h>
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

/* (safety_)?backup_<db>_<YYYYMMDD>_<HHMMSS>(_<n>)?.<ext>(.gz|.zst)? */
static bool parse_name(const char *name, const char **ts)
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
	size_t n = span_alnum(p);
	if (n == 0 || n > 31 || p[n] != '_')
		return false;
	p += n + 1;
	if (!digits(p, 8) || p[8] != '_' || !digits(p + 9, 6))
		return false;
	*ts = p;
	p += 15;
	if (*p == '_') {
		p++;
		if (*p < '1' || *p > '9')
			return false;
		n = 0;
		while (p[n] >= '0' && p[n] <= '9')
			n++;
		if (n > 4)
			return false;
		p += n;
	}
	if (*p != '.')
		return false;
	p++;
	n = span_alnum(p);
	if (n == 0 || n > 10)
		return false;
	p += n;
	if (*p == '\0')
		return true;
	return strcmp(p, ".gz") == 0 || strcmp(p, ".zst") == 0;
}

bool dbb_name_is_valid(const char *name)
{
	const char *ts;
	return name && parse_name(name, &ts) && dbb_name_timestamp(name, &(time_t){0});
}

bool dbb_name_timestamp(const char *name, time_t *out)
{
	const char *ts;
	if (!name || !parse_name(name, &ts))
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
