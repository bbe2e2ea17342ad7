/* Internal interface of the psql-script reader, shared by its two files
 * only:
 *   pg_script.c      - lines, COPY data, and the lexer (psqlscan.l's states)
 *   pg_script_stmt.c - the statement layer: what psql sends and what the
 *                      server runs, on the lexer's tokens
 * pg_script.h is the interface for the driver. */
#ifndef DBBACKUPD_DRIVER_PG_SCRIPT_INTERNAL_H
#define DBBACKUPD_DRIVER_PG_SCRIPT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "driver/pg_script.h"

/* tokens handed to the statement layer */
enum tk {
	TK_NONE,
	TK_WORD, /* counted by psql's identifier heuristic */
	TK_NAME, /* u of U&, n of N'', :var: not counted */
	TK_QIDENT,
	TK_STRING,
	TK_NUMBER,
	TK_PARAM,
	TK_OP,
	TK_LPAREN,
	TK_RPAREN,
	TK_LBRACK,
	TK_RBRACK,
	TK_SEMI,
	TK_COMMA,
	TK_DOT,
	TK_CAST,
	TK_OTHER,
};

/* Every token the lexer finds, in order (w: the lower-cased word, or the
 * text of a string or quoted identifier as far as kept, NUL-terminated;
 * exact: w is the whole value). DBB_OK, or the refusal. */
dbb_code pg_stmt_token(struct pg_script *s, uint8_t kind, const char *w, size_t n, bool exact);

/* Latches the first refusal: DBB_ERR_INVALID_BACKUP, "line N: ...". */
dbb_code pg_script_refuse(struct pg_script *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 'a' - 'A') : c;
}

static inline bool eq(const char *w, const char *lit)
{
	return strcmp(w, lit) == 0;
}

static inline bool eq_nocase(const char *a, size_t alen, const char *lit)
{
	size_t n = strlen(lit);

	if (alen != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != (unsigned char)lit[i])
			return false;
	return true;
}

#endif
