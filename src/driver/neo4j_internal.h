/* Internal interface of the Neo4j driver, shared by its files only:
 *   neo4j_http.c   - the HTTP Query API v2 transport (libcurl + jansson),
 *                    result rows streamed one at a time to a callback
 *   neo4j_script.c - the backup script reader (statement splitter)
 *   neo4j.c        - the driver vtable: dump, validate, clean, restore, stats
 *
 * Backup script format (docs/driver-neo4j.md):
 *   line 1 "// dbbackupd neo4j backup v1 ..." (N4J_HEADER), then Cypher
 *   statements, each ending with ';' at the end of a line (string literals
 *   never hold a raw newline), optionally preceded by one line
 *   "// dbb:params {json}" giving the next statement its parameters in the
 *   Query API's typed JSON (the rows of a batch); the last line is "// dbbackupd end of backup ..."
 * (N4J_TRAILER), so a truncated file is always detected. */
#ifndef DBBACKUPD_DRIVER_NEO4J_INTERNAL_H
#define DBBACKUPD_DRIVER_NEO4J_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>

#include "dbbackupd/config.h"
#include "dbbackupd/error.h"
#include "dbbackupd/stream.h"

#define N4J_HEADER            "// dbbackupd neo4j backup v1"
#define N4J_TRAILER           "// dbbackupd end of backup"
#define N4J_PARAMS            "// dbb:params "
#define N4J_IMPORT_LABEL      "__DbbImport"
#define N4J_IMPORT_KEY        "__dbb_id"
#define N4J_IMPORT_CONSTRAINT "__dbb_import_id"
/* Longest statement the reader accepts (a batch is far smaller). */
#define N4J_STATEMENT_MAX (64u * 1024 * 1024)

struct dbb_driver;
extern const struct dbb_driver dbb_driver_neo4j;

/* ---- the driver's settings (its table is in neo4j.c) ---- */
struct n4j_settings {
	char url[DBB_CFG_STR]; /* NEO4J_URL */
	char user[128];        /* NEO4J_USER */
	char password[256];    /* NEO4J_PASSWORD */
	char database[128];    /* NEO4J_DATABASE */
};

static inline const struct n4j_settings *n4j_settings(const struct dbb_config *cfg)
{
	return (const struct n4j_settings *)dbb_config_driver_settings(cfg);
}

/* ---- growable byte buffer with a hard maximum ---- */
struct n4j_buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;
};

void n4j_buf_init(struct n4j_buf *b, size_t max);
void n4j_buf_free(struct n4j_buf *b);
void n4j_buf_reset(struct n4j_buf *b);
/* 0 on success, -1 when out of memory or past max. */
int n4j_buf_add(struct n4j_buf *b, const void *p, size_t n);
int n4j_buf_adds(struct n4j_buf *b, const char *s);
int n4j_buf_addc(struct n4j_buf *b, char c);
int n4j_buf_addf(struct n4j_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- transport ---- */
struct n4j_conn {
	CURL *curl;
	struct curl_slist *headers;
	const struct dbb_config *cfg;
	char *query_url;
	char url[DBB_CFG_STR]; /* NEO4J_URL for messages, any user:password@ cut out */
	char curl_err[CURL_ERROR_SIZE];
};

/* Called once per result row: row is a JSON array of typed values
 * ({"$type":...,"_value":...}), borrowed. */
typedef dbb_code (*n4j_row_fn)(void *ud, json_t *row, struct dbb_error *err);

/* Prepares a connection (no network yet). timeout_s: limit of each request
 * (dump, clean and restore use CHILD_TIMEOUT, like the child tools); 0: none. */
dbb_code n4j_open(struct n4j_conn *c, const struct dbb_config *cfg, long timeout_s,
                  struct dbb_error *err);
void n4j_close(struct n4j_conn *c);

/* Runs one statement in its own (implicit) transaction. params: the text of
 * a JSON object in typed JSON, or NULL. Rows go to fn (may be NULL). Unreachable server,
 * refused credentials, missing database and transient errors give
 * DBB_ERR_DB_UNAVAILABLE; a Cypher error gives fail_code with Neo4j's code
 * and message. */
dbb_code n4j_run(struct n4j_conn *c, const char *statement, const char *params, n4j_row_fn fn,
                 void *ud, dbb_code fail_code, struct dbb_error *err);

/* Like n4j_run, but each row is handed over as its raw JSON text (a JSON
 * array of typed values, not NUL-terminated), unparsed: for the export,
 * which copies most of a row to the backup as it is. */
typedef dbb_code (*n4j_raw_row_fn)(void *ud, const char *row, size_t len, struct dbb_error *err);
dbb_code n4j_run_raw(struct n4j_conn *c, const char *statement, n4j_raw_row_fn fn, void *ud,
                     dbb_code fail_code, struct dbb_error *err);

/* In the raw text of a row (a JSON array), finds its first element:
 * [*first, *first + *first_len) and the rest after its comma
 * [*rest, *rest + *rest_len). -1 if the row has fewer than two elements. */
int n4j_row_split(const char *row, size_t len, const char **first, size_t *first_len,
                  const char **rest, size_t *rest_len);

/* Typed value helpers. */
const char *n4j_type(json_t *v); /* "$type" or "" */
json_t *n4j_value(json_t *v);    /* "_value" (borrowed) or NULL */
const char *n4j_str(json_t *v);  /* _value of a String, or NULL */
bool n4j_int(json_t *v, long long *out);
/* Typed -> plain JSON (integers as numbers, temporals as strings); new ref. */
json_t *n4j_plain(json_t *v);

/* url without any "user:password@" part, for messages. */
void n4j_url_display(const char *url, char *out, size_t cap);

/* Appends name as a backtick-quoted Cypher identifier. */
int n4j_cy_ident(struct n4j_buf *b, const char *name);

/* ---- script reader ---- */
struct n4j_reader {
	struct dbb_source *src;
	unsigned char in[64 * 1024];
	size_t in_len;
	size_t in_pos;
	bool eof;
	int state;
	bool line_start; /* only whitespace so far on this line */
	bool check;      /* validate: also parse parameters, check UTF-8 */
	bool header_done;
	bool trailer_seen;
	/* the trailer's totals (": N nodes, M relationships"), when it has them */
	bool trailer_counts;
	unsigned long long trailer_nodes, trailer_rels;
	unsigned long line;
	unsigned long stmt_line;
	unsigned long statements;
	struct n4j_buf stmt;
	struct n4j_buf comment;
	struct n4j_buf params;     /* the parameter line being read */
	struct n4j_buf cur_params; /* those of the statement returned */
};

/* check: parse every parameter line and check the statements are UTF-8
 * (validate); restore passes the text on unparsed. */
void n4j_reader_init(struct n4j_reader *r, struct dbb_source *src, bool check);
void n4j_reader_free(struct n4j_reader *r);
/* Next statement (without its ';'), NUL-terminated, and its parameter text
 * (a JSON object) or NULL, both valid until the next call. At the end *stmt
 * is NULL. A file that is not a complete backup of this kind gives
 * DBB_ERR_INVALID_BACKUP saying what it is instead. */
dbb_code n4j_reader_next(struct n4j_reader *r, const char **stmt, const char **params,
                         struct dbb_error *err);

#endif
