#!/usr/bin/env bash
# Issue 17: a schedule every minute over about three minutes. The first run
# is the start-up catch-up (no backup yet); each success is followed by a
# prune with KEEP_LAST=1 and KEEP_MIN=2, so the KEEP_MIN guard keeps two;
# files the daemon does not recognise are never touched; the metrics,
# GET /backup/schedule and the prune endpoints (roles, dry run) are right.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/sched_lib.sh"
e2e_init
e2e_sqlite_demo
echo "not a backup" >"$WORK/backups/notes.txt"
echo "not ours either" >"$WORK/backups/backup_sqlite_old.db"
e2e_start SQLITE_PATH="$SQLITE_DB" BACKUP_SCHEDULE='* * * * *' SCHEDULE_TZ=Europe/Berlin \
	KEEP_LAST=1 KEEP_MIN=2 SCHEDULE_CATCH_UP=true

api GET /backup/schedule viewer
expect_status 200 "viewer reads the schedule"
expect_json '.scheduled == true and .expression == "* * * * *" and .timezone == "Europe/Berlin"' "expression and zone"
expect_json '(.next_run_utc | test("Z$")) and (.next_run_local | test("\\+0[12]:00$"))' "next run in UTC and local time"
api GET /backup/schedule none
expect_status 401 "the schedule needs a token"

check "the catch-up run at start-up succeeded" wait_for 60 at_least scheduler success 1
check "the catch-up run is logged as such" grep -q "catch-up run now" "$DAEMON_LOG"
check "three scheduled backups within about three minutes" wait_for 200 at_least scheduler success 3
sleep 2 # the prune after the third run
api GET /backup/list viewer
expect_json '[.backups[] | select(.safety | not)] | length == 2' "KEEP_LAST=1 with KEEP_MIN=2: two regular backups kept"
check "one backup deleted by retention, with an audit line" test "$(audit_count retention success)" -ge 1
check "unrecognised files are never touched" test -f "$WORK/backups/notes.txt" -a -f "$WORK/backups/backup_sqlite_old.db"
check "the scheduler's audit lines name the file" grep -qE 'audit action=create outcome=success status=200 user="scheduler" .*file="backup_sqlite_' "$DAEMON_LOG"

api GET /backup/schedule viewer
expect_json '.last_run.outcome == "success" and (.last_run.file | startswith("backup_sqlite_")) and .consecutive_failures == 0' "last run: success, its file"
expect_json '.last_success_at != null and .last_failure_at == null' "last success set, no failure"
now=$(date +%s)
check "dbbackupd_last_success_timestamp_seconds is recent" bash -c "v=\$1; [ \"\${v%.*}\" -ge $((now - 120)) ]" _ "$(metric dbbackupd_last_success_timestamp_seconds)"
check "dbbackupd_next_run_timestamp_seconds is in the future" bash -c "[ \"\$1\" -ge $now ]" _ "$(metric dbbackupd_next_run_timestamp_seconds)"
check "dbbackupd_consecutive_failures is 0" test "$(metric dbbackupd_consecutive_failures)" = 0
check "dbbackupd_last_failure_timestamp_seconds is 0" test "$(metric dbbackupd_last_failure_timestamp_seconds)" = 0

api POST "/backup/prune?dry_run=true" operator
expect_status 200 "operator may dry-run a prune"
expect_json '.dry_run == true and (.keep | length) == 2 and (.remove | length) == 0' "dry run: both kept"
expect_json '[.keep[].reasons[]] | any(test("^last 1$")) and any(test("^keep min 2$"))' "reasons: last 1, keep min 2"
expect_json '[.keep[].file, .remove[].file] | all(. != "notes.txt" and . != "backup_sqlite_old.db")' "unrecognised files are not items"
api POST /backup/prune operator
expect_error 403 forbidden "a real prune needs admin"
api POST /backup/prune admin
expect_status 200 "admin prunes"
expect_json '.dry_run == false and .removed == 0 and (.keep | length) == 2' "nothing more to delete"

# SIGTERM does not wait for the next due time (up to a minute away)
kill -TERM "$DAEMON_PID"
check "SIGTERM stops the scheduler at once" wait_for 20 grep -q "info stopped" "$DAEMON_LOG"
e2e_done
