/* libFuzzer target: the Range header parser. Input: 8 bytes of file size
 * (little endian), then the header text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 8)
		return 0;
	uint64_t fsize = 0;
	for (int i = 7; i >= 0; i--)
		fsize = fsize << 8 | data[i];
	if (data[0] & 1)
		fsize &= 0xffffffffu; /* half the time a realistic size */
	char *h = malloc(size - 8 + 1);
	if (!h)
		return 0;
	memcpy(h, data + 8, size - 8);
	h[size - 8] = '\0';
	uint64_t first = 12345, last = 67890;
	enum dbb_range_result r = dbb_range_parse(h, fsize, &first, &last);
	if (r == DBB_RANGE_OK && !(first <= last && last < fsize))
		abort(); /* a range we would serve must lie inside the file */
	if (r != DBB_RANGE_OK && r != DBB_RANGE_NONE && r != DBB_RANGE_UNSATISFIABLE)
		abort();
	free(h);
	return 0;
}
