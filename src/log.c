/* Logging to stderr with a UTC timestamp and a level, as text or JSON. */
#include "dbbackupd/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int min_level = DBB_LOG_INFO;
static atomic_bool json_format = false;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* The request this thread is serving ("" none): dbb_log_context. */
static _Thread_local char request_id[DBB_REQUEST_ID_MAX + 1];

int dbb_log_set_format(const char *name)
{
	if (strcmp(name, "text") == 0)
		atomic_store(&json_format, false);
	else if (strcmp(name, "json") == 0)
		atomic_store(&json_format, true);
	else
		return -1;
	return 0;
}

void dbb_log_context(const char *id)
{
	snprintf(request_id, sizeof(request_id), "%s", id ? id : "");
}

const char *dbb_log_context_id(void)
{
	return request_id;
}

/* One JSON object on one line: time, level, msg and request_id when the
 * thread serves a request. msg has no control byte left (dbb_log); a byte
 * sequence that is not UTF-8 (a tool's output in Latin-1) is written with
 * '?' for each byte above 0x7f, so the line stays valid JSON. */
static void write_json(const char *ts, const char *level, char *msg)
{
	json_t *m = json_string(msg);
	if (!m) {
		for (char *p = msg; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		m = json_string(msg);
	}
	json_t *o = json_object();
	char *line = NULL;
	if (o && m) {
		json_object_set_new(o, "time", json_string(ts));
		json_object_set_new(o, "level", json_string(level));
		json_object_set(o, "msg", m);
		if (request_id[0])
			json_object_set_new(o, "request_id", json_string(request_id));
		line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	}
	if (line)
		fprintf(stderr, "%s\n", line);
	else /* out of memory: the event still reaches the log */
		fprintf(stderr, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"(out of memory)\"}\n",
		        ts, level);
	free(line);
	json_decref(m);
	json_decref(o);
}

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
	if (atomic_load(&json_format))
		write_json(ts, level_names[level], msg);
	else if (request_id[0])
		fprintf(stderr, "%s %s %s req=%s\n", ts, level_names[level], msg, request_id);
	else
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
