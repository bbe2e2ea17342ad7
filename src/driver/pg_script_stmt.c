/* The statement layer of the psql-script reader: on the lexer's tokens,
 * where psql sends a statement and where the server starts one; refuses
 * transaction control, follows SET/RESET of the settings the lexer depends
 * on and COPY ... FROM STDIN (see pg_script.h). */
#include <string.h>

#include "driver/pg_script_internal.h"

/* server statement kinds */
enum {
	ST_NONE,
	ST_OTHER,
	ST_PREPARE,
	ST_CREATE,
	ST_ROUTINE,
	ST_COPY,
	ST_SET,
	ST_RESET,
};

enum { PARAM_NONE, PARAM_STD, PARAM_ENC, PARAM_ALL };

static const char *const txn_words[] = {"begin",    "start", "commit",    "end",
                                        "rollback", "abort", "savepoint", "release"};

static bool is_txn_word(const char *w)
{
	for (size_t i = 0; i < sizeof(txn_words) / sizeof(txn_words[0]); i++)
		if (eq(w, txn_words[i]))
			return true;
	return false;
}

/* Reserved words after which CASE can only start an expression, never be a
 * column label (a label follows an expression; these words end none). */
static const char *const case_intro[] = {
    "select", "when",   "then",      "else",      "where",      "and",  "or",    "not",
    "having", "on",     "distinct",  "all",       "from",       "like", "ilike", "to",
    "limit",  "offset", "returning", "symmetric", "asymmetric", "case", "in",
};

static bool case_is_expression(const struct pg_script_stmt *t)
{
	switch (t->prev_kind) {
	case TK_OP:
	case TK_COMMA:
	case TK_LPAREN:
	case TK_LBRACK:
		return true;
	case TK_WORD:
		if (t->prev2_kind == TK_DOT || t->prev2_kind == TK_CAST)
			return false; /* x.select, x::zone: names */
		/* unreserved words are intros only where they cannot be a column */
		if (eq(t->prev_word, "return"))
			return t->body_ntok == 2; /* RETURN CASE ... as a body statement */
		if (eq(t->prev_word, "by"))
			return t->prev2_kind == TK_WORD &&
			       (eq(t->prev2_word, "order") || eq(t->prev2_word, "group"));
		for (size_t i = 0; i < sizeof(case_intro) / sizeof(case_intro[0]); i++)
			if (eq(t->prev_word, case_intro[i]))
				return true;
		return false;
	default:
		return false;
	}
}

/* psqlscan.l's {identifier} rule: is this a CREATE [OR REPLACE]
 * FUNCTION/PROCEDURE whose BEGIN ... END holds semicolons? */
static void psql_identifier(struct pg_script_stmt *t, const char *w)
{
	const char *c = t->idents;

	if (t->ident_count == 0)
		memset(t->idents, 0, sizeof(t->idents));
	if (t->ident_count < sizeof(t->idents) &&
	    (eq(w, "create") || eq(w, "function") || eq(w, "procedure") || eq(w, "or") ||
	     eq(w, "replace")))
		t->idents[t->ident_count] = w[0];
	if (t->ident_count < 1000)
		t->ident_count++;
	if (c[0] == 'c' &&
	    (c[1] == 'f' || c[1] == 'p' ||
	     (c[1] == 'o' && c[2] == 'r' && (c[3] == 'f' || c[3] == 'p'))) &&
	    t->paren_depth == 0) {
		if (eq(w, "begin"))
			t->begin_depth++;
		else if (eq(w, "case")) {
			if (t->begin_depth >= 1)
				t->begin_depth++;
		} else if (eq(w, "end")) {
			if (t->begin_depth > 0)
				t->begin_depth--;
		}
	}
}

static void stmt_reset_server(struct pg_script_stmt *t)
{
	t->ntok = 0;
	t->kind = ST_NONE;
	t->sub = 0;
	t->in_body = false;
	t->case_depth = 0;
	t->body_ntok = 0;
	t->set_param = PARAM_NONE;
	t->set_value = 0;
	t->set_on = false;
	t->set_bad_enc = false;
	t->copy_client = t->copy_from = t->copy_binary = t->copy_server = false;
}

/* PostgreSQL's parse_bool. */
static int parse_bool(const char *v, size_t n, bool *out)
{
	static const struct {
		const char *word;
		size_t min;
		bool value;
	} words[] = {{"true", 1, true}, {"false", 1, false}, {"yes", 1, true},
	             {"no", 1, false},  {"on", 2, true},     {"off", 2, false}};

	if (n == 1 && (v[0] == '1' || v[0] == '0')) {
		*out = v[0] == '1';
		return 0;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t wl = strlen(words[i].word);

		if (n >= words[i].min && n <= wl) {
			size_t k = 0;

			while (k < n &&
			       lower((unsigned char)v[k]) == (unsigned char)words[i].word[k])
				k++;
			if (k == n) {
				*out = words[i].value;
				return 0;
			}
		}
	}
	return -1;
}

/* Client encodings in which psql does not lex byte by byte (bytes after a
 * multibyte lead byte are hidden from its lexer), by PostgreSQL's cleaned
 * names (lower case, letters and digits only) and aliases. */
static bool encoding_is_unsafe(const char *v, size_t n)
{
	static const char *const unsafe[] = {
	    "big5",         "gb18030",    "gbk",        "johab",      "mskanji",   "shiftjis",
	    "shiftjis2004", "sjis",       "uhc",        "win932",     "win936",    "win949",
	    "win950",       "windows932", "windows936", "windows949", "windows950"};
	char clean[PG_SCRIPT_TEXT_MAX + 1];
	size_t k = 0;

	for (size_t i = 0; i < n && k < PG_SCRIPT_TEXT_MAX; i++) {
		unsigned char c = lower((unsigned char)v[i]);

		if ((c >= 'a' && c <= 'z') || is_digit(c))
			clean[k++] = (char)c;
	}
	clean[k] = '\0';
	for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++)
		if (eq(clean, unsafe[i]))
			return true;
	return false;
}

static dbb_code stmt_set_value(struct pg_script *s, uint8_t kind, const char *v, size_t n,
                               bool exact)
{
	struct pg_script_stmt *t = &s->st;

	if (t->set_value) {
		t->set_value = 2; /* a list: not what pg_dump writes */
		return DBB_OK;
	}
	t->set_value = 2;
	if (!exact)
		return DBB_OK;
	if (kind == TK_WORD && eq(v, "default")) {
		t->set_on = true; /* the session's value: on (PGOPTIONS), UTF8 */
		t->set_bad_enc = false;
		t->set_value = 1;
		return DBB_OK;
	}
	if (t->set_param == PARAM_STD) {
		if (parse_bool(v, n, &t->set_on) == 0)
			t->set_value = 1;
	} else {
		t->set_bad_enc = encoding_is_unsafe(v, n);
		t->set_value = 1;
	}
	return DBB_OK;
}

/* A setting name in SET/RESET: which one the lexer depends on. */
static uint8_t setting_of(uint8_t kind, const char *w, size_t n)
{
	if (kind == TK_WORD || kind == TK_QIDENT) {
		if (eq_nocase(w, n, "standard_conforming_strings"))
			return PARAM_STD;
		if (eq_nocase(w, n, "client_encoding"))
			return PARAM_ENC;
	}
	return PARAM_NONE;
}

/* First token of a server statement. */
static dbb_code stmt_first(struct pg_script *s, uint8_t kind, const char *w)
{
	struct pg_script_stmt *t = &s->st;

	t->kind = ST_OTHER;
	if (kind != TK_WORD)
		return DBB_OK;
	if (is_txn_word(w)) {
		char up[PG_SCRIPT_WORD_MAX];
		size_t i = 0;

		for (; w[i] && i + 1 < sizeof(up); i++)
			up[i] = (char)(w[i] >= 'a' && w[i] <= 'z' ? w[i] - 'a' + 'A' : w[i]);
		up[i] = '\0';
		return pg_script_refuse(
		    s,
		    "%s would end or change the restore's transaction; the restore runs in one "
		    "transaction and accepts only pg_dump's own whole lines \"BEGIN;\" and "
		    "\"COMMIT;\" (which it drops)",
		    up);
	}
	if (eq(w, "prepare"))
		t->kind = ST_PREPARE;
	else if (eq(w, "create"))
		t->kind = ST_CREATE;
	else if (eq(w, "copy"))
		t->kind = ST_COPY;
	else if (eq(w, "set"))
		t->kind = ST_SET;
	else if (eq(w, "reset"))
		t->kind = ST_RESET;
	return DBB_OK;
}

static dbb_code stmt_copy(struct pg_script *s, uint8_t kind, const char *w, size_t n)
{
	struct pg_script_stmt *t = &s->st;

	/* BINARY anywhere: before the table, as an option, FORMAT binary */
	if ((kind == TK_WORD || kind == TK_QIDENT || kind == TK_STRING) &&
	    eq_nocase(w, n, "binary"))
		t->copy_binary = true;
	if (t->paren_depth != 0 || kind == TK_LPAREN)
		return DBB_OK;
	/* sub 0: before FROM/TO; 1: after it; 2: after PROGRAM; 3: done */
	if (t->sub == 0 && kind == TK_WORD && (eq(w, "from") || eq(w, "to"))) {
		t->copy_from = eq(w, "from");
		t->sub = 1;
	} else if (t->sub == 1 && kind == TK_WORD && eq(w, "program")) {
		t->copy_server = true;
		t->sub = 2;
	} else if (t->sub == 1) {
		t->copy_client = kind == TK_WORD && (eq(w, "stdin") || eq(w, "stdout"));
		t->copy_server = !t->copy_client;
		t->sub = 3;
	} else if (t->sub == 2) {
		t->sub = 3;
	}
	return DBB_OK;
}

static dbb_code stmt_set(struct pg_script *s, uint8_t kind, const char *w, size_t n, bool exact)
{
	struct pg_script_stmt *t = &s->st;

	/* sub 0: after SET; 1: after SESSION/LOCAL; 2: after the name; 3: after = / TO */
	switch (t->sub) {
	case 0:
	case 1:
		if (t->sub == 0 && kind == TK_WORD && (eq(w, "session") || eq(w, "local"))) {
			t->sub = 1;
			return DBB_OK;
		}
		if (kind == TK_WORD && eq(w, "names")) {
			t->set_param = PARAM_ENC;
			t->sub = 3;
			return DBB_OK;
		}
		if (kind == TK_QIDENT && !exact)
			return pg_script_refuse(
			    s, "SET of a setting named by a quoted identifier with escapes");
		t->set_param = setting_of(kind, w, n);
		t->sub = t->set_param == PARAM_NONE ? 9 : 2;
		return DBB_OK;
	case 2:
		if ((kind == TK_OP && eq(w, "=")) || (kind == TK_WORD && eq(w, "to"))) {
			t->sub = 3;
			return DBB_OK;
		}
		t->set_value = 2; /* FROM CURRENT, ... */
		t->sub = 9;
		return DBB_OK;
	case 3:
		if (kind == TK_COMMA) {
			t->set_value = 2;
			return DBB_OK;
		}
		if (kind == TK_WORD || kind == TK_QIDENT || kind == TK_STRING || kind == TK_NUMBER)
			return stmt_set_value(s, kind, w, n, exact);
		t->set_value = 2;
		return DBB_OK;
	default:
		return DBB_OK;
	}
}

static dbb_code stmt_reset_token(struct pg_script *s, uint8_t kind, const char *w, size_t n,
                                 bool exact)
{
	struct pg_script_stmt *t = &s->st;

	if (t->sub != 0) {
		t->set_value = 2; /* RESET a b: not what pg_dump writes */
		return DBB_OK;
	}
	t->sub = 1;
	if (kind == TK_QIDENT && !exact)
		return pg_script_refuse(
		    s, "RESET of a setting named by a quoted identifier with escapes");
	t->set_param = (kind == TK_WORD && eq(w, "all")) ? PARAM_ALL : setting_of(kind, w, n);
	t->set_value = 1;
	t->set_on = true; /* the session's values: standard strings on, UTF8 */
	t->set_bad_enc = false;
	return DBB_OK;
}

static dbb_code stmt_create(struct pg_script *s, uint8_t kind, const char *w)
{
	struct pg_script_stmt *t = &s->st;
	bool routine = kind == TK_WORD && (eq(w, "function") || eq(w, "procedure"));

	/* CREATE [OR REPLACE] FUNCTION|PROCEDURE */
	if (t->ntok == 1 && kind == TK_WORD && eq(w, "or"))
		t->sub = 1;
	else if (t->ntok == 2 && t->sub == 1 && kind == TK_WORD && eq(w, "replace"))
		t->sub = 2;
	else if ((t->ntok == 1 || (t->ntok == 3 && t->sub == 2)) && routine)
		t->kind = ST_ROUTINE;
	else
		t->kind = ST_OTHER;
	return DBB_OK;
}

static bool prev_is_begin(const struct pg_script_stmt *t)
{
	return t->prev_kind == TK_WORD && eq(t->prev_word, "begin") && t->prev2_kind != TK_DOT &&
	       t->prev2_kind != TK_CAST;
}

/* A token inside BEGIN ATOMIC ... END, the way the server's grammar reads
 * the body: statements separated by ';', CASE ... END inside them. Anything
 * that could make the server see the body end where this does not is
 * refused, so that a top-level END (= COMMIT) cannot pass as the body's. */
static dbb_code body_token(struct pg_script *s, uint8_t kind, const char *w)
{
	struct pg_script_stmt *t = &s->st;
	bool first = t->body_ntok == 0;

	t->body_ntok++;
	if (t->paren_depth != 0 || kind != TK_WORD)
		return DBB_OK;
	if (first && !eq(w, "end") &&
	    (is_txn_word(w) || eq(w, "copy") || eq(w, "set") || eq(w, "reset") || eq(w, "prepare")))
		return pg_script_refuse(
		    s, "%s inside a CREATE FUNCTION/PROCEDURE ... BEGIN ATOMIC body", w);
	if (eq(w, "case")) {
		if (!case_is_expression(t))
			return pg_script_refuse(
			    s,
			    "CASE after \"%s\" in a BEGIN ATOMIC body (a column label named case "
			    "would hide where the body ends; quote it)",
			    t->prev_kind == TK_WORD ? t->prev_word : "?");
		t->case_depth++;
	} else if (eq(w, "end")) {
		if (t->case_depth > 0)
			t->case_depth--;
		else
			t->in_body = false;
	} else if (eq(w, "atomic") && prev_is_begin(t)) {
		return pg_script_refuse(s, "BEGIN ATOMIC inside a BEGIN ATOMIC body");
	}
	return DBB_OK;
}

/* A token of the server statement in progress. */
static dbb_code stmt_token(struct pg_script *s, uint8_t kind, const char *w, size_t n, bool exact)
{
	struct pg_script_stmt *t = &s->st;
	dbb_code rc = DBB_OK;

	if (t->in_body)
		rc = body_token(s, kind, w);
	else if (t->ntok == 0)
		rc = stmt_first(s, kind, w);
	else
		switch (t->kind) {
		case ST_PREPARE:
			if (t->ntok == 1 && kind == TK_WORD && eq(w, "transaction"))
				rc = pg_script_refuse(
				    s, "PREPARE TRANSACTION would end the restore's transaction");
			t->kind = ST_OTHER;
			break;
		case ST_CREATE:
			rc = stmt_create(s, kind, w);
			break;
		case ST_ROUTINE:
			if (t->paren_depth == 0 && kind == TK_WORD && eq(w, "atomic") &&
			    prev_is_begin(t)) {
				t->in_body = true;
				t->case_depth = 0;
				t->body_ntok = 0;
			}
			break;
		case ST_COPY:
			if (t->sub >= 1 && !exact && (kind == TK_QIDENT || kind == TK_STRING))
				rc = pg_script_refuse(
				    s, "COPY option written with escapes (cannot tell its "
				       "format)");
			else
				rc = stmt_copy(s, kind, w, n);
			break;
		case ST_SET:
			rc = stmt_set(s, kind, w, n, exact);
			break;
		case ST_RESET:
			rc = stmt_reset_token(s, kind, w, n, exact);
			break;
		default:
			break;
		}
	t->ntok++;
	return rc;
}

static const char *param_name(uint8_t p)
{
	switch (p) {
	case PARAM_STD:
		return "standard_conforming_strings";
	case PARAM_ENC:
		return "client_encoding";
	default:
		return "all settings";
	}
}

/* The end of a server statement (a ';' outside any body): what it changes
 * for the lexer. alone: psql sends it on its own. */
static dbb_code stmt_end(struct pg_script *s, bool alone)
{
	struct pg_script_stmt *t = &s->st;

	if (t->kind == ST_COPY && t->copy_server)
		return pg_script_refuse(
		    s, "COPY from or to a program or a file on the database server (plain "
		       "pg_dump output only has COPY ... FROM stdin)");
	if (t->kind == ST_COPY && t->copy_from && t->copy_client) {
		if (!alone)
			return pg_script_refuse(
			    s, "COPY ... FROM STDIN in a statement that psql sends together "
			       "with others (its CREATE FUNCTION ... BEGIN heuristic has not "
			       "seen the END)");
		if (t->copy_binary)
			return pg_script_refuse(
			    s, "binary COPY ... FROM STDIN (psql would read the rest of "
			       "the script as its data)");
		s->copies_pending++;
	}
	if ((t->kind == ST_SET || t->kind == ST_RESET) && t->set_param != PARAM_NONE) {
		if (t->kind == ST_SET && t->set_param == PARAM_ENC && t->set_value == 0 &&
		    t->sub == 3) {
			t->set_value = 1; /* SET NAMES; = DEFAULT */
			t->set_bad_enc = false;
		}
		if (!alone)
			return pg_script_refuse(
			    s,
			    "SET/RESET of %s in a statement that psql sends together "
			    "with others",
			    param_name(t->set_param));
		if (t->set_value != 1)
			return pg_script_refuse(
			    s,
			    "%s set to a value this check cannot read (write it as "
			    "pg_dump does, e.g. SET %s = on)",
			    param_name(t->set_param), param_name(t->set_param));
		if (t->set_param == PARAM_STD || t->set_param == PARAM_ALL)
			s->std_strings = t->set_on;
		if (t->set_param == PARAM_ENC && t->set_bad_enc)
			return pg_script_refuse(
			    s, "client_encoding set to an encoding in which psql does not "
			       "read the script byte by byte (SJIS, BIG5, GBK, UHC, GB18030, "
			       "JOHAB, SHIFT_JIS_2004): dump with pg_dump --encoding=UTF8");
	}
	return DBB_OK;
}

static dbb_code stmt_semi(struct pg_script *s)
{
	struct pg_script_stmt *t = &s->st;
	bool sends = t->paren_depth == 0 && t->begin_depth == 0;
	dbb_code rc = DBB_OK;

	if (t->paren_depth == 0) {
		if (t->in_body && !sends) {
			if (t->case_depth != 0)
				rc =
				    pg_script_refuse(s, "';' inside a CASE of a BEGIN ATOMIC body");
			t->body_ntok = 0;
		} else if (!t->in_body) {
			rc = stmt_end(s, sends && !t->merged);
			stmt_reset_server(t);
			t->merged = !sends;
		}
	}
	if (sends) {
		/* psql sends its query buffer here */
		t->ident_count = 0;
		t->psql_ntok = 0;
		stmt_reset_server(t);
		t->merged = false;
	} else {
		t->psql_ntok++;
	}
	t->prev2_kind = t->prev_kind;
	memcpy(t->prev2_word, t->prev_word, strlen(t->prev_word) + 1);
	t->prev_kind = TK_SEMI;
	t->prev_word[0] = '\0';
	return rc;
}

/* Every token the lexer finds (w: lower-cased word, or the text of a
 * string/quoted identifier as far as kept; exact: w is the whole value). */
dbb_code pg_stmt_token(struct pg_script *s, uint8_t kind, const char *w, size_t n, bool exact)
{
	struct pg_script_stmt *t = &s->st;
	dbb_code rc;

	if (s->failed)
		return s->failed;
	if (kind == TK_WORD)
		psql_identifier(t, w);
	if (kind == TK_LPAREN)
		t->paren_depth++;
	else if (kind == TK_RPAREN && t->paren_depth > 0)
		t->paren_depth--;
	if (kind == TK_SEMI)
		return stmt_semi(s);
	t->psql_ntok++;
	/* set_config('client_encoding', ...) and the like outside SET: the
	 * direct spelling of a change this reader could not follow (a computed
	 * one is why psql's \restrict is required, pg_script.h) */
	if (kind == TK_STRING && exact && setting_of(TK_WORD, w, n) != PARAM_NONE)
		return pg_script_refuse(s,
		                        "the string '%s' outside SET: a change of it at run time "
		                        "would change how psql reads the rest",
		                        w);
	rc = stmt_token(s, kind, w, n, exact);
	t->prev2_kind = t->prev_kind;
	memcpy(t->prev2_word, t->prev_word, strlen(t->prev_word) + 1);
	t->prev_kind = kind;
	if (kind == TK_WORD && n < sizeof(t->prev_word))
		memcpy(t->prev_word, w, n + 1);
	else
		t->prev_word[0] = '\0';
	return rc;
}
