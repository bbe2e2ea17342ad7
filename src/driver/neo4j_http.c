/* Neo4j driver transport: the HTTP Query API v2 over libcurl, with result rows streamed one at a
 * time. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/neo4j_internal.h"

/* ---- n4j_buf ---- */

void n4j_buf_init(struct n4j_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void n4j_buf_free(struct n4j_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void n4j_buf_reset(struct n4j_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static int buf_reserve(struct n4j_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int n4j_buf_add(struct n4j_buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n))
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int n4j_buf_adds(struct n4j_buf *b, const char *s)
{
	return n4j_buf_add(b, s, strlen(s));
}

int n4j_buf_addc(struct n4j_buf *b, char c)
{
	return n4j_buf_add(b, &c, 1);
}

int n4j_buf_addf(struct n4j_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n))
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void n4j_url_display(const char *url, char *out, size_t cap)
{
	const char *host = strstr(url, "://");
	const char *at, *end;

	host = host ? host + 3 : url;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (at)
		snprintf(out, cap, "%.*s%s", (int)(host - url), url, at + 1);
	else
		snprintf(out, cap, "%s", url);
}

int n4j_cy_ident(struct n4j_buf *b, const char *name)
{
	const char *p;

	if (n4j_buf_addc(b, '`'))
		return -1;
	for (p = name; *p; p++)
		if ((*p == '`' && n4j_buf_addc(b, '`')) || n4j_buf_addc(b, *p))
			return -1;
	return n4j_buf_addc(b, '`');
}

/* ---- typed values ---- */

const char *n4j_type(json_t *v)
{
	const char *t = json_string_value(json_object_get(v, "$type"));

	return t ? t : "";
}

json_t *n4j_value(json_t *v)
{
	return json_object_get(v, "_value");
}

const char *n4j_str(json_t *v)
{
	if (strcmp(n4j_type(v), "String"))
		return NULL;
	return json_string_value(n4j_value(v));
}

bool n4j_int(json_t *v, long long *out)
{
	const char *s;
	char *end;

	if (strcmp(n4j_type(v), "Integer"))
		return false;
	s = json_string_value(n4j_value(v));
	if (!s || !*s)
		return false;
	*out = strtoll(s, &end, 10);
	return *end == '\0';
}

json_t *n4j_plain(json_t *v)
{
	const char *t = n4j_type(v);
	json_t *val = n4j_value(v), *out, *e;
	const char *k;
	size_t i;
	long long n;

	if (!strcmp(t, "Null") || !val)
		return json_null();
	if (!strcmp(t, "Integer") && n4j_int(v, &n))
		return json_integer(n);
	if (!strcmp(t, "List")) {
		out = json_array();
		for (i = 0; i < json_array_size(val); i++)
			json_array_append_new(out, n4j_plain(json_array_get(val, i)));
		return out;
	}
	if (!strcmp(t, "Map")) {
		out = json_object();
		json_object_foreach(val, k, e)
		{
			json_object_set_new(out, k, n4j_plain(e));
		}
		return out;
	}
	return json_incref(val);
}

/* ---- streaming scanner of a Query API response ----
 * {"data":{"fields":[...],"values":[[row],[row],...]},"errors":[...],...}
 * Each row is collected on its own and handed to the callback, so a result
 * of any size is read with memory bounded by its largest row. The "errors"
 * value is collected too; the first bytes of the body are kept for messages
 * when the body is not JSON. */

#define SCAN_HEAD_MAX   4096
#define SCAN_ERRORS_MAX (64 * 1024)
#define SCAN_ROW_MAX    (256u * 1024 * 1024)

struct scan {
	int depth;
	bool in_str;
	bool esc;
	char key[3][16]; /* last string seen at depth 1 and 2 (truncated) */
	char cur[16];
	size_t cur_len;
	int capture; /* 0 none, 1 row, 2 errors */
	int capture_depth;
	bool in_values;
	bool values_done; /* the whole data.values array was read */
	struct n4j_buf row;
	struct n4j_buf errors;
	struct n4j_buf head;
	n4j_row_fn fn;
	n4j_raw_row_fn raw_fn;
	void *ud;
	unsigned long rows;
	bool failed;
	struct dbb_error err;
};

static dbb_code scan_row_done(struct scan *s)
{
	json_error_t je;
	json_t *row;
	dbb_code rc;

	s->rows++;
	if (s->raw_fn)
		return s->raw_fn(s->ud, s->row.data, s->row.len, &s->err);
	if (!s->fn)
		return DBB_OK;
	row = json_loadb(s->row.data, s->row.len, JSON_ALLOW_NUL, &je);
	if (!row)
		return dbb_fail(&s->err, DBB_ERR_INTERNAL,
		                "Neo4j sent a result row that is not JSON: %s", je.text);
	rc = s->fn(s->ud, row, &s->err);
	json_decref(row);
	return rc;
}

/* Feeds bytes; false on failure (s->err set). Over 80 lines on purpose: one
 * byte-at-a-time state machine over the response's JSON, in one switch. */
static bool scan_feed(struct scan *s, const char *p, size_t n)
{
	size_t i;

	if (s->head.len < SCAN_HEAD_MAX)
		n4j_buf_add(&s->head, p,
		            n < SCAN_HEAD_MAX - s->head.len ? n : SCAN_HEAD_MAX - s->head.len);
	for (i = 0; i < n; i++) {
		char c = p[i];
		struct n4j_buf *cap = s->capture == 1   ? &s->row
		                      : s->capture == 2 ? &s->errors
		                                        : NULL;

		if (cap && n4j_buf_addc(cap, c)) {
			dbb_fail(&s->err, DBB_ERR_INTERNAL,
			         "a Neo4j result row is larger than %u MiB",
			         (unsigned)(SCAN_ROW_MAX >> 20));
			return false;
		}
		if (s->in_str) {
			if (s->esc) {
				s->esc = false;
			} else if (c == '\\') {
				s->esc = true;
			} else if (c == '"') {
				s->in_str = false;
				if (s->depth >= 1 && s->depth <= 2) {
					memcpy(s->key[s->depth], s->cur, s->cur_len);
					s->key[s->depth][s->cur_len] = '\0';
				}
			} else if (s->cur_len < sizeof(s->cur) - 1) {
				s->cur[s->cur_len++] = c;
			}
			continue;
		}
		switch (c) {
		case '"':
			s->in_str = true;
			s->cur_len = 0;
			break;
		case '{':
		case '[':
			if (s->depth == 1 && c == '[' && !strcmp(s->key[1], "errors") &&
			    !s->capture) {
				s->capture = 2;
				s->capture_depth = 1;
				n4j_buf_reset(&s->errors);
				n4j_buf_addc(&s->errors, c);
			} else if (s->depth == 2 && c == '[' && !strcmp(s->key[1], "data") &&
			           !strcmp(s->key[2], "values")) {
				s->in_values = true;
			} else if (s->depth == 3 && s->in_values && !s->capture) {
				s->capture = 1;
				s->capture_depth = 3;
				n4j_buf_reset(&s->row);
				n4j_buf_addc(&s->row, c);
			}
			s->depth++;
			if (s->depth <= 2)
				s->key[s->depth][0] = '\0';
			break;
		case '}':
		case ']':
			s->depth--;
			if (s->capture && s->depth == s->capture_depth) {
				int what = s->capture;

				s->capture = 0;
				if (what == 1 && scan_row_done(s))
					return false;
			}
			if (s->depth == 2 && s->in_values) {
				s->in_values = false;
				s->values_done = true;
			}
			break;
		default:
			break;
		}
	}
	return true;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct scan *s = ud;
	size_t n = size * nmemb;

	if (s->failed)
		return 0;
	if (!scan_feed(s, p, n)) {
		s->failed = true;
		return 0;
	}
	return n;
}

dbb_code n4j_open(struct n4j_conn *c, const struct dbb_config *cfg, long timeout_s,
                  struct dbb_error *err)
{
	const char *db = n4j_settings(cfg)->database[0] ? n4j_settings(cfg)->database : "neo4j";
	size_t ulen = strlen(n4j_settings(cfg)->url);
	char *edb = NULL;
	dbb_code rc = DBB_OK;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	n4j_url_display(n4j_settings(cfg)->url, c->url, sizeof(c->url));
	while (ulen && n4j_settings(cfg)->url[ulen - 1] == '/')
		ulen--;
	c->curl = curl_easy_init();
	if (!c->curl) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "curl_easy_init failed");
		goto out;
	}
	edb = curl_easy_escape(c->curl, db, 0);
	if (!edb || asprintf(&c->query_url, "%.*s/db/%s/query/v2", (int)ulen,
	                     n4j_settings(cfg)->url, edb) < 0) {
		c->query_url = NULL;
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		goto out;
	}
	c->headers = curl_slist_append(NULL, "Content-Type: application/vnd.neo4j.query");
	c->headers = curl_slist_append(c->headers, "Accept: application/vnd.neo4j.query");
	c->headers = curl_slist_append(c->headers, "Expect:");
	curl_easy_setopt(c->curl, CURLOPT_URL, c->query_url);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, "");
	if (n4j_settings(cfg)->user[0]) {
		curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c->curl, CURLOPT_USERNAME, n4j_settings(cfg)->user);
		curl_easy_setopt(c->curl, CURLOPT_PASSWORD, n4j_settings(cfg)->password);
	}
out:
	curl_free(edb);
	if (rc)
		n4j_close(c);
	return rc;
}

void n4j_close(struct n4j_conn *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
	free(c->query_url);
	c->curl = NULL;
	c->headers = NULL;
	c->query_url = NULL;
}

/* Neo4j error codes that mean "the database cannot serve us now". */
static bool unavailable_code(const char *code)
{
	static const char *const prefixes[] = {
	    "Neo.ClientError.Security.",
	    "Neo.ClientError.Database.DatabaseNotFound",
	    "Neo.TransientError.",
	    "Neo.DatabaseError.General.DatabaseUnavailable",
	    "Neo.ClientError.Database.DatabaseUnavailable",
	};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(code, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static dbb_code neo4j_error(struct n4j_conn *c, struct scan *s, long status, dbb_code fail_code,
                            struct dbb_error *err)
{
	json_t *errors = NULL, *e;
	const char *code = "", *msg = "";
	dbb_code rc;

	if (s->errors.len)
		errors = json_loadb(s->errors.data, s->errors.len, 0, NULL);
	e = json_array_get(errors, 0);
	if (e) {
		if (json_is_string(json_object_get(e, "code")))
			code = json_string_value(json_object_get(e, "code"));
		if (json_is_string(json_object_get(e, "message")))
			msg = json_string_value(json_object_get(e, "message"));
	}
	if (status == 401 || status == 403 || !strncmp(code, "Neo.ClientError.Security.", 25))
		rc = dbb_fail(err, DBB_ERR_DB_UNAVAILABLE,
		              "Neo4j at %s refused the credentials of user '%s': %s", c->url,
		              n4j_settings(c->cfg)->user, *msg ? msg : "unauthorized");
	else if (*code && unavailable_code(code))
		rc = dbb_fail(
		    err, DBB_ERR_DB_UNAVAILABLE, "Neo4j database '%s' is unavailable: %s: %s",
		    n4j_settings(c->cfg)->database[0] ? n4j_settings(c->cfg)->database : "neo4j",
		    code, msg);
	else if (*code)
		rc = dbb_fail(err, fail_code, "%s: %s", code, msg);
	else if (status == 404)
		rc = dbb_fail(err, DBB_ERR_DB_UNAVAILABLE,
		              "%s answered 404 to the Query API (/db/<name>/query/v2): Neo4j 5.19 "
		              "or later is needed",
		              c->url);
	else if (status >= 500)
		rc = dbb_fail(err, DBB_ERR_DB_UNAVAILABLE, "Neo4j answered HTTP %ld: %.200s",
		              status, s->head.data ? s->head.data : "");
	else
		rc = dbb_fail(err, fail_code, "Neo4j answered HTTP %ld: %.200s", status,
		              s->head.data ? s->head.data : "");
	json_decref(errors);
	return rc;
}

static dbb_code run_query(struct n4j_conn *c, const char *statement, const char *params,
                          n4j_row_fn fn, n4j_raw_row_fn raw_fn, void *ud, dbb_code fail_code,
                          struct dbb_error *err)
{
	struct scan *s = NULL;
	json_t *st = NULL;
	char *enc = NULL, *body = NULL;
	CURLcode cc;
	long status = 0;
	dbb_code rc = DBB_OK;

	/* {"statement":"...","parameters":{...}}: the parameters are passed on
	 * as the text they came in, never parsed here (a batch of rows). */
	s = calloc(1, sizeof(*s));
	st = json_string(statement);
	enc = st ? json_dumps(st, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	if (!s || !enc ||
	    asprintf(&body, "{\"statement\":%s%s%s}", enc, params ? ",\"parameters\":" : "",
	             params ? params : "") < 0) {
		body = NULL;
		rc = dbb_fail(err, DBB_ERR_INTERNAL,
		              "out of memory (or a statement that is not UTF-8)");
		goto out;
	}
	n4j_buf_init(&s->row, SCAN_ROW_MAX);
	n4j_buf_init(&s->errors, SCAN_ERRORS_MAX);
	n4j_buf_init(&s->head, SCAN_HEAD_MAX);
	s->fn = fn;
	s->raw_fn = raw_fn;
	s->ud = ud;
	c->curl_err[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, s);
	cc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (s->failed) {
		if (err) {
			*err = s->err;
		}
		rc = s->err.code ? s->err.code : DBB_ERR_INTERNAL;
		goto out;
	}
	if (cc != CURLE_OK) {
		rc = dbb_fail(err, DBB_ERR_DB_UNAVAILABLE, "Neo4j at %s is unreachable: %s", c->url,
		              c->curl_err[0] ? c->curl_err : curl_easy_strerror(cc));
		goto out;
	}
	if (status < 200 || status >= 300 || s->errors.len > 2) /* more than "[]" */
		rc = neo4j_error(c, s, status, fail_code, err);
	else if (!s->values_done) /* never an empty success: that would be an empty backup */
		rc = dbb_fail(err, fail_code, "Neo4j's answer (HTTP %ld) holds no result: %.200s",
		              status, s->head.data ? s->head.data : "");
out:
	if (s) {
		n4j_buf_free(&s->row);
		n4j_buf_free(&s->errors);
		n4j_buf_free(&s->head);
	}
	free(s);
	free(body);
	free(enc);
	json_decref(st);
	return rc;
}

dbb_code n4j_run(struct n4j_conn *c, const char *statement, const char *params, n4j_row_fn fn,
                 void *ud, dbb_code fail_code, struct dbb_error *err)
{
	return run_query(c, statement, params, fn, NULL, ud, fail_code, err);
}

dbb_code n4j_run_raw(struct n4j_conn *c, const char *statement, n4j_raw_row_fn fn, void *ud,
                     dbb_code fail_code, struct dbb_error *err)
{
	return run_query(c, statement, NULL, NULL, fn, ud, fail_code, err);
}

int n4j_row_split(const char *row, size_t len, const char **first, size_t *first_len,
                  const char **rest, size_t *rest_len)
{
	size_t i;
	int depth = 0;
	bool in_str = false, esc = false;

	if (len < 2 || row[0] != '[')
		return -1;
	for (i = 1; i < len; i++) {
		char ch = row[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				in_str = false;
		} else if (ch == '"') {
			in_str = true;
		} else if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			if (depth-- == 0)
				return -1; /* the row ended: one element only */
		} else if (ch == ',' && depth == 0) {
			*first = row + 1;
			*first_len = i - 1;
			*rest = row + i + 1;
			*rest_len = len - i - 2; /* without the closing ']' */
			return row[len - 1] == ']' && i + 1 < len - 1 ? 0 : -1;
		}
	}
	return -1;
}
