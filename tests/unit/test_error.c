/* Unit tests for error.c: codes, recode, prefix, and a message formatted
 * from (a part of) itself. */
#include <errno.h>

#include "check.h"
#include "dbbackupd/error.h"

int main(void)
{
	struct dbb_error err = {0};

	CHECK(dbb_fail(&err, DBB_ERR_INTERNAL, "child %s", "failed") == DBB_ERR_INTERNAL);
	CHECK(dbb_error_recode(&err, DBB_ERR_BACKUP_FAILED) == DBB_ERR_BACKUP_FAILED);
	CHECK(err.code == DBB_ERR_BACKUP_FAILED);
	CHECK_STR(err.message, "child failed");
	CHECK(dbb_error_recode(NULL, DBB_ERR_RESTORE_FAILED) == DBB_ERR_RESTORE_FAILED);

	dbb_error_prefix(&err, "pg_dump");
	CHECK_STR(err.message, "pg_dump: child failed");

	/* An argument that is the message itself (or inside it) is read before
	 * the message is written: no overlap of vsnprintf's source and target. */
	dbb_fail(&err, DBB_ERR_DB_UNAVAILABLE, "outer (%s) [%s]", err.message, err.message + 9);
	CHECK(err.code == DBB_ERR_DB_UNAVAILABLE);
	CHECK_STR(err.message, "outer (pg_dump: child failed) [child failed]");
	dbb_fail_errno(&err, ENOSPC, DBB_ERR_INTERNAL, "again %s", err.message);
	CHECK(err.code == DBB_ERR_NO_SPACE);
	CHECK(strncmp(err.message, "again outer (pg_dump", 20) == 0);

	CHECK(dbb_code_http_status(DBB_ERR_RESTORE_CONFLICT) == 409);
	CHECK_STR(dbb_code_name(DBB_ERR_BACKUP_FAILED), "backup_failed");
	DONE();
}
