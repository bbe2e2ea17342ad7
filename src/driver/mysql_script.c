/* The MySQL/MariaDB dump checker: follows the mariadb client's reading of a
 * script and refuses client commands, file access and what would make the
 * client read it otherwise (see mysql_script.h). The comments name the
 * places in MariaDB 10.11's client/mysql.cc that each rule follows. */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "driver/mysql_script.h"

/* Bytes of lookahead a decision may need: "/\*M!" and a delimiter (";;\r"). */
#define LOOKAHEAD 4
/* How much of each statement (as the client sends it) is kept for the
 * statement-level checks: enough for any SET or USE a dump writes. */
#define HEAD_MAX 1024
#define WORD_MAX 24
/* Longest string literal read in a SET (every sql_mode flag fits). */
#define TOK_MAX      600
#define VAR_NAME_MAX 64
#define VARS_MAX     32
#define DELIM_MAX    4
/* A DELIMITER line longer than this is refused without a closer look. */
#define DELIM_LINE_MAX 64
/* Versioned comments older than this run on every server the daemon
 * supports; a SET of sql_mode or the character set in a newer one may be
 * skipped by the server, which the checker cannot know. */
#define SAFE_COMMENT_VERSION 50700

/* Where in a line the client is (read_and_execute's line-level check for
 * DELIMITER, then add_line). */
enum line_state {
	LS_START, /* no byte of this line seen yet */
	LS_WS,    /* leading blanks of a line that may be a DELIMITER command */
	LS_MATCH, /* reading "delimiter" at the start of such a line */
	LS_DELIM, /* a DELIMITER line: collected to its end */
	LS_BODY,  /* add_line */
	LS_SKIP,  /* a # or -- comment: the rest of the line is dropped */
};

/* Character classes outside strings: parts of words, blanks, characters
 * add_line looks at more closely, and the rest. */
enum char_class { C_PLAIN, C_WORD, C_BLANK, C_SPECIAL };

enum prev_word { PREV_NONE, PREV_LOAD, PREV_INTO, PREV_SET };

struct my_var {
	char name[VAR_NAME_MAX + 1]; /* lower case */
	bool mode_known;             /* holds an sql_mode whose flags are below */
	bool nbe, ansi;
	bool cs_known; /* holds a character set name known to be safe */
};

struct my_script {
	char db_name[65];

	/* the client's state */
	char delim[DELIM_MAX];
	size_t delim_len;
	char in_string; /* 0, '\'', '"' or '`' */
	bool ml_comment;
	bool ss_comment; /* inside /\*! on this line (add_line's local) */
	bool need_space; /* add_line's local */
	bool stmt_empty; /* the client's statement buffer is empty */
	bool nbe;        /* server_status: NO_BACKSLASH_ESCAPES */
	bool ansi;       /* server_status: ANSI_QUOTES */

	/* the line */
	enum line_state ls;
	unsigned long long lineno;
	unsigned long long line_len;
	bool bom_checked;
	char lh[DELIM_LINE_MAX + 1]; /* a possible DELIMITER line's bytes */
	size_t lh_len;

	/* the statement (what the client sends to the server) */
	unsigned long long stmt_line;
	unsigned long long string_line; /* where the open string started */
	unsigned long long comment_line;
	char head[HEAD_MAX + 1];
	size_t head_len;
	bool head_truncated;
	bool touches_session; /* mentions sql_mode or the client character set */
	/* words outside strings, for LOAD DATA, INTO OUTFILE, SET NAMES... */
	char word[WORD_MAX];
	size_t word_len;
	bool word_long;
	enum prev_word prev; /* the word before, if it starts a pair we look for */
	/* the contents of a quoted identifier, for `sql_mode` */
	char quoted[WORD_MAX];
	size_t quoted_len;
	bool quoted_long;

	/* character classes for the fast paths (C_*), and the bytes that end a
	 * run of ordinary bytes in a '...', "..." and `...` string */
	unsigned char cls[256];
	unsigned char stop[3][256];

	struct my_var vars[VARS_MAX];
	size_t nvars;

	/* bytes held back until their lookahead has arrived */
	unsigned char carry[16];
	size_t carry_len;

	bool failed;
	struct dbb_error error;
};

/* my_isspace for utf8mb4 (and latin1) in the ASCII range; bytes >= 0x80 are
 * never blanks in utf8mb4. */
static bool is_blank(unsigned c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool is_word_char(unsigned c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || c >= 0x80;
}

static dbb_code refuse(struct my_script *s, struct dbb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static dbb_code refuse(struct my_script *s, struct dbb_error *err, const char *fmt, ...)
{
	va_list ap;

	s->failed = true;
	s->error.code = DBB_ERR_INVALID_BACKUP;
	va_start(ap, fmt);
	vsnprintf(s->error.message, sizeof(s->error.message), fmt, ap);
	va_end(ap);
	if (err)
		*err = s->error;
	return DBB_ERR_INVALID_BACKUP;
}

/* The session's sql_mode flags as the client sees them: where a backslash
 * escapes inside strings (add_line). */
static void set_mode(struct my_script *s, bool nbe, bool ansi)
{
	s->nbe = nbe;
	s->ansi = ansi;
	s->stop[0]['\\'] = !nbe;
	s->stop[1]['\\'] = !nbe && !ansi;
	s->stop[2]['\\'] = 0;
}

/* Copies at most cap - 1 bytes of src and terminates dst. */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

struct my_script *my_script_new(const char *db_name)
{
	struct my_script *s = calloc(1, sizeof(*s));
	const unsigned char *sp;
	unsigned i;

	if (!s)
		return NULL;
	copy_str(s->db_name, sizeof(s->db_name), db_name ? db_name : "");
	s->delim[0] = ';';
	s->delim_len = 1;
	s->stmt_empty = true;
	s->ls = LS_START;
	s->lineno = 1;
	s->stmt_line = 1;
	for (i = 0; i < 256; i++)
		s->cls[i] = is_word_char(i) ? C_WORD : is_blank(i) ? C_BLANK : C_PLAIN;
	/* ';' starts every delimiter the checker accepts */
	for (sp = (const unsigned char *)"\n\\/*-#'\"`;"; *sp; sp++)
		s->cls[*sp] = C_SPECIAL;
	s->cls[0] = C_SPECIAL;
	for (i = 0; i < 3; i++) {
		s->stop[i]['\n'] = s->stop[i][0] = 1;
		s->stop[i][(unsigned char)"'\"`"[i]] = 1;
	}
	set_mode(s, false, false);
	return s;
}

void my_script_free(struct my_script *s)
{
	free(s);
}

/* ---- what is printed in messages ---- */

/* A short, printable copy of untrusted text for a message. */
static const char *printable(const char *in, size_t n, char *out, size_t cap)
{
	size_t i, k = 0;

	for (i = 0; i < n && k + 5 < cap; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x20 && c < 0x7f && c != '`')
			out[k++] = (char)c;
		else if (c == '`')
			out[k++] = '\'';
		else
			k += (size_t)snprintf(out + k, cap - k, "\\x%02x", c);
	}
	if (i < n && k + 4 < cap) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
	return out;
}

/* ---- user variables that hold a saved sql_mode or character set ---- */

static struct my_var *var_find(struct my_script *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nvars; i++)
		if (strcmp(s->vars[i].name, name) == 0)
			return &s->vars[i];
	return NULL;
}

static struct my_var *var_add(struct my_script *s, const char *name)
{
	struct my_var *v = var_find(s, name);

	if (v)
		return v;
	if (s->nvars == VARS_MAX || strlen(name) > VAR_NAME_MAX)
		return NULL; /* unknown: a SET reading it is refused */
	v = &s->vars[s->nvars++];
	memset(v, 0, sizeof(*v));
	copy_str(v->name, sizeof(v->name), name);
	return v;
}

/* ---- the statement-level checks ---- */

/* A token of a statement's text, for the few statements read closely. */
enum tok_kind { T_END, T_WORD, T_UVAR, T_SYSVAR, T_STR, T_EQ, T_COMMA, T_OTHER };

struct tok {
	enum tok_kind kind;
	char text[TOK_MAX + 1]; /* words and system variables upper-cased, user variables
	                         * lower-cased, strings as they are */
	bool global;            /* T_SYSVAR: @@global. */
};

struct lexer {
	const char *p, *end;
	bool ansi;
	/* newest versioned-comment version seen, and whether one was /\*M! */
	unsigned long max_version;
	bool saw_mariadb_comment;
};

/* Skips blanks and the markers of versioned comments (their content is
 * code to the server), recording their versions. */
static void lex_skip(struct lexer *lx)
{
	for (;;) {
		while (lx->p < lx->end && is_blank((unsigned char)*lx->p))
			lx->p++;
		if (lx->end - lx->p >= 3 && lx->p[0] == '/' && lx->p[1] == '*' &&
		    (lx->p[2] == '!' ||
		     (lx->p[2] == 'M' && lx->end - lx->p >= 4 && lx->p[3] == '!'))) {
			unsigned long v = 0;
			int digits = 0;

			if (lx->p[2] == 'M')
				lx->saw_mariadb_comment = true;
			lx->p += lx->p[2] == 'M' ? 4 : 3;
			while (lx->p < lx->end && isdigit((unsigned char)*lx->p) && digits < 9) {
				v = v * 10 + (unsigned long)(*lx->p - '0');
				lx->p++;
				digits++;
			}
			if (v > lx->max_version)
				lx->max_version = v;
			continue;
		}
		if (lx->end - lx->p >= 2 && lx->p[0] == '*' && lx->p[1] == '/') {
			lx->p += 2;
			continue;
		}
		return;
	}
}

/* Copies an identifier, upper-cased; false if too long. */
static bool lex_name(struct lexer *lx, char *out, bool upper)
{
	size_t n = 0;

	if (lx->p < lx->end && *lx->p == '`') {
		for (lx->p++; lx->p < lx->end; lx->p++) {
			if (*lx->p == '`') {
				if (lx->p + 1 < lx->end && lx->p[1] == '`')
					lx->p++;
				else
					break;
			}
			if (n == VAR_NAME_MAX)
				return false;
			out[n++] = upper ? (char)toupper((unsigned char)*lx->p)
			                 : (char)tolower((unsigned char)*lx->p);
		}
		if (lx->p >= lx->end)
			return false;
		lx->p++;
	} else {
		while (lx->p < lx->end && is_word_char((unsigned char)*lx->p)) {
			if (n == VAR_NAME_MAX)
				return false;
			out[n++] = upper ? (char)toupper((unsigned char)*lx->p)
			                 : (char)tolower((unsigned char)*lx->p);
			lx->p++;
		}
	}
	out[n] = '\0';
	return n > 0;
}

/* A plain string literal: no escapes, no doubled quotes (what dumps write
 * in SET); false for anything else. */
static bool lex_plain_string(struct lexer *lx, char *out)
{
	char q = *lx->p;
	size_t n = 0;

	for (lx->p++; lx->p < lx->end && *lx->p != q; lx->p++) {
		if (*lx->p == '\\' || n == TOK_MAX)
			return false;
		out[n++] = *lx->p;
	}
	if (lx->p >= lx->end)
		return false;
	lx->p++;
	if (lx->p < lx->end && *lx->p == q)
		return false; /* a doubled quote */
	out[n] = '\0';
	return true;
}

/* Over 80 lines on purpose: one token, one case per kind of token in one
 * switch; split, the cases would share every local through a struct. */
static void lex_next(struct lexer *lx, struct tok *t)
{
	const char *p;

	memset(t, 0, sizeof(*t));
	lex_skip(lx);
	if (lx->p >= lx->end) {
		t->kind = T_END;
		return;
	}
	p = lx->p;
	if (*p == '@' && p + 1 < lx->end && p[1] == '@') {
		lx->p += 2;
		t->kind = T_SYSVAR;
		if (!lex_name(lx, t->text, true))
			goto other;
		if (lx->p < lx->end && *lx->p == '.') {
			if (strcmp(t->text, "GLOBAL") == 0)
				t->global = true;
			else if (strcmp(t->text, "SESSION") != 0 && strcmp(t->text, "LOCAL") != 0)
				goto other;
			lx->p++;
			if (!lex_name(lx, t->text, true))
				goto other;
		}
		return;
	}
	if (*p == '@') {
		lx->p++;
		t->kind = T_UVAR;
		if (lx->p < lx->end && (*lx->p == '\'' || *lx->p == '"')) {
			char raw[TOK_MAX + 1];
			size_t i;

			if (!lex_plain_string(lx, raw))
				goto other;
			if (strlen(raw) > VAR_NAME_MAX)
				goto other;
			for (i = 0; raw[i]; i++)
				t->text[i] = (char)tolower((unsigned char)raw[i]);
			t->text[i] = '\0';
			return;
		}
		if (!lex_name(lx, t->text, false))
			goto other;
		return;
	}
	if (*p == '`' || is_word_char((unsigned char)*p) || (*p == '"' && lx->ansi)) {
		t->kind = T_WORD;
		if (*p == '"') {
			if (!lex_plain_string(lx, t->text))
				goto other;
			for (size_t i = 0; t->text[i]; i++)
				t->text[i] = (char)toupper((unsigned char)t->text[i]);
			return;
		}
		if (!lex_name(lx, t->text, true))
			goto other;
		return;
	}
	if (*p == '\'' || *p == '"') {
		t->kind = T_STR;
		if (!lex_plain_string(lx, t->text))
			goto other;
		return;
	}
	if (*p == '=' || (*p == ':' && p + 1 < lx->end && p[1] == '=')) {
		lx->p += *p == ':' ? 2 : 1;
		t->kind = T_EQ;
		return;
	}
	if (*p == ',') {
		lx->p++;
		t->kind = T_COMMA;
		return;
	}
	lx->p++;
other:
	t->kind = T_OTHER;
	/* make sure the caller's loop ends: nothing after T_OTHER is read */
	lx->p = lx->end;
}

/* The sql_mode flags a literal sets. */
static void mode_flags(const char *lit, bool *nbe, bool *ansi)
{
	static const char *const quoting[] = {"ANSI_QUOTES", "ANSI",  "ORACLE",    "DB2",
	                                      "MSSQL",       "MAXDB", "POSTGRESQL"};
	const char *p = lit;

	*nbe = *ansi = false;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p), i;

		if (n == 20 && strncasecmp(p, "NO_BACKSLASH_ESCAPES", n) == 0)
			*nbe = true;
		for (i = 0; i < sizeof(quoting) / sizeof(quoting[0]); i++)
			if (n == strlen(quoting[i]) && strncasecmp(p, quoting[i], n) == 0)
				*ansi = true;
		p += n;
		if (*p == ',')
			p++;
	}
}

/* Character sets in which the second byte of a character can be a
 * backslash or a quote: the server would read a string's end elsewhere
 * than the client. */
static bool charset_unsafe(const char *name)
{
	static const char *const unsafe[] = {"big5", "cp932", "gbk", "gb18030", "sjis"};
	size_t i;

	for (i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++)
		if (strcasecmp(name, unsafe[i]) == 0)
			return true;
	return false;
}

enum set_result { SET_OK, SET_UNKNOWN, SET_BAD_CHARSET };

/* One pending effect of a SET statement (applied when all are read: the
 * server reads every value before assigning any). */
struct set_effect {
	enum { E_MODE, E_VAR } what;
	struct my_var val; /* E_MODE: the new flags; E_VAR: the variable's new state */
};

/* Reads a SET statement that mentions sql_mode or the client character set:
 * SET_OK (effects applied) only for the forms dumps write. Over 80 lines on
 * purpose: one pass over the statement's assignments, every form a dump
 * writes checked in the order the server reads them. */
static enum set_result set_statement(struct my_script *s, const char *text, size_t len, char *bad,
                                     size_t badcap)
{
	struct lexer lx = {.p = text, .end = text + len, .ansi = s->ansi};
	struct set_effect fx[8];
	char targets[8][VAR_NAME_MAX + 1];
	size_t nfx = 0, ntargets = 0, i, k;
	struct tok t, v, after;

	lex_next(&lx, &t);
	if (t.kind != T_WORD || strcmp(t.text, "SET") != 0)
		return SET_UNKNOWN;
	for (;;) {
		enum { TGT_SYS, TGT_USER, TGT_CHARSET } tgt;
		char name[VAR_NAME_MAX + 1];

		if (nfx == sizeof(fx) / sizeof(fx[0]))
			return SET_UNKNOWN;
		lex_next(&lx, &t);
		if (t.kind == T_WORD &&
		    (strcmp(t.text, "SESSION") == 0 || strcmp(t.text, "LOCAL") == 0))
			lex_next(&lx, &t);
		else if (t.kind == T_WORD && strcmp(t.text, "CHARACTER") == 0) {
			lex_next(&lx, &t);
			if (t.kind != T_WORD || strcmp(t.text, "SET") != 0)
				return SET_UNKNOWN;
			snprintf(t.text, sizeof(t.text), "CHARSET");
		}
		if (t.kind == T_WORD &&
		    (strcmp(t.text, "NAMES") == 0 || strcmp(t.text, "CHARSET") == 0)) {
			tgt = TGT_CHARSET;
		} else if (t.kind == T_WORD &&
		           (strcmp(t.text, "GLOBAL") == 0 || strcmp(t.text, "STATEMENT") == 0 ||
		            strcmp(t.text, "DEFAULT") == 0 || strcmp(t.text, "PASSWORD") == 0 ||
		            strcmp(t.text, "ROLE") == 0 || strcmp(t.text, "TRANSACTION") == 0)) {
			return SET_UNKNOWN;
		} else if (t.kind == T_WORD || (t.kind == T_SYSVAR && !t.global)) {
			tgt = TGT_SYS;
		} else if (t.kind == T_UVAR) {
			tgt = TGT_USER;
		} else {
			return SET_UNKNOWN;
		}
		copy_str(name, sizeof(name), t.text);
		if (tgt != TGT_CHARSET) {
			lex_next(&lx, &t);
			if (t.kind != T_EQ)
				return SET_UNKNOWN;
		}
		lex_next(&lx, &v);
		lex_next(&lx, &after);
		if (tgt == TGT_CHARSET && after.kind == T_WORD &&
		    strcmp(after.text, "COLLATE") == 0) {
			lex_next(&lx, &after); /* the collation */
			if (after.kind != T_WORD && after.kind != T_STR)
				return SET_UNKNOWN;
			lex_next(&lx, &after);
		}
		if (after.kind != T_COMMA && after.kind != T_END)
			return SET_UNKNOWN; /* an expression, not a single value */
		/* a variable read in the statement that assigns it */
		if (v.kind == T_UVAR)
			for (k = 0; k < ntargets; k++)
				if (strcmp(targets[k], v.text) == 0)
					return SET_UNKNOWN;

		if (tgt == TGT_CHARSET ||
		    (tgt == TGT_SYS && strcmp(name, "CHARACTER_SET_CLIENT") == 0)) {
			if (v.kind == T_UVAR) {
				const struct my_var *var = var_find(s, v.text);

				if (!var || !var->cs_known)
					return SET_UNKNOWN;
			} else if ((v.kind == T_WORD || v.kind == T_STR) &&
			           strcasecmp(v.text, "DEFAULT") != 0) {
				if (charset_unsafe(v.text)) {
					copy_str(bad, badcap, v.text);
					for (k = 0; bad[k]; k++)
						bad[k] = (char)tolower((unsigned char)bad[k]);
					return SET_BAD_CHARSET;
				}
			} else {
				return SET_UNKNOWN;
			}
		} else if (tgt == TGT_SYS && strcmp(name, "SQL_MODE") == 0) {
			struct set_effect *e = &fx[nfx++];

			memset(e, 0, sizeof(*e));
			e->what = E_MODE;
			if (v.kind == T_STR) {
				mode_flags(v.text, &e->val.nbe, &e->val.ansi);
			} else if (v.kind == T_UVAR) {
				const struct my_var *var = var_find(s, v.text);

				if (!var || !var->mode_known)
					return SET_UNKNOWN;
				e->val = *var;
			} else {
				return SET_UNKNOWN;
			}
		} else if (tgt == TGT_USER) {
			struct set_effect *e = &fx[nfx++];

			memset(e, 0, sizeof(*e));
			e->what = E_VAR;
			copy_str(e->val.name, sizeof(e->val.name), name);
			if (ntargets < sizeof(targets) / sizeof(targets[0]))
				copy_str(targets[ntargets++], sizeof(targets[0]), name);
			else
				return SET_UNKNOWN;
			if (v.kind == T_SYSVAR && !v.global && strcmp(v.text, "SQL_MODE") == 0) {
				e->val.mode_known = true;
				e->val.nbe = s->nbe;
				e->val.ansi = s->ansi;
			} else if (v.kind == T_SYSVAR && !v.global &&
			           strcmp(v.text, "CHARACTER_SET_CLIENT") == 0) {
				e->val.cs_known = true; /* the current one is always safe */
			} else if (v.kind == T_STR) {
				e->val.mode_known = true;
				mode_flags(v.text, &e->val.nbe, &e->val.ansi);
				e->val.cs_known = !charset_unsafe(v.text);
			}
			/* anything else: the variable holds nothing we can use */
		}
		/* other system variables do not change how the script is read */
		if (after.kind == T_END)
			break;
	}
	if (lx.saw_mariadb_comment || lx.max_version > SAFE_COMMENT_VERSION)
		return SET_UNKNOWN;
	for (i = 0; i < nfx; i++) {
		if (fx[i].what == E_MODE) {
			set_mode(s, fx[i].val.nbe, fx[i].val.ansi);
		} else {
			struct my_var *var = var_add(s, fx[i].val.name);

			if (var)
				*var = fx[i].val;
		}
	}
	return SET_OK;
}

static const char *const client_commands[] = {
    "?",      "charset", "clear",  "connect",   "edit",   "ego",   "exit",     "go",
    "help",   "nopager", "notee",  "nowarning", "pager",  "print", "prompt",   "quit",
    "rehash", "sandbox", "source", "status",    "system", "tee",   "warnings",
};

/* The first word of the statement as the client's find_command sees it
 * (after blanks): a client command's name? */
static bool is_command_word(const char *w, size_t n)
{
	size_t i;

	if (n >= 9 && strncasecmp(w, "delimiter", 9) == 0)
		return true; /* is_delimiter_command: any word starting so */
	for (i = 0; i < sizeof(client_commands) / sizeof(client_commands[0]); i++)
		if (n == strlen(client_commands[i]) && strncasecmp(w, client_commands[i], n) == 0)
			return true;
	return false;
}

/* Reads the database name after USE / CREATE DATABASE ... as written:
 * `name` (backticks doubled) or a bare word. */
static bool read_db_name(const char *p, const char *end, char *name, size_t cap)
{
	size_t n = 0;

	if (p < end && *p == '`') {
		for (p++; p < end; p++) {
			if (*p == '`') {
				if (p + 1 < end && p[1] == '`')
					p++;
				else
					break;
			}
			if (n + 1 >= cap)
				return false;
			name[n++] = *p;
		}
		if (p >= end)
			return false;
	} else {
		while (p < end && (is_word_char((unsigned char)*p))) {
			if (n + 1 >= cap)
				return false;
			name[n++] = *p++;
		}
	}
	name[n] = '\0';
	return n > 0;
}

/* A statement is complete: its verdict. Over 80 lines on purpose: the
 * numbered steps the client takes at a delimiter (client/mysql.cc), read top
 * to bottom in one place. */
static dbb_code statement_end(struct my_script *s, struct dbb_error *err)
{
	/* mariadb-dump's first line as the client sends it (without its \-):
	 * "/\*M!999999" in current releases, "/\*!999999" in the first ones
	 * that wrote it (10.5.25, 10.6.18, 10.11.8...). No server runs it. */
	static const char *const sandbox_comments[] = {"/*M!999999 enable the sandbox mode */",
	                                               "/*!999999 enable the sandbox mode */"};
	const char *h = s->head, *end = s->head + s->head_len, *w;
	char show[96], name[200];
	struct lexer lx;
	struct tok t, t2;
	size_t n;

	if (s->head_len == 0)
		return DBB_OK;
	/* 1. find_command on the statement: its first word (read_and_execute
	 *    and add_line call it at each delimiter) */
	w = h;
	while (w < end && is_blank((unsigned char)*w))
		w++;
	for (n = 0; w + n < end && !is_blank((unsigned char)w[n]); n++)
		;
	if (is_command_word(w, n))
		return refuse(
		    s, err,
		    "line %llu: \"%s\" is a mysql client command, which the client would run "
		    "itself (a file written by mariadb-dump or mysqldump holds none)",
		    s->stmt_line, printable(w, n, show, sizeof(show)));

	/* 2. the statement's first keywords, past the sandbox line and the
	 *    markers of versioned comments */
	for (n = 0; n < sizeof(sandbox_comments) / sizeof(sandbox_comments[0]); n++) {
		size_t len = strlen(sandbox_comments[n]);

		if ((size_t)(end - w) >= len && memcmp(w, sandbox_comments[n], len) == 0) {
			w += len;
			break;
		}
	}
	lx = (struct lexer){.p = w, .end = end, .ansi = s->ansi};
	lex_next(&lx, &t);
	if (t.kind == T_WORD && (strcmp(t.text, "PREPARE") == 0 || strcmp(t.text, "EXECUTE") == 0))
		return refuse(
		    s, err,
		    "line %llu: %s runs SQL built at restore time, which cannot be checked "
		    "beforehand (a dump never does)",
		    s->stmt_line, t.text);
	if (t.kind == T_WORD && (strcmp(t.text, "USE") == 0 || strcmp(t.text, "CREATE") == 0 ||
	                         strcmp(t.text, "DROP") == 0 || strcmp(t.text, "ALTER") == 0)) {
		const char *what = "switches to";
		bool is_use = strcmp(t.text, "USE") == 0;

		if (!is_use) {
			what = t.text[0] == 'C' ? "creates" : t.text[0] == 'D' ? "drops" : "alters";
			lex_next(&lx, &t2);
			if (t2.kind != T_WORD ||
			    (strcmp(t2.text, "DATABASE") != 0 && strcmp(t2.text, "SCHEMA") != 0))
				goto session;
			for (;;) {
				const char *save = lx.p;

				lex_next(&lx, &t2);
				if (t2.kind == T_WORD &&
				    (strcmp(t2.text, "IF") == 0 || strcmp(t2.text, "NOT") == 0 ||
				     strcmp(t2.text, "EXISTS") == 0))
					continue;
				lx.p = save;
				break;
			}
		}
		lex_skip(&lx);
		if (lx.p >= end && s->head_truncated)
			goto session;
		if (!is_use && strcmp(what, "alters") == 0 && *lx.p != '`') {
			/* ALTER DATABASE without a name is the current one */
			static const char *const options[] = {"CHARACTER", "CHARSET", "DEFAULT",
			                                      "COLLATE",   "COMMENT", "READ",
			                                      "UPGRADE"};
			struct lexer peek = lx;
			size_t i;

			lex_next(&peek, &t2);
			for (i = 0; t2.kind == T_WORD && i < sizeof(options) / sizeof(options[0]);
			     i++)
				if (strcmp(t2.text, options[i]) == 0)
					goto session;
		}
		if (!read_db_name(lx.p, end, name, sizeof(name))) {
			return refuse(s, err,
			              "line %llu: a statement that %s a database whose name the "
			              "checker cannot read",
			              s->stmt_line, what);
		}
		if (strcmp(name, s->db_name) != 0)
			return refuse(s, err,
			              "the dump %s database `%s` at line %llu (was it made with "
			              "--databases or --all-databases?); this daemon restores only "
			              "into `%s`",
			              what, printable(name, strlen(name), show, sizeof(show)),
			              s->stmt_line, s->db_name);
	}
session:
	/* 3. a change of sql_mode or of the client's character set */
	if (s->touches_session) {
		enum set_result r = SET_UNKNOWN;

		if (!s->head_truncated)
			r = set_statement(s, w, (size_t)(end - w), name, sizeof(name));
		if (r == SET_BAD_CHARSET)
			return refuse(
			    s, err,
			    "line %llu: the statement switches the client character set to "
			    "%s, in which a multi-byte character can hide a quote or a "
			    "backslash from the checker",
			    s->stmt_line, printable(name, strlen(name), show, sizeof(show)));
		if (r != SET_OK)
			return refuse(
			    s, err,
			    "line %llu: the statement changes sql_mode or the client character set "
			    "in a "
			    "way the checker cannot follow (dumps use SET with a literal value or "
			    "a "
			    "variable saved from @@sql_mode / @@character_set_client): %s",
			    s->stmt_line, printable(w, (size_t)(end - w), show, 60));
	}
	return DBB_OK;
}

/* ---- words outside strings: file access, SET NAMES ---- */

/* w (n bytes) is the keyword kw (upper case), in any case. */
static bool word_eq(const char *w, size_t n, const char *kw)
{
	return (w[0] & ~0x20) == kw[0] && n == strlen(kw) && strncasecmp(w, kw, n) == 0;
}

static void mentions(struct my_script *s, const char *w, size_t n)
{
	if (word_eq(w, n, "SQL_MODE") || word_eq(w, n, "CHARACTER_SET_CLIENT"))
		s->touches_session = true;
}

/* A whole word of code [w, w + n): the few that matter, by length first.
 * Over 80 lines on purpose: the words are a table, one line each. */
static dbb_code check_word(struct my_script *s, const char *w, size_t n, struct dbb_error *err)
{
	enum prev_word prev = s->prev;

	s->prev = PREV_NONE;
	switch (n) {
	case 1:
		if (*w == 'M' || *w == 'm')
			s->prev = prev; /* the M of /\*M! stands between words */
		break;
	case 3:
		if (prev == PREV_LOAD && word_eq(w, n, "XML"))
			return refuse(
			    s, err,
			    "line %llu: LOAD XML reads a file (with LOCAL, one on the daemon's "
			    "host); a dump never contains it",
			    s->lineno);
		if (word_eq(w, n, "SET"))
			s->prev = PREV_SET;
		break;
	case 4:
		if (prev == PREV_LOAD && word_eq(w, n, "DATA"))
			return refuse(
			    s, err,
			    "line %llu: LOAD DATA reads a file (with LOCAL, one on the daemon's "
			    "host); a dump never contains it",
			    s->lineno);
		if (word_eq(w, n, "LOAD"))
			s->prev = PREV_LOAD;
		else if (word_eq(w, n, "INTO"))
			s->prev = PREV_INTO;
		break;
	case 5:
		if (prev == PREV_SET && word_eq(w, n, "NAMES"))
			s->touches_session = true;
		break;
	case 7:
		if (prev == PREV_INTO && word_eq(w, n, "OUTFILE"))
			return refuse(
			    s, err,
			    "line %llu: INTO OUTFILE writes a file on the database server; a "
			    "dump never contains it",
			    s->lineno);
		if (prev == PREV_SET && word_eq(w, n, "CHARSET"))
			s->touches_session = true;
		break;
	case 8:
		if (prev == PREV_INTO && word_eq(w, n, "DUMPFILE"))
			return refuse(
			    s, err,
			    "line %llu: INTO DUMPFILE writes a file on the database server; a "
			    "dump never contains it",
			    s->lineno);
		mentions(s, w, n);
		break;
	case 9:
		if (word_eq(w, n, "LOAD_FILE"))
			return refuse(
			    s, err,
			    "line %llu: LOAD_FILE() reads a file on the database server; a "
			    "dump never calls it",
			    s->lineno);
		if (prev == PREV_SET && word_eq(w, n, "CHARACTER"))
			s->touches_session = true;
		break;
	case 20:
		mentions(s, w, n);
		break;
	default:
		break;
	}
	if (n > 1 && s->prev == PREV_NONE && isdigit((unsigned char)*w)) {
		size_t i = 0;

		while (i < n && isdigit((unsigned char)w[i]))
			i++;
		if (i == n)
			s->prev = prev; /* the version of /\*!40101 stands between words */
	}
	if (n == 1 && isdigit((unsigned char)*w))
		s->prev = prev;
	return DBB_OK;
}

/* The word in progress ends (at a character that is not part of one). */
static dbb_code end_word(struct my_script *s, struct dbb_error *err)
{
	size_t n = s->word_len;

	if (n == 0)
		return DBB_OK;
	s->word_len = 0;
	if (s->word_long) {
		s->word_long = false;
		s->prev = PREV_NONE;
		return DBB_OK;
	}
	return check_word(s, s->word, n, err);
}

static void word_add(struct my_script *s, const unsigned char *p, size_t n)
{
	size_t k = n;

	if (s->word_len + k > WORD_MAX) {
		k = WORD_MAX - s->word_len;
		s->word_long = true;
	}
	memcpy(s->word + s->word_len, p, k);
	s->word_len += k;
}

/* ---- the client's statement buffer ---- */

static void head_run(struct my_script *s, const unsigned char *p, size_t n)
{
	size_t k;

	if (s->stmt_empty) {
		s->stmt_empty = false;
		s->stmt_line = s->lineno;
	}
	if (s->head_len == HEAD_MAX) {
		s->head_truncated |= n > 0;
		return;
	}
	if (s->head_len == 0)
		while (n > 0 && is_blank(*p))
			p++, n--;
	k = HEAD_MAX - s->head_len;
	if (k > n)
		k = n;
	memcpy(s->head + s->head_len, p, k);
	s->head_len += k;
	if (k < n)
		s->head_truncated = true;
}

static void head_add(struct my_script *s, unsigned char c)
{
	head_run(s, &c, 1);
}

/* A character the client adds to the statement outside any string. */
static dbb_code emit_code(struct my_script *s, unsigned char c, struct dbb_error *err)
{
	head_add(s, c);
	if (is_word_char(c)) {
		word_add(s, &c, 1);
		return DBB_OK;
	}
	if (end_word(s, err))
		return DBB_ERR_INVALID_BACKUP;
	if (!is_blank(c) && c != '/' && c != '*' && c != '!')
		s->prev = PREV_NONE;
	return DBB_OK;
}

/* Characters inside a quoted string or identifier. */
static void emit_string_run(struct my_script *s, const unsigned char *p, size_t n)
{
	size_t k = WORD_MAX - s->quoted_len;

	head_run(s, p, n);
	if (s->in_string == '\'')
		return; /* only names are looked at (`sql_mode`) */
	if (k > n)
		k = n;
	memcpy(s->quoted + s->quoted_len, p, k);
	s->quoted_len += k;
	if (k < n)
		s->quoted_long = true;
}

/* A character inside a quoted string or identifier. */
static void emit_string(struct my_script *s, unsigned char c)
{
	emit_string_run(s, &c, 1);
}

static dbb_code string_open(struct my_script *s, unsigned char q, struct dbb_error *err)
{
	if (emit_code(s, q, err))
		return DBB_ERR_INVALID_BACKUP;
	s->in_string = (char)q;
	s->string_line = s->lineno;
	s->quoted_len = 0;
	s->quoted_long = false;
	return DBB_OK;
}

static void string_close(struct my_script *s, unsigned char q)
{
	s->in_string = 0;
	head_add(s, q);
	/* `sql_mode`, and "sql_mode" where double quotes quote names */
	if ((q == '`' || (q == '"' && s->ansi)) && !s->quoted_long)
		mentions(s, s->quoted, s->quoted_len);
	s->prev = PREV_NONE;
}

static dbb_code delimiter_reached(struct my_script *s, struct dbb_error *err)
{
	dbb_code rc = end_word(s, err);

	if (!rc)
		rc = statement_end(s, err);
	s->head_len = 0;
	s->head_truncated = false;
	s->touches_session = false;
	s->prev = PREV_NONE;
	s->stmt_empty = true;
	s->stmt_line = s->lineno;
	return rc;
}

/* ---- lines ---- */

/* A DELIMITER command line (read_and_execute → com_delimiter): only the
 * two a dump writes. The client takes the argument up to a space (a
 * trailing \r stays in it in binary mode). */
static dbb_code delimiter_line(struct my_script *s, struct dbb_error *err)
{
	const char *p = s->lh + 9, *end = s->lh + s->lh_len, *arg;
	char show[96];
	size_t n;

	if (s->lh_len > DELIM_LINE_MAX)
		goto bad;
	if (p >= end || (*p != ' ' && *p != '\t'))
		goto bad;
	while (p < end && is_blank((unsigned char)*p))
		p++;
	arg = p;
	while (p < end && *p != ' ')
		p++;
	n = (size_t)(p - arg);
	while (p < end && is_blank((unsigned char)*p))
		p++;
	if (p != end)
		goto bad;
	/* "DELIMITER ;;\r" (a CRLF file): the client keeps \r in the delimiter */
	if ((n == 1 && arg[0] == ';') || (n == 2 && arg[0] == ';' && arg[1] == ';') ||
	    (n == 2 && arg[0] == ';' && arg[1] == '\r') ||
	    (n == 3 && arg[0] == ';' && arg[1] == ';' && arg[2] == '\r')) {
		memcpy(s->delim, arg, n);
		s->delim_len = n;
		return DBB_OK;
	}
bad:
	return refuse(
	    s, err,
	    "line %llu: \"%s\" is a DELIMITER command other than the \"DELIMITER ;;\" and "
	    "\"DELIMITER ;\" lines mariadb-dump and mysqldump write",
	    s->lineno, printable(s->lh, s->lh_len, show, sizeof(show)));
}

static dbb_code replay_line_head(struct my_script *s, struct dbb_error *err)
{
	size_t i, n = s->lh_len;

	s->lh_len = 0;
	s->ls = LS_BODY;
	for (i = 0; i < n; i++) /* letters of "delimiter": plain characters */
		if (emit_code(s, (unsigned char)s->lh[i], err))
			return DBB_ERR_INVALID_BACKUP;
	return DBB_OK;
}

static dbb_code end_of_line(struct my_script *s, struct dbb_error *err)
{
	dbb_code rc = DBB_OK;

	if (s->ls == LS_MATCH)
		rc = replay_line_head(s, err);
	if (!rc && s->ls == LS_DELIM) {
		rc = delimiter_line(s, err);
	} else if (!rc && !s->stmt_empty && !s->ml_comment) {
		/* add_line ends the line in the buffer with a newline */
		if (s->in_string)
			emit_string(s, '\n');
		else
			rc = emit_code(s, '\n', err);
	}
	s->ls = LS_START;
	s->ss_comment = false;
	s->need_space = false;
	s->line_len = 0;
	s->lh_len = 0;
	s->lineno++;
	return rc;
}

/* ---- the byte loop ---- */

/* Byte i after p on the same line, 0 at the end of the line (add_line
 * sees a NUL there); -1 if it has not arrived yet. */
static int at(const unsigned char *p, const unsigned char *end, bool eof, size_t i)
{
	size_t k;

	for (k = 1; k <= i; k++) {
		if (p + k >= end)
			return eof ? 0 : -1;
		if (p[k] == '\n')
			return 0;
	}
	return p[i];
}

static bool is_delim_at(const struct my_script *s, const unsigned char *p, const unsigned char *end)
{
	return (size_t)(end - p) >= s->delim_len && memcmp(p, s->delim, s->delim_len) == 0;
}

/* Checks bytes [start, start + len); *used: how many were consumed (the
 * rest waits for its lookahead, unless eof). Over 80 lines on purpose: the
 * client's reading of its input (client/mysql.cc's add_line) as one state machine
 * over bytes, kept in one loop so that each state reads as the client's. */
static dbb_code run(struct my_script *s, const unsigned char *start, size_t len, bool eof,
                    size_t *used, struct dbb_error *err)
{
	const unsigned char *p = start, *end = start + len;
	char show[16];
	dbb_code rc = DBB_OK;

/* consumes k bytes of the current line */
#define ADVANCE(k)                                                                                 \
	do {                                                                                       \
		p += (k);                                                                          \
		s->line_len += (k);                                                                \
		if (s->line_len > MY_SCRIPT_LINE_MAX)                                              \
			goto too_long;                                                             \
	} while (0)

	while (p < end) {
		unsigned c = *p;
		int n1 = 0, n2 = 0, n3 = 0;

		if (c == '\n') {
			rc = end_of_line(s, err);
			if (rc)
				goto out;
			p++;
			continue;
		}
		if (c == '\0') {
			rc = refuse(
			    s, err,
			    "the dump contains NUL bytes around line %llu: it is not a text SQL "
			    "dump (or it is corrupt)",
			    s->lineno);
			goto out;
		}
		if (s->ls == LS_SKIP) { /* the rest of a # or -- comment line */
			const unsigned char *q = p;

			while (q < end && *q != '\n' && *q != '\0')
				q++;
			ADVANCE((size_t)(q - p));
			continue;
		}
		if (s->ls == LS_START) {
			if (!s->bom_checked) { /* read_and_execute skips a BOM on line 1 */
				if (end - p < 3 && !eof)
					break;
				s->bom_checked = true;
				if (end - p >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
					ADVANCE(3);
					continue;
				}
			}
			/* read_and_execute tries find_command on the line first */
			s->ls =
			    (s->stmt_empty && !s->ml_comment && !s->in_string) ? LS_WS : LS_BODY;
		}
		if (s->ls == LS_WS) {
			if (is_blank(c)) {
				ADVANCE(1);
				continue;
			}
			s->ls = (c == 'd' || c == 'D') ? LS_MATCH : LS_BODY;
			s->lh_len = 0;
		}
		if (s->ls == LS_MATCH) {
			if (tolower((int)c) == "delimiter"[s->lh_len]) {
				s->lh[s->lh_len++] = (char)c;
				if (s->lh_len == 9)
					s->ls = LS_DELIM;
				ADVANCE(1);
				continue;
			}
			rc = replay_line_head(s, err);
			if (rc)
				goto out;
		}
		if (s->ls == LS_DELIM) {
			if (s->lh_len < sizeof(s->lh))
				s->lh[s->lh_len++] = (char)c;
			ADVANCE(1);
			continue;
		}

		/* add_line, from here on */
		if (s->in_string) {
			/* ordinary bytes of a string, in one go */
			const unsigned char *stop = s->stop[s->in_string == '\''  ? 0
			                                    : s->in_string == '"' ? 1
			                                                          : 2];
			const unsigned char *q = p;

			while (q < end && !stop[*q])
				q++;
			if (q > p) {
				emit_string_run(s, p, (size_t)(q - p));
				ADVANCE((size_t)(q - p));
				continue;
			}
		}
		if (!s->in_string && !s->ml_comment && !s->need_space && s->cls[c] != C_SPECIAL &&
		    !(s->stmt_empty && s->cls[c] == C_BLANK)) {
			/* a run of code that needs no closer look: words, blanks,
			 * punctuation */
			const unsigned char *q = p;

			while (q < end) {
				unsigned char cl = s->cls[*q];

				if (cl == C_WORD) {
					const unsigned char *w = q;

					while (q < end && s->cls[*q] == C_WORD)
						q++;
					if (q == end || s->cls[*q] == C_SPECIAL) {
						/* the word may go on: in the next chunk, or
						 * past a byte the slow path reads (the
						 * client drops a \- between two halves) */
						word_add(s, w, (size_t)(q - w));
						break;
					}
					if (s->word_len) {
						word_add(s, w, (size_t)(q - w));
						rc = end_word(s, err);
					} else {
						rc = check_word(s, (const char *)w, (size_t)(q - w),
						                err);
					}
					if (rc)
						goto out;
					continue;
				}
				if (cl == C_SPECIAL)
					break;
				if (s->word_len) {
					rc = end_word(s, err);
					if (rc)
						goto out;
				}
				if (cl == C_PLAIN && *q != '!')
					s->prev = PREV_NONE;
				q++;
			}
			head_run(s, p, (size_t)(q - p));
			ADVANCE((size_t)(q - p));
			continue;
		}
		if (s->stmt_empty && is_blank(c)) {
			ADVANCE(1); /* blanks at the start of a statement are dropped */
			continue;
		}
		if (c == '\\' || c == '/' || c == '*' || c == '-' ||
		    c == (unsigned char)s->delim[0]) {
			/* the decisions below look up to 3 bytes ahead on the line */
			if (end - p < LOOKAHEAD && !eof && !memchr(p, '\n', (size_t)(end - p)))
				break;
			n1 = at(p, end, eof, 1);
			n2 = n1 ? at(p, end, eof, 2) : 0;
			n3 = n2 ? at(p, end, eof, 3) : 0;
		}
		if (!s->ml_comment && c == '\\' && s->in_string != '`' &&
		    !(s->in_string == '"' && s->ansi) && !(s->in_string && s->nbe)) {
			if (s->in_string) { /* an escape: the next byte is data */
				emit_string(s, '\\');
				if (n1 > 0) {
					emit_string(s, (unsigned char)n1);
					ADVANCE(2);
				} else {
					ADVANCE(1); /* the escaped newline comes next */
				}
				continue;
			}
			if (n1 == 'N') { /* \N: NULL */
				if (emit_code(s, '\\', err) || emit_code(s, 'N', err)) {
					rc = DBB_ERR_INVALID_BACKUP;
					goto out;
				}
				ADVANCE(2);
				continue;
			}
			if (n1 == '-') { /* \-: sandbox mode (mariadb-dump's first line) */
				ADVANCE(2);
				continue;
			}
			show[0] = '\\';
			show[1] = n1 > 0x20 && n1 < 0x7f ? (char)n1 : '?';
			show[2] = '\0';
			rc = refuse(
			    s, err,
			    "line %llu: \"%s\" is a mysql client command, which the client would "
			    "run itself (a file written by mariadb-dump or mysqldump holds none "
			    "outside strings)",
			    s->lineno, n1 > 0 ? show : "\\ at the end of a line");
			goto out;
		}
		if (!s->ml_comment && !s->in_string && is_delim_at(s, p, end)) {
			ADVANCE(s->delim_len);
			rc = delimiter_reached(s, err);
			if (rc)
				goto out;
			continue;
		}
		if (!s->ml_comment && !s->in_string &&
		    (c == '#' || (c == '-' && n1 == '-' &&
		                  (n2 == 0 || is_blank((unsigned)n2) || s->stmt_empty)))) {
			s->ls = LS_SKIP;
			ADVANCE(1);
			continue;
		}
		if (!s->in_string && c == '/' && n1 == '*' &&
		    !(n2 == '!' || (n2 == 'M' && n3 == '!'))) {
			if (!s->ml_comment)
				s->comment_line = s->lineno;
			s->ml_comment = true;
			ADVANCE(2);
			continue;
		}
		if (s->ml_comment && !s->ss_comment && c == '*' && n1 == '/') {
			s->ml_comment = false;
			s->need_space = true;
			ADVANCE(2);
			continue;
		}
		if (!s->in_string && c == '/' && n1 == '*' && n2 == '!')
			s->ss_comment = true;
		else if (!s->in_string && s->ss_comment && c == '*' && n1 == '/')
			s->ss_comment = false;
		if (!s->ml_comment) {
			if (s->need_space && !is_blank(c)) {
				rc = emit_code(s, ' ', err);
				if (rc)
					goto out;
			}
			s->need_space = false;
			if (s->in_string && c == (unsigned char)s->in_string)
				string_close(s, (unsigned char)c);
			else if (!s->in_string && (c == '\'' || c == '"' || c == '`'))
				rc = string_open(s, (unsigned char)c, err);
			else if (s->in_string)
				emit_string(s, (unsigned char)c);
			else
				rc = emit_code(s, (unsigned char)c, err);
			if (rc)
				goto out;
		}
		ADVANCE(1);
	}
#undef ADVANCE
out:
	*used = (size_t)(p - start);
	return rc;
too_long:
	*used = (size_t)(p - start);
	return refuse(s, err,
	              "line %llu is longer than %llu MiB: the mysql client would split it and read "
	              "its end as a new statement",
	              s->lineno, MY_SCRIPT_LINE_MAX / (1024 * 1024));
}

dbb_code my_script_feed(struct my_script *s, const void *buf, size_t n, struct dbb_error *err)
{
	const unsigned char *p = buf, *end = p + n;
	size_t used;
	dbb_code rc;

	if (s->failed) {
		if (err)
			*err = s->error;
		return s->error.code;
	}
	while (s->carry_len && p < end) {
		size_t old = s->carry_len, take = sizeof(s->carry) - old;

		if (take > (size_t)(end - p))
			take = (size_t)(end - p);
		memcpy(s->carry + old, p, take);
		s->carry_len += take;
		rc = run(s, s->carry, s->carry_len, false, &used, err);
		if (rc)
			return rc;
		if (used >= old) {
			p += used - old;
			s->carry_len = 0;
		} else {
			memmove(s->carry, s->carry + used, s->carry_len - used);
			s->carry_len -= used;
			p += take;
		}
	}
	if (p < end) {
		rc = run(s, p, (size_t)(end - p), false, &used, err);
		if (rc)
			return rc;
		p += used;
		if ((size_t)(end - p) > sizeof(s->carry))
			return refuse(s, err, "internal error: the checker stopped early");
		memcpy(s->carry, p, (size_t)(end - p));
		s->carry_len = (size_t)(end - p);
	}
	return DBB_OK;
}

dbb_code my_script_finish(struct my_script *s, struct dbb_error *err)
{
	size_t used;
	dbb_code rc;

	if (s->failed) {
		if (err)
			*err = s->error;
		return s->error.code;
	}
	rc = run(s, s->carry, s->carry_len, true, &used, err);
	if (rc)
		return rc;
	s->carry_len = 0;
	/* the client ends the last line as if it had a newline */
	if (s->ls != LS_START) {
		rc = end_of_line(s, err);
		if (rc)
			return rc;
	}
	if (s->in_string)
		return refuse(s, err,
		              "the dump ends inside a quoted string opened at line %llu (is it cut "
		              "short?)",
		              s->string_line);
	if (s->ml_comment)
		return refuse(s, err,
		              "the dump ends inside a /* comment */ opened at line %llu (is it cut "
		              "short?)",
		              s->comment_line);
	/* the last statement, sent without a delimiter */
	return delimiter_reached(s, err);
}
