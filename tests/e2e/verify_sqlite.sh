#!/usr/bin/env bash
# Test-restores on SQLite (issue 20, POST /backup/verify/{file}): a good
# backup passes with the right row counts, a backup whose content was
# corrupted after it was written (re-compressed under the same name, its
# checksum sidecar rewritten, so that it is the content that fails) fails,
# both are recorded and listed, and the live database is never touched.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo
e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB"

live_sum=$(sqlite_sum)
live_mtime=$(stat -c %Y.%y "$SQLITE_DB")
customers=$(sqlite3 "$SQLITE_DB" 'SELECT count(*) FROM customers')
orders=$(sqlite3 "$SQLITE_DB" 'SELECT count(*) FROM orders')
tables=$(sqlite3 "$SQLITE_DB" "SELECT count(*) FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")

api POST "/backup/create?compress=true" operator
expect_status 200 "backup created"
gz=$(jq -r .filename "$BODY")
api GET /backup/list viewer
expect_json "[.backups[] | select(.filename == \"$gz\") | [.verified_at, .verify_ok]] == [[null, null]]" \
	"a backup never verified lists verified_at and verify_ok as null"

api POST "/backup/verify/$gz" viewer
expect_error 403 forbidden "a viewer may not verify"
api POST "/backup/verify/backup_sqlite_20000101_000000.db.gz" operator
expect_error 404 not_found "verify of a file that does not exist: 404"
api POST "/backup/verify/..%2Fapp.db" operator
expect_error 400 invalid_filename "verify of a bad name: 400"

api POST "/backup/verify/$gz" operator
expect_status 200 "verify of a good backup"
expect_json ".success == true and .verify_ok == true and .filename == \"$gz\" and (.verified_at | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$\")) and (.duration_seconds | type == \"number\") and .recorded == true" \
	"the reply has verify_ok, verified_at, duration_seconds"
expect_json ".counts.tables.customers == $customers and .counts.tables.orders == $orders and .counts.table_count == $tables" \
	"the counts are the database's ($customers customers, $orders orders, $tables tables)"
check "the verdict is recorded next to the backup" test -s "$WORK/backups/$gz.verify"
api POST "/targets/sqlite/backup/verify/$gz" operator
expect_status 200 "the target's route verifies too"
api POST "/backup/verify/$gz?target=sqlite" operator
expect_status 200 "... and ?target="
api GET /backup/list viewer
expect_json "[.backups[] | select(.filename == \"$gz\") | .verify_ok] == [true] and ([.backups[] | select(.filename == \"$gz\") | .verified_at | type] == [\"string\"])" \
	"the list shows verify_ok true and verified_at"
api GET /metrics viewer
check "dbbackupd_last_verified_timestamp_seconds is set" \
	bash -c "grep -Eq '^dbbackupd_last_verified_timestamp_seconds\\{[^}]*\\} [1-9][0-9]+$' '$BODY'"

# the same backup, corrupted after it was written: a page of the database
# overwritten, gzipped again under the same name, its sidecar rewritten
gunzip -c "$WORK/backups/$gz" >"$WORK/plain.db"
page=$(sqlite3 "$WORK/plain.db" 'PRAGMA page_size')
root=$(sqlite3 "$WORK/plain.db" "SELECT rootpage FROM sqlite_master WHERE name = 'orders'")
head -c 4096 /dev/urandom | tr -d '\000' | head -c 2000 >"$WORK/garbage"
dd if="$WORK/garbage" of="$WORK/plain.db" bs=1 seek=$(((root - 1) * page + 8)) conv=notrunc status=none
gzip -c "$WORK/plain.db" >"$WORK/backups/$gz"
(cd "$WORK/backups" && sha256sum "$gz" >"$gz.sha256")
check "the corrupted backup is still a valid gzip" gzip -t "$WORK/backups/$gz"

api POST "/backup/verify/$gz" operator
expect_error 422 verify_failed "verify of a corrupted backup fails (422 verify_failed)"
expect_json ".verify_ok == false and .filename == \"$gz\" and .counts == null and .recorded == true" \
	"the failure carries verify_ok false and is recorded"
api GET /backup/list viewer
expect_json "[.backups[] | select(.filename == \"$gz\") | .verify_ok] == [false]" \
	"the list shows the failed verification"

check "the live database was never touched (same content)" test "$(sqlite_sum)" = "$live_sum"
check "the live database was never written (same mtime)" test "$(stat -c %Y.%y "$SQLITE_DB")" = "$live_mtime"
check "no scratch file is left in the backups directory" \
	bash -c "! ls -A '$WORK/backups' | grep -q '^\\.tmp-'"

api DELETE "/backup/delete/$gz" admin
expect_status 200 "delete the verified backup"
check "its verify record went with it" test ! -e "$WORK/backups/$gz.verify"
e2e_stop

# VERIFY_AFTER_BACKUP: each scheduled backup is verified once written
. "$DBB_SOURCE_DIR/tests/e2e/sched_lib.sh"
rm -f "$WORK/backups/"*
e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB" BACKUP_SCHEDULE='* * * * *' \
	SCHEDULE_CATCH_UP=true VERIFY_AFTER_BACKUP=true
verified() { compgen -G "$WORK/backups/backup_sqlite_*.verify" >/dev/null; }
check "a scheduled backup is verified after it is written" wait_for 150 verified
api GET /backup/list viewer
expect_json '[.backups[] | select(.type == "backup") | .verify_ok] | any(. == true)' \
	"the list shows the scheduled backup verified"
check "the live database was never touched by it" test "$(sqlite_sum)" = "$live_sum"
e2e_done
