/* The PostgreSQL driver's reader of psql scripts: one lexer, used twice on
 * the same bytes - by validation (out == NULL: read, judge, touch nothing)
 * and by the restore, as the filter between the backup file and psql's
 * stdin (out != NULL). docs/driver-postgresql.md says what it accepts.
 *
 * What it models (PostgreSQL 15's src/fe_utils/psqlscan.l and
 * src/bin/psql/mainloop.c, copy.c):
 *   - psql reads one line at a time and lexes it without its '\n': quotes
 *     ('', E'', B'', X'', U&'', N'', "", U&"", $tag$), escapes in E'' (and in
 *     '' when standard_conforming_strings is off, as it was when the line
 *     was read), "--" comments (ending at '\r' too), nested slash-star
 *     comments, string continuation (only across a '\r' inside a line),
 *     numbers and identifiers that swallow a following letter or '-'
 *     ("1e'x'" is no E'' string, "1e--" no comment), psql variables (:name,
 *     :'name', :"name");
 *   - a backslash outside quotes and comments is a meta-command, wherever it
 *     is on the line: every one is refused (pg_dump's own "\restrict KEY"
 *     and "\unrestrict KEY" lines are dropped before they are lexed);
 *   - ';' outside parentheses and psql's CREATE FUNCTION ... BEGIN ... END
 *     heuristic ends psql's statement; the server may still see several
 *     statements in what psql sends (BEGIN ATOMIC bodies are tracked the
 *     way the server parses them, conservatively);
 *   - COPY ... FROM STDIN (or STDOUT) makes psql read the following lines as
 *     data up to a line "\." (or "\.\r").
 * It refuses (DBB_ERR_INVALID_BACKUP, "line N: ...") any statement that
 * would end the restore's transaction (BEGIN, START, COMMIT, END, ROLLBACK,
 * ABORT, SAVEPOINT, RELEASE, PREPARE TRANSACTION) except whole lines
 * "BEGIN;" and "COMMIT;" at a statement boundary - pg_dump's own lines
 * around large objects - which it drops; a client_encoding in which psql
 * would lex differently (SJIS, BIG5, GBK, UHC, GB18030, JOHAB,
 * SHIFT_JIS_2004); binary COPY data and COPY from or to a program or server
 * file; NUL bytes; a script that ends inside a statement, string, comment
 * or COPY block.
 *
 * Streaming with fixed memory: no line, string or statement is buffered
 * beyond the small fixed arrays below. Feed the bytes in chunks of any size
 * (the result does not depend on where they are cut), then call finish. */
#ifndef DBBACKUPD_DRIVER_PG_SCRIPT_H
#define DBBACKUPD_DRIVER_PG_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbbackupd/error.h"
#include "dbbackupd/stream.h"

#define PG_SCRIPT_HOLD_MAX 96 /* longest line that may be dropped */
#define PG_SCRIPT_HEAD_MAX 48 /* bytes of a line kept for header checks */
#define PG_SCRIPT_WORD_MAX 32 /* longest identifier compared with keywords */
#define PG_SCRIPT_TEXT_MAX 32 /* string/quoted identifier text kept */
#define PG_SCRIPT_TAG_MAX  64 /* longest $tag$ accepted */

/* What the script showed; valid after feeding (even after an error, for the
 * part read). */
struct pg_script_facts {
	uint64_t bytes;
	uint64_t lines;         /* '\n' seen */
	uint64_t dropped_lines; /* BEGIN; COMMIT; \restrict, \unrestrict lines dropped */
	bool header_pg;         /* "-- PostgreSQL database dump" in the first 8 lines */
	bool header_cluster;    /* "-- PostgreSQL database cluster dump" there */
	bool complete;          /* the line "-- PostgreSQL database dump complete" */
	bool nul_byte;          /* a NUL byte: binary data (refused) */
	bool in_copy;           /* at the end: inside (or owing) a COPY data block */
};

/* The psql statement being read, as psql and the server see it. */
struct pg_script_stmt {
	/* psql's heuristics (psqlscan.l), reset where psql sends a statement */
	unsigned paren_depth;
	unsigned begin_depth;
	unsigned ident_count;
	char idents[4];
	unsigned psql_ntok; /* tokens since psql's last statement end */
	/* the server statement in progress */
	unsigned ntok;
	uint8_t kind;
	uint8_t sub;
	bool merged;  /* begins after a ';' at which psql does not send */
	bool in_body; /* inside BEGIN ATOMIC ... END */
	unsigned case_depth;
	unsigned body_ntok;
	/* SET/RESET of a setting the lexer depends on */
	uint8_t set_param;
	uint8_t set_value; /* 0 none, 1 parsed, 2 unparsable */
	bool set_on;       /* parsed value (standard_conforming_strings) */
	bool set_bad_enc;  /* parsed value (client_encoding) psql lexes differently */
	/* COPY */
	bool copy_client;
	bool copy_from;
	bool copy_binary;
	bool copy_server; /* FROM/TO PROGRAM or a server file */
	/* the two previous tokens */
	uint8_t prev_kind, prev2_kind;
	char prev_word[PG_SCRIPT_WORD_MAX];
	char prev2_word[PG_SCRIPT_WORD_MAX];
};

struct pg_script {
	struct dbb_sink *out; /* NULL: validate only */
	struct pg_script_facts facts;

	/* internal state: use the functions below */
	dbb_code failed;
	struct dbb_error fail;
	/* the current line */
	bool line_start;
	bool line_clean; /* began at a statement boundary, outside any quote */
	char head[PG_SCRIPT_HEAD_MAX];
	size_t head_len;
	uint64_t line_len;
	bool holding;
	char hold[PG_SCRIPT_HOLD_MAX];
	size_t hold_len;
	/* COPY data */
	bool in_copy;
	unsigned copies_pending;
	unsigned copy_pos; /* bytes of the data line seen, up to 3 */
	char copy_head[3];
	/* session settings as psql reads them */
	bool std_strings;      /* after the statements sent so far */
	bool std_strings_line; /* when the current line was read */
	/* lexer */
	uint8_t state;
	uint8_t tok;
	uint8_t sub;
	uint8_t qs_prev;  /* the string state a continuation returns to */
	bool qs_used;     /* the continuation look-ahead consumed bytes on this line */
	bool str_varform; /* opened by :' and only variable characters so far */
	bool str_exact;   /* text[] is the value (no escapes, continuation, U&) */
	uint8_t str_kind;
	unsigned xc_depth;
	char word[PG_SCRIPT_WORD_MAX];
	size_t word_len;
	bool word_long;
	bool var_upper, var_lower;
	char text[PG_SCRIPT_TEXT_MAX];
	size_t text_len;
	bool text_long;
	char tag[PG_SCRIPT_TAG_MAX + 2];
	size_t tag_len;
	size_t tag_match;
	struct pg_script_stmt st;
	char meta[20]; /* a meta-command's name being read (then refused) */
	size_t meta_len;
};

/* Starts a scan; out (optional) receives the script without the lines it
 * drops. */
void pg_script_init(struct pg_script *s, struct dbb_sink *out);

/* Reads the next bytes. DBB_ERR_INVALID_BACKUP at the first thing refused
 * (latched: later calls return it again), or the sink's error. */
dbb_code pg_script_feed(struct pg_script *s, const void *buf, size_t len, struct dbb_error *err);

/* End of input: refuses a script that ends inside a statement, a quote, a
 * comment or COPY data; passes on a held last line. */
dbb_code pg_script_finish(struct pg_script *s, struct dbb_error *err);

#endif
