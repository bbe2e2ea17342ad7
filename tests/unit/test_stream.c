/* dbb_limit_source: the size limit of a restore input (issue 14, item 4). */
#include "check.h"
#include "dbbackupd/stream.h"
#include "../mem_source.h"

/* Reads everything through a limit of `limit` over `len` bytes, `step` at a
 * time from the source; returns the code and the bytes passed on. */
static dbb_code run(size_t len, uint64_t limit, size_t step, uint64_t *passed, bool *exceeded)
{
	static unsigned char data[300000];
	struct dbb_error err = {0};
	struct mem_source m = mem_source(data, len, step);
	struct dbb_limit_source lim;
	dbb_limit_source_init(&lim, &m.base, limit);
	dbb_code rc = dbb_stream_drain(&lim.base, NULL, &err);
	*passed = lim.total;
	*exceeded = lim.exceeded;
	if (rc)
		CHECK(err.message[0] != '\0');
	return rc;
}

int main(void)
{
	uint64_t passed;
	bool exceeded;
	CHECK(run(1000, 1000, 0, &passed, &exceeded) == DBB_OK);
	CHECK(passed == 1000 && !exceeded);
	CHECK(run(1001, 1000, 0, &passed, &exceeded) == DBB_ERR_PAYLOAD_TOO_LARGE);
	CHECK(exceeded && passed == 1001); /* never asked for more than one byte past */
	CHECK(run(300000, 100000, 7, &passed, &exceeded) == DBB_ERR_PAYLOAD_TOO_LARGE);
	CHECK(exceeded && passed == 100001);
	CHECK(run(0, 0, 0, &passed, &exceeded) == DBB_OK);
	CHECK(run(1, 0, 0, &passed, &exceeded) == DBB_ERR_PAYLOAD_TOO_LARGE);
	CHECK(run(300000, UINT64_MAX, 0, &passed, &exceeded) == DBB_OK);
	CHECK(passed == 300000 && !exceeded);
	DONE();
}
