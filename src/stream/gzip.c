/* gzip compression sink and auto-detecting, verifying gzip decoding source. */
#include "dbbackupd/stream.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

static bool is_gzip_magic(const unsigned char *buf, size_t len)
{
	return len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
}

/* ---- compression ----
 *
 * Blocks go round a ring of slots: the caller's thread fills slot seq % n,
 * queues it, and later writes it out in order once a worker has deflated it.
 * Block k is compressed as a raw deflate stream primed with the last 32 KiB
 * of block k-1; every block but the last ends with a sync flush (byte
 * aligned, not final), so the blocks joined are one deflate stream inside
 * one gzip member. CRC-32s are joined with crc32_combine. Workers never call
 * next and never touch err: a failure is kept in the slot and reported by
 * the caller's thread. */

#define GZ_BLOCK (1024 * 1024)
#define GZ_DICT  (32 * 1024)
/* More threads than 8 would outrun any single pg_dump/mariadb-dump; the slots
 * bound the memory: at most 12 x (1 MiB + 32 KiB in, up to 1 MiB out). */
#define GZ_MAX_THREADS 8

enum gz_state { GZ_FREE, GZ_FILLING, GZ_QUEUED, GZ_DONE };

struct gz_slot {
	enum gz_state state;
	bool last;
	bool failed;       /* deflate failed on this block */
	size_t dict_len;   /* bytes of dictionary in in[0..GZ_DICT) (right-aligned) */
	size_t len;        /* bytes of data in in[GZ_DICT..] */
	unsigned char *in; /* GZ_DICT + GZ_BLOCK */
	unsigned char *out;
	size_t out_cap, out_len;
	uLong crc;
};

struct gz_pool {
	pthread_mutex_t mu;
	pthread_cond_t work; /* a block was queued, or stop */
	pthread_cond_t done; /* a block was compressed */
	pthread_t threads[GZ_MAX_THREADS];
	struct gz_worker {
		struct gz_pool *pool;
		z_stream z;
	} workers[GZ_MAX_THREADS];
	unsigned nthreads; /* worker threads running; 0: compress inline */
	unsigned nzs;      /* z_streams initialised */
	unsigned nslots;
	struct gz_slot *slots;
	uint64_t fill_seq;   /* block being filled (caller) */
	uint64_t queued_seq; /* blocks < this are queued or later */
	uint64_t take_seq;   /* next block a worker takes */
	uint64_t write_seq;  /* next block to write into next */
	bool stop;
	bool sync_ok; /* mutex and conds initialised */
	bool header_done;
	bool finished;
	dbb_code failed; /* sticky: once next failed, everything fails */
	int level;
	uLong crc;
	uint32_t isize;
};

struct gzip_sink {
	struct dbb_sink base;
	struct dbb_sink *next;
	struct gz_pool *pool;
};

static struct gz_slot *slot_of(struct gz_pool *p, uint64_t seq)
{
	return &p->slots[seq % p->nslots];
}

/* Deflates one block with z (any worker's stream). No lock held. */
static void deflate_block(z_stream *z, struct gz_slot *sl)
{
	sl->failed = true;
	sl->out_len = 0;
	if (deflateReset(z) != Z_OK)
		return;
	if (sl->dict_len > 0 &&
	    deflateSetDictionary(z, sl->in + GZ_DICT - sl->dict_len, (uInt)sl->dict_len) != Z_OK)
		return;
	z->next_in = sl->in + GZ_DICT;
	z->avail_in = (uInt)sl->len;
	z->next_out = sl->out;
	z->avail_out = (uInt)sl->out_cap;
	int zr = deflate(z, sl->last ? Z_FINISH : Z_SYNC_FLUSH);
	if (sl->last ? zr != Z_STREAM_END : zr != Z_OK)
		return;
	/* out_cap is deflateBound plus room for the flush: all of it fits */
	if (z->avail_in != 0 || z->avail_out == 0)
		return;
	sl->out_len = sl->out_cap - z->avail_out;
	sl->crc = crc32(crc32(0L, Z_NULL, 0), sl->in + GZ_DICT, (uInt)sl->len);
	sl->failed = false;
}

static void *worker_main(void *arg)
{
	struct gz_worker *w = arg;
	struct gz_pool *p = w->pool;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->take_seq == p->queued_seq)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		struct gz_slot *sl = slot_of(p, p->take_seq++);
		pthread_mutex_unlock(&p->mu);
		deflate_block(&w->z, sl);
		pthread_mutex_lock(&p->mu);
		sl->state = GZ_DONE;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void put_le32(unsigned char *b, uint32_t v)
{
	b[0] = (unsigned char)v;
	b[1] = (unsigned char)(v >> 8);
	b[2] = (unsigned char)(v >> 16);
	b[3] = (unsigned char)(v >> 24);
}

/* Writes block write_seq (compressed, owned by the caller now) into next. */
static dbb_code write_block(struct gzip_sink *s, struct gz_slot *sl, struct dbb_error *err)
{
	struct gz_pool *p = s->pool;
	dbb_code rc;
	if (sl->failed)
		return dbb_fail(err, DBB_ERR_INTERNAL, "deflate failed");
	if (!p->header_done) {
		/* what zlib writes: no name, no mtime, XFL by level, OS unix */
		unsigned char hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
		hdr[8] = p->level == 9 ? 2 : p->level == 1 ? 4 : 0;
		rc = dbb_sink_write(s->next, hdr, sizeof(hdr), err);
		if (rc)
			return rc;
		p->header_done = true;
	}
	if (sl->out_len > 0) {
		rc = dbb_sink_write(s->next, sl->out, sl->out_len, err);
		if (rc)
			return rc;
	}
	p->crc = crc32_combine(p->crc, sl->crc, (z_off_t)sl->len);
	p->isize += (uint32_t)sl->len; /* ISIZE is the length modulo 2^32 */
	if (sl->last) {
		unsigned char trl[8];
		put_le32(trl, (uint32_t)p->crc);
		put_le32(trl + 4, p->isize);
		rc = dbb_sink_write(s->next, trl, sizeof(trl), err);
		if (rc)
			return rc;
	}
	return DBB_OK;
}

/* Writes out finished blocks in order: all of them up to (not including)
 * block `until`, waiting for each, then those already done. */
static dbb_code drain(struct gzip_sink *s, uint64_t until, struct dbb_error *err)
{
	struct gz_pool *p = s->pool;
	for (;;) {
		if (p->write_seq >= p->queued_seq)
			return DBB_OK;
		struct gz_slot *sl = slot_of(p, p->write_seq);
		if (p->nthreads > 0) {
			bool must = p->write_seq < until;
			pthread_mutex_lock(&p->mu);
			while (must && sl->state != GZ_DONE)
				pthread_cond_wait(&p->done, &p->mu);
			bool ready = sl->state == GZ_DONE;
			pthread_mutex_unlock(&p->mu);
			if (!ready)
				return DBB_OK;
		}
		dbb_code rc = write_block(s, sl, err);
		if (rc)
			return p->failed = rc;
		/* only the caller's thread frees and fills slots: no lock needed
		 * for a slot no worker can take (take_seq is past it) */
		sl->state = GZ_FREE;
		p->write_seq++;
	}
}

/* Queues the block being filled and makes the next slot ready to fill. */
static dbb_code submit(struct gzip_sink *s, bool last, struct dbb_error *err)
{
	struct gz_pool *p = s->pool;
	struct gz_slot *sl = slot_of(p, p->fill_seq);
	dbb_code rc;

	sl->last = last;
	p->fill_seq++;
	if (p->nthreads == 0) {
		sl->state = GZ_QUEUED;
		p->queued_seq = p->fill_seq;
		deflate_block(&p->workers[0].z, sl);
		sl->state = GZ_DONE;
	} else {
		pthread_mutex_lock(&p->mu);
		sl->state = GZ_QUEUED;
		p->queued_seq = p->fill_seq;
		pthread_cond_signal(&p->work);
		pthread_mutex_unlock(&p->mu);
	}
	if (last)
		return drain(s, p->queued_seq, err);
	/* the next slot is free once the block that used it was written */
	rc = drain(s, p->fill_seq + 1 > p->nslots ? p->fill_seq + 1 - p->nslots : 0, err);
	if (rc)
		return rc;
	/* Only full blocks are queued before the last, so the next block's
	 * dictionary is the last 32 KiB of this one. Its buffer is intact even if
	 * it was written already (a slot is refilled only n blocks later) and
	 * only read by a worker: reading it here too is safe. With one slot, nx
	 * is sl; the two ranges do not overlap as GZ_BLOCK >= GZ_DICT. */
	struct gz_slot *nx = slot_of(p, p->fill_seq);
	nx->state = GZ_FILLING;
	nx->len = 0;
	nx->dict_len = GZ_DICT;
	memcpy(nx->in, sl->in + GZ_BLOCK, GZ_DICT);
	return DBB_OK;
}

static dbb_code gzip_sink_write(struct dbb_sink *self, const void *buf, size_t len,
                                struct dbb_error *err)
{
	struct gzip_sink *s = (struct gzip_sink *)self;
	struct gz_pool *p = s->pool;
	const unsigned char *src = buf;
	if (!p || p->finished)
		return dbb_fail(err, DBB_ERR_INTERNAL, "write to a closed gzip sink");
	if (p->failed)
		return dbb_fail(err, p->failed, "an earlier write failed");
	while (len > 0) {
		struct gz_slot *sl = slot_of(p, p->fill_seq);
		size_t n = GZ_BLOCK - sl->len;
		if (n > len)
			n = len;
		memcpy(sl->in + GZ_DICT + sl->len, src, n);
		sl->len += n;
		src += n;
		len -= n;
		if (sl->len == GZ_BLOCK) {
			dbb_code rc = submit(s, false, err);
			if (rc)
				return p->failed = rc;
		}
	}
	return DBB_OK;
}

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

static void pool_free(struct gz_pool *p)
{
	if (p->sync_ok) {
		pthread_mutex_lock(&p->mu);
		p->stop = true;
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->mu);
	}
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	for (unsigned i = 0; i < p->nzs; i++)
		deflateEnd(&p->workers[i].z);
	if (p->slots) {
		for (unsigned i = 0; i < p->nslots; i++) {
			free(p->slots[i].in);
			free(p->slots[i].out);
		}
		free(p->slots);
	}
	if (p->sync_ok) {
		pthread_cond_destroy(&p->done);
		pthread_cond_destroy(&p->work);
		pthread_mutex_destroy(&p->mu);
	}
	free(p);
}

static dbb_code pool_new(struct gzip_sink *s, int level, unsigned threads, struct dbb_error *err)
{
	struct gz_pool *p;
	dbb_code rc = DBB_OK;

	if (threads == 0)
		threads = online_cpus();
	if (threads > GZ_MAX_THREADS)
		threads = GZ_MAX_THREADS;
	p = calloc(1, sizeof(*p));
	if (!p)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory for gzip compression");
	p->level = level;
	p->crc = crc32(0L, Z_NULL, 0);
	/* one block being filled, one per thread being deflated, the rest done
	 * and waiting for their turn to be written (2 x threads, at most +4) */
	p->nslots = threads == 1 ? 1 : (threads < 4 ? 2 * threads : threads + 4);
	p->slots = calloc(p->nslots, sizeof(*p->slots));
	if (!p->slots) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory for gzip compression");
		goto out;
	}
	for (unsigned i = 0; i < threads; i++) {
		p->workers[i].pool = p;
		if (deflateInit2(&p->workers[i].z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
		    Z_OK) {
			rc = dbb_fail(err, DBB_ERR_INTERNAL, "cannot start gzip compression");
			goto out;
		}
		p->nzs++;
	}
	size_t cap = deflateBound(&p->workers[0].z, GZ_BLOCK) + 64; /* + sync flush marker */
	for (unsigned i = 0; i < p->nslots; i++) {
		p->slots[i].in = malloc(GZ_DICT + GZ_BLOCK);
		p->slots[i].out = malloc(cap);
		p->slots[i].out_cap = cap;
		if (!p->slots[i].in || !p->slots[i].out) {
			rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory for gzip compression");
			goto out;
		}
	}
	p->slots[0].state = GZ_FILLING;
	if (threads > 1) {
		if (pthread_mutex_init(&p->mu, NULL) != 0) {
			rc = dbb_fail(err, DBB_ERR_INTERNAL,
			              "cannot start gzip compression threads");
			goto out;
		}
		if (pthread_cond_init(&p->work, NULL) != 0) {
			pthread_mutex_destroy(&p->mu);
			rc = dbb_fail(err, DBB_ERR_INTERNAL,
			              "cannot start gzip compression threads");
			goto out;
		}
		if (pthread_cond_init(&p->done, NULL) != 0) {
			pthread_cond_destroy(&p->work);
			pthread_mutex_destroy(&p->mu);
			rc = dbb_fail(err, DBB_ERR_INTERNAL,
			              "cannot start gzip compression threads");
			goto out;
		}
		p->sync_ok = true;
		for (unsigned i = 0; i < threads; i++) {
			int e = pthread_create(&p->threads[i], NULL, worker_main, &p->workers[i]);
			if (e != 0) {
				rc = dbb_fail_errno(err, e, DBB_ERR_INTERNAL,
				                    "cannot start gzip compression threads");
				goto out;
			}
			p->nthreads++;
		}
	}
	s->pool = p;
out:
	if (rc)
		pool_free(p);
	return rc;
}

static dbb_code gzip_sink_finish(struct dbb_sink *self, struct dbb_error *err)
{
	struct gzip_sink *s = (struct gzip_sink *)self;
	struct gz_pool *p = s->pool;
	if (!p || p->finished)
		return dbb_fail(err, DBB_ERR_INTERNAL, "gzip sink finished twice");
	if (p->failed)
		return dbb_fail(err, p->failed, "an earlier write failed");
	p->finished = true;
	dbb_code rc = submit(s, true, err);
	if (rc)
		p->failed = rc;
	return rc;
}

/* Stops and joins the threads, frees the buffers. */
static void gzip_sink_free(struct dbb_sink *self)
{
	struct gzip_sink *s = (struct gzip_sink *)self;
	if (s->pool)
		pool_free(s->pool);
	free(s);
}

dbb_code dbb_gzip_sink_new(struct dbb_sink *next, const struct dbb_codec_options *opt,
                           struct dbb_sink **out, struct dbb_error *err)
{
	*out = NULL;
	struct gzip_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory for gzip compression");
	s->base.write = gzip_sink_write;
	s->base.finish = gzip_sink_finish;
	s->base.free = gzip_sink_free;
	s->next = next;
	dbb_code rc = pool_new(s, opt->level, opt->threads, err);
	if (rc) {
		free(s);
		return rc;
	}
	*out = &s->base;
	return DBB_OK;
}

/* ---- decompression ---- */

struct gunzip_source {
	struct dbb_source base;
	struct dbb_source *next;
	z_stream z;
	bool ready;
	bool gzip;
	bool eof_in;
	bool member_done;
	unsigned char in[DBB_STREAM_CHUNK];
	size_t peek_len; /* pass-through mode: bytes peeked at init */
};

static dbb_code fill_input(struct gunzip_source *s, struct dbb_error *err)
{
	size_t got = 0;
	dbb_code rc = dbb_source_read(s->next, s->in, sizeof(s->in), &got, err);
	if (rc)
		return rc;
	s->z.next_in = s->in;
	s->z.avail_in = (uInt)got;
	if (got == 0)
		s->eof_in = true;
	return DBB_OK;
}

static dbb_code gunzip_read(struct dbb_source *self, void *buf, size_t cap, size_t *got,
                            struct dbb_error *err)
{
	struct gunzip_source *s = (struct gunzip_source *)self;
	*got = 0;
	if (!s->gzip) {
		/* pass-through: first the peeked bytes, then the rest */
		if (s->z.avail_in > 0) {
			size_t n = s->z.avail_in < cap ? s->z.avail_in : cap;
			memcpy(buf, s->z.next_in, n);
			s->z.next_in += n;
			s->z.avail_in -= (uInt)n;
			*got = n;
			return DBB_OK;
		}
		if (s->eof_in)
			return DBB_OK;
		return dbb_source_read(s->next, buf, cap, got, err);
	}
	if (cap > (1u << 30))
		cap = 1u << 30;
	while (*got == 0) {
		if (s->member_done) {
			/* another member may follow: gzip files can be concatenated */
			if (s->z.avail_in == 0 && !s->eof_in) {
				dbb_code rc = fill_input(s, err);
				if (rc)
					return rc;
			}
			if (s->z.avail_in == 0)
				return DBB_OK; /* clean end of the last member */
			if (s->z.avail_in < 2 || !is_gzip_magic(s->z.next_in, s->z.avail_in))
				return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
				                "unexpected data after the end of the gzip stream");
			if (inflateReset(&s->z) != Z_OK)
				return dbb_fail(err, DBB_ERR_INTERNAL, "inflateReset failed");
			s->member_done = false;
		}
		if (s->z.avail_in == 0 && !s->eof_in) {
			dbb_code rc = fill_input(s, err);
			if (rc)
				return rc;
		}
		s->z.next_out = buf;
		s->z.avail_out = (uInt)cap;
		int zr = inflate(&s->z, Z_NO_FLUSH);
		*got = cap - s->z.avail_out;
		switch (zr) {
		case Z_OK:
			break;
		case Z_STREAM_END:
			s->member_done = true;
			break;
		case Z_BUF_ERROR:
			if (s->eof_in && s->z.avail_in == 0 && *got == 0)
				return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
				                "the gzip stream is truncated (it ends before its "
				                "trailer)");
			break;
		case Z_MEM_ERROR:
			return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory decompressing");
		default:
			return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
			                "the gzip data is corrupt (%s)",
			                s->z.msg ? s->z.msg : "inflate error");
		}
		if (*got == 0 && s->eof_in && s->z.avail_in == 0 && !s->member_done)
			return dbb_fail(
			    err, DBB_ERR_INVALID_BACKUP,
			    "the gzip stream is truncated (it ends before its trailer)");
	}
	return DBB_OK;
}

static dbb_code gunzip_init(struct gunzip_source *s, struct dbb_source *next, struct dbb_error *err)
{
	memset(&s->z, 0, sizeof(s->z));
	s->base.read = gunzip_read;
	s->next = next;
	s->ready = false;
	s->eof_in = false;
	s->member_done = false;
	s->peek_len = 0;
	/* Peek until we have two bytes (or end of stream) to see the magic. */
	size_t have = 0;
	while (have < 2) {
		size_t got = 0;
		dbb_code rc = dbb_source_read(next, s->in + have, sizeof(s->in) - have, &got, err);
		if (rc)
			return rc;
		if (got == 0) {
			s->eof_in = true;
			break;
		}
		have += got;
	}
	s->peek_len = have;
	s->z.next_in = s->in;
	s->z.avail_in = (uInt)have;
	s->gzip = is_gzip_magic(s->in, have);
	if (!s->gzip)
		return DBB_OK;
	if (inflateInit2(&s->z, 15 + 16) != Z_OK)
		return dbb_fail(err, DBB_ERR_INTERNAL, "cannot start gzip decompression");
	s->z.next_in = s->in;
	s->z.avail_in = (uInt)have;
	s->ready = true;
	return DBB_OK;
}

static void gunzip_free(struct dbb_source *self)
{
	struct gunzip_source *s = (struct gunzip_source *)self;
	if (s->ready)
		inflateEnd(&s->z);
	free(s);
}

dbb_code dbb_gunzip_source_new(struct dbb_source *next, struct dbb_source **out,
                               struct dbb_error *err)
{
	*out = NULL;
	struct gunzip_source *s = calloc(1, sizeof(*s));
	if (!s)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory for gzip decompression");
	dbb_code rc = gunzip_init(s, next, err);
	s->base.free = gunzip_free;
	if (rc) {
		gunzip_free(&s->base);
		return rc;
	}
	*out = &s->base;
	return DBB_OK;
}
