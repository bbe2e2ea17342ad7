/* Byte streams: a sink takes bytes, a source gives them. Filters (gzip,
 * gunzip, sha256) wrap another sink or source, so code that produces bytes
 * (a driver's dump) never knows where they go, and code that consumes them
 * (a driver's restore) never knows where they come from.
 *
 * Ownership: a filter never owns the sink/source it wraps; whoever built the
 * chain tears it down in reverse order. */
#ifndef DBBACKUPD_STREAM_H
#define DBBACKUPD_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "dbbackupd/error.h"

#define DBB_STREAM_CHUNK (128 * 1024)

struct dbb_sink {
	/* Takes all len bytes or fails. */
	dbb_code (*write)(struct dbb_sink *self, const void *buf, size_t len,
	                  struct dbb_error *err);
};

struct dbb_source {
	/* Reads up to cap bytes; *got == 0 with DBB_OK means end of stream. */
	dbb_code (*read)(struct dbb_source *self, void *buf, size_t cap, size_t *got,
	                 struct dbb_error *err);
};

static inline dbb_code dbb_sink_write(struct dbb_sink *s, const void *buf, size_t len,
                                      struct dbb_error *err)
{
	return s->write(s, buf, len, err);
}

static inline dbb_code dbb_source_read(struct dbb_source *s, void *buf, size_t cap, size_t *got,
                                       struct dbb_error *err)
{
	return s->read(s, buf, cap, got, err);
}

/* Copies src to dst until end of stream. *copied (optional) counts bytes. */
dbb_code dbb_stream_copy(struct dbb_source *src, struct dbb_sink *dst, uint64_t *copied,
                         struct dbb_error *err);

/* Which end stopped a copy that failed. */
enum dbb_stream_end { DBB_STREAM_END_NONE = 0, DBB_STREAM_END_SOURCE, DBB_STREAM_END_SINK };

/* dbb_stream_copy that also says which end failed: a driver copying between
 * a child tool and the daemon must know whether to hear the tool out (its
 * end failed: its exit status explains why) or to stop it (ours did). */
dbb_code dbb_stream_pump(struct dbb_source *src, struct dbb_sink *dst, uint64_t *copied,
                         enum dbb_stream_end *failed, struct dbb_error *err);

/* Reads src to its end, discarding the bytes (used to verify a stream). */
dbb_code dbb_stream_drain(struct dbb_source *src, uint64_t *total, struct dbb_error *err);

/* ---- file descriptors (not owned: the caller closes fd) ---- */
struct dbb_fd_sink {
	struct dbb_sink base;
	int fd;
	uint64_t written;
};
void dbb_fd_sink_init(struct dbb_fd_sink *s, int fd);

struct dbb_fd_source {
	struct dbb_source base;
	int fd;
	uint64_t read_bytes;
};
void dbb_fd_source_init(struct dbb_fd_source *s, int fd);

/* ---- size limit: a pass-through source that fails once more than
 * `limit` bytes have come through (DBB_ERR_PAYLOAD_TOO_LARGE, `exceeded`
 * set). It never asks next for more than one byte past the limit, so a
 * decompressing source below it inflates at most limit + 1 bytes: a gzip
 * bomb stops at the limit, whoever reads the stream. ---- */
struct dbb_limit_source {
	struct dbb_source base;
	struct dbb_source *next;
	uint64_t limit;
	uint64_t total; /* bytes passed on */
	bool exceeded;
};
void dbb_limit_source_init(struct dbb_limit_source *s, struct dbb_source *next, uint64_t limit);

/* ---- counting + SHA-256 pass-through sink ---- */
struct dbb_hash_sink {
	struct dbb_sink base;
	struct dbb_sink *next;
	EVP_MD_CTX *md;
	uint64_t bytes;
};
dbb_code dbb_hash_sink_init(struct dbb_hash_sink *s, struct dbb_sink *next, struct dbb_error *err);
/* Writes the lowercase hex digest (65 bytes with NUL) and frees the context. */
void dbb_hash_sink_final(struct dbb_hash_sink *s, char hex[65]);
void dbb_hash_sink_cleanup(struct dbb_hash_sink *s);

/* ---- gzip compressing sink: one gzip member, compressed on several threads ----
 * Input is cut into fixed 1 MiB blocks; each block is deflated on a worker
 * thread with the previous block's last 32 KiB as preset dictionary (so the
 * ratio matches a single stream) and ends on a byte boundary; the caller's
 * thread writes the blocks into next in order, so next is only ever called
 * from the thread that calls write/finish. The CRC-32 is combined per block.
 * The output does not depend on the thread count. At most min(2 x threads,
 * threads + 4) blocks are in flight (about 2 MiB each at worst). */
struct dbb_gzip_pool; /* private to stream/gzip.c */
struct dbb_gzip_sink {
	struct dbb_sink base;
	struct dbb_sink *next;
	struct dbb_gzip_pool *pool;
};
/* threads: compression threads, 0 = number of online CPUs (capped at 8);
 * 1 compresses in the caller's thread. On failure nothing is left to clean. */
dbb_code dbb_gzip_sink_init(struct dbb_gzip_sink *s, struct dbb_sink *next, int level,
                            unsigned threads, struct dbb_error *err);
/* Compresses what is buffered, writes the trailer into next. Must be called
 * once on success. */
dbb_code dbb_gzip_sink_finish(struct dbb_gzip_sink *s, struct dbb_error *err);
/* Stops and joins the threads, frees the buffers; safe without finish, after
 * an error, and twice. */
void dbb_gzip_sink_cleanup(struct dbb_gzip_sink *s);

/* ---- decompressing source: gzip detected by its magic bytes ----
 * If the underlying stream starts with 1f 8b it is inflated (several
 * concatenated members allowed, CRC and length verified by zlib, trailing
 * garbage rejected as DBB_ERR_INVALID_BACKUP); otherwise bytes pass through
 * unchanged. */
struct dbb_gunzip_source {
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
dbb_code dbb_gunzip_source_init(struct dbb_gunzip_source *s, struct dbb_source *next,
                                struct dbb_error *err);
void dbb_gunzip_source_cleanup(struct dbb_gunzip_source *s);

/* True if the first bytes are a gzip header. */
bool dbb_is_gzip_magic(const unsigned char *buf, size_t len);

#endif
