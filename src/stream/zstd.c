/* zstd compression sink and verifying zstd decoding source (libzstd). */
#include "dbbackupd/stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>
#include <zstd_errors.h>

/* More workers than this would outrun any dump tool; each holds a job. */
#define ZSTD_MAX_WORKERS 8
/* Largest window a frame may ask the decoder for: 8 MiB, what level 19
 * uses. Frames made with --long or --ultra need more and are refused, so a
 * hostile upload cannot make the decoder allocate 2 GiB. */
#define ZSTD_WINDOW_LOG_MAX 23
/* With workers: bytes per job (see dbb_zstd_sink_new). */
#define ZSTD_JOB_SIZE (2 * 1024 * 1024)
/* The sink starts in the caller's thread and judges, each time this much
 * input went through, whether compressing keeps the producer waiting: it
 * does when compressing took at least ZSTD_BUSY_PERCENT of the wall time
 * (see struct zstd_sink). */
#define ZSTD_ADAPT_WINDOW (2 * 1024 * 1024)
#define ZSTD_BUSY_PERCENT 75

/* One frame compressed in the caller's thread while that keeps up with the
 * producer (a dump tool: it usually does, on data as compressible as most
 * dumps, and one thread makes the smallest file with the least memory);
 * once it does not, the frame is ended and the rest goes into a second
 * frame compressed by libzstd's workers. `zstd -d` reads both as one
 * stream (RFC 8878: compressed data is one or more frames). */
struct zstd_sink {
	struct dbb_sink base;
	struct dbb_sink *next;
	ZSTD_CCtx *cctx;
	void *out;
	size_t out_cap;
	dbb_code failed; /* sticky */
	int level;
	/* the switch to workers: workers (<= 1: never), their job size */
	unsigned workers;
	size_t job_size;
	bool with_workers; /* the switch was made */
	/* the window being judged: input bytes, its start, time compressing */
	size_t window_in;
	uint64_t window_start_ns, busy_ns;
};

static dbb_code zstd_error(struct dbb_error *err, dbb_code code, const char *what, size_t r)
{
	return dbb_fail(err, code, "%s: %s", what, ZSTD_getErrorName(r));
}

/* Feeds in to the compressor with `mode` and writes what comes out into
 * next, until the input is taken (and, for ZSTD_e_end, the frame closed). */
static dbb_code compress_some(struct zstd_sink *s, ZSTD_inBuffer *in, ZSTD_EndDirective mode,
                              struct dbb_error *err)
{
	for (;;) {
		ZSTD_outBuffer out = {s->out, s->out_cap, 0};
		size_t left = ZSTD_compressStream2(s->cctx, &out, in, mode);
		if (ZSTD_isError(left))
			return zstd_error(err, DBB_ERR_INTERNAL, "zstd compression failed", left);
		if (out.pos > 0) {
			dbb_code rc = dbb_sink_write(s->next, s->out, out.pos, err);
			if (rc)
				return rc;
		}
		bool taken = in->pos == in->size;
		if (mode == ZSTD_e_end ? left == 0 : taken)
			return DBB_OK;
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A compression context for level with the content checksum; workers > 1
 * asks for libzstd's workers (a libzstd without threads refuses them: it
 * then compresses in the caller's thread). NULL when out of memory. */
static ZSTD_CCtx *cctx_new(int level, unsigned workers, size_t job_size, struct dbb_error *err)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	if (!c) {
		dbb_fail(err, DBB_ERR_INTERNAL, "out of memory for zstd compression");
		return NULL;
	}
	size_t r = ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	if (ZSTD_isError(r)) {
		ZSTD_freeCCtx(c);
		zstd_error(err, DBB_ERR_INTERNAL, "cannot start zstd compression", r);
		return NULL;
	}
	if (workers > 1 &&
	    !ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_nbWorkers, (int)workers))) {
		/* libzstd's default job is 4 windows (8 MiB at level 3), and it
		 * keeps about 2 x workers + 2 jobs in flight: 45 MiB for two
		 * workers. 2 MiB jobs, each primed with the last half window of
		 * the one before (overlapLog 8), hold that to about 12 MiB
		 * (docs/compression.md). */
		(void)ZSTD_CCtx_setParameter(c, ZSTD_c_jobSize, (int)job_size);
		(void)ZSTD_CCtx_setParameter(c, ZSTD_c_overlapLog, 8);
	}
	return c;
}

/* Ends the caller-thread frame and has libzstd's workers compress the
 * next one, in a new context: the first one's tables (about 3 MiB at
 * level 3) go back to the system before the workers take theirs. */
static dbb_code start_workers(struct zstd_sink *s, struct dbb_error *err)
{
	ZSTD_inBuffer none = {NULL, 0, 0};
	dbb_code rc = compress_some(s, &none, ZSTD_e_end, err);
	if (rc)
		return rc;
	s->with_workers = true;
	ZSTD_freeCCtx(s->cctx);
	s->cctx = cctx_new(s->level, s->workers, s->job_size, err);
	return s->cctx ? DBB_OK : err->code;
}

/* After a write in the caller's thread that took [t0, t1]: the window's
 * verdict once it is full. */
static dbb_code judge_window(struct zstd_sink *s, size_t len, uint64_t t0, uint64_t t1,
                             struct dbb_error *err)
{
	if (s->window_in == 0 && s->window_start_ns == 0)
		s->window_start_ns = t0; /* the first write: no wait before it */
	s->window_in += len;
	s->busy_ns += t1 - t0;
	if (s->window_in < ZSTD_ADAPT_WINDOW)
		return DBB_OK;
	uint64_t wall = t1 - s->window_start_ns;
	if (s->busy_ns * 100 >= wall * ZSTD_BUSY_PERCENT)
		return start_workers(s, err);
	s->window_in = 0;
	s->busy_ns = 0;
	s->window_start_ns = t1; /* the wait for the next write counts */
	return DBB_OK;
}

static dbb_code zstd_sink_write(struct dbb_sink *self, const void *buf, size_t len,
                                struct dbb_error *err)
{
	struct zstd_sink *s = (struct zstd_sink *)self;
	if (s->failed)
		return dbb_fail(err, s->failed, "an earlier write failed");
	bool judging = !s->with_workers && s->workers > 1;
	uint64_t t0 = judging ? now_ns() : 0;
	ZSTD_inBuffer in = {buf, len, 0};
	dbb_code rc = compress_some(s, &in, ZSTD_e_continue, err);
	if (!rc && judging)
		rc = judge_window(s, len, t0, now_ns(), err);
	if (rc)
		s->failed = rc;
	return rc;
}

static dbb_code zstd_sink_finish(struct dbb_sink *self, struct dbb_error *err)
{
	struct zstd_sink *s = (struct zstd_sink *)self;
	if (s->failed)
		return dbb_fail(err, s->failed, "an earlier write failed");
	ZSTD_inBuffer in = {NULL, 0, 0};
	dbb_code rc = compress_some(s, &in, ZSTD_e_end, err);
	if (rc)
		s->failed = rc;
	return rc;
}

static void zstd_sink_free(struct dbb_sink *self)
{
	struct zstd_sink *s = (struct zstd_sink *)self;
	ZSTD_freeCCtx(s->cctx); /* joins libzstd's workers */
	free(s->out);
	free(s);
}

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

dbb_code dbb_zstd_sink_new(struct dbb_sink *next, const struct dbb_codec_options *opt,
                           struct dbb_sink **out, struct dbb_error *err)
{
	*out = NULL;
	struct zstd_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory for zstd compression");
	s->base.write = zstd_sink_write;
	s->base.finish = zstd_sink_finish;
	s->base.free = zstd_sink_free;
	s->next = next;
	s->out_cap = ZSTD_CStreamOutSize();
	s->out = malloc(s->out_cap);
	if (!s->out) {
		zstd_sink_free(&s->base);
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory for zstd compression");
	}
	s->level = opt->level;
	s->workers = opt->threads ? opt->threads : online_cpus();
	if (s->workers > ZSTD_MAX_WORKERS)
		s->workers = ZSTD_MAX_WORKERS;
	s->job_size = opt->job_size ? opt->job_size : ZSTD_JOB_SIZE;
	/* the caller's thread first; workers once it falls behind (struct
	 * zstd_sink) */
	s->cctx = cctx_new(s->level, 1, 0, err);
	if (!s->cctx) {
		zstd_sink_free(&s->base);
		return DBB_ERR_INTERNAL;
	}
	*out = &s->base;
	return DBB_OK;
}

/* ---- decoding ---- */

struct unzstd_source {
	struct dbb_source base;
	struct dbb_source *next;
	ZSTD_DCtx *dctx;
	ZSTD_inBuffer in;
	unsigned char *buf; /* in.src */
	size_t buf_cap;
	bool eof_in;
	bool frame_done; /* the last frame decoded so far is complete */
};

static dbb_code unzstd_read(struct dbb_source *self, void *buf, size_t cap, size_t *got,
                            struct dbb_error *err)
{
	struct unzstd_source *s = (struct unzstd_source *)self;
	*got = 0;
	while (*got == 0 && cap > 0) {
		if (s->in.pos == s->in.size && !s->eof_in) {
			size_t n = 0;
			dbb_code rc = dbb_source_read(s->next, s->buf, s->buf_cap, &n, err);
			if (rc)
				return rc;
			s->in.size = n;
			s->in.pos = 0;
			s->eof_in = n == 0;
		}
		if (s->in.pos == s->in.size && s->eof_in) {
			if (s->frame_done)
				return DBB_OK; /* clean end after the last frame */
			return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
			                "the zstd stream is truncated (it ends inside a frame)");
		}
		ZSTD_outBuffer out = {buf, cap, 0};
		size_t before = s->in.pos;
		size_t r = ZSTD_decompressStream(s->dctx, &out, &s->in);
		if (ZSTD_isError(r)) {
			if (ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation)
				return zstd_error(err, DBB_ERR_INTERNAL, "zstd decompression", r);
			return zstd_error(err, DBB_ERR_INVALID_BACKUP, "the zstd data is corrupt",
			                  r);
		}
		*got = out.pos;
		s->frame_done = r == 0;
		if (out.pos == 0 && s->in.pos == before && s->in.pos == s->in.size && s->eof_in &&
		    !s->frame_done)
			return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
			                "the zstd stream is truncated (it ends inside a frame)");
	}
	return DBB_OK;
}

static void unzstd_free(struct dbb_source *self)
{
	struct unzstd_source *s = (struct unzstd_source *)self;
	ZSTD_freeDCtx(s->dctx);
	free(s->buf);
	free(s);
}

dbb_code dbb_unzstd_source_new(struct dbb_source *next, struct dbb_source **out,
                               struct dbb_error *err)
{
	*out = NULL;
	struct unzstd_source *s = calloc(1, sizeof(*s));
	if (!s)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory for zstd decompression");
	s->base.read = unzstd_read;
	s->base.free = unzstd_free;
	s->next = next;
	s->buf_cap = ZSTD_DStreamInSize();
	s->buf = malloc(s->buf_cap);
	s->dctx = ZSTD_createDCtx();
	s->in.src = s->buf;
	if (!s->buf || !s->dctx) {
		unzstd_free(&s->base);
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory for zstd decompression");
	}
	size_t r = ZSTD_DCtx_setParameter(s->dctx, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX);
	if (ZSTD_isError(r)) {
		unzstd_free(&s->base);
		return zstd_error(err, DBB_ERR_INTERNAL, "cannot start zstd decompression", r);
	}
	*out = &s->base;
	return DBB_OK;
}
