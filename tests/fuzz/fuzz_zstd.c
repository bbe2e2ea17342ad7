/* libFuzzer target: the zstd side of the restore input path — the
 * magic-bytes source (stream/chain.c) over the zstd decoder (stream/zstd.c)
 * read to its end through a size limit, as ops' validate_input reads an
 * upload. Every failure says why; memory stays bounded (the window limit)
 * whatever the frame asks for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dbbackupd/stream.h"

#include "../mem_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* the input is taken as a zstd stream: its magic comes first, so the
	 * fuzzer spends its time inside frames, not on choosing a codec */
	size_t n = size - 1 + 4;
	unsigned char *buf = malloc(n);
	if (!buf)
		return 0;
	memcpy(buf, "\x28\xb5\x2f\xfd", 4);
	memcpy(buf + 4, data + 1, size - 1);
	struct mem_source m = mem_source(buf, n, (size_t)(data[0] % 16) * 257 + 1);
	struct dbb_source *src = NULL;
	struct dbb_error err = {0};
	if (dbb_decompress_source_new(&m.base, &src, &err) == DBB_OK) {
		struct dbb_limit_source lim;
		dbb_limit_source_init(&lim, src, 64u << 20);
		dbb_code rc = dbb_stream_drain(&lim.base, NULL, &err);
		if (rc && err.message[0] == '\0')
			abort(); /* every failure says why */
	} else if (err.message[0] == '\0') {
		abort();
	}
	dbb_source_free(src);
	free(buf);
	return 0;
}
