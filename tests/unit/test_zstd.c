/* Unit tests for stream/zstd.c and stream/chain.c: zstd round trips (one
 * and several libzstd workers, checked by zstd(1) both ways), the content
 * checksum in every frame, truncated, corrupt and trailing bytes as invalid
 * backups, a failing next sink, decoding by magic bytes, and the chains'
 * totals and SHA-256. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "check.h"
#include "dbbackupd/stream.h"
#include "../mem_source.h"

struct mem_sink {
	struct dbb_sink base;
	unsigned char *buf;
	size_t len, cap;
	size_t room; /* fails past this many bytes (SIZE_MAX: never) */
	unsigned calls_after_failure;
	bool failed;
};

static dbb_code mem_write(struct dbb_sink *self, const void *buf, size_t n, struct dbb_error *err)
{
	struct mem_sink *m = (struct mem_sink *)self;
	if (m->failed)
		m->calls_after_failure++;
	if (m->len + n > m->room) {
		m->failed = true;
		return dbb_fail(err, DBB_ERR_NO_SPACE, "no space left on device");
	}
	if (m->len + n > m->cap) {
		size_t cap = m->cap ? m->cap : 4096;
		while (cap < m->len + n)
			cap *= 2;
		unsigned char *p = realloc(m->buf, cap);
		if (!p)
			abort();
		m->buf = p;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, buf, n);
	m->len += n;
	return DBB_OK;
}

static struct mem_sink mem_sink(void)
{
	return (struct mem_sink){.base.write = mem_write, .room = SIZE_MAX};
}

/* Text that compresses, with some noise. */
static unsigned char *make_data(size_t n)
{
	unsigned char *d = malloc(n);
	uint32_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		d[i] = (i % 97 < 80) ? (unsigned char)("INSERT INTO t VALUES (1, 'abc');\n"[i % 33])
		                     : (unsigned char)(x >> 24);
	}
	return d;
}

static void zstd_compress_with(const unsigned char *data, size_t len, struct mem_sink *out,
                               const struct dbb_codec_options *opt, size_t piece)
{
	struct dbb_sink *z = NULL;
	struct dbb_error err = {0};
	CHECK(dbb_zstd_sink_new(&out->base, opt, &z, &err) == DBB_OK);
	for (size_t off = 0; off < len;) {
		size_t n = piece && piece < len - off ? piece : len - off;
		CHECK(dbb_sink_write(z, data + off, n, &err) == DBB_OK);
		off += n;
	}
	CHECK(dbb_sink_finish(z, &err) == DBB_OK);
	dbb_sink_free(z);
}

static void zstd_compress(const unsigned char *data, size_t len, struct mem_sink *out, int level,
                          unsigned threads, size_t piece)
{
	const struct dbb_codec_options opt = {.level = level, .threads = threads};
	zstd_compress_with(data, len, out, &opt, piece);
}

/* Decodes in through the magic-bytes source (as a restore does). */
static dbb_code decode(const unsigned char *in, size_t len, size_t step, struct mem_sink *out,
                       struct dbb_error *err)
{
	struct mem_source m = mem_source(in, len, step);
	struct dbb_source *src = NULL;
	dbb_code rc = dbb_decompress_source_new(&m.base, &src, err);
	if (!rc)
		rc = dbb_stream_copy(src, &out->base, NULL, err);
	dbb_source_free(src);
	if (rc)
		CHECK(err->message[0] != '\0');
	return rc;
}

static void check_round_trip(const unsigned char *data, size_t n, const struct mem_sink *z)
{
	struct mem_sink back = mem_sink();
	struct dbb_error err = {0};
	CHECK(decode(z->buf, z->len, 0, &back, &err) == DBB_OK);
	CHECK(back.len == n && (n == 0 || memcmp(back.buf, data, n) == 0));
	free(back.buf);
	back = mem_sink();
	CHECK(decode(z->buf, z->len, 7, &back, &err) == DBB_OK); /* tiny reads */
	CHECK(back.len == n && (n == 0 || memcmp(back.buf, data, n) == 0));
	free(back.buf);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(p, 1, n, f) == n);
	if (f)
		fclose(f);
}

static unsigned char *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = NULL;
	*n = 0;
	if (!f)
		return NULL;
	size_t cap = 0;
	for (;;) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 65536;
			p = realloc(p, cap);
		}
		size_t got = fread(p + *n, 1, cap - *n, f);
		if (got == 0)
			break;
		*n += got;
	}
	fclose(f);
	return p;
}

/* zstd(1) reads what we write (and checks its checksum); we read what it
 * writes, also several frames one after the other. */
static void check_with_zstd_tool(const unsigned char *data, size_t n, const struct mem_sink *z)
{
	char dir[] = "/tmp/dbb-zstd-XXXXXX", path[256], cmd[1024];
	if (system("zstd --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "zstd(1) missing: skipping the interoperability checks\n");
		return;
	}
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/t.zst", dir);
	write_file(path, z->buf, z->len);
	snprintf(cmd, sizeof(cmd), "zstd -q -t '%s' && zstd -q -dc '%s' > '%s/t'", path, path, dir);
	CHECK(system(cmd) == 0);
	snprintf(path, sizeof(path), "%s/t", dir);
	size_t bn;
	unsigned char *back = read_file(path, &bn);
	CHECK(back && bn == n && memcmp(back, data, n) == 0);
	free(back);
	/* two frames from the tool, concatenated */
	snprintf(cmd, sizeof(cmd),
	         "zstd -q -3 -c '%s/t' > '%s/two.zst' && zstd -q -1 -c '%s/t' >> '%s/two.zst'", dir,
	         dir, dir, dir);
	CHECK(system(cmd) == 0);
	snprintf(path, sizeof(path), "%s/two.zst", dir);
	size_t tn;
	unsigned char *two = read_file(path, &tn);
	struct mem_sink out = mem_sink();
	struct dbb_error err = {0};
	CHECK(two && decode(two, tn, 0, &out, &err) == DBB_OK);
	CHECK(out.len == 2 * n && memcmp(out.buf, data, n) == 0 &&
	      memcmp(out.buf + n, data, n) == 0);
	free(out.buf);
	free(two);
	/* a frame that asks for a 128 MiB window (--long=27) is refused */
	snprintf(cmd, sizeof(cmd), "zstd -q --long=27 -c < '%s/t' > '%s/long.zst'", dir, dir);
	CHECK(system(cmd) == 0);
	snprintf(path, sizeof(path), "%s/long.zst", dir);
	unsigned char *lg = read_file(path, &tn);
	out = mem_sink();
	CHECK(lg && decode(lg, tn, 0, &out, &err) == DBB_ERR_INVALID_BACKUP);
	free(out.buf);
	free(lg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

static void check_broken(const unsigned char *zbuf, size_t zlen)
{
	struct dbb_error err = {0};
	unsigned char *b = malloc(zlen + 16);
	/* truncated anywhere: never accepted */
	size_t cuts[] = {4, 5, 6, 10, zlen / 3, zlen / 2, zlen - 5, zlen - 4, zlen - 1};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct mem_sink out = mem_sink();
		CHECK(decode(zbuf, cuts[i], 0, &out, &err) == DBB_ERR_INVALID_BACKUP);
		free(out.buf);
	}
	/* one byte changed anywhere after the magic: the checksum (or the
	 * decoder) says so */
	for (size_t pos = 4; pos < zlen; pos += zlen / 23 + 1) {
		memcpy(b, zbuf, zlen);
		b[pos] ^= 0x5a;
		struct mem_sink out = mem_sink();
		CHECK(decode(b, zlen, 0, &out, &err) == DBB_ERR_INVALID_BACKUP);
		free(out.buf);
	}
	memcpy(b, zbuf, zlen);
	b[zlen - 1] ^= 1; /* the checksum itself */
	struct mem_sink out = mem_sink();
	CHECK(decode(b, zlen, 0, &out, &err) == DBB_ERR_INVALID_BACKUP);
	free(out.buf);
	/* bytes after the last frame */
	memcpy(b, zbuf, zlen);
	memcpy(b + zlen, "garbage!", 8);
	out = mem_sink();
	CHECK(decode(b, zlen + 8, 0, &out, &err) == DBB_ERR_INVALID_BACKUP);
	free(out.buf);
	/* the magic alone */
	out = mem_sink();
	CHECK(decode(zbuf, 4, 3, &out, &err) == DBB_ERR_INVALID_BACKUP);
	free(out.buf);
	free(b);
}

/* The next sink fails (disk full): the error comes back on write or at the
 * latest on finish, later calls fail without touching next, and free (with
 * or without finish) releases everything (ASan says so). */
static void check_failing_sink(const unsigned char *data, size_t n)
{
	for (unsigned t = 1; t <= 2; t++) {
		size_t rooms[] = {0, 5, 1000, 30000};
		for (size_t r = 0; r < sizeof(rooms) / sizeof(rooms[0]); r++) {
			struct mem_sink full = mem_sink();
			full.room = rooms[r];
			struct dbb_sink *z = NULL;
			struct dbb_error err = {0};
			const struct dbb_codec_options opt = {.level = 3, .threads = t};
			CHECK(dbb_zstd_sink_new(&full.base, &opt, &z, &err) == DBB_OK);
			dbb_code rc = DBB_OK;
			for (size_t off = 0; off < n && !rc; off += 65536)
				rc = dbb_sink_write(z, data + off,
				                    n - off < 65536 ? n - off : 65536, &err);
			if (!rc)
				rc = dbb_sink_finish(z, &err);
			CHECK(rc == DBB_ERR_NO_SPACE);
			unsigned after = full.calls_after_failure;
			CHECK(dbb_sink_write(z, "x", 1, &err) != DBB_OK);
			CHECK(dbb_sink_finish(z, &err) != DBB_OK);
			CHECK(full.calls_after_failure == after);
			dbb_sink_free(z);
			free(full.buf);
		}
	}
}

/* file ← sha256 ← zstd ← producer, and back: the totals at both ends. */
static void check_chains(const unsigned char *data, size_t n)
{
	struct mem_sink file = mem_sink();
	struct dbb_error err = {0};
	const struct dbb_codec_options opt = {.level = 3, .threads = 2};
	const struct dbb_sink_layer layers[] = {{NULL, NULL}, {dbb_zstd_layer, &opt}};
	struct dbb_sink_chain *c = NULL;
	struct dbb_stream_totals t;
	CHECK(dbb_sink_chain_new(&file.base, layers, 2, &c, &err) == DBB_OK);
	CHECK(dbb_sink_write(dbb_sink_chain_top(c), data, n, &err) == DBB_OK);
	CHECK(dbb_sink_chain_finish(c, &t, &err) == DBB_OK);
	dbb_sink_chain_free(c);
	CHECK(t.plain_bytes == n && t.stored_bytes == file.len && file.len < n);
	CHECK(dbb_compression_sniff(file.buf, file.len) == DBB_COMPRESSION_ZSTD);
	/* the digest is the stored bytes' */
	struct mem_sink sink2 = mem_sink();
	struct dbb_sink *h = NULL;
	char hex[65];
	uint64_t hb;
	CHECK(dbb_hash_sink_new(&sink2.base, &h, &err) == DBB_OK);
	CHECK(dbb_sink_write(h, file.buf, file.len, &err) == DBB_OK);
	dbb_hash_sink_digest(h, hex, &hb);
	dbb_sink_free(h);
	CHECK_STR(t.sha256, hex);
	CHECK(hb == file.len);
	free(sink2.buf);

	struct mem_source m = mem_source(file.buf, file.len, 1000);
	const struct dbb_source_layer sl[] = {{dbb_decompress_layer, NULL}};
	struct dbb_source_chain *sc = NULL;
	unsigned char head[100];
	size_t got = 0;
	CHECK(dbb_source_chain_new(&m.base, sl, 1, &sc, &err) == DBB_OK);
	CHECK(dbb_source_read(dbb_source_chain_top(sc), head, sizeof(head), &got, &err) == DBB_OK);
	CHECK(got > 0 && memcmp(head, data, got) == 0);
	CHECK(dbb_source_chain_finish(sc, &t, &err) == DBB_OK); /* reads the rest */
	dbb_source_chain_free(sc);
	CHECK(t.plain_bytes == n && t.stored_bytes == file.len);
	free(file.buf);

	/* a chain freed without finish (gzip over zstd, data in flight) leaves
	 * nothing behind (ASan says so) */
	struct mem_sink f2 = mem_sink();
	const struct dbb_codec_options one = {.level = 3, .threads = 1};
	const struct dbb_sink_layer two[] = {{dbb_gzip_layer, &opt}, {dbb_zstd_layer, &one}};
	CHECK(dbb_sink_chain_new(&f2.base, two, 2, &c, &err) == DBB_OK);
	CHECK(dbb_sink_write(dbb_sink_chain_top(c), data, n, &err) == DBB_OK);
	dbb_sink_chain_free(c);
	dbb_sink_chain_free(NULL);
	free(f2.buf);
}

/* How many frames z holds (0 if it does not parse). */
static size_t frame_count(const struct mem_sink *z)
{
	size_t n = 0;
	for (size_t off = 0; off < z->len; n++) {
		size_t f = ZSTD_findFrameCompressedSize(z->buf + off, z->len - off);
		if (ZSTD_isError(f))
			return 0;
		off += f;
	}
	return n;
}

/* The sink tries the first 1 MiB in the caller's thread and keeps that
 * thread when it kept up with the writes, libzstd's workers when not; one
 * frame either way. Data handed over back to back goes to the workers (other
 * bytes than one thread's); data that comes slowly, a dump shorter than the
 * trial, and one thread give one thread's bytes exactly. */
static void check_adaptive(const unsigned char *data, size_t n)
{
	struct mem_sink fast = mem_sink(), slow = mem_sink(), one = mem_sink();
	struct mem_sink short2 = mem_sink(), short1 = mem_sink();
	zstd_compress(data, n, &one, 3, 1, 65536);
	CHECK(frame_count(&one) == 1);

	zstd_compress(data, n, &fast, 3, 2, 65536);
	CHECK(frame_count(&fast) == 1);
	CHECK(fast.len != one.len || memcmp(fast.buf, one.buf, one.len) != 0);
	check_round_trip(data, n, &fast);
	check_with_zstd_tool(data, n, &fast);

	const struct dbb_codec_options opt = {.level = 3, .threads = 2};
	struct dbb_sink *z = NULL;
	struct dbb_error err = {0};
	CHECK(dbb_zstd_sink_new(&slow.base, &opt, &z, &err) == DBB_OK);
	for (size_t off = 0, piece = 256 * 1024; off < n; off += piece) {
		/* 256 KiB every 50 ms: a dump tool far slower than one thread
		 * (valgrind's included) */
		nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
		CHECK(dbb_sink_write(z, data + off, piece < n - off ? piece : n - off, &err) ==
		      DBB_OK);
	}
	CHECK(dbb_sink_finish(z, &err) == DBB_OK);
	dbb_sink_free(z);
	CHECK(slow.len == one.len && memcmp(slow.buf, one.buf, one.len) == 0);
	check_round_trip(data, n, &slow);

	/* ends inside the trial: one thread's bytes, held output written */
	zstd_compress(data, 100000, &short2, 3, 2, 0);
	zstd_compress(data, 100000, &short1, 3, 1, 0);
	CHECK(short2.len == short1.len && memcmp(short2.buf, short1.buf, short1.len) == 0);
	check_round_trip(data, 100000, &short2);
	free(fast.buf);
	free(slow.buf);
	free(one.buf);
	free(short2.buf);
	free(short1.buf);
}

static void check_formats(void)
{
	enum dbb_compression c;
	CHECK_STR(dbb_compression_name(DBB_COMPRESSION_ZSTD), "zstd");
	CHECK_STR(dbb_compression_suffix(DBB_COMPRESSION_ZSTD), ".zst");
	CHECK_STR(dbb_compression_suffix(DBB_COMPRESSION_GZIP), ".gz");
	CHECK_STR(dbb_compression_suffix(DBB_COMPRESSION_NONE), "");
	CHECK(dbb_compression_parse("zstd", &c) && c == DBB_COMPRESSION_ZSTD);
	CHECK(dbb_compression_parse("gzip", &c) && c == DBB_COMPRESSION_GZIP);
	CHECK(!dbb_compression_parse("xz", &c));
	CHECK(dbb_compression_sniff((const unsigned char *)"\x28\xb5\x2f\xfd", 4) ==
	      DBB_COMPRESSION_ZSTD);
	CHECK(dbb_compression_sniff((const unsigned char *)"\x28\xb5\x2f", 3) ==
	      DBB_COMPRESSION_NONE);
	CHECK(dbb_compression_sniff((const unsigned char *)"\x1f\x8b", 2) == DBB_COMPRESSION_GZIP);
	/* plain bytes, short or empty, pass through the magic-bytes source */
	const char *plain[] = {"", "a", "abc", "SQLite format 3"};
	for (size_t i = 0; i < 4; i++) {
		struct mem_sink out = mem_sink();
		struct dbb_error err = {0};
		size_t n = strlen(plain[i]);
		CHECK(decode((const unsigned char *)plain[i], n, 1, &out, &err) == DBB_OK);
		CHECK(out.len == n && (n == 0 || memcmp(out.buf, plain[i], n) == 0));
		free(out.buf);
	}
}

int main(void)
{
	size_t n = 3 * 1024 * 1024 + 17;
	unsigned char *data = make_data(n);
	struct mem_sink z1 = mem_sink(), z2 = mem_sink(), e = mem_sink();

	zstd_compress(data, n, &z1, 3, 1, 0);
	/* the content checksum flag (bit 2 of the frame header descriptor) */
	CHECK(z1.len > 8 && (z1.buf[4] & 0x04));
	check_round_trip(data, n, &z1);
	zstd_compress(data, n, &z2, 3, 2, 100000); /* libzstd workers, in pieces */
	CHECK(z2.buf[4] & 0x04);
	check_round_trip(data, n, &z2);
	/* a safety backup's: level 1, workers with libzstd's smallest jobs */
	struct mem_sink z3 = mem_sink();
	const struct dbb_codec_options safety = {
	    .level = 1, .threads = 2, .job_size = DBB_ZSTD_SAFETY_JOB_SIZE};
	zstd_compress_with(data, n, &z3, &safety, 100000);
	check_round_trip(data, n, &z3);
	check_with_zstd_tool(data, n, &z3);
	free(z3.buf);
	zstd_compress(data, 0, &e, 3, 1, 0); /* an empty dump is still a frame */
	check_round_trip(data, 0, &e);
	check_with_zstd_tool(data, n, &z1);
	check_broken(z1.buf, z1.len);
	check_failing_sink(data, n);
	check_chains(data, n);
	check_adaptive(data, n);
	check_formats();
	free(z1.buf);
	free(z2.buf);
	free(e.buf);
	free(data);
	DONE();
}
