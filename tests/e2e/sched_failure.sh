#!/usr/bin/env bash
# Issue 17: the database is gone for the second scheduled run (the SQLite
# file moved away): the failure is recorded (status, metrics), a failure
# notification reaches the SMTP server and the webhook (signature checked),
# nothing is deleted (the "backups are failing" guard holds everything);
# the next run succeeds and a recovery notification follows.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/sched_lib.sh"
e2e_init
e2e_use_service smtp
e2e_sqlite_demo
sched_webhook_start
e2e_start SQLITE_PATH="$SQLITE_DB" BACKUP_SCHEDULE='* * * * *' KEEP_LAST=1 \
	NOTIFY_WEBHOOK_URL="$WEBHOOK_URL" NOTIFY_WEBHOOK_SECRET="$(cat "$WEBHOOK_SECRET_FILE")" \
	NOTIFY_SMTP_URL="$SMTP_URL" NOTIFY_MAIL_FROM=dbbackupd@example.test \
	NOTIFY_MAIL_TO="ops-$$@example.test"

check "the first run (catch-up) succeeded" wait_for 60 at_least scheduler success 1
api POST /backup/create operator # a second backup, which KEEP_LAST=1 would delete
expect_status 200 "a backup through the API"
mv "$SQLITE_DB" "$SQLITE_DB.away"
check "the next run failed" wait_for 90 at_least scheduler '[a-z_]+' 2
api GET /backup/schedule viewer
expect_json '.last_run.outcome == "failure" and (.last_run.error | length > 0) and .consecutive_failures == 1 and .last_failure_at != null' "failure recorded"
check "dbbackupd_consecutive_failures is 1" test "$(metric dbbackupd_consecutive_failures)" = 1
check "dbbackupd_last_failure_timestamp_seconds is set" test "$(metric dbbackupd_last_failure_timestamp_seconds)" != 0
api GET /backup/list viewer
expect_json '.total_count == 2' "nothing deleted"
api POST "/backup/prune?dry_run=true" operator
expect_json '.held_back == true and (.remove | length) == 0 and ([.keep[].reasons[]] | any(. == "newest backup older than last due time"))' "while failing, a prune holds back what KEEP_LAST=1 would delete"
api POST /backup/prune admin
expect_json '.held_back == true and .removed == 0' "a real prune deletes nothing either"
api GET /backup/list viewer
expect_json '.total_count == 2' "still nothing deleted"
check "a failure notification reached the webhook, signed" \
	wait_for 30 webhook_has '.operation == "backup" and .outcome == "failure" and .trigger == "schedule" and .signature_ok == true'
api POST /backup/create operator
expect_error 503 database_unavailable "an API create fails too"
check "the failed API create is notified" \
	wait_for 30 webhook_has '.operation == "backup" and .trigger == "api" and .outcome == "failure" and (.error | startswith("database_unavailable"))'
check "a failure mail reached the SMTP server" wait_for 30 mail_has "ops-$$@example.test"
check "the mail says FAILED" wait_for 10 mail_has "FAILED"

mv "$SQLITE_DB.away" "$SQLITE_DB"
check "the run after succeeded" wait_for 90 at_least scheduler success 2
api GET /backup/schedule viewer
expect_json '.last_run.outcome == "success" and .consecutive_failures == 0' "recovered"
check "dbbackupd_consecutive_failures is 0 again" test "$(metric dbbackupd_consecutive_failures)" = 0
check "a recovery notification reached the webhook" \
	wait_for 30 webhook_has '.operation == "backup" and .outcome == "recovery" and .signature_ok == true'
check "a recovery mail reached the SMTP server" wait_for 30 mail_has "recovered"
sleep 2 # the prune after the recovered run
api GET /backup/list viewer
expect_json '.total_count == 1' "after the recovery, retention applies KEEP_LAST=1 again"
check "no webhook event had a bad signature" bash -c "! jq -se '[.[] | select(.signature_ok != true)] | length > 0' '$WEBHOOK_EVENTS' >/dev/null"
check "no notification failed" test "$(metric dbbackupd_notifications_failed_total)" = 0
e2e_done
