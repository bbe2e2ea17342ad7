/* zstd compression sink and verifying zstd decoding source (libzstd). */
#include "dbbackupd/stream.h"

#include <stdlib.h>
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

struct zstd_sink {
	struct dbb_sink base;
	struct dbb_sink *next;
	ZSTD_CCtx *cctx;
	void *out;
	size_t out_cap;
	dbb_code failed; /* sticky */
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

static dbb_code zstd_sink_write(struct dbb_sink *self, const void *buf, size_t len,
                                struct dbb_error *err)
{
	struct zstd_sink *s = (struct zstd_sink *)self;
	if (s->failed)
		return dbb_fail(err, s->failed, "an earlier write failed");
	ZSTD_inBuffer in = {buf, len, 0};
	dbb_code rc = compress_some(s, &in, ZSTD_e_continue, err);
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
	s->cctx = ZSTD_createCCtx();
	if (!s->out || !s->cctx) {
		zstd_sink_free(&s->base);
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory for zstd compression");
	}
	unsigned threads = opt->threads ? opt->threads : online_cpus();
	if (threads > ZSTD_MAX_WORKERS)
		threads = ZSTD_MAX_WORKERS;
	size_t r = ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_compressionLevel, opt->level);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_checksumFlag, 1);
	if (ZSTD_isError(r)) {
		zstd_sink_free(&s->base);
		return zstd_error(err, DBB_ERR_INTERNAL, "cannot start zstd compression", r);
	}
	/* one thread: compress in the caller's; a libzstd built without
	 * threads refuses workers, and then compresses in the caller's too */
	if (threads > 1 &&
	    !ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_nbWorkers, (int)threads))) {
		/* libzstd's default job is 4 windows (8 MiB at level 3), and it
		 * keeps about 2 x workers + 2 jobs in flight: 45 MiB for two
		 * workers. 2 MiB jobs, each primed with the last half window of
		 * the one before (overlapLog 8), hold that to about 12 MiB for a
		 * file no bigger than zstd -3 -T0's (docs/compression.md). */
		(void)ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_jobSize,
		                             (int)(opt->job_size ? opt->job_size : ZSTD_JOB_SIZE));
		(void)ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_overlapLog, 8);
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
