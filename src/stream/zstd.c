/* zstd compression sink and verifying zstd decoding source (libzstd). */
#include "dbbackupd/stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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
/* The first this many bytes of input decide how the frame is compressed
 * (struct zstd_sink): with workers when compressing them in the caller's
 * thread took at least ZSTD_BUSY_PERCENT of the time they took to come
 * (half: docs/compression.md says why), or ZSTD_DENSE_BUSY_PERCENT when
 * they compressed ZSTD_DENSE_RATIO:1 or better: such data is where
 * workers' job-wise compression costs most (6 % on pgbench's dump) and
 * where one thread is fastest, so it keeps one thread unless compressing
 * clearly is what the producer waits for. */
#define ZSTD_TRIAL_SIZE         (1024 * 1024)
#define ZSTD_BUSY_PERCENT       50
#define ZSTD_DENSE_RATIO        8
#define ZSTD_DENSE_BUSY_PERCENT 80

/* How the frame is being compressed. */
enum zstd_mode {
	ZSTD_TRIAL,      /* the first bytes, in the caller's thread, output held */
	ZSTD_ONE_THREAD, /* in the caller's thread */
	ZSTD_WORKERS,    /* by libzstd's workers */
};

/* One standard frame. A dump tool often produces slower than one thread
 * compresses at the default level (pg_dump on pgbench's data: 130 MB/s,
 * against 870 MB/s), and then one thread uses the least memory, and on
 * dense data makes the smallest file; workers pay off when compressing is
 * what the producer waits for (and their 2 MiB jobs cost nothing in size
 * on the less dense dumps measured: docs/compression.md). The sink cannot
 * change its mind inside a frame, so it tries: the first ZSTD_TRIAL_SIZE
 * bytes are compressed in the caller's thread with the output held back
 * and the input kept. If that kept up, the held output is written and the
 * frame goes on in this thread; if not, both go and the kept input starts
 * the frame again with workers (one trial's compression lost, about 1
 * MiB's worth). With one thread (or a libzstd without threads) there is no
 * trial. */
struct zstd_sink {
	struct dbb_sink base;
	struct dbb_sink *next;
	ZSTD_CCtx *cctx;
	void *out;
	size_t out_cap;
	dbb_code failed; /* sticky */
	int level;
	unsigned workers; /* for ZSTD_WORKERS */
	size_t job_size;
	enum zstd_mode mode;
	/* the trial: its input, its output, when its first write started and
	 * how long compressing took */
	unsigned char *trial_in;
	size_t trial_in_len;
	unsigned char *held;
	size_t held_len, held_cap;
	uint64_t trial_start_ns, busy_ns;
};

static dbb_code zstd_error(struct dbb_error *err, dbb_code code, const char *what, size_t r)
{
	return dbb_fail(err, code, "%s: %s", what, ZSTD_getErrorName(r));
}

/* Output of the compressor: into next, or held back during the trial. */
static dbb_code emit(struct zstd_sink *s, const void *buf, size_t len, struct dbb_error *err)
{
	if (s->mode != ZSTD_TRIAL)
		return dbb_sink_write(s->next, buf, len, err);
	if (s->held_len + len > s->held_cap) {
		size_t cap = s->held_cap ? s->held_cap : 65536;
		while (cap < s->held_len + len)
			cap *= 2;
		unsigned char *p = realloc(s->held, cap);
		if (!p)
			return dbb_fail(err, DBB_ERR_INTERNAL,
			                "out of memory for zstd compression");
		s->held = p;
		s->held_cap = cap;
	}
	memcpy(s->held + s->held_len, buf, len);
	s->held_len += len;
	return DBB_OK;
}

/* Feeds in to the compressor with `mode` and emits what comes out, until
 * the input is taken (and, for ZSTD_e_end, the frame closed). */
static dbb_code compress_some(struct zstd_sink *s, ZSTD_inBuffer *in, ZSTD_EndDirective mode,
                              struct dbb_error *err)
{
	for (;;) {
		ZSTD_outBuffer out = {s->out, s->out_cap, 0};
		size_t left = ZSTD_compressStream2(s->cctx, &out, in, mode);
		if (ZSTD_isError(left))
			return zstd_error(err, DBB_ERR_INTERNAL, "zstd compression failed", left);
		if (out.pos > 0) {
			dbb_code rc = emit(s, s->out, out.pos, err);
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
		 * workers. 2 MiB jobs hold that to about 12 MiB; each is primed
		 * with libzstd's default overlap for the level (1/8 window at
		 * level 3), which made the smallest files on real dumps
		 * (docs/compression.md). */
		(void)ZSTD_CCtx_setParameter(c, ZSTD_c_jobSize, (int)job_size);
	}
	return c;
}

static void trial_free(struct zstd_sink *s)
{
	free(s->trial_in);
	free(s->held);
	s->trial_in = s->held = NULL;
	s->trial_in_len = s->held_len = s->held_cap = 0;
}

/* The trial's verdict. With workers: a new context (the trial's tables, 3
 * MiB at level 3, go before the workers take theirs) restarts the frame
 * from the kept input. */
static dbb_code trial_end(struct zstd_sink *s, bool with_workers, struct dbb_error *err)
{
	dbb_code rc = DBB_OK;
	if (!with_workers) {
		s->mode = ZSTD_ONE_THREAD;
		if (s->held_len > 0)
			rc = dbb_sink_write(s->next, s->held, s->held_len, err);
		trial_free(s);
		return rc;
	}
	s->mode = ZSTD_WORKERS;
	free(s->held);
	s->held = NULL;
	ZSTD_freeCCtx(s->cctx);
	s->cctx = cctx_new(s->level, s->workers, s->job_size, err);
	if (!s->cctx)
		rc = err->code;
	ZSTD_inBuffer in = {s->trial_in, s->trial_in_len, 0};
	if (!rc)
		rc = compress_some(s, &in, ZSTD_e_continue, err);
	trial_free(s);
	return rc;
}

/* Takes what of buf fits in the trial; *used says how much. */
static dbb_code trial_write(struct zstd_sink *s, const unsigned char *buf, size_t len, size_t *used,
                            struct dbb_error *err)
{
	size_t n = ZSTD_TRIAL_SIZE - s->trial_in_len;
	if (n > len)
		n = len;
	*used = n;
	uint64_t t0 = now_ns();
	if (s->trial_in_len == 0)
		s->trial_start_ns = t0;
	memcpy(s->trial_in + s->trial_in_len, buf, n);
	s->trial_in_len += n;
	ZSTD_inBuffer in = {buf, n, 0};
	dbb_code rc = compress_some(s, &in, ZSTD_e_continue, err);
	uint64_t t1 = now_ns();
	s->busy_ns += t1 - t0;
	if (rc || s->trial_in_len < ZSTD_TRIAL_SIZE)
		return rc;
	uint64_t wall = t1 - s->trial_start_ns;
	/* held_len lags by the block libzstd still holds: the ratio is
	 * overestimated by at most a block's output */
	bool dense = s->held_len * ZSTD_DENSE_RATIO <= s->trial_in_len;
	uint64_t busy_percent = dense ? ZSTD_DENSE_BUSY_PERCENT : ZSTD_BUSY_PERCENT;
	return trial_end(s, s->busy_ns * 100 >= wall * busy_percent, err);
}

static dbb_code zstd_sink_write(struct dbb_sink *self, const void *buf, size_t len,
                                struct dbb_error *err)
{
	struct zstd_sink *s = (struct zstd_sink *)self;
	if (s->failed)
		return dbb_fail(err, s->failed, "an earlier write failed");
	const unsigned char *p = buf;
	dbb_code rc = DBB_OK;
	if (s->mode == ZSTD_TRIAL && len > 0) {
		size_t used = 0;
		rc = trial_write(s, p, len, &used, err);
		p += used;
		len -= used;
	}
	if (!rc && len > 0) {
		ZSTD_inBuffer in = {p, len, 0};
		rc = compress_some(s, &in, ZSTD_e_continue, err);
	}
	if (rc)
		s->failed = rc;
	return rc;
}

/* Ends the frame; a trial still under way (less input than the trial's
 * size) ends in the caller's thread. */
static dbb_code zstd_sink_finish(struct dbb_sink *self, struct dbb_error *err)
{
	struct zstd_sink *s = (struct zstd_sink *)self;
	if (s->failed)
		return dbb_fail(err, s->failed, "an earlier write failed");
	dbb_code rc = s->mode == ZSTD_TRIAL ? trial_end(s, false, err) : DBB_OK;
	ZSTD_inBuffer in = {NULL, 0, 0};
	if (!rc)
		rc = compress_some(s, &in, ZSTD_e_end, err);
	if (rc)
		s->failed = rc;
	return rc;
}

static void zstd_sink_free(struct dbb_sink *self)
{
	struct zstd_sink *s = (struct zstd_sink *)self;
	ZSTD_freeCCtx(s->cctx); /* joins libzstd's workers */
	trial_free(s);
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
	s->mode = s->workers > 1 ? ZSTD_TRIAL : ZSTD_ONE_THREAD;
	if (s->mode == ZSTD_TRIAL)
		s->trial_in = malloc(ZSTD_TRIAL_SIZE);
	s->cctx = cctx_new(s->level, 1, 0, err);
	if (!s->cctx || (s->mode == ZSTD_TRIAL && !s->trial_in)) {
		dbb_code rc =
		    s->cctx ? dbb_fail(err, DBB_ERR_INTERNAL, "out of memory for zstd compression")
		            : err->code;
		zstd_sink_free(&s->base);
		return rc;
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
