/* libFuzzer target: the restore input path before any database sees it —
 * the gunzip source (gzip detected by magic, CRC and length verified, plain
 * data passed through) read to its end, and the format sniffer on the
 * first decompressed bytes. Memory stays bounded whatever the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dbbackupd/sniff.h"
#include "dbbackupd/stream.h"

#include "../mem_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct mem_source m = mem_source(data + 1, size - 1, (size_t)(data[0] % 16) * 257 + 1);
	struct dbb_source *gz = NULL;
	struct dbb_error err = {0};
	unsigned char head[4096];
	size_t have = 0;
	uint64_t total = 0;
	if (dbb_gunzip_source_new(&m.base, &gz, &err) == DBB_OK) {
		dbb_code rc = DBB_OK;
		while (have < sizeof(head)) {
			size_t got = 0;
			rc = dbb_source_read(gz, head + have, sizeof(head) - have, &got, &err);
			if (rc || got == 0)
				break;
			have += got;
		}
		(void)dbb_sniff(head, have).what;
		if (!rc)
			rc = dbb_stream_drain(gz, &total, &err);
		if (rc && err.message[0] == '\0')
			abort(); /* every failure says why */
	}
	dbb_source_free(gz);
	return 0;
}
