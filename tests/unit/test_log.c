/* dbb_log_quote: logfmt values that a client cannot use to end its field
 * or forge another (issue 14, item 10). */
#include "check.h"
#include "dbbackupd/log.h"

static const char *q(const char *in, bool always)
{
	static char out[128];
	dbb_log_quote(out, sizeof(out), in, always);
	return out;
}

int main(void)
{
	CHECK_STR(q("/backup/list", false), "/backup/list");
	CHECK_STR(q("dev-admin", false), "dev-admin");
	CHECK_STR(q("dev-admin", true), "\"dev-admin\"");
	CHECK_STR(q("", false), "\"\"");
	CHECK_STR(q(NULL, false), "\"\"");
	/* the forged path: spaces and '=' make it one quoted value */
	CHECK_STR(q("/backup/list 200 0.2ms sub=dev-admin", false),
	          "\"/backup/list 200 0.2ms sub=dev-admin\"");
	CHECK_STR(q("a=b", false), "\"a=b\"");
	CHECK_STR(q("say \"hi\"\\", false), "\"say \\\"hi\\\"\\\\\"");
	CHECK_STR(q("l1\nl2\r\t", false), "\"l1\\nl2\\r\\t\"");
	CHECK_STR(q("\033[2J\a\x7f", false), "\"\\x1b[2J\\x07\\x7f\"");
	CHECK_STR(q("\xc3\xa9", false), "\"\\xc3\\xa9\"");
	/* cut to fit, still closed, never past the buffer */
	char small[16];
	dbb_log_quote(small, sizeof(small), "0123456789abcdefghij", false);
	CHECK_STR(small, "\"012345...\"");
	dbb_log_quote(small, sizeof(small), "\033\033\033\033\033\033", false);
	CHECK(strlen(small) < sizeof(small));
	CHECK(small[0] == '"' && small[strlen(small) - 1] == '"');
	char big[4096];
	memset(big, '\033', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char out[300];
	dbb_log_quote(out, sizeof(out), big, true);
	CHECK(strlen(out) < sizeof(out));
	CHECK(out[strlen(out) - 1] == '"');
	DONE();
}
