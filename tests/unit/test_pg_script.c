/* Unit tests for driver/pg_script.c: psql's lexical states, the meta-commands
 * and transaction control it must refuse wherever psql would run them, the
 * lines it drops, and that neither the verdict nor the output depends on
 * where the input is cut into chunks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "driver/pg_script.h"

struct mem_sink {
	struct dbb_sink base;
	char buf[8192];
	size_t len;
};

static dbb_code mem_sink_write(struct dbb_sink *self, const void *p, size_t n,
                               struct dbb_error *err)
{
	struct mem_sink *m = (struct mem_sink *)self;

	if (m->len + n > sizeof(m->buf))
		return dbb_fail(err, DBB_ERR_INTERNAL, "test sink full");
	memcpy(m->buf + m->len, p, n);
	m->len += n;
	return DBB_OK;
}

/* Runs the script in chunks of `chunk` bytes (0: whole); output in *sink. */
static dbb_code run(const char *script, size_t chunk, struct mem_sink *sink,
                    struct pg_script_facts *facts, struct dbb_error *err)
{
	struct pg_script s;
	size_t len = strlen(script), off = 0;
	dbb_code rc = DBB_OK;

	memset(sink, 0, sizeof(*sink));
	sink->base.write = mem_sink_write;
	memset(err, 0, sizeof(*err));
	pg_script_init(&s, &sink->base);
	while (off < len && !rc) {
		size_t n = chunk && len - off > chunk ? chunk : len - off;

		rc = pg_script_feed(&s, script + off, n, err);
		off += n;
	}
	if (!rc)
		rc = pg_script_finish(&s, err);
	if (facts)
		*facts = s.facts;
	return rc;
}

/* Accepted in chunks of every size, with `expect` as output (NULL: the
 * script itself). */
static bool accepts_as(const char *script, const char *expect)
{
	static struct mem_sink sink;
	struct dbb_error err;
	size_t len = strlen(script);

	if (!expect)
		expect = script;
	for (size_t chunk = 0; chunk <= len; chunk++) {
		dbb_code rc = run(script, chunk, &sink, NULL, &err);

		if (rc != DBB_OK) {
			fprintf(stderr, "  refused (chunk %zu): %s\n  script: %s\n", chunk,
			        err.message, script);
			return false;
		}
		if (sink.len != strlen(expect) || memcmp(sink.buf, expect, sink.len) != 0) {
			fprintf(stderr, "  output differs (chunk %zu): [%.*s]\n", chunk,
			        (int)sink.len, sink.buf);
			return false;
		}
		if (chunk > 70 && chunk < len)
			chunk = len - 1; /* then whole */
	}
	return true;
}

static bool accepts(const char *script)
{
	return accepts_as(script, NULL);
}

/* Refused in chunks of every size; the whole-buffer message holds `what`. */
static bool refuses(const char *script, const char *what)
{
	static struct mem_sink sink;
	struct dbb_error err;
	size_t len = strlen(script);

	for (size_t chunk = 0; chunk <= len; chunk++) {
		dbb_code rc = run(script, chunk, &sink, NULL, &err);

		if (rc != DBB_ERR_INVALID_BACKUP) {
			fprintf(stderr, "  accepted (chunk %zu): %s\n", chunk, script);
			return false;
		}
		if (chunk == 0 && what && !strstr(err.message, what)) {
			fprintf(stderr, "  message lacks \"%s\": %s\n", what, err.message);
			return false;
		}
		if (chunk > 70 && chunk < len)
			chunk = len - 1;
	}
	return true;
}

static void test_plain_sql(void)
{
	CHECK(accepts("SELECT 1;\n"));
	CHECK(accepts("CREATE TABLE public.t (id integer, note text);\nSELECT 2;\n"));
	CHECK(accepts("SELECT 'it''s \\ a backslash', \"a\\b\", x::int, a[1:2];\n"));
	CHECK(accepts("SELECT E'a\\'b', E'\\\\', e'\\x41';\n"));
	CHECK(accepts("SELECT N'x', B'0101', X'ff', U&'d\\0061t', U&\"d\\0061t\";\n"));
	CHECK(accepts("SELECT $$ \\! not a command; COMMIT; $$, $a$ $b$ \\x $b$ $a$;\n"));
	CHECK(accepts("SELECT $tag$\nmulti\n\\! line\n$tag$;\n"));
	CHECK(accepts("/* \\! /* nested */ still a comment */ SELECT 1;\n"));
	CHECK(accepts("-- \\! a comment\nSELECT 1; -- COMMIT;\n"));
	CHECK(accepts("SELECT 'a\nb\\\n';\n"));
	CHECK(accepts("SELECT 'a'\r'b';\n"));
	CHECK(accepts("SELECT :foo, :'FOO', :\"BAR\", x:=1, 1..2;\n"));
	CHECK(accepts("SELECT u&x, $1, $1a, 1e5, 1.5e-3, .5, 1e+;\n"));
	CHECK(accepts("DO $$BEGIN COMMIT; END$$;\nCALL p();\n"));
	CHECK(accepts("\n\n   \n"));
	CHECK(accepts("CREATE TABLE public.a_table_with_a_long_name_to_pass_the_hold_limit (id "
	              "integer, note text, another_column_name text, yet_another_one text);\n"
	              "COMMENT ON TABLE t IS 'BEGIN;';\n"));
	CHECK(accepts(""));
}

static void test_copy(void)
{
	CHECK(accepts("COPY public.t (id, note) FROM stdin;\n"
	              "1\t\\\\restrict looks like a meta-command\n"
	              "\\! data too\t'\t$$\t/*\n"
	              "COMMIT;\n"
	              "\\.x is data\n"
	              "\\.\n"
	              "SELECT 1;\n"));
	CHECK(accepts("COPY t FROM STDIN WITH (FORMAT csv);\n\"a\nb\"\n\\.\r\nSELECT 1;\n"));
	CHECK(accepts("copy \"T\" (a) from stdout;\n\\! x\n\\.\n"));
	CHECK(accepts("COPY t\n  FROM\n  stdin;\n\\! x\n\\.\n"));
	CHECK(accepts("COPY a FROM stdin; COPY b FROM stdin;\n1\n\\.\n2\n\\.\nSELECT 1;\n"));
	CHECK(accepts("COPY (SELECT 1 FROM stdin) TO STDOUT;\nSELECT 1;\n"));
	CHECK(refuses("COPY t TO '/tmp/x';\n", "server"));
	CHECK(refuses("COPY t FROM PROGRAM 'id';\n", "program"));
	CHECK(refuses("COPY (SELECT 1) TO PROGRAM 'id';\n", "program"));
	CHECK(refuses("COPY t FROM stdin;\n1\n", "COPY"));
	CHECK(refuses("COPY t FROM stdin;\n1\n\\.", "COPY"));
	CHECK(refuses("COPY t FROM stdin (FORMAT binary);\nx\n\\.\n", "binary"));
	CHECK(refuses("COPY BINARY t FROM stdin;\nx\n\\.\n", "binary"));
	CHECK(refuses("COPY t FROM stdin (FORMAT U&\"bin\\0061ry\");\nx\n\\.\n", "COPY"));
	/* a COPY hidden in a dollar quote is no COPY: what follows is SQL */
	CHECK(refuses("SELECT $$\nCOPY t FROM stdin;\n$$;\n\\! touch /tmp/x\n\\.\n", "\\!"));
	/* a COPY psql would send with other statements */
	CHECK(refuses("CREATE FUNCTION public.begin() RETURNS int LANGUAGE sql AS $$select 1$$;\n"
	              "COPY t FROM stdin;\n1\n\\.\n",
	              "COPY"));
}

static void test_meta_commands(void)
{
	CHECK(refuses("\\! id\n", "\\!"));
	CHECK(refuses("SELECT 1; \\! touch /tmp/x\n", "\\!"));
	CHECK(refuses("SELECT 1 \\g /tmp/x\n", "\\g"));
	CHECK(refuses("\\connect other\n", "\\connect"));
	CHECK(refuses("\\c other\n", "\\c"));
	CHECK(refuses("\\copy t from '/etc/passwd'\n", "\\copy"));
	CHECK(refuses("SELECT 1 \\; COMMIT;\n", "\\;"));
	CHECK(refuses("\\.\n", "\\."));
	CHECK(refuses("  \\restrict abc\n", "\\restrict"));
	CHECK(refuses("\\restrict abc \\\\ \\! id\n", "\\restrict"));
	CHECK(refuses("SELECT 1;\n\\unrestrict ab-c\n", "\\unrestrict"));
	/* -- ends at a carriage return too */
	CHECK(refuses("SELECT 1; -- comment\r\\! id\n", "\\!"));
	/* a number swallows the '-' after its exponent: no comment */
	CHECK(refuses("SELECT 1e--\\! id\n", "\\!"));
	CHECK(accepts("SELECT 1--\\! id\n;\n"));
	/* standard strings: the backslash ends nothing, the quote ends it */
	CHECK(refuses("SELECT 'a\\'; \\! id; --';\n", "\\!"));
	CHECK(accepts("SELECT E'a\\'; \\! id; --';\n"));
	/* "1e" is a number, so this is no E'' string */
	CHECK(refuses("SELECT 1e'\\'; \\! id; --';\n", "\\!"));
	CHECK(refuses("SELECT xe'\\'; \\! id; --';\n", "\\!"));
	/* "$e" without a closing '$': '$', then E'' */
	CHECK(accepts("SELECT $e'\\'; \\! id; --';\n"));
	/* psql never sees the '\n' between lines: no continuation */
	CHECK(refuses("SELECT E'a'\n'\\'; \\! id; --';\n", "\\!"));
	CHECK(accepts("SELECT E'a'\n\r'\\'; \\! id; --';\n"));
	CHECK(accepts("SELECT E'a' -- c\r  '\\'; \\! id; --';\n"));
	CHECK(refuses("SELECT E'a' \n'\\'; \\! id; --';\n", "\\!"));
	/* :'name' is one token */
	CHECK(refuses("SELECT :'abc''\\'; \\! id; --';\n", "\\!"));
	CHECK(refuses("SELECT :DBNAME;\n", ":NAME"));
}

static void test_standard_strings(void)
{
	CHECK(accepts("SET standard_conforming_strings = off;\nSELECT 'a\\'; \\! id; --';\n"));
	CHECK(accepts("SET standard_conforming_strings TO 'of';\nSELECT 'a\\'b';\n"));
	CHECK(
	    refuses("SET standard_conforming_strings = on;\nSELECT 'a\\'; \\! id; --';\n", "\\!"));
	/* psql reads the rest of the line with the value it had */
	CHECK(
	    refuses("SET standard_conforming_strings = off; SELECT 'a\\'; \\! id; --';\n", "\\!"));
	CHECK(refuses("SET standard_conforming_strings = off;\nRESET ALL;\n"
	              "SELECT 'a\\'; \\! id; --';\n",
	              "\\!"));
	CHECK(refuses("SET standard_conforming_strings = E'o\\146f';\n", "cannot read"));
	CHECK(refuses("SET standard_conforming_strings = maybe;\n", "cannot read"));
	CHECK(refuses("SET U&\"standard_conforming_strings\" = off;\n", "escapes"));
	CHECK(accepts("SET \"STANDARD_conforming_strings\" = \"off\";\nSELECT 'a\\'b';\n"));
	CHECK(accepts("SET client_encoding = 'UTF8';\nSET NAMES 'LATIN1';\nSET NAMES;\n"));
	CHECK(refuses("SET client_encoding = 'SJIS';\n", "client_encoding"));
	CHECK(
	    refuses("SELECT pg_catalog.set_config('standard_conforming_strings', 'off', false);\n",
	            "outside SET"));
	CHECK(refuses("SELECT set_config($$CLIENT_ENCODING$$, 'SJIS', false);\n", "outside SET"));
	CHECK(accepts("SELECT pg_catalog.set_config('search_path', '', false);\n"));
	CHECK(refuses("SET NAMES 'Big5';\n", "client_encoding"));
	CHECK(refuses("SET SESSION client_encoding TO 'windows-932';\n", "client_encoding"));
}

static void test_transaction_control(void)
{
	/* pg_dump's own lines around large objects are dropped */
	CHECK(accepts_as("SELECT 1;\nBEGIN;\n\nSELECT pg_catalog.lo_open('16385', 131072);\n"
	                 "SELECT pg_catalog.lo_close(0);\n\nCOMMIT;\n\nSELECT 2;\n",
	                 "SELECT 1;\n\nSELECT pg_catalog.lo_open('16385', 131072);\n"
	                 "SELECT pg_catalog.lo_close(0);\n\n\nSELECT 2;\n"));
	CHECK(accepts_as("\\restrict AbC123\nSELECT 1;\n\\unrestrict AbC123\n", "SELECT 1;\n"));
	CHECK(accepts_as("BEGIN;\r\nCOMMIT;", ""));
	/* every other form is refused */
	static const char *const forms[] = {"commit;\n",
	                                    "COMMIT ;\n",
	                                    " COMMIT;\n",
	                                    "COMMIT AND CHAIN;\n",
	                                    "END;\n",
	                                    "end transaction;\n",
	                                    "ROLLBACK;\n",
	                                    "ABORT;\n",
	                                    "START TRANSACTION;\n",
	                                    "BEGIN WORK;\n",
	                                    "begin;\n",
	                                    "SAVEPOINT a;\n",
	                                    "RELEASE a;\n",
	                                    "RELEASE SAVEPOINT a;\n",
	                                    "ROLLBACK TO a;\n",
	                                    "PREPARE TRANSACTION 'x';\n",
	                                    "COMMIT PREPARED 'x';\n",
	                                    "ROLLBACK PREPARED 'x';\n",
	                                    "/* c */ COMMIT;\n",
	                                    "SELECT 1; COMMIT;\n",
	                                    "SELECT 1;COMMIT;\n",
	                                    "COMMIT;SELECT 1;\n"};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		bool ok = refuses(forms[i], "transaction");

		if (!ok)
			fprintf(stderr, "  form: %s", forms[i]);
		CHECK(ok);
	}
	/* but not one in a string, comment, dollar quote or as a label */
	CHECK(accepts("SELECT 'COMMIT;', \"commit\", $$COMMIT;$$; -- COMMIT;\n"));
	CHECK(accepts("SELECT 1 AS commit;\nSELECT 1\nCOMMIT;\n"));
	CHECK(accepts("PREPARE p AS SELECT 1;\nEXECUTE p;\n"));
}

static void test_begin_atomic(void)
{
	CHECK(accepts("CREATE FUNCTION public.f() RETURNS integer\n    LANGUAGE sql\n"
	              "    BEGIN ATOMIC\n SELECT CASE WHEN true THEN 1 ELSE 2 END;\n"
	              " SELECT (CASE WHEN x.end THEN 1 END) FROM x;\nEND;\n"
	              "COPY t FROM stdin;\n1\n\\.\n"));
	CHECK(
	    accepts("CREATE FUNCTION f(i int) RETURNS int LANGUAGE sql BEGIN ATOMIC\n"
	            " RETURN CASE WHEN i > 0 THEN 1 END;\n"
	            " SELECT x FROM t ORDER BY CASE x WHEN 1 THEN 0 END, x = CASE WHEN true THEN 1 "
	            "END;\nEND;\nSELECT 1;\n"));
	CHECK(accepts("CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC END;\n"
	              "SELECT 1;\n"));
	CHECK(accepts("CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql RETURN 1;\n"
	              "SELECT 2;\n"));
	/* a function named begin: psql sends what follows with it, and the
	 * server runs the END as a COMMIT */
	CHECK(refuses("CREATE FUNCTION public.begin() RETURNS int LANGUAGE sql RETURN 1; END;\n",
	              "transaction"));
	CHECK(refuses("CREATE FUNCTION x() RETURNS int LANGUAGE sql AS 'select 1' begin; "
	              "COMMIT; end;\n",
	              "transaction"));
	/* a column label case: the body ends earlier than a CASE count says */
	CHECK(refuses("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1 case; "
	              "END; END;\n",
	              "CASE"));
	CHECK(refuses("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1 AS case; "
	              "END; END;\n",
	              "CASE"));
	CHECK(refuses("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT zone case; "
	              "END; END;\n",
	              "CASE"));
	CHECK(
	    refuses("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT return case; "
	            "END; END;\n",
	            "CASE"));
	CHECK(refuses("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT t.select "
	              "case FROM t; END; END;\n",
	              "CASE"));
	CHECK(refuses("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; COMMIT; "
	              "END;\n",
	              "BEGIN ATOMIC"));
	CHECK(refuses("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1::begin "
	              "atomic; END; END;\n",
	              "transaction"));
}

static void test_incomplete_and_binary(void)
{
	struct dbb_error err;

	CHECK(refuses("SELECT 1", "incomplete"));
	CHECK(refuses("SELECT 'abc;\n", "string"));
	CHECK(refuses("SELECT $$abc;\n", "dollar"));
	CHECK(refuses("/* SELECT 1;\n", "comment"));
	CHECK(refuses("SELECT (1;\n", "incomplete"));
	CHECK(refuses("SELECT 'a'", "incomplete"));
	CHECK(accepts("SELECT 1; -- no newline at the end"));
	{
		struct pg_script s;

		pg_script_init(&s, NULL);
		CHECK(pg_script_feed(&s, "SELECT 1;\n\0x", 12, &err) == DBB_ERR_INVALID_BACKUP);
		CHECK(s.facts.nul_byte);
		CHECK(pg_script_finish(&s, &err) == DBB_ERR_INVALID_BACKUP);
	}
	CHECK(refuses("SELECT $abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcde$ "
	              "x $abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcde$;\n",
	              "tag"));
}

static void test_facts(void)
{
	struct mem_sink sink;
	struct pg_script_facts facts;
	struct dbb_error err;

	CHECK(run("--\n-- PostgreSQL database dump\n--\n\nBEGIN;\nCOMMIT;\n"
	          "SELECT $$\n-- PostgreSQL database dump complete\n$$;\n",
	          3, &sink, &facts, &err) == DBB_OK);
	CHECK(facts.header_pg && !facts.header_cluster && !facts.complete);
	CHECK(facts.dropped_lines == 2);
	CHECK(facts.lines == 9);
	CHECK(run("--\n-- PostgreSQL database dump complete\n", 0, &sink, &facts, &err) == DBB_OK);
	CHECK(facts.complete);
	CHECK(run("\n\n\n\n\n\n\n\n-- PostgreSQL database dump\n", 0, &sink, &facts, &err) ==
	      DBB_OK);
	CHECK(!facts.header_pg);
	CHECK(run("SELECT 1;\nSELECT 2; \\! x\n", 0, &sink, &facts, &err) ==
	      DBB_ERR_INVALID_BACKUP);
	CHECK(strncmp(err.message, "line 2:", 7) == 0);
}

int main(void)
{
	test_plain_sql();
	test_copy();
	test_meta_commands();
	test_standard_strings();
	test_transaction_control();
	test_begin_atomic();
	test_incomplete_and_binary();
	test_facts();
	DONE();
}
