/* Byte streams: a sink takes bytes, a source gives them. Layers (gzip,
 * zstd, SHA-256, size limit) wrap another sink or source, so code that
 * produces bytes (a driver's dump) never knows where they go, and code that
 * consumes them (a driver's restore) never knows where they come from.
 *
 * Lifecycle: every sink and source carries its own finish/free in its
 * vtable (both optional). A layer never owns the sink/source it wraps; a
 * chain (dbb_sink_chain, dbb_source_chain below) is built from a list of
 * layers and torn down in reverse order. Layers that hold library state
 * (zlib, zstd, OpenSSL) are opaque: made by a constructor, released by
 * dbb_sink_free/dbb_source_free. */
#ifndef DBBACKUPD_STREAM_H
#define DBBACKUPD_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbbackupd/error.h"

#define DBB_STREAM_CHUNK (128 * 1024)

struct dbb_sink {
	/* Takes all len bytes or fails. */
	dbb_code (*write)(struct dbb_sink *self, const void *buf, size_t len,
	                  struct dbb_error *err);
	/* Optional: after the last write, on success only, once: writes out what
	 * the layer holds (a trailer) into the sink below. */
	dbb_code (*finish)(struct dbb_sink *self, struct dbb_error *err);
	/* Optional: releases the layer itself (never the sink below); safe
	 * without finish and after an error. */
	void (*free)(struct dbb_sink *self);
};

struct dbb_source {
	/* Reads up to cap bytes; *got == 0 with DBB_OK means end of stream. */
	dbb_code (*read)(struct dbb_source *self, void *buf, size_t cap, size_t *got,
	                 struct dbb_error *err);
	/* Optional: once the reader stopped, reads what is left to the end so
	 * the layer's checks (checksum, trailer, trailing garbage) have run. */
	dbb_code (*finish)(struct dbb_source *self, struct dbb_error *err);
	/* Optional: releases the layer itself (never the source below). */
	void (*free)(struct dbb_source *self);
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

static inline dbb_code dbb_sink_finish(struct dbb_sink *s, struct dbb_error *err)
{
	return s->finish ? s->finish(s, err) : DBB_OK;
}

/* NULL is fine. */
static inline void dbb_sink_free(struct dbb_sink *s)
{
	if (s && s->free)
		s->free(s);
}

/* Without a finish of its own the rest is drained (dbb_stream_drain). */
dbb_code dbb_source_finish(struct dbb_source *s, struct dbb_error *err);

/* NULL is fine. */
static inline void dbb_source_free(struct dbb_source *s)
{
	if (s && s->free)
		s->free(s);
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

/* ---- opaque layers ----
 * Each constructor wraps `next` (not owned) and returns a layer released by
 * dbb_sink_free/dbb_source_free; on failure *out is NULL and nothing is
 * left to release. */

/* Counting + SHA-256 pass-through sink. */
dbb_code dbb_hash_sink_new(struct dbb_sink *next, struct dbb_sink **out, struct dbb_error *err);
/* The lowercase hex digest (65 bytes with NUL) of what went through, and
 * how many bytes; call once, after the last write. */
void dbb_hash_sink_digest(struct dbb_sink *hash, char hex[65], uint64_t *bytes);

/* Settings of a compressing layer. */
struct dbb_codec_options {
	int level;
	unsigned threads; /* 0: the number of online CPUs (capped by the codec) */
	size_t job_size;  /* zstd with workers: bytes per job; 0: 2 MiB */
};

/* gzip: one gzip member, compressed on several threads. Input is cut into
 * fixed 1 MiB blocks; each block is deflated on a worker thread with the
 * previous block's last 32 KiB as preset dictionary (so the ratio matches a
 * single stream); the caller's thread writes the blocks into next in order,
 * so next is only ever called from the thread that calls write/finish. The
 * output does not depend on the thread count. At most min(2 x threads,
 * threads + 4) blocks (threads capped at 8) are in flight, about 2 MiB each
 * at worst. finish writes the trailer. */
dbb_code dbb_gzip_sink_new(struct dbb_sink *next, const struct dbb_codec_options *opt,
                           struct dbb_sink **out, struct dbb_error *err);

/* gzip decoding source: if the stream starts with 1f 8b it is inflated
 * (several concatenated members allowed, CRC and length verified, trailing
 * garbage rejected as DBB_ERR_INVALID_BACKUP); otherwise bytes pass through
 * unchanged. */
dbb_code dbb_gunzip_source_new(struct dbb_source *next, struct dbb_source **out,
                               struct dbb_error *err);

/* libzstd's smallest job (ZSTDMT_JOBSIZE_MIN): for safety backups */
#define DBB_ZSTD_SAFETY_JOB_SIZE (512u * 1024u)

/* zstd (stream/zstd.c): one standard frame with its content checksum, as
 * `zstd -d` reads it; threads are libzstd's own workers (ZSTD_c_nbWorkers,
 * 1 = none), used only when the first 1 MiB showed that one thread cannot
 * keep up with the writes (a trial: docs/compression.md); the bytes written
 * are then the workers', else exactly one thread's. finish ends the frame. */
dbb_code dbb_zstd_sink_new(struct dbb_sink *next, const struct dbb_codec_options *opt,
                           struct dbb_sink **out, struct dbb_error *err);

/* zstd decoding source: one or more concatenated frames, every checksum
 * verified; a truncated or corrupt frame, or bytes after the last, are
 * DBB_ERR_INVALID_BACKUP. Skippable frames are skipped. */
dbb_code dbb_unzstd_source_new(struct dbb_source *next, struct dbb_source **out,
                               struct dbb_error *err);

/* ---- compression formats ---- */
enum dbb_compression { DBB_COMPRESSION_NONE = 0, DBB_COMPRESSION_GZIP, DBB_COMPRESSION_ZSTD };

/* "none", "gzip", "zstd". */
const char *dbb_compression_name(enum dbb_compression c);
/* The file name suffix: "", ".gz", ".zst". */
const char *dbb_compression_suffix(enum dbb_compression c);
/* "gzip" or "zstd" (also "none"); false for anything else. */
bool dbb_compression_parse(const char *s, enum dbb_compression *out);
/* "codec[:level]": a name dbb_compression_parse knows, optionally with a
 * level (gzip 1-9, zstd 1-19; *level 0 when none is given, and for
 * "none"). False for anything else. */
bool dbb_compression_parse_spec(const char *s, enum dbb_compression *codec, int *level);
/* By the first bytes (the magic), never by a name: 1f 8b is gzip,
 * 28 b5 2f fd is zstd, anything else none. */
enum dbb_compression dbb_compression_sniff(const unsigned char *buf, size_t len);

/* The compressing layer for c (DBB_COMPRESSION_NONE: no layer, *out NULL). */
dbb_code dbb_compress_sink_new(enum dbb_compression c, struct dbb_sink *next,
                               const struct dbb_codec_options *opt, struct dbb_sink **out,
                               struct dbb_error *err);

/* Decoding source chosen by the stream's magic bytes: gzip, zstd, or the
 * bytes unchanged. */
dbb_code dbb_decompress_source_new(struct dbb_source *next, struct dbb_source **out,
                                   struct dbb_error *err);

/* ---- chains ----
 * A chain owns its layers, never its bottom (file) sink or source. */

/* Makes one layer above next; arg is the layer's settings. */
typedef dbb_code (*dbb_sink_layer_fn)(struct dbb_sink *next, const void *arg, struct dbb_sink **out,
                                      struct dbb_error *err);
typedef dbb_code (*dbb_source_layer_fn)(struct dbb_source *next, const void *arg,
                                        struct dbb_source **out, struct dbb_error *err);

struct dbb_sink_layer {
	dbb_sink_layer_fn make;
	const void *arg;
};
struct dbb_source_layer {
	dbb_source_layer_fn make;
	const void *arg;
};

/* Sizes at the ends of a chain, and the SHA-256 of the stored bytes. */
struct dbb_stream_totals {
	uint64_t plain_bytes;  /* what the producer wrote / the consumer read */
	uint64_t stored_bytes; /* what reached the file / came from it */
	char sha256[65];       /* sink chains only: of the stored bytes */
};

/* producer → layers[0] → ... → layers[n-1] → SHA-256 → bottom. A layer with
 * a NULL make is skipped (an optional step, such as "no compression"). */
struct dbb_sink_chain;
dbb_code dbb_sink_chain_new(struct dbb_sink *bottom, const struct dbb_sink_layer *layers, size_t n,
                            struct dbb_sink_chain **out, struct dbb_error *err);
/* Where the producer writes. */
struct dbb_sink *dbb_sink_chain_top(struct dbb_sink_chain *c);
/* Finishes every layer from the top down, then fills *t. Once, on success. */
dbb_code dbb_sink_chain_finish(struct dbb_sink_chain *c, struct dbb_stream_totals *t,
                               struct dbb_error *err);
/* Frees the layers from the top down. NULL is fine. */
void dbb_sink_chain_free(struct dbb_sink_chain *c);

/* bottom → layers[0] → ... → layers[n-1] → consumer. */
struct dbb_source_chain;
dbb_code dbb_source_chain_new(struct dbb_source *bottom, const struct dbb_source_layer *layers,
                              size_t n, struct dbb_source_chain **out, struct dbb_error *err);
/* Where the consumer reads. */
struct dbb_source *dbb_source_chain_top(struct dbb_source_chain *c);
/* Reads what the consumer left to the end (so every layer's checks ran),
 * then fills *t. */
dbb_code dbb_source_chain_finish(struct dbb_source_chain *c, struct dbb_stream_totals *t,
                                 struct dbb_error *err);
void dbb_source_chain_free(struct dbb_source_chain *c);

/* Layer makers for the lists above (arg: a struct dbb_codec_options for the
 * compressing ones, NULL otherwise). A size limit goes on top of a source
 * chain as a dbb_limit_source, which holds nothing to release. */
dbb_code dbb_gzip_layer(struct dbb_sink *next, const void *arg, struct dbb_sink **out,
                        struct dbb_error *err);
dbb_code dbb_zstd_layer(struct dbb_sink *next, const void *arg, struct dbb_sink **out,
                        struct dbb_error *err);
dbb_code dbb_decompress_layer(struct dbb_source *next, const void *arg, struct dbb_source **out,
                              struct dbb_error *err);

#endif
