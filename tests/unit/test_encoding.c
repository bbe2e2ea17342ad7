/* Unit tests for http/encoding.c: does an Accept-Encoding value allow gzip. */
#include "check.h"
#include "http/internal.h"

int main(void)
{
	CHECK(!dbb_accepts_gzip(NULL));
	CHECK(!dbb_accepts_gzip(""));
	CHECK(!dbb_accepts_gzip("identity"));
	CHECK(!dbb_accepts_gzip("deflate, br"));
	CHECK(dbb_accepts_gzip("gzip"));
	CHECK(dbb_accepts_gzip("GZIP"));
	CHECK(dbb_accepts_gzip("x-gzip"));
	CHECK(dbb_accepts_gzip("deflate, gzip"));
	CHECK(dbb_accepts_gzip("gzip, deflate, br, zstd")); /* browsers */
	CHECK(dbb_accepts_gzip(" br ;q=1.0 , gzip ; q=0.8"));
	CHECK(dbb_accepts_gzip("gzip;q=1"));
	CHECK(dbb_accepts_gzip("gzip;q=0.001"));
	CHECK(!dbb_accepts_gzip("gzip;q=0"));
	CHECK(!dbb_accepts_gzip("gzip;q=0.000"));
	CHECK(!dbb_accepts_gzip("gzip; q=0, *"));  /* named and refused wins over * */
	CHECK(!dbb_accepts_gzip("gzip;q=banana")); /* malformed q: not gzip */
	CHECK(dbb_accepts_gzip("*"));
	CHECK(!dbb_accepts_gzip("*;q=0"));
	CHECK(!dbb_accepts_gzip("gzipx, xgzip, gzi"));
	CHECK(!dbb_accepts_gzip(";;;,,,;q=1"));
	CHECK(dbb_accepts_gzip(",,gzip,,"));
	CHECK(!dbb_accepts_gzip("identity;q=1, *;q=0"));
	DONE();
}
