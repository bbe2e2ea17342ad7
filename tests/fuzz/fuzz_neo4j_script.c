/* libFuzzer target: the Neo4j backup script reader, on an uploaded .cypher
 * file, without a Neo4j. Input: one byte choosing how the bytes are handed
 * out (odd read sizes cross every buffer boundary), then the file.
 *
 * 1. What the restore runs on the whole file before the database is touched
 *    (ops.c validate_input): the gunzip source (gzip by magic, plain passed
 *    through), the driver's validate (statement splitting, end marker,
 *    parameter lines parsed as JSON, UTF-8), then the rest drained.
 * 2. The reader as restore uses it (no JSON or UTF-8 check), read to its end.
 *
 * What must hold: every refusal says why (a message);
 * every statement handed out starts with a keyword a backup uses and its
 * parameters (checked mode) are a JSON object; and a file validate accepts
 * is read by restore as exactly the same statements and parameters, so
 * nothing runs that validation did not see. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbbackupd/driver.h"
#include "dbbackupd/stream.h"
#include "driver/neo4j_internal.h"

#include "../mem_source.h"

/* The statements and parameters validate saw, for the comparison. */
struct seen {
	char *text; /* each statement, then '\x01', its params or "-", then '\x02' */
	size_t len, cap;
};

static void seen_add(struct seen *s, const char *p, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		size_t cap = (s->len + n + 1) * 2;
		char *t = realloc(s->text, cap);

		if (!t)
			abort();
		s->text = t;
		s->cap = cap;
	}
	memcpy(s->text + s->len, p, n);
	s->len += n;
}

static void seen_statement(struct seen *s, const char *stmt, const char *params)
{
	seen_add(s, stmt, strlen(stmt));
	seen_add(s, "\x01", 1);
	if (params)
		seen_add(s, params, strlen(params));
	else
		seen_add(s, "-", 1);
	seen_add(s, "\x02", 1);
}

static const char *const keywords[] = {"CREATE", "MERGE",  "MATCH",   "OPTIONAL", "UNWIND",
                                       "WITH",   "CALL",   "DROP",    "SET",      "REMOVE",
                                       "DELETE", "DETACH", "FOREACH", "RETURN"};

static void check_statement(const char *stmt, const char *params, bool checked)
{
	size_t i, n = 0, len = strlen(stmt);

	while (stmt[n] &&
	       ((stmt[n] >= 'a' && stmt[n] <= 'z') || (stmt[n] >= 'A' && stmt[n] <= 'Z')))
		n++;
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (n == strlen(keywords[i]) && !strncasecmp(stmt, keywords[i], n))
			break;
	if (i == sizeof(keywords) / sizeof(keywords[0]))
		abort(); /* a statement no backup holds got through */
	if (len && (stmt[len - 1] == ' ' || stmt[len - 1] == '\n' || stmt[len - 1] == '\t'))
		abort(); /* trailing blanks are trimmed */
	if (checked && params) {
		json_t *p = json_loads(params, 0, NULL);
		bool ok = json_is_object(p);

		json_decref(p);
		if (!ok)
			abort(); /* validate let a parameter line through that is not an object */
	}
}

/* The reader in restore's mode (no JSON/UTF-8 checks), through a gunzip
 * source as restore reads it; compares with what validate saw if it
 * accepted the file. */
static void read_as_restore(const uint8_t *data, size_t size, size_t step, const struct seen *ok)
{
	struct mem_source m = mem_source(data, size, step);
	struct dbb_source *gz = NULL;
	struct n4j_reader *r = malloc(sizeof(*r));
	struct seen s = {0};
	struct dbb_error err = {0};
	const char *stmt, *params;
	dbb_code rc;

	if (!r)
		abort();
	rc = dbb_decompress_source_new(&m.base, &gz, &err);
	if (rc) {
		if (ok)
			abort(); /* validate read it through the same source */
		goto out_gz;
	}
	n4j_reader_init(r, gz, false);
	for (;;) {
		rc = n4j_reader_next(r, &stmt, &params, &err);
		if (rc || !stmt)
			break;
		check_statement(stmt, params, false);
		seen_statement(&s, stmt, params);
	}
	n4j_reader_free(r);
	if (ok) {
		/* a file validate accepted reads the same in restore */
		if (rc != DBB_OK || s.len != ok->len ||
		    (s.len && memcmp(s.text, ok->text, s.len))) {
			fprintf(stderr, "restore read differs from validate (rc %d: %s)\n", (int)rc,
			        err.message);
			abort();
		}
	} else if (rc && err.message[0] == '\0') {
		abort();
	}
out_gz:
	dbb_source_free(gz);
	free(r);
	free(s.text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct dbb_config cfg;
	const struct dbb_driver *drv = dbb_driver_find("neo4j");
	struct dbb_driver_ctx ctx = {.cfg = &cfg};
	struct mem_source m;
	struct dbb_source *gz = NULL;
	struct dbb_error err = {0};
	struct seen s = {0};
	size_t step;
	dbb_code rc;

	if (!drv)
		abort();
	if (size < 1)
		return 0;
	/* 1..4096 bytes per read, and whole reads half the time */
	step = data[0] & 0x80 ? SIZE_MAX : (size_t)(data[0] & 0x7f) * 32 + 1;
	data++;
	size--;

	/* 1. validate, exactly as ops' validate_input runs it */
	m = mem_source(data, size, step);
	rc = dbb_decompress_source_new(&m.base, &gz, &err);
	if (!rc) {
		rc = drv->validate(&ctx, gz, &err);
		if (!rc)
			rc = dbb_stream_drain(gz, NULL, &err);
	}
	dbb_source_free(gz);
	if (rc && err.message[0] == '\0')
		abort();                /* every failure says why */
	if (getenv("DBB_FUZZ_VERBOSE")) /* for corpus work: what validate said */
		fprintf(stderr, "validate: %s\n", rc ? err.message : "accepted");

	/* 2. what validate accepted, statement by statement, in checked mode */
	if (rc == DBB_OK) {
		struct mem_source m2 = mem_source(data, size, step);
		struct dbb_source *gz2 = NULL;
		struct n4j_reader *r = malloc(sizeof(*r));
		const char *stmt, *params;

		if (!r || dbb_decompress_source_new(&m2.base, &gz2, &err))
			abort();
		n4j_reader_init(r, gz2, true);
		for (;;) {
			rc = n4j_reader_next(r, &stmt, &params, &err);
			if (rc || !stmt)
				break;
			check_statement(stmt, params, true);
			seen_statement(&s, stmt, params);
		}
		if (rc)
			abort(); /* the same file, the same reader: it must accept again */
		n4j_reader_free(r);
		dbb_source_free(gz2);
		free(r);
		read_as_restore(data, size, step, &s);
	} else {
		read_as_restore(data, size, step, NULL);
	}
	free(s.text);
	return 0;
}
