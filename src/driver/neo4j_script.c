/* Neo4j driver: reads a backup script statement by statement, streaming, and checks it is one of
 * ours. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "dbbackupd/sniff.h"
#include "driver/neo4j_internal.h"

enum {
	ST_TOP,
	ST_SQUOTE,
	ST_DQUOTE,
	ST_BACKTICK,
	ST_LINE_COMMENT,
	ST_BLOCK_COMMENT,
	ST_CLIENT_CMD,
};

#define RD_EOF (-1)
#define RD_ERR (-2)

/* First words a statement of a backup script may start with. */
static const char *const allowed_keywords[] = {
    "CREATE", "MERGE", "MATCH",  "OPTIONAL", "UNWIND", "WITH",    "CALL",
    "DROP",   "SET",   "REMOVE", "DELETE",   "DETACH", "FOREACH", "RETURN",
};

/* cypher-shell commands that APOC's cypher-shell format emits. */
static const char *const client_commands[] = {":begin", ":commit", ":rollback"};

void n4j_reader_init(struct n4j_reader *r, struct dbb_source *src, bool check)
{
	memset(r, 0, sizeof(*r));
	r->src = src;
	r->check = check;
	r->line = 1;
	r->line_start = true;
	n4j_buf_init(&r->stmt, N4J_STATEMENT_MAX);
	n4j_buf_init(&r->comment, N4J_STATEMENT_MAX);
	n4j_buf_init(&r->params, N4J_STATEMENT_MAX);
	n4j_buf_init(&r->cur_params, N4J_STATEMENT_MAX);
}

void n4j_reader_free(struct n4j_reader *r)
{
	n4j_buf_free(&r->stmt);
	n4j_buf_free(&r->comment);
	n4j_buf_free(&r->params);
	n4j_buf_free(&r->cur_params);
}

static dbb_code fill(struct n4j_reader *r, struct dbb_error *err)
{
	size_t got = 0;
	dbb_code rc;

	if (r->in_pos < r->in_len) {
		memmove(r->in, r->in + r->in_pos, r->in_len - r->in_pos);
		r->in_len -= r->in_pos;
	} else {
		r->in_len = 0;
	}
	r->in_pos = 0;
	if (r->eof || r->in_len == sizeof(r->in))
		return DBB_OK;
	rc = dbb_source_read(r->src, r->in + r->in_len, sizeof(r->in) - r->in_len, &got, err);
	if (rc)
		return rc;
	if (got == 0)
		r->eof = true;
	r->in_len += got;
	return DBB_OK;
}

static int rd_peek(struct n4j_reader *r, struct dbb_error *err)
{
	if (r->in_pos >= r->in_len) {
		if (r->eof)
			return RD_EOF;
		if (fill(r, err))
			return RD_ERR;
		if (r->in_pos >= r->in_len)
			return RD_EOF;
	}
	return r->in[r->in_pos];
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(s, prefix, n);
}

static bool word_is(const char *s, const char *w)
{
	size_t n = strlen(w);

	return !strncasecmp(s, w, n) && (s[n] == '\0' || isspace((unsigned char)s[n]));
}

/* Classifies the start of the file before anything else is read. */
static dbb_code check_header(struct n4j_reader *r, struct dbb_error *err)
{
	struct dbb_format fmt;
	char head[4097]; /* NUL-terminated copy of the first bytes */
	const char *p = head;
	size_t len;
	dbb_code rc;

	while (!r->eof && r->in_len < sizeof(head) - 1)
		if ((rc = fill(r, err)))
			return rc;
	len = r->in_len < sizeof(head) - 1 ? r->in_len : sizeof(head) - 1;
	memcpy(head, r->in, len);
	head[len] = '\0';
	if (len == 0)
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP, "the backup is empty");
	if (starts_with(p, len, N4J_HEADER)) {
		r->header_done = true;
		return DBB_OK;
	}
	fmt = dbb_sniff(r->in, r->in_len);
	if (fmt.kind != DBB_FORMAT_UNKNOWN && !dbb_format_is(&fmt, &dbb_driver_neo4j))
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		                "this is %s, not a Neo4j Cypher backup", fmt.what);
	while (len && isspace((unsigned char)*p)) {
		p++;
		len--;
	}
	if (starts_with(p, len, "--") || word_is(p, "SET") || word_is(p, "INSERT") ||
	    word_is(p, "BEGIN") || word_is(p, "PRAGMA") || !strncasecmp(p, "CREATE TABLE", 12))
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		                "this looks like an SQL dump, not a Neo4j Cypher backup");
	return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
	                "not a Neo4j backup made by dbbackupd: the first line must be '%s ...'",
	                N4J_HEADER);
}

static bool stmt_blank(const struct n4j_reader *r)
{
	return r->stmt.len == 0;
}

/* A completed "//" line comment between statements may be the trailer or a
 * parameter line for the next statement. */
static dbb_code end_comment(struct n4j_reader *r, struct dbb_error *err)
{
	const char *c = r->comment.data ? r->comment.data : "";

	if (!stmt_blank(r))
		return DBB_OK;
	if (starts_with(c, r->comment.len, N4J_TRAILER)) {
		r->trailer_seen = true;
		r->trailer_counts =
		    sscanf(c + strlen(N4J_TRAILER), ": %llu nodes, %llu relationships",
		           &r->trailer_nodes, &r->trailer_rels) == 2;
	} else if (starts_with(c, r->comment.len, N4J_PARAMS)) {
		n4j_buf_reset(&r->params);
		if (n4j_buf_adds(&r->params, c + strlen(N4J_PARAMS)))
			return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
			                "line %lu: parameter line too long", r->line);
	}
	return DBB_OK;
}

static dbb_code end_client_command(struct n4j_reader *r, struct dbb_error *err)
{
	size_t i, n = r->comment.len;
	const char *c = r->comment.data ? r->comment.data : "";

	while (n && isspace((unsigned char)c[n - 1]))
		n--;
	for (i = 0; i < sizeof(client_commands) / sizeof(client_commands[0]); i++)
		if (n == strlen(client_commands[i]) && !strncasecmp(c, client_commands[i], n))
			return DBB_OK;
	return dbb_fail(err, DBB_ERR_INVALID_BACKUP, "line %lu: unsupported client command '%.40s'",
	                r->line, c);
}

static dbb_code finish_statement(struct n4j_reader *r, const char **params, struct dbb_error *err)
{
	char word[16];
	size_t i, n = 0;

	while (r->stmt.len && isspace((unsigned char)r->stmt.data[r->stmt.len - 1]))
		r->stmt.data[--r->stmt.len] = '\0';
	while (n < sizeof(word) - 1 && isalpha((unsigned char)r->stmt.data[n])) {
		word[n] = (char)toupper((unsigned char)r->stmt.data[n]);
		n++;
	}
	word[n] = '\0';
	for (i = 0; i < sizeof(allowed_keywords) / sizeof(allowed_keywords[0]); i++)
		if (!strcmp(word, allowed_keywords[i]))
			break;
	if (i == sizeof(allowed_keywords) / sizeof(allowed_keywords[0]))
		return dbb_fail(
		    err, DBB_ERR_INVALID_BACKUP,
		    "line %lu: '%.30s' does not start a Cypher statement of a Neo4j backup",
		    r->stmt_line, r->stmt.data);
	if (r->check) {
		json_t *t = json_stringn(r->stmt.data, r->stmt.len);

		json_decref(t);
		if (!t)
			return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
			                "line %lu: the statement is not UTF-8 text", r->stmt_line);
	}
	n4j_buf_reset(&r->cur_params);
	if (r->params.len) {
		struct n4j_buf t = r->cur_params;

		r->cur_params = r->params; /* swap: no copy */
		r->params = t;
		if (r->check) {
			json_t *p = json_loadb(r->cur_params.data, r->cur_params.len, 0, NULL);
			bool ok = json_is_object(p);

			json_decref(p);
			if (!ok)
				return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
				                "line %lu: the parameter line is not a JSON object",
				                r->stmt_line - 1);
		}
		*params = r->cur_params.data;
	}
	r->statements++;
	return DBB_OK;
}

static dbb_code at_eof(struct n4j_reader *r, struct dbb_error *err)
{
	static const char *const what[] = {
	    [ST_SQUOTE] = "string",
	    [ST_DQUOTE] = "string",
	    [ST_BACKTICK] = "identifier",
	    [ST_BLOCK_COMMENT] = "comment",
	};

	if (r->state == ST_LINE_COMMENT) {
		if (end_comment(r, err))
			return err ? err->code : DBB_ERR_INVALID_BACKUP;
		r->state = ST_TOP;
	}
	if (r->state == ST_CLIENT_CMD) {
		if (end_client_command(r, err))
			return err ? err->code : DBB_ERR_INVALID_BACKUP;
		r->state = ST_TOP;
	}
	if (r->state != ST_TOP)
		return dbb_fail(
		    err, DBB_ERR_INVALID_BACKUP,
		    "the backup is truncated: unterminated %s in the statement at line %lu",
		    what[r->state], r->stmt_line);
	if (!stmt_blank(r))
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		                "the backup is truncated: the statement at line %lu has no ';'",
		                r->stmt_line);
	if (!r->trailer_seen)
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		                "the backup is incomplete: its end marker '%s' is missing",
		                N4J_TRAILER);
	return DBB_OK;
}

/* Over 80 lines on purpose: the reader's line loop (header, params line,
 * statement lines, trailer) as one state machine over lines. */
dbb_code n4j_reader_next(struct n4j_reader *r, const char **stmt, const char **params,
                         struct dbb_error *err)
{
	int c, next;
	dbb_code rc;

	*stmt = NULL;
	*params = NULL;
	if (!r->header_done && (rc = check_header(r, err)))
		return rc;
	n4j_buf_reset(&r->stmt);
	for (;;) {
		c = rd_peek(r, err);
		if (c == RD_ERR)
			return err ? err->code : DBB_ERR_INTERNAL;
		if (c == RD_EOF)
			return at_eof(r, err);
		r->in_pos++;
		if (c == '\0')
			return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
			                "line %lu: binary data, not a Neo4j Cypher backup",
			                r->line);
		switch (r->state) {
		case ST_TOP:
			if (c == '/') {
				next = rd_peek(r, err);
				if (next == RD_ERR)
					return err ? err->code : DBB_ERR_INTERNAL;
				if (next == '/') {
					r->in_pos++;
					r->state = ST_LINE_COMMENT;
					n4j_buf_reset(&r->comment);
					n4j_buf_adds(&r->comment, "//");
					continue;
				}
				if (next == '*') {
					r->in_pos++;
					r->state = ST_BLOCK_COMMENT;
					if (!stmt_blank(r))
						n4j_buf_addc(&r->stmt, ' ');
					continue;
				}
			}
			if (c == ':' && r->line_start && stmt_blank(r)) {
				r->state = ST_CLIENT_CMD;
				n4j_buf_reset(&r->comment);
				n4j_buf_addc(&r->comment, ':');
				r->line_start = false;
				continue;
			}
			if (c == ';') {
				if (stmt_blank(r))
					continue; /* empty statement */
				r->line_start = false;
				rc = finish_statement(r, params, err);
				if (rc == DBB_OK)
					*stmt = r->stmt.data;
				return rc;
			}
			if (c == '\n') {
				r->line++;
				r->line_start = true;
				if (!stmt_blank(r) && n4j_buf_addc(&r->stmt, '\n'))
					goto too_long;
				continue;
			}
			if (isspace(c) && stmt_blank(r))
				continue;
			r->line_start = false;
			if (r->trailer_seen)
				return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
				                "line %lu: data after the end-of-backup marker",
				                r->line);
			if (stmt_blank(r))
				r->stmt_line = r->line;
			if (c == '\'')
				r->state = ST_SQUOTE;
			else if (c == '"')
				r->state = ST_DQUOTE;
			else if (c == '`')
				r->state = ST_BACKTICK;
			if (n4j_buf_addc(&r->stmt, (char)c))
				goto too_long;
			continue;
		case ST_SQUOTE:
		case ST_DQUOTE:
			if (n4j_buf_addc(&r->stmt, (char)c))
				goto too_long;
			if (c == '\n')
				r->line++;
			if (c == '\\') {
				next = rd_peek(r, err);
				if (next == RD_ERR)
					return err ? err->code : DBB_ERR_INTERNAL;
				if (next >= 0) {
					r->in_pos++;
					if (next == '\n')
						r->line++;
					if (next == '\0')
						return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
						                "line %lu: binary data", r->line);
					if (n4j_buf_addc(&r->stmt, (char)next))
						goto too_long;
				}
			} else if (c == (r->state == ST_SQUOTE ? '\'' : '"')) {
				r->state = ST_TOP;
			}
			continue;
		case ST_BACKTICK:
			if (n4j_buf_addc(&r->stmt, (char)c))
				goto too_long;
			if (c == '\n')
				r->line++;
			if (c == '`')
				r->state = ST_TOP; /* "``" reopens at once: same text */
			continue;
		case ST_LINE_COMMENT:
		case ST_CLIENT_CMD:
			if (c == '\n') {
				rc = r->state == ST_LINE_COMMENT ? end_comment(r, err)
				                                 : end_client_command(r, err);
				if (rc)
					return rc;
				r->state = ST_TOP;
				r->line++;
				r->line_start = true;
				if (!stmt_blank(r) && n4j_buf_addc(&r->stmt, '\n'))
					goto too_long;
				continue;
			}
			if (n4j_buf_addc(&r->comment, (char)c))
				goto too_long;
			continue;
		case ST_BLOCK_COMMENT:
			if (c == '\n')
				r->line++;
			if (c == '*' && rd_peek(r, err) == '/') {
				r->in_pos++;
				r->state = ST_TOP;
			}
			continue;
		}
	}
too_long:
	return dbb_fail(err, DBB_ERR_INVALID_BACKUP, "line %lu: statement longer than %u MiB",
	                r->stmt_line, N4J_STATEMENT_MAX >> 20);
}
