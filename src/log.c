/* Logging to stderr with a UTC timestamp and a level. */
#include "dbbackupd/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static atomic_int min_level = DBB_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

int dbb_log_set_level(const char *name)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			atomic_store(&min_level, i);
			return 0;
		}
	}
	return -1;
}

void dbb_log(enum dbb_log_level level, const char *fmt, ...)
{
	if ((int)level < atomic_load(&min_level))
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\n' || c == '\r' || c == '\t')
			*p = ' ';
		else if (c < 0x20 || c == 0x7f)
			*p = '?';
	}
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s %s %s\n", ts, level_names[level], msg);
}

static bool bare_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\';
}

void dbb_log_quote(char *out, size_t cap, const char *in, bool always_quote)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)(in ? in : "");
	bool bare = !always_quote && *s;
	for (const unsigned char *p = s; *p && bare; p++)
		bare = bare_ok(*p);
	size_t o = 0, len = strlen((const char *)s);
	if (bare && len < cap) {
		memcpy(out, s, len + 1);
		return;
	}
	/* room kept for the worst escape (4), "..." and the closing quote + NUL */
	size_t stop = cap - 9;
	out[o++] = '"';
	for (; *s; s++) {
		if (o >= stop) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		unsigned char c = *s;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (c < 0x20 || c >= 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
}
