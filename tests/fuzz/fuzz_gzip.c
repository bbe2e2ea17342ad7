/* libFuzzer target: the restore input path before any database sees it —
 * the gunzip source (gzip detected by magic, CRC and length verified, plain
 * data passed through) read to its end, and the format sniffer on the
 * first decompressed bytes. Memory stays bounded whatever the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dbbackupd/sniff.h"
#include "dbbackupd/stream.h"

struct mem_source {
	struct dbb_source base;
	const uint8_t *p;
	size_t left;
	size_t step; /* the most handed out per read: odd chunkings */
};

static dbb_code mem_read(struct dbb_source *self, void *buf, size_t cap, size_t *got,
                         struct dbb_error *err)
{
	struct mem_source *m = (struct mem_source *)self;
	size_t n = m->left < cap ? m->left : cap;
	if (n > m->step)
		n = m->step;
	if (n)
		memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	*got = n;
	return DBB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct mem_source m = {.base.read = mem_read, .p = data + 1, .left = size - 1};
	m.step = (size_t)(data[0] % 16) * 257 + 1;
	struct dbb_gunzip_source *gz = malloc(sizeof(*gz));
	struct dbb_error err = {0};
	unsigned char head[4096];
	size_t have = 0;
	uint64_t total = 0;
	if (!gz)
		return 0;
	if (dbb_gunzip_source_init(gz, &m.base, &err) == DBB_OK) {
		dbb_code rc = DBB_OK;
		while (have < sizeof(head)) {
			size_t got = 0;
			rc = dbb_source_read(&gz->base, head + have, sizeof(head) - have, &got,
			                     &err);
			if (rc || got == 0)
				break;
			have += got;
		}
		(void)dbb_format_describe(dbb_sniff(head, have));
		if (!rc)
			rc = dbb_stream_drain(&gz->base, &total, &err);
		if (rc && err.message[0] == '\0')
			abort(); /* every failure says why */
	}
	dbb_gunzip_source_cleanup(gz);
	free(gz);
	return 0;
}
