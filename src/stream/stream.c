/* Plain stream plumbing: copy, drain, file-descriptor sinks and sources. */
#include "dbbackupd/stream.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

dbb_code dbb_stream_pump(struct dbb_source *src, struct dbb_sink *dst, uint64_t *copied,
                         enum dbb_stream_end *failed, struct dbb_error *err)
{
	enum dbb_stream_end end = DBB_STREAM_END_NONE;
	unsigned char *buf = malloc(DBB_STREAM_CHUNK);
	if (!buf)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	uint64_t total = 0;
	dbb_code rc;
	for (;;) {
		size_t got = 0;
		rc = dbb_source_read(src, buf, DBB_STREAM_CHUNK, &got, err);
		if (rc)
			end = DBB_STREAM_END_SOURCE;
		if (rc || got == 0)
			break;
		rc = dbb_sink_write(dst, buf, got, err);
		if (rc) {
			end = DBB_STREAM_END_SINK;
			break;
		}
		total += got;
	}
	free(buf);
	if (copied)
		*copied = total;
	if (failed)
		*failed = end;
	return rc;
}

dbb_code dbb_stream_copy(struct dbb_source *src, struct dbb_sink *dst, uint64_t *copied,
                         struct dbb_error *err)
{
	return dbb_stream_pump(src, dst, copied, NULL, err);
}

static dbb_code discard_write(struct dbb_sink *self, const void *buf, size_t len,
                              struct dbb_error *err)
{
	return DBB_OK;
}

dbb_code dbb_stream_drain(struct dbb_source *src, uint64_t *total, struct dbb_error *err)
{
	struct dbb_sink discard = {.write = discard_write};
	return dbb_stream_copy(src, &discard, total, err);
}

static dbb_code fd_sink_write(struct dbb_sink *self, const void *buf, size_t len,
                              struct dbb_error *err)
{
	struct dbb_fd_sink *s = (struct dbb_fd_sink *)self;
	const unsigned char *p = buf;
	while (len > 0) {
		ssize_t n = write(s->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "write failed");
		}
		p += n;
		len -= (size_t)n;
		s->written += (uint64_t)n;
	}
	return DBB_OK;
}

void dbb_fd_sink_init(struct dbb_fd_sink *s, int fd)
{
	s->base = (struct dbb_sink){.write = fd_sink_write};
	s->fd = fd;
	s->written = 0;
}

static dbb_code fd_source_read(struct dbb_source *self, void *buf, size_t cap, size_t *got,
                               struct dbb_error *err)
{
	struct dbb_fd_source *s = (struct dbb_fd_source *)self;
	for (;;) {
		ssize_t n = read(s->fd, buf, cap);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*got = 0;
			return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "read failed");
		}
		*got = (size_t)n;
		s->read_bytes += (uint64_t)n;
		return DBB_OK;
	}
}

void dbb_fd_source_init(struct dbb_fd_source *s, int fd)
{
	s->base = (struct dbb_source){.read = fd_source_read};
	s->fd = fd;
	s->read_bytes = 0;
}

static dbb_code limit_source_read(struct dbb_source *self, void *buf, size_t cap, size_t *got,
                                  struct dbb_error *err)
{
	struct dbb_limit_source *s = (struct dbb_limit_source *)self;
	*got = 0;
	if (s->exceeded)
		return dbb_fail(err, DBB_ERR_PAYLOAD_TOO_LARGE, "more than %llu bytes",
		                (unsigned long long)s->limit);
	uint64_t room = s->limit - s->total; /* total <= limit here */
	if (room < UINT64_MAX && cap > room + 1)
		cap = (size_t)(room + 1);
	dbb_code rc = dbb_source_read(s->next, buf, cap, got, err);
	if (rc)
		return rc;
	s->total += *got;
	if (s->total > s->limit) {
		s->exceeded = true;
		*got = 0;
		return dbb_fail(err, DBB_ERR_PAYLOAD_TOO_LARGE, "more than %llu bytes",
		                (unsigned long long)s->limit);
	}
	return DBB_OK;
}

void dbb_limit_source_init(struct dbb_limit_source *s, struct dbb_source *next, uint64_t limit)
{
	s->base = (struct dbb_source){.read = limit_source_read};
	s->next = next;
	s->limit = limit;
	s->total = 0;
	s->exceeded = false;
}
