/* For the unit tests and fuzz targets: a dbb_source over bytes in memory
 * that hands out at most `step` bytes a read (0: as many as asked for), so
 * that a reader meets every chunk boundary. */
#ifndef DBB_TEST_MEM_SOURCE_H
#define DBB_TEST_MEM_SOURCE_H

#include <string.h>

#include "dbbackupd/stream.h"

struct mem_source {
	struct dbb_source base;
	const unsigned char *p;
	size_t left;
	size_t step;
};

static inline dbb_code mem_source_read(struct dbb_source *self, void *buf, size_t cap, size_t *got,
                                       struct dbb_error *err)
{
	struct mem_source *m = (struct mem_source *)self;
	size_t n = m->left < cap ? m->left : cap;

	(void)err;
	if (m->step && n > m->step)
		n = m->step;
	if (n)
		memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	*got = n;
	return DBB_OK;
}

static inline struct mem_source mem_source(const void *data, size_t len, size_t step)
{
	return (struct mem_source){
	    .base.read = mem_source_read, .p = data, .left = len, .step = step};
}

#endif
