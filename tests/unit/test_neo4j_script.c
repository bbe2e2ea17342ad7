/* Unit tests of the Neo4j backup script reader: statement splitting across
 * read boundaries, parameter lines, the end marker, and the files it must
 * refuse (SQL dumps, SQLite, truncated or foreign scripts). */
#include "check.h"

#include "driver/neo4j_internal.h"

#include "../mem_source.h"

/* Reads every statement; returns the reader's code, the number of
 * statements in *count and the last error in *err. Statements are joined
 * with '|' into out (if given). */
static dbb_code read_all(const char *data, size_t len, size_t step, int *count, char *out,
                         size_t outcap, int *with_params, struct dbb_error *err)
{
	struct mem_source m = mem_source(data, len, step);
	struct n4j_reader *r = malloc(sizeof(*r));
	const char *stmt, *params;
	dbb_code rc;

	*count = 0;
	if (with_params)
		*with_params = 0;
	if (out)
		out[0] = '\0';
	n4j_reader_init(r, &m.base, true);
	for (;;) {
		rc = n4j_reader_next(r, &stmt, &params, err);
		if (rc || !stmt)
			break;
		(*count)++;
		if (params && with_params && strstr(params, "\"rows\""))
			(*with_params)++;
		if (out) {
			strncat(out, stmt, outcap - strlen(out) - 1);
			strncat(out, "|", outcap - strlen(out) - 1);
		}
	}
	n4j_reader_free(r);
	free(r);
	return rc;
}

static dbb_code read_str(const char *s, int *count, struct dbb_error *err)
{
	return read_all(s, strlen(s), 4096, count, NULL, 0, NULL, err);
}

static const char good[] =
    N4J_HEADER " (standard export) of database 'neo4j'\n"
               "// a comment\n"
               "CREATE CONSTRAINT `a;b` IF NOT EXISTS FOR (n:`L``x`) REQUIRE n.p IS UNIQUE;\n"
               "// dbb:params {\"rows\":{\"$type\":\"List\",\"_value\":[]}}\n"
               "UNWIND $rows AS r CREATE (n:X {s: \"x;y // z \\\" ;\"}) SET n += r[1];\n"
               "MATCH (n) /* ; */ WITH n\n"
               "  RETURN 'it''s; \\' ;' AS s;\n"
               ";\n" N4J_TRAILER ": 0 nodes, 0 relationships\n";

static void test_good(void)
{
	static const size_t steps[] = {1, 2, 3, 7, 64, 65536};
	char out[4096];
	struct dbb_error err = {0};
	int count, with_params;
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		dbb_code rc = read_all(good, sizeof(good) - 1, steps[i], &count, out, sizeof(out),
		                       &with_params, &err);

		CHECK(rc == DBB_OK);
		CHECK(count == 3);
		CHECK(with_params == 1);
		CHECK_STR(out,
		          "CREATE CONSTRAINT `a;b` IF NOT EXISTS FOR (n:`L``x`) REQUIRE n.p IS "
		          "UNIQUE|UNWIND $rows AS r CREATE (n:X {s: \"x;y // z \\\" ;\"}) SET n "
		          "+= r[1]|MATCH (n)   WITH n\n  RETURN 'it''s; \\' ;' AS s|");
	}
}

static void test_apoc_client_commands(void)
{
	struct dbb_error err = {0};
	int count;

	CHECK(read_str(N4J_HEADER " (apoc export)\n:begin\nCREATE (n:A);\n:commit\n" N4J_TRAILER
	                          "\n",
	               &count, &err) == DBB_OK);
	CHECK(count == 1);
	CHECK(read_str(N4J_HEADER "\n:exit\n" N4J_TRAILER "\n", &count, &err) ==
	      DBB_ERR_INVALID_BACKUP);
	CHECK(strstr(err.message, "client command") != NULL);
}

struct bad_case {
	const char *data;
	size_t len; /* 0: strlen */
	const char *message;
};

static void test_refused(void)
{
#ifdef DBB_WITH_SQLITE
	static const char sqlite[] = "SQLite format 3\0\x10\0\x01\x01\0@  ";
#endif
	static const struct bad_case cases[] = {
	    {"", 0, "empty"},
	/* other databases' files are named by their drivers' recognise hooks */
#ifdef DBB_WITH_POSTGRESQL
	    {"-- PostgreSQL database dump\nSET x = 1;\n", 0, "PostgreSQL"},
#endif
#ifdef DBB_WITH_MYSQL
	    {"-- MySQL dump 10.13\n/*!40101 SET NAMES utf8 */;\n", 0, "MySQL"},
#endif
	    {"CREATE TABLE t (x int);\n", 0, "SQL dump"},
#ifdef DBB_WITH_SQLITE
	    {sqlite, sizeof(sqlite) - 1, "SQLite"},
#endif
	    {"CREATE (:A);\n", 0, "first line"},
	    {N4J_HEADER "\nCREATE (:A);\n", 0, "end marker"},
	    {N4J_HEADER "\nCREATE (:A {s: \"abc;\n", 0, "unterminated string"},
	    {N4J_HEADER "\nCREATE (:A)\n" N4J_TRAILER "\n", 0, "has no ';'"},
	    {N4J_HEADER "\nCREATE (:A)", 0, "has no ';'"},
	    {N4J_HEADER "\n" N4J_TRAILER "\nCREATE (:A);\n", 0, "after the end"},
	    {N4J_HEADER "\nCREATE (:A \0);\n" N4J_TRAILER "\n", sizeof(N4J_HEADER) + 18, "binary"},
	    {N4J_HEADER "\nALTER USER neo4j SET PASSWORD 'x';\n" N4J_TRAILER "\n", 0,
	     "does not start"},
	    {N4J_HEADER "\n" N4J_PARAMS "{nope\nCREATE (:A);\n" N4J_TRAILER "\n", 0,
	     "not a JSON object"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dbb_error err = {0};
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].data);
		int count;
		dbb_code rc = read_all(cases[i].data, len, 5, &count, NULL, 0, NULL, &err);

		CHECK(rc == DBB_ERR_INVALID_BACKUP);
		if (!strstr(err.message, cases[i].message)) {
			fprintf(stderr, "case %zu: message '%s' lacks '%s'\n", i, err.message,
			        cases[i].message);
			CHECK(0);
		}
	}
}

static void test_ident(void)
{
	struct n4j_buf b;

	n4j_buf_init(&b, 64);
	CHECK(n4j_cy_ident(&b, "a`b c") == 0);
	CHECK_STR(b.data, "`a``b c`");
	n4j_buf_reset(&b);
	CHECK(n4j_cy_ident(&b, "") == 0);
	CHECK_STR(b.data, "``");
	n4j_buf_free(&b);
	n4j_buf_init(&b, 4);
	CHECK(n4j_buf_adds(&b, "12345") == -1); /* past the hard maximum */
	n4j_buf_free(&b);
}

static void test_url_display(void)
{
	char out[128];

	n4j_url_display("http://neo4j:secret@db:7474/x@y", out, sizeof(out));
	CHECK_STR(out, "http://db:7474/x@y");
	n4j_url_display("http://127.0.0.1:7474", out, sizeof(out));
	CHECK_STR(out, "http://127.0.0.1:7474");
}

static void test_row_split(void)
{
	static const char row[] = "[{\"$type\":\"String\",\"_value\":\"a,]\\\"\"},"
	                          "{\"$type\":\"List\",\"_value\":[1,2]}]";
	const char *first, *rest;
	size_t first_len, rest_len;

	CHECK(n4j_row_split(row, sizeof(row) - 1, &first, &first_len, &rest, &rest_len) == 0);
	CHECK(first_len == strlen("{\"$type\":\"String\",\"_value\":\"a,]\\\"\"}"));
	CHECK(strncmp(rest, "{\"$type\":\"List\",\"_value\":[1,2]}", rest_len) == 0);
	CHECK(rest_len == strlen("{\"$type\":\"List\",\"_value\":[1,2]}"));
	CHECK(n4j_row_split("[1]", 3, &first, &first_len, &rest, &rest_len) == -1);
	CHECK(n4j_row_split("[1,", 3, &first, &first_len, &rest, &rest_len) == -1);
	CHECK(n4j_row_split("{}", 2, &first, &first_len, &rest, &rest_len) == -1);
}

int main(void)
{
	test_good();
	test_apoc_client_commands();
	test_refused();
	test_ident();
	test_row_split();
	test_url_display();
	DONE();
}
