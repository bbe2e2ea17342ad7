/* psql scripts lexed the way psql lexes them: validation and the restore
 * filter of the PostgreSQL driver (see pg_script.h). This file: lines, COPY
 * data and the lexer; the statement layer is pg_script_stmt.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "driver/pg_script_internal.h"

/* lexer states (psqlscan.l's start conditions) */
enum {
	LX_INITIAL,
	LX_LINE_COMMENT, /* -- to the end of the line or a '\r' */
	LX_XC,           /* slash-star comment, nested */
	LX_XD,           /* "identifier", U&"identifier" */
	LX_XQ,           /* '...' with standard strings, U&'...', N'...' */
	LX_XE,           /* E'...', or '...' without standard strings */
	LX_XB,           /* B'...', X'...' */
	LX_XDOLQ,        /* $tag$...$tag$ */
	LX_XQS,          /* after a string's closing quote: continued? */
};

/* token in progress in LX_INITIAL */
enum {
	TOK_NONE,
	TOK_WORD,     /* identifier or keyword */
	TOK_UAMP,     /* u& */
	TOK_NUM_INT,  /* 12 */
	TOK_NUM_DOT,  /* 12. (12.. is 12 and ..) */
	TOK_NUM_DEC,  /* 12.5, .5 */
	TOK_NUM_E,    /* 12e */
	TOK_NUM_SIGN, /* 12e- (swallows the '-') */
	TOK_NUM_REAL, /* 12e5 */
	TOK_JUNK,     /* a number or $n followed by identifier characters */
	TOK_PARAM,    /* $1 */
	TOK_DOLLAR,   /* $ and a tag so far */
	TOK_COLON,    /* : */
	TOK_VAR,      /* :name */
	TOK_DASH,     /* - (-- starts a comment) */
	TOK_SLASH,    /* / (slash-star starts a comment) */
	TOK_DOT,      /* . (.5 is a number, .. one token) */
};

/* sub-states */
enum {
	SUB_NONE,
	SUB_QUOTE,  /* LX_XQ/XE/XD: a quote that may be doubled */
	SUB_ESCAPE, /* LX_XE: the byte after a backslash */
	SUB_SLASH,  /* LX_XC: '/' (may open a nested comment) */
	SUB_STAR,   /* LX_XC: '*' (may close) */
	/* LX_XQS: before the newline, after it; a '-', a -- comment */
	QS_PRE,
	QS_PRE_DASH,
	QS_PRE_COMMENT,
	QS_POST,
	QS_POST_DASH,
	QS_POST_COMMENT,
};

/* ---- character classes (psqlscan.l) ---- */

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool is_ident_start(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c >= 0x80;
}

static bool is_ident_cont(unsigned char c)
{
	return is_ident_start(c) || is_digit(c) || c == '$';
}

/* dolq_cont and variable_char are the same set */
static bool is_var_char(unsigned char c)
{
	return is_ident_start(c) || is_digit(c);
}

static bool is_op_char(unsigned char c)
{
	return c != '\0' && strchr("~!@#^&|`?+-*/%<>=", c) != NULL;
}

/* ---- errors ---- */

dbb_code pg_script_refuse(struct pg_script *s, const char *fmt, ...)
{
	char msg[DBB_ERROR_MESSAGE_MAX - 32];
	va_list ap;

	if (s->failed)
		return s->failed;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->failed = dbb_fail(&s->fail, DBB_ERR_INVALID_BACKUP, "line %llu: %s",
	                     (unsigned long long)s->facts.lines + 1, msg);
	return s->failed;
}

/* ---- the lexer ---- */

static dbb_code emit_char(struct pg_script *s, unsigned char c)
{
	char w[2] = {(char)c, '\0'};
	uint8_t kind;

	switch (c) {
	case '(':
		kind = TK_LPAREN;
		break;
	case ')':
		kind = TK_RPAREN;
		break;
	case '[':
		kind = TK_LBRACK;
		break;
	case ']':
		kind = TK_RBRACK;
		break;
	case ';':
		kind = TK_SEMI;
		break;
	case ',':
		kind = TK_COMMA;
		break;
	case '.':
		kind = TK_DOT;
		break;
	default:
		kind = is_op_char(c) ? TK_OP : TK_OTHER;
		break;
	}
	return pg_stmt_token(s, kind, w, 1, true);
}

static void word_add(struct pg_script *s, unsigned char c)
{
	if (s->word_len + 1 < sizeof(s->word))
		s->word[s->word_len++] = (char)lower(c);
	else
		s->word_long = true;
}

static dbb_code emit_word(struct pg_script *s)
{
	if (s->word_long)
		return pg_stmt_token(s, TK_WORD, "", 0, false);
	s->word[s->word_len] = '\0';
	return pg_stmt_token(s, TK_WORD, s->word, s->word_len, true);
}

static void text_add(struct pg_script *s, unsigned char c)
{
	if (s->text_len + 1 < sizeof(s->text))
		s->text[s->text_len++] = (char)c;
	else
		s->text_long = true;
}

static dbb_code emit_text(struct pg_script *s)
{
	uint8_t kind = s->str_kind;

	s->text[s->text_len] = '\0';
	if (s->text_long)
		return pg_stmt_token(s, kind, "", 0, false);
	return pg_stmt_token(s, kind, s->text, s->text_len, s->str_exact);
}

/* state: LX_XQ/XE/XB/XD; kind: TK_STRING/TK_QIDENT */
static void start_quote(struct pg_script *s, uint8_t state, uint8_t kind, bool exact, bool varform)
{
	s->state = state;
	s->sub = SUB_NONE;
	s->str_kind = kind;
	s->str_exact = exact;
	s->str_varform = varform;
	s->text_len = 0;
	s->text_long = false;
}

static void start_dollar(struct pg_script *s)
{
	/* s->tag holds "$tag" */
	s->tag[s->tag_len++] = '$';
	s->tag_match = 0;
	start_quote(s, LX_XDOLQ, TK_STRING, true, false);
}

/* A backslash outside quotes: psql runs a meta-command here. Its name is
 * read from the bytes that follow (any chunk), then the script is refused;
 * nothing more is passed on meanwhile. */
static dbb_code meta_command(struct pg_script *s)
{
	s->meta[0] = '\\';
	s->meta_len = 1;
	return DBB_OK;
}

static dbb_code meta_name(struct pg_script *s, unsigned char c)
{
	bool semi = s->meta_len == 2 && (s->meta[1] == ';' || s->meta[1] == ':');

	if (!semi && !is_space(c) && s->meta_len + 1 < sizeof(s->meta)) {
		s->meta[s->meta_len++] = (char)c;
		return DBB_OK;
	}
	s->meta[s->meta_len] = '\0';
	if (semi)
		return pg_script_refuse(
		    s,
		    "psql's %s (it passes a '%c' to the server inside one statement): "
		    "plain pg_dump output never has it",
		    s->meta, s->meta[1]);
	return pg_script_refuse(
	    s,
	    "psql meta-command %s, which plain pg_dump output never contains (only its "
	    "own \\restrict/\\unrestrict lines): refusing to run it",
	    s->meta);
}

/* Over 80 lines on purpose: the INITIAL state of psql's lexer
 * (psqlscan.l), one case per byte that starts a token, in one switch as
 * the rules stand there, so the two can be read side by side. */
static dbb_code lx_initial(struct pg_script *s, unsigned char c)
{
	dbb_code rc;

again:
	switch (s->tok) {
	case TOK_NONE:
		break;
	case TOK_WORD:
		if (is_ident_cont(c)) {
			word_add(s, c);
			return DBB_OK;
		}
		s->tok = TOK_NONE;
		if (s->word_len == 1 && !s->word_long) {
			/* E'', B'', X'', N'', U&'', U&"": only a lone letter */
			char p = s->word[0];

			if (c == '\'' && (p == 'e' || p == 'b' || p == 'x')) {
				start_quote(s, p == 'e' ? LX_XE : LX_XB, TK_STRING, p == 'e',
				            false);
				return DBB_OK;
			}
			if (c == '\'' && p == 'n') {
				rc = pg_stmt_token(s, TK_NAME, "n", 1, true);
				if (rc)
					return rc;
				break; /* the quote starts a string below */
			}
			if (c == '&' && p == 'u') {
				s->tok = TOK_UAMP;
				return DBB_OK;
			}
		}
		rc = emit_word(s);
		if (rc)
			return rc;
		break;
	case TOK_UAMP:
		s->tok = TOK_NONE;
		if (c == '\'') {
			start_quote(s, LX_XQ, TK_STRING, false, false);
			return DBB_OK;
		}
		if (c == '"') {
			start_quote(s, LX_XD, TK_QIDENT, false, false);
			return DBB_OK;
		}
		rc = pg_stmt_token(s, TK_NAME, "u", 1, true);
		if (!rc)
			rc = emit_char(s, '&');
		if (rc)
			return rc;
		break;
	case TOK_NUM_INT:
		if (is_digit(c))
			return DBB_OK;
		if (c == '.') {
			s->tok = TOK_NUM_DOT;
			return DBB_OK;
		}
		if (c == 'e' || c == 'E') {
			s->tok = TOK_NUM_E;
			return DBB_OK;
		}
		if (is_ident_start(c)) {
			s->tok = TOK_JUNK;
			return DBB_OK;
		}
		goto end_number;
	case TOK_NUM_DOT:
		if (c == '.') {
			/* 1.. is the number 1 and the token .. */
			s->tok = TOK_NONE;
			rc = pg_stmt_token(s, TK_NUMBER, "", 0, false);
			if (!rc)
				rc = pg_stmt_token(s, TK_OTHER, "..", 2, true);
			return rc;
		}
		s->tok = TOK_NUM_DEC;
		goto again;
	case TOK_NUM_DEC:
		if (is_digit(c))
			return DBB_OK;
		if (c == 'e' || c == 'E') {
			s->tok = TOK_NUM_E;
			return DBB_OK;
		}
		if (is_ident_start(c)) {
			s->tok = TOK_JUNK;
			return DBB_OK;
		}
		goto end_number;
	case TOK_NUM_E:
		if (is_digit(c)) {
			s->tok = TOK_NUM_REAL;
			return DBB_OK;
		}
		if (c == '+' || c == '-') {
			s->tok = TOK_NUM_SIGN;
			return DBB_OK;
		}
		if (is_ident_cont(c)) {
			s->tok = TOK_JUNK;
			return DBB_OK;
		}
		goto end_number;
	case TOK_NUM_SIGN:
		if (is_digit(c)) {
			s->tok = TOK_NUM_REAL;
			return DBB_OK;
		}
		goto end_number; /* "1e-" is one token: the sign is taken */
	case TOK_NUM_REAL:
		if (is_digit(c))
			return DBB_OK;
		if (is_ident_start(c)) {
			s->tok = TOK_JUNK;
			return DBB_OK;
		}
		goto end_number;
	case TOK_JUNK:
		if (is_ident_cont(c))
			return DBB_OK;
		goto end_number;
	case TOK_PARAM:
		if (is_digit(c))
			return DBB_OK;
		if (is_ident_start(c)) {
			s->tok = TOK_JUNK;
			return DBB_OK;
		}
		goto end_number;
	case TOK_DOLLAR:
		if (s->tag_len == 1) {
			if (c == '$') {
				s->tok = TOK_NONE;
				start_dollar(s);
				return DBB_OK;
			}
			if (is_digit(c)) {
				s->tok = TOK_PARAM;
				return DBB_OK;
			}
			if (is_ident_start(c)) {
				s->tag[s->tag_len++] = (char)c;
				return DBB_OK;
			}
			s->tok = TOK_NONE;
			rc = pg_stmt_token(s, TK_OTHER, "$", 1, true);
			if (rc)
				return rc;
			break;
		}
		if (is_var_char(c)) {
			if (s->tag_len > PG_SCRIPT_TAG_MAX)
				return pg_script_refuse(s, "a $tag$ longer than %d bytes",
				                        PG_SCRIPT_TAG_MAX);
			s->tag[s->tag_len++] = (char)c;
			return DBB_OK;
		}
		if (c == '$') {
			s->tok = TOK_NONE;
			start_dollar(s);
			return DBB_OK;
		}
		/* "$name" without the closing '$': '$', then an identifier */
		rc = pg_stmt_token(s, TK_OTHER, "$", 1, true);
		if (rc)
			return rc;
		s->word_len = 0;
		s->word_long = false;
		for (size_t i = 1; i < s->tag_len; i++)
			word_add(s, (unsigned char)s->tag[i]);
		s->tok = TOK_WORD;
		goto again;
	case TOK_COLON:
		s->tok = TOK_NONE;
		if (c == ':')
			return pg_stmt_token(s, TK_CAST, "::", 2, true);
		if (c == '=')
			return pg_stmt_token(s, TK_OP, ":=", 2, true);
		if (c == '\'' || c == '"') {
			/* :'name' and :"name" are psql variables, quoted by psql */
			rc = pg_stmt_token(s, TK_OTHER, ":", 1, true);
			if (c == '\'')
				start_quote(s, s->std_strings_line ? LX_XQ : LX_XE, TK_STRING, true,
				            true);
			else
				start_quote(s, LX_XD, TK_QIDENT, true, false);
			return rc;
		}
		if (is_var_char(c)) {
			s->tok = TOK_VAR;
			s->var_upper = c >= 'A' && c <= 'Z';
			s->var_lower = c >= 'a' && c <= 'z';
			return DBB_OK;
		}
		rc = pg_stmt_token(s, TK_OTHER, ":", 1, true);
		if (rc)
			return rc;
		break;
	case TOK_VAR:
		if (is_var_char(c)) {
			s->var_upper |= c >= 'A' && c <= 'Z';
			s->var_lower |= c >= 'a' && c <= 'z';
			return DBB_OK;
		}
		s->tok = TOK_NONE;
		if (s->var_upper && !s->var_lower)
			return pg_script_refuse(
			    s, "a psql variable reference (:NAME): psql would put its own "
			       "text there, which this check cannot see");
		rc = pg_stmt_token(s, TK_NAME, ":", 1, true);
		if (rc)
			return rc;
		break;
	case TOK_DASH:
		s->tok = TOK_NONE;
		if (c == '-') {
			s->state = LX_LINE_COMMENT;
			return DBB_OK;
		}
		rc = emit_char(s, '-');
		if (rc)
			return rc;
		break;
	case TOK_SLASH:
		s->tok = TOK_NONE;
		if (c == '*') {
			s->state = LX_XC;
			s->xc_depth = 0;
			s->sub = SUB_NONE;
			return DBB_OK;
		}
		rc = emit_char(s, '/');
		if (rc)
			return rc;
		break;
	case TOK_DOT:
		s->tok = TOK_NONE;
		if (is_digit(c)) {
			s->tok = TOK_NUM_DEC;
			return DBB_OK;
		}
		if (c == '.')
			return pg_stmt_token(s, TK_OTHER, "..", 2, true);
		rc = emit_char(s, '.');
		if (rc)
			return rc;
		break;
	default:
		break;
	}

	/* no token in progress: c starts one */
	if (is_space(c))
		return DBB_OK;
	if (is_ident_start(c)) {
		s->word_len = 0;
		s->word_long = false;
		word_add(s, c);
		s->tok = TOK_WORD;
		return DBB_OK;
	}
	if (is_digit(c)) {
		s->tok = TOK_NUM_INT;
		return DBB_OK;
	}
	switch (c) {
	case '.':
		s->tok = TOK_DOT;
		return DBB_OK;
	case '$':
		s->tok = TOK_DOLLAR;
		s->tag[0] = '$';
		s->tag_len = 1;
		return DBB_OK;
	case ':':
		s->tok = TOK_COLON;
		return DBB_OK;
	case '-':
		s->tok = TOK_DASH;
		return DBB_OK;
	case '/':
		s->tok = TOK_SLASH;
		return DBB_OK;
	case '\'':
		start_quote(s, s->std_strings_line ? LX_XQ : LX_XE, TK_STRING, true, false);
		return DBB_OK;
	case '"':
		start_quote(s, LX_XD, TK_QIDENT, true, false);
		return DBB_OK;
	case '\\':
		return meta_command(s);
	default:
		return emit_char(s, c);
	}

end_number:
	s->tok = TOK_NONE;
	rc = pg_stmt_token(s, TK_NUMBER, "", 0, false);
	if (rc)
		return rc;
	goto again;
}

/* After a string's closing quote: psqlscan.l's <xqs>. The string goes on
 * only if whitespace holding a newline - a '\r': psql never sees the '\n'
 * between lines - and then a quote follow. A quote that ends its line keeps
 * the question open into the next line. */
static dbb_code lx_xqs(struct pg_script *s, unsigned char c)
{
	bool dash = false;
	dbb_code rc;

	switch (s->sub) {
	case QS_PRE:
		if (c == '\n' && !s->qs_used)
			return DBB_OK;
		if (c == ' ' || c == '\t' || c == '\f') {
			s->qs_used = true;
			return DBB_OK;
		}
		if (c == '\r') {
			s->qs_used = true;
			s->sub = QS_POST;
			return DBB_OK;
		}
		if (c == '-') {
			s->qs_used = true;
			s->sub = QS_PRE_DASH;
			return DBB_OK;
		}
		break;
	case QS_PRE_DASH:
	case QS_POST_DASH:
		if (c == '-') {
			s->sub = s->sub == QS_PRE_DASH ? QS_PRE_COMMENT : QS_POST_COMMENT;
			return DBB_OK;
		}
		dash = true;
		break;
	case QS_PRE_COMMENT:
	case QS_POST_COMMENT:
		if (c == '\r') {
			s->sub = QS_POST;
			return DBB_OK;
		}
		if (c != '\n')
			return DBB_OK;
		break;
	case QS_POST:
		if (c == ' ' || c == '\t' || c == '\f' || c == '\r')
			return DBB_OK;
		if (c == '\'') {
			s->state = s->qs_prev;
			s->sub = SUB_NONE;
			s->str_exact = false;
			return DBB_OK;
		}
		if (c == '-') {
			s->sub = QS_POST_DASH;
			return DBB_OK;
		}
		break;
	default:
		break;
	}
	/* not continued: the string is one token; what was read was whitespace */
	s->state = LX_INITIAL;
	s->sub = SUB_NONE;
	rc = emit_text(s);
	if (!rc && dash)
		rc = lx_initial(s, '-');
	if (!rc)
		rc = lx_initial(s, c);
	return rc;
}

/* Over 80 lines on purpose: one case per lexer state of psqlscan.l (quotes,
 * comments, dollar quotes, backslash commands), as there. */
static dbb_code lx_byte(struct pg_script *s, unsigned char c)
{
	dbb_code rc;

	if (s->meta_len)
		return meta_name(s, c);
	switch (s->state) {
	case LX_INITIAL:
		return lx_initial(s, c);
	case LX_LINE_COMMENT:
		if (c == '\r' || c == '\n')
			s->state = LX_INITIAL;
		return DBB_OK;
	case LX_XC:
		if (c == '\n') {
			s->sub = SUB_NONE;
		} else if (s->sub == SUB_SLASH && c == '*') {
			if (s->xc_depth >= 10000)
				return pg_script_refuse(s, "comments nested more than 10000 deep");
			s->xc_depth++;
			s->sub = SUB_NONE;
		} else if (s->sub == SUB_STAR && c == '/') {
			if (s->xc_depth == 0)
				s->state = LX_INITIAL;
			else
				s->xc_depth--;
			s->sub = SUB_NONE;
		} else {
			s->sub = c == '/' ? SUB_SLASH : c == '*' ? SUB_STAR : SUB_NONE;
		}
		return DBB_OK;
	case LX_XD:
		if (s->sub == SUB_QUOTE) {
			s->sub = SUB_NONE;
			if (c == '"') {
				text_add(s, c);
				return DBB_OK;
			}
			s->state = LX_INITIAL;
			rc = emit_text(s);
			return rc ? rc : lx_initial(s, c);
		}
		if (c == '"')
			s->sub = SUB_QUOTE;
		else
			text_add(s, c);
		return DBB_OK;
	case LX_XQ:
	case LX_XE:
		if (s->sub == SUB_QUOTE) {
			s->sub = SUB_NONE;
			if (c == '\'') {
				text_add(s, c);
				return DBB_OK;
			}
			s->qs_prev = s->state;
			s->state = LX_XQS;
			s->sub = QS_PRE;
			s->qs_used = false;
			return lx_xqs(s, c);
		}
		if (s->sub == SUB_ESCAPE) {
			s->sub = SUB_NONE;
			text_add(s, c);
			return DBB_OK;
		}
		if (c == '\'') {
			if (s->str_varform && s->text_len > 0 && !s->text_long) {
				/* :'name': one token, no continuation */
				s->state = LX_INITIAL;
				return emit_text(s);
			}
			s->str_varform = false;
			s->sub = SUB_QUOTE;
			return DBB_OK;
		}
		if (!is_var_char(c))
			s->str_varform = false;
		if (c == '\\' && s->state == LX_XE) {
			s->sub = SUB_ESCAPE;
			s->str_exact = false;
			return DBB_OK;
		}
		text_add(s, c);
		return DBB_OK;
	case LX_XB:
		if (c == '\'') {
			s->qs_prev = LX_XB;
			s->state = LX_XQS;
			s->sub = QS_PRE;
			s->qs_used = false;
			return DBB_OK;
		}
		text_add(s, c);
		return DBB_OK;
	case LX_XDOLQ:
		text_add(s, c);
		if (c == (unsigned char)s->tag[s->tag_match]) {
			if (++s->tag_match == s->tag_len) {
				s->state = LX_INITIAL;
				if (!s->text_long)
					s->text_len -=
					    s->tag_len < s->text_len ? s->tag_len : s->text_len;
				return emit_text(s);
			}
		} else {
			s->tag_match = c == '$' ? 1 : 0;
		}
		return DBB_OK;
	case LX_XQS:
		return lx_xqs(s, c);
	default:
		return pg_script_refuse(s, "internal lexer state %u", s->state);
	}
}

/* ---- lines: what psql reads, what is dropped, what is passed on ---- */

static dbb_code out_write(struct pg_script *s, const char *p, size_t n, struct dbb_error *err)
{
	dbb_code rc;

	if (!s->out || n == 0 || s->meta_len)
		return DBB_OK; /* after a backslash: refused, whatever follows */
	rc = dbb_sink_write(s->out, p, n, err);
	if (rc && !s->failed) {
		s->failed = rc;
		s->fail = *err;
	}
	return rc;
}

static bool starts_with(const char *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	return n >= k && memcmp(p, lit, k) == 0;
}

/* The line (without its '\n') is one that is dropped: pg_dump's BEGIN;
 * and COMMIT; around large objects, its \restrict and \unrestrict. */
static bool dropped_line(const char *p, size_t n)
{
	size_t k;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	if ((n == 6 && memcmp(p, "BEGIN;", 6) == 0) || (n == 7 && memcmp(p, "COMMIT;", 7) == 0))
		return true;
	if (starts_with(p, n, "\\restrict "))
		k = 10;
	else if (starts_with(p, n, "\\unrestrict "))
		k = 12;
	else
		return false;
	if (n == k || n - k > 64)
		return false;
	for (; k < n; k++) {
		unsigned char c = (unsigned char)p[k];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)))
			return false;
	}
	return true;
}

static void line_begin(struct pg_script *s, unsigned char first)
{
	const struct pg_script_stmt *t = &s->st;

	s->line_start = false;
	s->line_len = 0;
	s->head_len = 0;
	if (s->in_copy) {
		s->line_clean = false;
		s->copy_pos = 0;
		return;
	}
	/* psql reads each line with the session's settings of that moment */
	s->std_strings_line = s->std_strings;
	s->line_clean = s->state == LX_INITIAL && s->tok == TOK_NONE && t->psql_ntok == 0 &&
	                t->paren_depth == 0 && t->begin_depth == 0;
	if (s->line_clean && (first == '\\' || first == 'B' || first == 'C')) {
		s->holding = true;
		s->hold_len = 0;
	}
}

static void line_end(struct pg_script *s)
{
	static const char dump[] = "-- PostgreSQL database dump";
	static const char cluster[] = "-- PostgreSQL database cluster dump";
	static const char complete[] = "-- PostgreSQL database dump complete";

	if (s->line_clean) {
		if (s->facts.lines < 8 && starts_with(s->head, s->head_len, cluster))
			s->facts.header_cluster = true;
		else if (s->facts.lines < 8 && starts_with(s->head, s->head_len, dump))
			s->facts.header_pg = true;
		if (s->line_len == sizeof(complete) - 1 &&
		    starts_with(s->head, s->head_len, complete))
			s->facts.complete = true;
	}
	s->facts.lines++;
	s->line_start = true;
	if (s->copies_pending > 0) {
		/* psql now reads COPY data; the rest of this line was lexed as it
		 * will be after the data */
		s->copies_pending--;
		s->in_copy = true;
	}
}

/* How many of the n bytes at p change nothing but the text kept: inside a
 * quote or comment, up to the next byte that may end it (or a '\n'). */
static size_t quiet_run(const struct pg_script *s, const char *p, size_t n)
{
	char a, b;
	size_t k = 0;

	if (s->sub != SUB_NONE || s->meta_len || s->str_varform)
		return 0;
	switch (s->state) {
	case LX_XQ:
	case LX_XB:
		a = b = '\'';
		break;
	case LX_XE:
		a = '\'';
		b = '\\';
		break;
	case LX_XD:
		a = b = '"';
		break;
	case LX_XDOLQ:
		if (s->tag_match != 0)
			return 0;
		a = b = '$';
		break;
	case LX_XC:
		a = '*';
		b = '/';
		break;
	case LX_LINE_COMMENT:
		a = b = '\r';
		break;
	default:
		return 0;
	}
	while (k < n && p[k] != a && p[k] != b && p[k] != '\n')
		k++;
	return k;
}

/* Bytes of the current line that were lexed: the head kept, the length. */
static void line_take(struct pg_script *s, const char *p, size_t n)
{
	size_t h = sizeof(s->head) - s->head_len;

	if (s->line_clean && h > 0) {
		h = h < n ? h : n;
		memcpy(s->head + s->head_len, p, h);
		s->head_len += h;
	}
	s->line_len += n;
}

/* In LX_INITIAL, how many of the n bytes at p only continue the token in
 * progress (or the blank before one); a word takes them in. */
static size_t token_run(struct pg_script *s, const char *p, size_t n)
{
	size_t k = 0;

	if (s->meta_len)
		return 0;
	switch (s->tok) {
	case TOK_NONE:
		while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r' || p[k] == '\f'))
			k++;
		break;
	case TOK_WORD:
		while (k < n && is_ident_cont((unsigned char)p[k]))
			word_add(s, (unsigned char)p[k++]);
		break;
	case TOK_NUM_INT:
	case TOK_NUM_DEC:
	case TOK_NUM_REAL:
	case TOK_PARAM:
		while (k < n && is_digit((unsigned char)p[k]))
			k++;
		break;
	case TOK_JUNK:
		while (k < n && is_ident_cont((unsigned char)p[k]))
			k++;
		break;
	default:
		break;
	}
	return k;
}

/* Takes a quiet run as lexing it byte by byte would. */
static void quiet_take(struct pg_script *s, const char *p, size_t n)
{
	size_t t;

	line_take(s, p, n);
	if (s->state != LX_XC && s->state != LX_LINE_COMMENT && !s->text_long) {
		t = sizeof(s->text) - 1 - s->text_len;
		if (n > t)
			s->text_long = true;
		else
			t = n;
		memcpy(s->text + s->text_len, p, t);
		s->text_len += t;
	}
}

/* Lexes bytes of one SQL line, up to and including its '\n'. */
static dbb_code lex_span(struct pg_script *s, const char *a, size_t n)
{
	dbb_code rc;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		size_t run;

		if (s->state == LX_INITIAL) {
			run = token_run(s, a + i, n - i);
			if (run > 0) {
				line_take(s, a + i, run);
				i += run - 1;
				continue;
			}
		} else {
			run = quiet_run(s, a + i, n - i);
			if (run > 0) {
				quiet_take(s, a + i, run);
				i += run - 1;
				continue;
			}
		}
		if (c == '\n') {
			rc = lx_byte(s, c);
			if (rc)
				return rc;
			line_end(s);
			continue;
		}
		if (s->line_clean && s->head_len < sizeof(s->head))
			s->head[s->head_len++] = (char)c;
		s->line_len++;
		rc = lx_byte(s, c);
		if (rc)
			return rc;
	}
	return DBB_OK;
}

/* COPY data: lines passed through as they are, up to a line "\." */
static const char *copy_span(struct pg_script *s, const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *stop = nl ? nl : end;

	for (const char *q = p; q < stop && s->copy_pos < sizeof(s->copy_head); q++)
		s->copy_head[s->copy_pos++] = *q;
	s->line_len += (uint64_t)(stop - p);
	if (!nl)
		return end;
	s->facts.lines++;
	s->line_start = true;
	if ((s->line_len == 2 && memcmp(s->copy_head, "\\.", 2) == 0) ||
	    (s->line_len == 3 && memcmp(s->copy_head, "\\.\r", 3) == 0)) {
		if (s->copies_pending > 0)
			s->copies_pending--; /* the next COPY of the same line */
		else
			s->in_copy = false;
	}
	return nl + 1;
}

/* A held line is complete (or too long to be dropped): drop it, or lex it
 * and pass it on. */
static dbb_code hold_done(struct pg_script *s, bool newline, struct dbb_error *err)
{
	dbb_code rc;

	s->holding = false;
	if (dropped_line(s->hold, s->hold_len - (newline ? 1 : 0))) {
		s->facts.dropped_lines++;
		s->facts.lines++;
		s->line_start = true;
		return DBB_OK;
	}
	rc = lex_span(s, s->hold, s->hold_len);
	if (rc) {
		*err = s->fail;
		return rc;
	}
	return out_write(s, s->hold, s->hold_len, err);
}

void pg_script_init(struct pg_script *s, struct dbb_sink *out)
{
	memset(s, 0, sizeof(*s));
	s->out = out;
	s->line_start = true;
	/* the restore starts psql with standard_conforming_strings on */
	s->std_strings = true;
	s->std_strings_line = true;
}

dbb_code pg_script_feed(struct pg_script *s, const void *buf, size_t len, struct dbb_error *err)
{
	const char *p = buf, *end = p + len, *run = p;
	const char *nul = len > 0 ? memchr(p, '\0', len) : NULL;
	dbb_code rc;

	if (s->failed)
		goto failed;
	if (nul)
		end = nul; /* what precedes it first: refusals come in the order of the bytes */
	s->facts.bytes += (uint64_t)(end - p);
	while (p < end) {
		if (s->line_start) {
			line_begin(s, (unsigned char)*p);
			if (s->holding) {
				rc = out_write(s, run, (size_t)(p - run), err);
				if (rc)
					return rc;
			}
		}
		if (s->holding) {
			bool newline = false;

			while (p < end && s->hold_len < sizeof(s->hold) && !newline) {
				newline = *p == '\n';
				s->hold[s->hold_len++] = *p++;
			}
			run = p;
			if (newline || s->hold_len == sizeof(s->hold)) {
				rc = hold_done(s, newline, err);
				if (rc)
					return rc;
			}
		} else if (s->in_copy) {
			p = copy_span(s, p, end);
		} else {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *stop = nl ? nl + 1 : end;

			if (lex_span(s, p, (size_t)(stop - p)))
				goto failed;
			p = stop;
		}
	}
	if (nul) {
		s->facts.nul_byte = true;
		pg_script_refuse(s, "a NUL byte: binary data, not a psql script");
		goto failed;
	}
	if (!s->holding)
		return out_write(s, run, (size_t)(end - run), err);
	return DBB_OK;
failed:
	*err = s->fail;
	return s->failed;
}

static const char *state_name(const struct pg_script *s)
{
	switch (s->state) {
	case LX_XC:
		return "a /* comment";
	case LX_XD:
		return "a quoted identifier";
	case LX_XDOLQ:
		return "a dollar-quoted string";
	case LX_XQ:
	case LX_XE:
	case LX_XB:
		return "a quoted string";
	default:
		return "a statement";
	}
}

dbb_code pg_script_finish(struct pg_script *s, struct dbb_error *err)
{
	dbb_code rc;

	if (s->failed)
		goto failed;
	if (s->holding) {
		rc = hold_done(s, false, err);
		if (rc)
			return rc;
	}
	if (s->in_copy || s->copies_pending) {
		s->facts.in_copy = true;
		pg_script_refuse(
		    s, "the dump is incomplete (truncated): it ends inside a COPY ... FROM stdin "
		       "data block");
		goto failed;
	}
	/* the restore sends a newline and its COMMIT after the script: they
	 * must be a statement of their own */
	if (lx_byte(s, '\n'))
		goto failed;
	if (s->state != LX_INITIAL || s->st.psql_ntok > 0 || s->st.paren_depth > 0 ||
	    s->st.begin_depth > 0) {
		pg_script_refuse(s, "the dump is incomplete (truncated): it ends inside %s",
		                 s->state == LX_XQS ? "a statement" : state_name(s));
		goto failed;
	}
	return DBB_OK;
failed:
	*err = s->fail;
	return s->failed;
}
