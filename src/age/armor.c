/* The ASCII armor of age files, decoded strictly (RFC 7468 "strict" PEM,
 * label AGE ENCRYPTED FILE, 64-column lines of canonical padded base64, no
 * headers, LF or CRLF line ends, whitespace only around the block). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "age/internal.h"

#define LINE_CAP 1100 /* longer than any valid line, blank ones included */

struct age_armor {
	struct dbb_source base;
	struct dbb_source *next;
	unsigned char in[4096];
	size_t in_pos, in_len;
	bool in_eof;
	char line[LINE_CAP];
	unsigned char out[AGE_BYTES_PER_LINE];
	size_t out_pos, out_len;
	bool started, finished, failed;
	dbb_code fail_rc;
	char msg[200];
};

static dbb_code armor_fail(struct age_armor *a, struct dbb_error *err, const char *why)
{
	a->failed = true;
	a->out_pos = a->out_len = 0; /* nothing of a malformed block goes out */
	a->fail_rc = DBB_ERR_INVALID_BACKUP;
	snprintf(a->msg, sizeof(a->msg), "age: armor failure: %s", why);
	return dbb_fail(err, a->fail_rc, "%s", a->msg);
}

/* A byte of input; *c = -1 at the end. */
static dbb_code next_byte(struct age_armor *a, int *c, struct dbb_error *err)
{
	if (a->in_pos == a->in_len && !a->in_eof) {
		size_t got = 0;
		dbb_code rc = dbb_source_read(a->next, a->in, sizeof(a->in), &got, err);
		if (rc) {
			/* not an armor failure: the wrapped source's own error */
			return rc;
		}
		a->in_pos = 0;
		a->in_len = got;
		a->in_eof = got == 0;
	}
	*c = a->in_pos < a->in_len ? a->in[a->in_pos++] : -1;
	return DBB_OK;
}

/* A line without its LF (and a CR before it); the last line may lack the
 * LF, but the input may not end before a line starts. */
static dbb_code get_line(struct age_armor *a, size_t *len, struct dbb_error *err)
{
	size_t n = 0;
	int c = 0;

	for (;;) {
		dbb_code rc = next_byte(a, &c, err);
		if (rc)
			return rc;
		if (c < 0) {
			if (n == 0)
				return armor_fail(a, err, "the file ends before the END line");
			break;
		}
		if (c == '\n')
			break;
		if (n == LINE_CAP)
			return armor_fail(a, err, "line too long");
		a->line[n++] = (char)c;
	}
	if (n && a->line[n - 1] == '\r')
		n--;
	*len = n;
	return DBB_OK;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_ws(s[i]))
			return false;
	return true;
}

static bool line_is(const struct age_armor *a, size_t len, const char *s)
{
	return len == strlen(s) && memcmp(a->line, s, len) == 0;
}

/* After the END line: only whitespace, less than AGE_ARMOR_WHITESPACE. */
static dbb_code drain_trailing(struct age_armor *a, struct dbb_error *err)
{
	size_t seen = 0;
	int c = 0;

	for (;;) {
		dbb_code rc = next_byte(a, &c, err);
		if (rc)
			return rc;
		if (c < 0)
			break;
		if (!is_ws((char)c))
			return armor_fail(a, err, "data after the END line");
		if (++seen >= AGE_ARMOR_WHITESPACE)
			return armor_fail(a, err, "too much whitespace after the END line");
	}
	a->finished = true;
	return DBB_OK;
}

/* Decodes the next line into out, or finishes. */
static dbb_code next_line(struct age_armor *a, struct dbb_error *err)
{
	size_t len = 0, removed = 0, n = 0;
	dbb_code rc;

	while (!a->started) {
		rc = get_line(a, &len, err);
		if (rc)
			return rc;
		if (blank(a->line, len)) {
			removed += len + 1;
			if (removed > AGE_ARMOR_WHITESPACE)
				return armor_fail(a, err,
				                  "too much whitespace before the BEGIN line");
			continue;
		}
		if (!line_is(a, len, AGE_ARMOR_BEGIN))
			return armor_fail(a, err, "the first line is not " AGE_ARMOR_BEGIN);
		a->started = true;
	}
	rc = get_line(a, &len, err);
	if (rc)
		return rc;
	if (line_is(a, len, AGE_ARMOR_END))
		return drain_trailing(a, err);
	if (len == 0)
		return armor_fail(a, err, "empty line");
	if (len > AGE_COLUMNS)
		return armor_fail(a, err, "line longer than 64 columns");
	if (!age_b64_padded_decode(a->line, len, a->out, &n))
		return armor_fail(a, err, "not canonical base64 (or a stray character)");
	a->out_pos = 0;
	a->out_len = n;
	if (n < AGE_BYTES_PER_LINE) {
		/* a short line is the last one */
		rc = get_line(a, &len, err);
		if (rc)
			return rc;
		if (!line_is(a, len, AGE_ARMOR_END))
			return armor_fail(a, err,
			                  "a short line that is not followed by the END line");
		return drain_trailing(a, err);
	}
	return DBB_OK;
}

static dbb_code armor_read(struct dbb_source *self, void *buf, size_t cap, size_t *got,
                           struct dbb_error *err)
{
	struct age_armor *a = (struct age_armor *)self;
	unsigned char *p = buf;
	size_t have = 0;

	*got = 0;
	while (have < cap) {
		if (a->out_pos < a->out_len) {
			size_t n = a->out_len - a->out_pos;
			if (n > cap - have)
				n = cap - have;
			memcpy(p + have, a->out + a->out_pos, n);
			a->out_pos += n;
			have += n;
			continue;
		}
		if (a->failed) {
			if (have)
				break; /* the error comes with the next read */
			return dbb_fail(err, a->fail_rc, "%s", a->msg);
		}
		if (a->finished)
			break;
		dbb_code rc = next_line(a, err);
		if (rc && !a->failed)
			return rc; /* the wrapped source failed */
	}
	*got = have;
	return DBB_OK;
}

struct age_armor *age_armor_new(struct dbb_source *next)
{
	struct age_armor *a = calloc(1, sizeof(*a));

	if (a) {
		a->base.read = armor_read;
		a->next = next;
	}
	return a;
}

struct dbb_source *age_armor_source(struct age_armor *a)
{
	return &a->base;
}

bool age_armor_failed(const struct age_armor *a)
{
	return a->failed;
}

void age_armor_free(struct age_armor *a)
{
	free(a);
}
