/* Unit tests for stream/gzip.c and stream/hash.c: round trips (also through
 * several compression threads, checked by gzip(1) too), concatenated members,
 * pass-through, a failing next sink, and every way a gzip file can be broken. */
#include <fcntl.h>
#include <unistd.h>

#include <zlib.h>

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

/* A sink that takes `room` bytes, then fails as a full disk does. */
struct full_sink {
	struct dbb_sink sink;
	size_t room, took;
	bool failed;
	int calls_after_failure;
};

static dbb_code full_write(struct dbb_sink *s, const void *p, size_t n, struct dbb_error *err)
{
	struct full_sink *f = (struct full_sink *)s;
	(void)p;
	if (f->failed)
		f->calls_after_failure++;
	if (f->took + n > f->room) {
		f->failed = true;
		return dbb_fail(err, DBB_ERR_NO_SPACE, "no space left on device");
	}
	f->took += n;
	return DBB_OK;
}

static void mem_init(struct mem *m)
{
	memset(m, 0, sizeof(*m));
	m->sink.write = mem_write;
	m->source.read = mem_read;
}

/* Compresses data with `threads` threads, written in pieces of `piece`
 * bytes (0: all at once). */
static void gz_compress_n(const unsigned char *data, size_t len, struct mem *out, int level,
                          unsigned threads, size_t piece)
{
	struct dbb_sink *gz = NULL;
	struct dbb_error err;
	const struct dbb_codec_options opt = {.level = level, .threads = threads};
	CHECK(dbb_gzip_sink_new(&out->sink, &opt, &gz, &err) == DBB_OK);
	size_t off = 0;
	while (off < len) {
		size_t n = piece && piece < len - off ? piece : len - off;
		CHECK(dbb_sink_write(gz, data + off, n, &err) == DBB_OK);
		off += n;
	}
	CHECK(dbb_sink_finish(gz, &err) == DBB_OK);
	dbb_sink_free(gz);
}

static void gz_compress(const unsigned char *data, size_t len, struct mem *out)
{
	gz_compress_n(data, len, out, 6, 2, 0);
}

/* gzip(1) must accept what we write: `gzip -t`, and `gunzip -c` gives the
 * input back. */
static void check_with_gzip_tool(const char *dir, const struct mem *z, const unsigned char *data,
                                 size_t n)
{
	char path[4200], cmd[9000];
	snprintf(path, sizeof(path), "%s/t.gz", dir);
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(z->buf, 1, z->len, f) == z->len);
	if (f)
		fclose(f);
	snprintf(cmd, sizeof(cmd), "gzip -t '%s'", path);
	CHECK(system(cmd) == 0);
	snprintf(cmd, sizeof(cmd), "gunzip -c '%s' > '%s/t'", path, dir);
	CHECK(system(cmd) == 0);
	snprintf(path, sizeof(path), "%s/t", dir);
	f = fopen(path, "rb");
	unsigned char *back = malloc(n + 1);
	size_t got = f ? fread(back, 1, n + 1, f) : 0;
	CHECK(got == n && memcmp(back, data, n) == 0);
	if (f)
		fclose(f);
	free(back);
}

/* Decompresses in; returns the code, output in out. */
static dbb_code decompress(struct mem *in, struct mem *out, struct dbb_error *err)
{
	struct dbb_source *gz = NULL;
	in->pos = 0;
	dbb_code rc = dbb_gunzip_source_new(&in->source, &gz, err);
	if (!rc)
		rc = dbb_stream_copy(gz, &out->sink, NULL, err);
	dbb_source_free(gz);
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
	CHECK(z.len > 20 && dbb_compression_sniff(z.buf, z.len) == DBB_COMPRESSION_GZIP);

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

	/* several threads: the same bytes whatever the thread count and the
	 * write sizes; readable by our source and by gzip(1); text-like data of
	 * several blocks so dictionary priming matters */
	char *dir = check_tmpdir();
	CHECK(dir != NULL);
	size_t tn = 5 * 1024 * 1024 + 12345;
	unsigned char *text = malloc(tn);
	/* SQL-like lines from a small vocabulary picked at random: about 3:1 */
	static const char *const words[] = {
	    "INSERT ",       "INTO ", "public.", "accounts ", "VALUES ", "(",  ")",  ", ",
	    "'caf\xc3\xa9'", "NULL",  ";\n",     "\\x00ff",   "ab",      "cd", "ef", "gh"};
	uint32_t seed = 12345;
	for (size_t i = 0; i < tn;) {
		seed = seed * 1103515245u + 12345u;
		char num[16];
		const char *w = words[(seed >> 16) % 16];
		if ((seed >> 8) % 3 == 0) {
			snprintf(num, sizeof(num), "%u", (unsigned)(seed >> 12) % 100000u);
			w = num;
		}
		for (size_t k = 0; w[k] && i < tn; k++)
			text[i++] = (unsigned char)w[k];
	}
	struct mem ref;
	mem_init(&ref);
	gz_compress_n(text, tn, &ref, 6, 1, 0);
	unsigned threads[] = {1, 2, 4, 0};
	size_t pieces[] = {0, 65536, 1000003, 4097};
	for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]); i++) {
		struct mem zz;
		mem_init(&zz);
		gz_compress_n(text, tn, &zz, 6, threads[i], pieces[i]);
		CHECK(zz.len == ref.len && memcmp(zz.buf, ref.buf, ref.len) == 0);
		mem_init(&out);
		CHECK(decompress(&zz, &out, &err) == DBB_OK);
		CHECK(out.len == tn && memcmp(out.buf, text, tn) == 0);
		free(out.buf);
		if (dir)
			check_with_gzip_tool(dir, &zz, text, tn);
		free(zz.buf);
	}
	/* priming keeps the ratio of one zlib stream (within 0.1 %) */
	{
		z_stream zs;
		memset(&zs, 0, sizeof(zs));
		CHECK(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
		uLong bound = deflateBound(&zs, tn);
		unsigned char *one = malloc(bound);
		zs.next_in = text;
		zs.avail_in = (uInt)tn;
		zs.next_out = one;
		zs.avail_out = (uInt)bound;
		CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END);
		CHECK(ref.len * 1000 <= zs.total_out * 1001);
		printf("%zu bytes in, %zu in blocks, %lu as one stream\n", tn, ref.len,
		       zs.total_out);
		deflateEnd(&zs);
		free(one);
	}
	/* other levels, an exact number of blocks, empty input, 4 threads */
	int levels[] = {1, 9};
	for (size_t i = 0; i < 2; i++) {
		struct mem zz;
		mem_init(&zz);
		gz_compress_n(text, 2 * 1024 * 1024, &zz, levels[i], 4, 0);
		if (dir)
			check_with_gzip_tool(dir, &zz, text, 2 * 1024 * 1024);
		free(zz.buf);
	}
	struct mem ez;
	mem_init(&ez);
	gz_compress_n(text, 0, &ez, 6, 4, 0);
	mem_init(&out);
	CHECK(decompress(&ez, &out, &err) == DBB_OK && out.len == 0);
	if (dir)
		check_with_gzip_tool(dir, &ez, text, 0);
	free(ez.buf);
	if (dir) {
		char cmd[4200];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK(system(cmd) == 0);
	}

	/* the next sink fails mid-stream (disk full): the error comes back, on
	 * write or at the latest on finish, later calls fail without touching
	 * next again, and cleanup (with or without finish) frees everything
	 * (ASan and valgrind say so) */
	for (unsigned t = 1; t <= 4; t *= 2) {
		size_t rooms[] = {0, 5, ref.len / 3, ref.len / 2, ref.len - 1};
		for (size_t r = 0; r < sizeof(rooms) / sizeof(rooms[0]); r++) {
			struct full_sink fs = {.sink.write = full_write, .room = rooms[r]};
			struct dbb_sink *gz = NULL;
			const struct dbb_codec_options opt = {.level = 6, .threads = t};
			CHECK(dbb_gzip_sink_new(&fs.sink, &opt, &gz, &err) == DBB_OK);
			dbb_code rc = DBB_OK;
			for (size_t off = 0; off < tn && !rc; off += 65536)
				rc = dbb_sink_write(gz, text + off,
				                    tn - off < 65536 ? tn - off : 65536, &err);
			if (r != 3) {
				if (!rc)
					rc = dbb_sink_finish(gz, &err);
				CHECK(rc == DBB_ERR_NO_SPACE);
				CHECK(dbb_sink_write(gz, "x", 1, &err) != DBB_OK);
				CHECK(dbb_sink_finish(gz, &err) != DBB_OK);
				CHECK(fs.calls_after_failure == 0);
			}
			dbb_sink_free(gz); /* r == 3: without finish */
		}
	}
	/* cleanup while blocks are in flight, nothing failed */
	{
		struct mem zz;
		mem_init(&zz);
		struct dbb_sink *gz = NULL;
		const struct dbb_codec_options opt = {.level = 6, .threads = 4};
		CHECK(dbb_gzip_sink_new(&zz.sink, &opt, &gz, &err) == DBB_OK);
		CHECK(dbb_sink_write(gz, text, tn, &err) == DBB_OK);
		dbb_sink_free(gz);
		free(zz.buf);
	}
	free(ref.buf);
	free(text);

	/* sha256 of "abc" */
	struct mem hm;
	mem_init(&hm);
	struct dbb_sink *h = NULL;
	char hex[65];
	uint64_t hbytes = 0;
	CHECK(dbb_hash_sink_new(&hm.sink, &h, &err) == DBB_OK);
	CHECK(dbb_sink_write(h, "abc", 3, &err) == DBB_OK);
	dbb_hash_sink_digest(h, hex, &hbytes);
	dbb_sink_free(h);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK(hbytes == 3 && hm.len == 3);

	free(hm.buf);
	free(two.buf);
	free(plain.buf);
	free(small.buf);
	free(z.buf);
	free(data);
	DONE();
}
