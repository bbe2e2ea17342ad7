/* Unit tests for http/range.c: the Range header parser. */
#include "check.h"
#include "http/internal.h"

static enum dbb_range_result r(const char *h, uint64_t size, uint64_t *a, uint64_t *b)
{
	*a = *b = 12345;
	return dbb_range_parse(h, size, a, b);
}

int main(void)
{
	uint64_t a, b;
	CHECK(r(NULL, 100, &a, &b) == DBB_RANGE_NONE);
	CHECK(r("bytes=0-9", 100, &a, &b) == DBB_RANGE_OK && a == 0 && b == 9);
	CHECK(r("bytes=90-", 100, &a, &b) == DBB_RANGE_OK && a == 90 && b == 99);
	CHECK(r("bytes=90-1000", 100, &a, &b) == DBB_RANGE_OK && a == 90 && b == 99);
	CHECK(r("bytes=-10", 100, &a, &b) == DBB_RANGE_OK && a == 90 && b == 99);
	CHECK(r("bytes=-1000", 100, &a, &b) == DBB_RANGE_OK && a == 0 && b == 99);
	CHECK(r("bytes=100-", 100, &a, &b) == DBB_RANGE_UNSATISFIABLE);
	CHECK(r("bytes=-0", 100, &a, &b) == DBB_RANGE_UNSATISFIABLE);
	CHECK(r("bytes=0-", 0, &a, &b) == DBB_RANGE_UNSATISFIABLE);
	CHECK(r("bytes=9-3", 100, &a, &b) == DBB_RANGE_NONE);
	CHECK(r("bytes=0-1,5-6", 100, &a, &b) == DBB_RANGE_NONE);
	CHECK(r("bytes=-", 100, &a, &b) == DBB_RANGE_NONE);
	CHECK(r("bytes=--5", 100, &a, &b) == DBB_RANGE_NONE);
	CHECK(r("bytes=-5-", 100, &a, &b) == DBB_RANGE_NONE);
	CHECK(r("bytes=18446744073709551616-", 100, &a, &b) == DBB_RANGE_NONE);
	CHECK(r("bytes=99999999999999999999999-", 100, &a, &b) == DBB_RANGE_NONE);
	CHECK(r("bytes=18446744073709551615-", 100, &a, &b) == DBB_RANGE_UNSATISFIABLE);
	CHECK(r("items=0-5", 100, &a, &b) == DBB_RANGE_NONE);
	CHECK(r("bytes=0-5x", 100, &a, &b) == DBB_RANGE_NONE);
	CHECK(r("bytes=a-5", 100, &a, &b) == DBB_RANGE_NONE);
	DONE();
}
