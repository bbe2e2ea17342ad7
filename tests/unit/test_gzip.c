/* Unit tests for stream/gzip.c and stream/hash.c: round trips, concatenated
 * members, pass-through, and every way a gzip file can be broken. */
#include <fcntl.h>
#include <unistd.h>

#include "check.h"
#include "dbbackupd/stream.h"

/* An in-memory sink/source pair for the tests (the daemon never does this). */
struct mem {
	struct dbb_sink sink;
	struct dbb_source source;
	unsigned char *buf;
	size_t len, cap, pos;
	size_t max_read; /* 0: any */
};

static dbb_code mem_write(struct dbb_sink *s, const void *p, size_t n, struct dbb_error *err)
{
	struct mem *m = (struct mem *)((char *)s - offsetof(struct mem, sink));
	if (m->len + n > m->cap) {
		m->cap = (m->len + n) * 2;
		m->buf = realloc(m->buf, m->cap);
	}
	memcpy(m->buf + m->len, p, n);
	m->len += n;
	return DBB_OK;
}

static dbb_code mem_read(struct dbb_source *s, void *p, size_t cap, size_t *got,
                         struct dbb_error *err)
{
	struct mem *m = (struct mem *)((char *)s - offsetof(struct mem, source));
	size_t n = m->len - m->pos;
	if (n > cap)
		n = cap;
	if (m->max_read && n > m->max_read)
		n = m->max_read;
	if (n)
		memcpy(p, m->buf + m->pos, n);
	m->pos += n;
	*got = n;
	return DBB_OK;
}

static void mem_init(struct mem *m)
{
	memset(m, 0, sizeof(*m));
	m->sink.write = mem_write;
	m->source.read = mem_read;
}

static void gz_compress(const unsigned char *data, size_t len, struct mem *out)
{
	struct dbb_gzip_sink *gz = malloc(sizeof(*gz));
	struct dbb_error err;
	CHECK(dbb_gzip_sink_init(gz, &out->sink, 6, &err) == DBB_OK);
	CHECK(dbb_sink_write(&gz->base, data, len, &err) == DBB_OK);
	CHECK(dbb_gzip_sink_finish(gz, &err) == DBB_OK);
	dbb_gzip_sink_cleanup(gz);
	free(gz);
}

/* Decompresses in; returns the code, output in out. */
static dbb_code decompress(struct mem *in, struct mem *out, struct dbb_error *err)
{
	struct dbb_gunzip_source *gz = malloc(sizeof(*gz));
	in->pos = 0;
	dbb_code rc = dbb_gunzip_source_init(gz, &in->source, err);
	if (!rc)
		rc = dbb_stream_copy(&gz->base, &out->sink, NULL, err);
	dbb_gunzip_source_cleanup(gz);
	free(gz);
	return rc;
}

int main(void)
{
	struct dbb_error err;
	size_t n = 3 * 1024 * 1024 + 17;
	unsigned char *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)((i * 2654435761u) >> (i % 13));

	struct mem z, out;
	mem_init(&z);
	gz_compress(data, n, &z);
	CHECK(z.len > 20 && dbb_is_gzip_magic(z.buf, z.len));

	/* round trip, also with a source that gives one byte at a time */
	mem_init(&out);
	CHECK(decompress(&z, &out, &err) == DBB_OK);
	CHECK(out.len == n && memcmp(out.buf, data, n) == 0);
	free(out.buf);
	z.max_read = 1;
	mem_init(&out);
	struct mem small;
	mem_init(&small);
	gz_compress((const unsigned char *)"hello", 5, &small);
	small.max_read = 1;
	CHECK(decompress(&small, &out, &err) == DBB_OK);
	CHECK(out.len == 5 && memcmp(out.buf, "hello", 5) == 0);
	free(out.buf);
	z.max_read = 0;

	/* two concatenated members are one valid file */
	struct mem two;
	mem_init(&two);
	gz_compress((const unsigned char *)"abc", 3, &two);
	gz_compress((const unsigned char *)"def", 3, &two);
	mem_init(&out);
	CHECK(decompress(&two, &out, &err) == DBB_OK);
	CHECK(out.len == 6 && memcmp(out.buf, "abcdef", 6) == 0);
	free(out.buf);

	/* not gzip: passes through unchanged; empty input: empty output */
	struct mem plain;
	mem_init(&plain);
	mem_write(&plain.sink, "SQLite format 3", 16, &err);
	mem_init(&out);
	CHECK(decompress(&plain, &out, &err) == DBB_OK);
	CHECK(out.len == 16 && memcmp(out.buf, "SQLite format 3", 16) == 0);
	free(out.buf);
	struct mem empty;
	mem_init(&empty);
	mem_init(&out);
	CHECK(decompress(&empty, &out, &err) == DBB_OK && out.len == 0);

	/* truncated anywhere: error, never success */
	size_t full = z.len;
	size_t cuts[] = {full - 1, full - 4, full - 8, full / 2, 10, 3};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		z.len = cuts[i];
		mem_init(&out);
		dbb_code rc = decompress(&z, &out, &err);
		CHECK(rc == DBB_ERR_INVALID_BACKUP);
		free(out.buf);
	}
	z.len = full;

	/* a flipped byte in the data or in the CRC: error */
	size_t flips[] = {full / 2, full - 6};
	for (size_t i = 0; i < 2; i++) {
		z.buf[flips[i]] ^= 0x55;
		mem_init(&out);
		CHECK(decompress(&z, &out, &err) == DBB_ERR_INVALID_BACKUP);
		free(out.buf);
		z.buf[flips[i]] ^= 0x55;
	}

	/* garbage after the last member: error */
	mem_write(&two.sink, "garbage", 7, &err);
	mem_init(&out);
	CHECK(decompress(&two, &out, &err) == DBB_ERR_INVALID_BACKUP);
	free(out.buf);

	/* sha256 of "abc" */
	struct mem hm;
	mem_init(&hm);
	struct dbb_hash_sink h;
	char hex[65];
	CHECK(dbb_hash_sink_init(&h, &hm.sink, &err) == DBB_OK);
	CHECK(dbb_sink_write(&h.base, "abc", 3, &err) == DBB_OK);
	dbb_hash_sink_final(&h, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK(h.bytes == 3 && hm.len == 3);

	free(hm.buf);
	free(two.buf);
	free(plain.buf);
	free(small.buf);
	free(z.buf);
	free(data);
	DONE();
}
