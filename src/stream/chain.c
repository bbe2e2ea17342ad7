/* Chains of stream layers with one lifecycle, and the table of compression
 * formats (names, suffixes, magic bytes, layers). */
#include "dbbackupd/stream.h"

#include <stdlib.h>
#include <string.h>

dbb_code dbb_source_finish(struct dbb_source *s, struct dbb_error *err)
{
	return s->finish ? s->finish(s, err) : dbb_stream_drain(s, NULL, err);
}

/* ---- compression formats ---- */

static const unsigned char gzip_magic[] = {0x1f, 0x8b};
static const unsigned char zstd_magic[] = {0x28, 0xb5, 0x2f, 0xfd};

static const struct codec {
	const char *name;
	const char *suffix;
	const unsigned char *magic;
	size_t magic_len;
	dbb_code (*sink_new)(struct dbb_sink *next, const struct dbb_codec_options *opt,
	                     struct dbb_sink **out, struct dbb_error *err);
	dbb_code (*source_new)(struct dbb_source *next, struct dbb_source **out,
	                       struct dbb_error *err);
} codecs[] = {
    [DBB_COMPRESSION_NONE] = {"none", "", NULL, 0, NULL, NULL},
    [DBB_COMPRESSION_GZIP] = {"gzip", ".gz", gzip_magic, sizeof(gzip_magic), dbb_gzip_sink_new,
                              dbb_gunzip_source_new},
    [DBB_COMPRESSION_ZSTD] = {"zstd", ".zst", zstd_magic, sizeof(zstd_magic), dbb_zstd_sink_new,
                              dbb_unzstd_source_new},
};
#define NCODECS   (sizeof(codecs) / sizeof(codecs[0]))
#define MAGIC_MAX 4

static const struct codec *codec_of(enum dbb_compression c)
{
	return (size_t)c < NCODECS ? &codecs[c] : &codecs[DBB_COMPRESSION_NONE];
}

const char *dbb_compression_name(enum dbb_compression c)
{
	return codec_of(c)->name;
}

const char *dbb_compression_suffix(enum dbb_compression c)
{
	return codec_of(c)->suffix;
}

bool dbb_compression_parse(const char *s, enum dbb_compression *out)
{
	for (size_t i = 0; s && i < NCODECS; i++)
		if (strcmp(s, codecs[i].name) == 0) {
			*out = (enum dbb_compression)i;
			return true;
		}
	return false;
}

enum dbb_compression dbb_compression_sniff(const unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < NCODECS; i++)
		if (codecs[i].magic && len >= codecs[i].magic_len &&
		    memcmp(buf, codecs[i].magic, codecs[i].magic_len) == 0)
			return (enum dbb_compression)i;
	return DBB_COMPRESSION_NONE;
}

dbb_code dbb_compress_sink_new(enum dbb_compression c, struct dbb_sink *next,
                               const struct dbb_codec_options *opt, struct dbb_sink **out,
                               struct dbb_error *err)
{
	*out = NULL;
	const struct codec *k = codec_of(c);
	return k->sink_new ? k->sink_new(next, opt, out, err) : DBB_OK;
}

dbb_code dbb_gzip_layer(struct dbb_sink *next, const void *arg, struct dbb_sink **out,
                        struct dbb_error *err)
{
	return dbb_gzip_sink_new(next, arg, out, err);
}

dbb_code dbb_zstd_layer(struct dbb_sink *next, const void *arg, struct dbb_sink **out,
                        struct dbb_error *err)
{
	return dbb_zstd_sink_new(next, arg, out, err);
}

/* ---- decoding by magic bytes ----
 * The first bytes are read ahead to see the magic, then handed out again
 * (to the decoder, or to the reader when the stream is not compressed). */
struct decompress_source {
	struct dbb_source base;
	struct dbb_source *next;
	struct dbb_source replay; /* head, then next */
	unsigned char head[MAGIC_MAX];
	size_t head_len, head_pos;
	struct dbb_source *decoder; /* NULL: not compressed */
};

static dbb_code replay_read(struct dbb_source *self, void *buf, size_t cap, size_t *got,
                            struct dbb_error *err)
{
	struct decompress_source *s =
	    (struct decompress_source *)((char *)self - offsetof(struct decompress_source, replay));
	if (s->head_pos < s->head_len) {
		size_t n = s->head_len - s->head_pos;
		if (n > cap)
			n = cap;
		memcpy(buf, s->head + s->head_pos, n);
		s->head_pos += n;
		*got = n;
		return DBB_OK;
	}
	return dbb_source_read(s->next, buf, cap, got, err);
}

static dbb_code decompress_read(struct dbb_source *self, void *buf, size_t cap, size_t *got,
                                struct dbb_error *err)
{
	struct decompress_source *s = (struct decompress_source *)self;
	struct dbb_source *from = s->decoder ? s->decoder : &s->replay;
	return dbb_source_read(from, buf, cap, got, err);
}

static void decompress_free(struct dbb_source *self)
{
	struct decompress_source *s = (struct decompress_source *)self;
	dbb_source_free(s->decoder);
	free(s);
}

dbb_code dbb_decompress_source_new(struct dbb_source *next, struct dbb_source **out,
                                   struct dbb_error *err)
{
	*out = NULL;
	struct decompress_source *s = calloc(1, sizeof(*s));
	if (!s)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	s->base.read = decompress_read;
	s->base.free = decompress_free;
	s->replay.read = replay_read;
	s->next = next;
	dbb_code rc = DBB_OK;
	while (s->head_len < MAGIC_MAX) {
		size_t got = 0;
		rc = dbb_source_read(next, s->head + s->head_len, MAGIC_MAX - s->head_len, &got,
		                     err);
		if (rc || got == 0)
			break;
		s->head_len += got;
	}
	const struct codec *k = codec_of(dbb_compression_sniff(s->head, s->head_len));
	if (!rc && k->source_new)
		rc = k->source_new(&s->replay, &s->decoder, err);
	if (rc) {
		decompress_free(&s->base);
		return rc;
	}
	*out = &s->base;
	return DBB_OK;
}

dbb_code dbb_decompress_layer(struct dbb_source *next, const void *arg, struct dbb_source **out,
                              struct dbb_error *err)
{
	(void)arg;
	return dbb_decompress_source_new(next, out, err);
}

/* ---- chains ---- */

#define CHAIN_MAX 8

struct count_sink {
	struct dbb_sink base;
	struct dbb_sink *next;
	uint64_t bytes;
};

static dbb_code count_write(struct dbb_sink *self, const void *buf, size_t len,
                            struct dbb_error *err)
{
	struct count_sink *s = (struct count_sink *)self;
	s->bytes += len;
	return dbb_sink_write(s->next, buf, len, err);
}

struct dbb_sink_chain {
	struct count_sink top;             /* counts what the producer writes */
	struct dbb_sink *hash;             /* just above the bottom */
	struct dbb_sink *layer[CHAIN_MAX]; /* layer[0] is the top one */
	size_t n;
};

dbb_code dbb_sink_chain_new(struct dbb_sink *bottom, const struct dbb_sink_layer *layers, size_t n,
                            struct dbb_sink_chain **out, struct dbb_error *err)
{
	*out = NULL;
	if (n > CHAIN_MAX)
		return dbb_fail(err, DBB_ERR_INTERNAL, "too many stream layers");
	struct dbb_sink_chain *c = calloc(1, sizeof(*c));
	if (!c)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	dbb_code rc = dbb_hash_sink_new(bottom, &c->hash, err);
	struct dbb_sink *below = c->hash;
	/* built from the bottom up; layer[] keeps them top first */
	size_t made = 0;
	struct dbb_sink *tmp[CHAIN_MAX];
	for (size_t i = n; !rc && i-- > 0;) {
		if (!layers[i].make)
			continue;
		rc = layers[i].make(below, layers[i].arg, &tmp[made], err);
		if (!rc)
			below = tmp[made++];
	}
	for (size_t i = 0; i < made; i++)
		c->layer[i] = tmp[made - 1 - i];
	c->n = made;
	c->top.base.write = count_write;
	c->top.next = below;
	if (rc) {
		dbb_sink_chain_free(c);
		return rc;
	}
	*out = c;
	return DBB_OK;
}

struct dbb_sink *dbb_sink_chain_top(struct dbb_sink_chain *c)
{
	return &c->top.base;
}

dbb_code dbb_sink_chain_finish(struct dbb_sink_chain *c, struct dbb_stream_totals *t,
                               struct dbb_error *err)
{
	for (size_t i = 0; i < c->n; i++) {
		dbb_code rc = dbb_sink_finish(c->layer[i], err);
		if (rc)
			return rc;
	}
	memset(t, 0, sizeof(*t));
	t->plain_bytes = c->top.bytes;
	dbb_hash_sink_digest(c->hash, t->sha256, &t->stored_bytes);
	return DBB_OK;
}

void dbb_sink_chain_free(struct dbb_sink_chain *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		dbb_sink_free(c->layer[i]);
	dbb_sink_free(c->hash);
	free(c);
}

struct count_source {
	struct dbb_source base;
	struct dbb_source *next;
	uint64_t bytes;
};

static dbb_code count_read(struct dbb_source *self, void *buf, size_t cap, size_t *got,
                           struct dbb_error *err)
{
	struct count_source *s = (struct count_source *)self;
	dbb_code rc = dbb_source_read(s->next, buf, cap, got, err);
	if (!rc)
		s->bytes += *got;
	return rc;
}

struct dbb_source_chain {
	struct count_source bottom;          /* counts what comes from the file */
	struct count_source top;             /* counts what the consumer reads */
	struct dbb_source *layer[CHAIN_MAX]; /* layer[0] is the bottom one */
	size_t n;
};

dbb_code dbb_source_chain_new(struct dbb_source *bottom, const struct dbb_source_layer *layers,
                              size_t n, struct dbb_source_chain **out, struct dbb_error *err)
{
	*out = NULL;
	if (n > CHAIN_MAX)
		return dbb_fail(err, DBB_ERR_INTERNAL, "too many stream layers");
	struct dbb_source_chain *c = calloc(1, sizeof(*c));
	if (!c)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	c->bottom.base.read = count_read;
	c->bottom.next = bottom;
	struct dbb_source *below = &c->bottom.base;
	dbb_code rc = DBB_OK;
	for (size_t i = 0; !rc && i < n; i++) {
		if (!layers[i].make)
			continue;
		rc = layers[i].make(below, layers[i].arg, &c->layer[c->n], err);
		if (!rc)
			below = c->layer[c->n++];
	}
	c->top.base.read = count_read;
	c->top.next = below;
	if (rc) {
		dbb_source_chain_free(c);
		return rc;
	}
	*out = c;
	return DBB_OK;
}

struct dbb_source *dbb_source_chain_top(struct dbb_source_chain *c)
{
	return &c->top.base;
}

dbb_code dbb_source_chain_finish(struct dbb_source_chain *c, struct dbb_stream_totals *t,
                                 struct dbb_error *err)
{
	dbb_code rc = dbb_stream_drain(&c->top.base, NULL, err);
	for (size_t i = c->n; !rc && i-- > 0;)
		if (c->layer[i]->finish)
			rc = c->layer[i]->finish(c->layer[i], err);
	if (rc)
		return rc;
	memset(t, 0, sizeof(*t));
	t->plain_bytes = c->top.bytes;
	t->stored_bytes = c->bottom.bytes;
	return DBB_OK;
}

void dbb_source_chain_free(struct dbb_source_chain *c)
{
	if (!c)
		return;
	for (size_t i = c->n; i-- > 0;)
		dbb_source_free(c->layer[i]);
	free(c);
}
