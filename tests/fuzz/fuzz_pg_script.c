/* libFuzzer target: the PostgreSQL psql-script lexer (driver/pg_script.c)
 * and the driver's validate, on an uploaded plain dump, without a server.
 * Input: one byte choosing how the bytes are cut into chunks, then the file.
 *
 * What must hold (differential, between runs of the same code):
 * 1. the verdict and its message (and for an accepted script the facts and
 *    the filtered output) do not depend on where the input is cut;
 * 2. a script the lexer accepts comes out byte for byte, less whole lines
 *    that are exactly BEGIN; / COMMIT; / \restrict KEY / \unrestrict KEY
 *    (the restore filter drops nothing else and adds nothing);
 * 3. the filtered output is a fixed point: accepted again, unchanged, with
 *    no line dropped;
 * 4. validate (what the restore runs before anything is touched) accepts
 *    only what the lexer accepts; every refusal carries a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbbackupd/driver.h"
#include "driver/pg_script.h"

#include "../mem_source.h"

extern const struct dbb_driver dbb_driver_postgresql;

struct buf_sink {
	struct dbb_sink base;
	char *p;
	size_t len, cap;
};

static dbb_code buf_sink_write(struct dbb_sink *self, const void *p, size_t n,
                               struct dbb_error *err)
{
	struct buf_sink *b = (struct buf_sink *)self;

	(void)err;
	if (b->len + n > b->cap)
		abort(); /* the filter never writes more than it read */
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return DBB_OK;
}

struct result {
	dbb_code rc;
	struct dbb_error err;
	struct pg_script_facts facts;
	struct buf_sink out;
};

/* chunk == 0: whole; else sizes from a small generator seeded by chunk */
static void scan(const uint8_t *data, size_t size, unsigned chunk, struct result *r)
{
	struct pg_script s;
	size_t off = 0;
	uint32_t x = chunk * 2654435761u + 1;

	r->out.base.write = buf_sink_write;
	r->out.len = 0;
	memset(&r->err, 0, sizeof(r->err));
	pg_script_init(&s, &r->out.base);
	r->rc = DBB_OK;
	while (off < size && !r->rc) {
		size_t n = size - off;

		if (chunk) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			n = 1 + x % (chunk < 8 ? 8 : 97);
			if (n > size - off)
				n = size - off;
		}
		r->rc = pg_script_feed(&s, data + off, n, &r->err);
		off += n;
	}
	if (!r->rc)
		r->rc = pg_script_finish(&s, &r->err);
	r->facts = s.facts;
}

static bool is_dropped_line(const char *p, size_t n)
{
	size_t k;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	if ((n == 6 && !memcmp(p, "BEGIN;", 6)) || (n == 7 && !memcmp(p, "COMMIT;", 7)))
		return true;
	if (n > 10 && !memcmp(p, "\\restrict ", 10))
		k = 10;
	else if (n > 12 && !memcmp(p, "\\unrestrict ", 12))
		k = 12;
	else
		return false;
	for (; k < n; k++)
		if (!((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z') ||
		      (p[k] >= '0' && p[k] <= '9')))
			return false;
	return true;
}

/* out is in with some whole lines removed, each one a dropped-line form. */
static void check_only_lines_dropped(const char *in, size_t in_len, const char *out, size_t out_len,
                                     uint64_t dropped)
{
	size_t i = 0, o = 0;
	uint64_t removed = 0;

	while (i < in_len) {
		const char *nl = memchr(in + i, '\n', in_len - i);
		size_t line = nl ? (size_t)(nl - (in + i)) + 1 : in_len - i;

		if (o + line <= out_len && memcmp(in + i, out + o, line) == 0) {
			o += line;
		} else {
			if (!is_dropped_line(in + i, nl ? line - 1 : line)) {
				fprintf(stderr, "line at byte %zu changed, not dropped\n", i);
				abort();
			}
			removed++;
		}
		i += line;
	}
	if (o != out_len || removed != dropped) {
		fprintf(stderr, "output %zu/%zu bytes, %llu lines removed, %llu counted\n", o,
		        out_len, (unsigned long long)removed, (unsigned long long)dropped);
		abort();
	}
}

static void same(const struct result *a, const struct result *b)
{
	if (a->rc != b->rc || strcmp(a->err.message, b->err.message) != 0 ||
	    (!a->rc && memcmp(&a->facts, &b->facts, sizeof(a->facts)) != 0)) {
		fprintf(stderr, "chunking changed the verdict: %d '%s' vs %d '%s'\n", a->rc,
		        a->err.message, b->rc, b->err.message);
		abort();
	}
	if (!a->rc && (a->out.len != b->out.len || memcmp(a->out.p, b->out.p, a->out.len) != 0)) {
		fprintf(stderr, "chunking changed the output\n");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct result whole, cut, again;
	struct dbb_config cfg;
	struct dbb_driver_ctx ctx = {.cfg = &cfg};
	struct mem_source src;
	struct dbb_error verr = {0};
	dbb_code vrc;
	unsigned chunk;

	if (size < 1)
		return 0;
	chunk = data[0];
	data++;
	size--;
	free(whole.out.p);
	free(cut.out.p);
	free(again.out.p);
	whole.out.p = malloc(size + 1);
	cut.out.p = malloc(size + 1);
	again.out.p = malloc(size + 1);
	if (!whole.out.p || !cut.out.p || !again.out.p)
		abort();
	whole.out.cap = cut.out.cap = again.out.cap = size;

	scan(data, size, 0, &whole);
	scan(data, size, chunk ? chunk : 1, &cut);
	same(&whole, &cut);
	if (whole.rc && !whole.err.message[0])
		abort();
	if (!whole.rc) {
		check_only_lines_dropped((const char *)data, size, whole.out.p, whole.out.len,
		                         whole.facts.dropped_lines);
		scan((const uint8_t *)whole.out.p, whole.out.len, 0, &again);
		if (again.rc || again.facts.dropped_lines != 0 || again.out.len != whole.out.len ||
		    memcmp(again.out.p, whole.out.p, whole.out.len) != 0) {
			fprintf(stderr, "filtered output is no fixed point: %s\n",
			        again.err.message);
			abort();
		}
	}

	memset(&cfg, 0, sizeof(cfg));
	src = mem_source(data, size, chunk ? chunk : 0);
	vrc = dbb_driver_postgresql.validate(&ctx, &src.base, &verr);
	if (vrc && !verr.message[0])
		abort();
	if (!vrc && whole.rc) {
		fprintf(stderr, "validate accepted what the lexer refused: %s\n",
		        whole.err.message);
		abort();
	}
	return 0;
}
