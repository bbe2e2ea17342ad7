/* Unit tests for OFFSITE_RETENTION (issue 18, ops/remote_prune.c): the
 * empty value follows the local KEEP_*, "none" never prunes the store, a
 * list of KEEP_* assignments (commas or spaces) is the store's own policy
 * with its own KEEP_MIN and KEEP_SAFETY_WITHIN (defaults 1 and 7d), and
 * anything else is refused at start-up with the reason. */
#include <string.h>

#include "check.h"
#include "dbbackupd/prune.h"

static void test_modes(void)
{
	struct dbb_remote_retention r;
	struct dbb_error err = {0};
	CHECK(dbb_remote_retention_parse("", &r, &err) == DBB_OK);
	CHECK(r.mode == DBB_REMOTE_RETENTION_LOCAL);
	CHECK(dbb_remote_retention_parse("none", &r, &err) == DBB_OK);
	CHECK(r.mode == DBB_REMOTE_RETENTION_NONE);
	CHECK(dbb_remote_retention_parse("KEEP_DAILY=30,KEEP_MONTHLY=24", &r, &err) == DBB_OK);
	CHECK(r.mode == DBB_REMOTE_RETENTION_OWN);
	CHECK(r.policy.keep[DBB_BUCKET_DAILY] == 30 && r.policy.keep[DBB_BUCKET_MONTHLY] == 24);
	CHECK(r.policy.keep[DBB_BUCKET_LAST] == 0 && r.policy.keep[DBB_BUCKET_WEEKLY] == 0);
	CHECK(r.keep_min == 1 && r.safety_within.days == 7);
}

static void test_all_names(void)
{
	struct dbb_remote_retention r;
	struct dbb_error err = {0};
	CHECK(dbb_remote_retention_parse("KEEP_LAST=2 KEEP_HOURLY=-1, KEEP_WEEKLY=4 KEEP_YEARLY=3 "
	                                 "KEEP_WITHIN=1y2m KEEP_MIN=3 KEEP_SAFETY_WITHIN=0d",
	                                 &r, &err) == DBB_OK);
	CHECK(r.policy.keep[DBB_BUCKET_LAST] == 2 && r.policy.keep[DBB_BUCKET_HOURLY] == -1);
	CHECK(r.policy.keep[DBB_BUCKET_WEEKLY] == 4 && r.policy.keep[DBB_BUCKET_YEARLY] == 3);
	CHECK(r.policy.within.years == 1 && r.policy.within.months == 2);
	CHECK(r.keep_min == 3 && dbb_duration_is_zero(&r.safety_within));
	CHECK(!dbb_retention_policy_empty(&r.policy));
}

static void refused(const char *text, const char *says)
{
	struct dbb_remote_retention r;
	struct dbb_error err = {0};
	CHECK(dbb_remote_retention_parse(text, &r, &err) == DBB_ERR_CONFIG);
	CHECK(strstr(err.message, "OFFSITE_RETENTION") != NULL);
	if (!strstr(err.message, says)) {
		fprintf(stderr, "FAIL: \"%s\" gave \"%s\", not \"%s\"\n", text, err.message, says);
		check_failed++;
	}
}

static void test_refused(void)
{
	refused("KEEP_DAILY", "NAME=VALUE");
	refused("KEEP_DAILY=x", "KEEP_DAILY must be a whole number");
	refused("KEEP_DAILY=-2", "KEEP_DAILY must be a whole number");
	refused("KEEP_DAILY=7,KEEP_FOREVER=1", "unknown setting KEEP_FOREVER");
	refused("KEEP_MIN=0", "KEEP_MIN must be 1 or more");
	refused("KEEP_WITHIN=3w", "KEEP_WITHIN");
	refused("all", "NAME=VALUE");
}

int main(void)
{
	test_modes();
	test_all_names();
	test_refused();
	DONE();
}
