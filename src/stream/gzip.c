/* gzip compression sink and auto-detecting, verifying decompression source. */
#include "dbbackupd/stream.h"

#include <string.h>

bool dbb_is_gzip_magic(const unsigned char *buf, size_t len)
{
	return len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
}

/* ---- compression ---- */

static dbb_code gzip_flush_out(struct dbb_gzip_sink *s, struct dbb_error *err)
{
	size_t have = sizeof(s->out) - s->z.avail_out;
	if (have > 0) {
		dbb_code rc = dbb_sink_write(s->next, s->out, have, err);
		if (rc)
			return rc;
	}
	s->z.next_out = s->out;
	s->z.avail_out = sizeof(s->out);
	return DBB_OK;
}

static dbb_code gzip_sink_write(struct dbb_sink *self, const void *buf, size_t len,
                                struct dbb_error *err)
{
	struct dbb_gzip_sink *s = (struct dbb_gzip_sink *)self;
	const unsigned char *p = buf;
	while (len > 0) {
		uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
		s->z.next_in = (Bytef *)(uintptr_t)p;
		s->z.avail_in = chunk;
		while (s->z.avail_in > 0) {
			if (deflate(&s->z, Z_NO_FLUSH) == Z_STREAM_ERROR)
				return dbb_fail(err, DBB_ERR_INTERNAL, "deflate failed");
			if (s->z.avail_out == 0) {
				dbb_code rc = gzip_flush_out(s, err);
				if (rc)
					return rc;
			}
		}
		p += chunk;
		len -= chunk;
	}
	return DBB_OK;
}

dbb_code dbb_gzip_sink_init(struct dbb_gzip_sink *s, struct dbb_sink *next, int level,
                            struct dbb_error *err)
{
	memset(&s->z, 0, sizeof(s->z));
	s->base.write = gzip_sink_write;
	s->next = next;
	s->ready = false;
	if (deflateInit2(&s->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return dbb_fail(err, DBB_ERR_INTERNAL, "cannot start gzip compression");
	s->ready = true;
	s->z.next_out = s->out;
	s->z.avail_out = sizeof(s->out);
	return DBB_OK;
}

dbb_code dbb_gzip_sink_finish(struct dbb_gzip_sink *s, struct dbb_error *err)
{
	s->z.next_in = NULL;
	s->z.avail_in = 0;
	for (;;) {
		int zr = deflate(&s->z, Z_FINISH);
		if (zr == Z_STREAM_ERROR)
			return dbb_fail(err, DBB_ERR_INTERNAL, "deflate failed");
		if (s->z.avail_out == 0 || zr == Z_STREAM_END) {
			dbb_code rc = gzip_flush_out(s, err);
			if (rc)
				return rc;
		}
		if (zr == Z_STREAM_END)
			return DBB_OK;
	}
}

void dbb_gzip_sink_cleanup(struct dbb_gzip_sink *s)
{
	if (s->ready)
		deflateEnd(&s->z);
	s->ready = false;
}

/* ---- decompression ---- */

static dbb_code fill_input(struct dbb_gunzip_source *s, struct dbb_error *err)
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
	struct dbb_gunzip_source *s = (struct dbb_gunzip_source *)self;
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
			if (s->z.avail_in < 2 || !dbb_is_gzip_magic(s->z.next_in, s->z.avail_in))
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

dbb_code dbb_gunzip_source_init(struct dbb_gunzip_source *s, struct dbb_source *next,
                                struct dbb_error *err)
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
	s->gzip = dbb_is_gzip_magic(s->in, have);
	if (!s->gzip)
		return DBB_OK;
	if (inflateInit2(&s->z, 15 + 16) != Z_OK)
		return dbb_fail(err, DBB_ERR_INTERNAL, "cannot start gzip decompression");
	s->z.next_in = s->in;
	s->z.avail_in = (uInt)have;
	s->ready = true;
	return DBB_OK;
}

void dbb_gunzip_source_cleanup(struct dbb_gunzip_source *s)
{
	if (s->ready)
		inflateEnd(&s->z);
	s->ready = false;
}
