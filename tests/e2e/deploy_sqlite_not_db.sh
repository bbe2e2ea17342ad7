#!/usr/bin/env bash
# SQLITE_PATH naming a file that is not an SQLite database: the daemon
# starts with one clear log line, /ready says not ready, and a backup
# answers what is wrong (not "the database went away during the dump");
# once the file is a database, all is well without a restart.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
DB="$WORK/app.db"
printf 'this is not a database\n%.0s' $(seq 1 50) >"$DB"
e2e_start DB_TYPE=sqlite SQLITE_PATH="$DB"

check "one log line at start-up says SQLITE_PATH is not an SQLite database" \
	test "$(grep -c "SQLITE_PATH=$DB is not an SQLite database" "$DAEMON_LOG")" -eq 1
check "the line says what the file is" grep -q "not an SQLite database: it is a" "$DAEMON_LOG"
api GET /ready none
expect_status 503 "/ready: not ready"
api POST /backup/create operator
expect_error 500 configuration_error "a backup: 500 configuration_error"
expect_json '.message | test("SQLITE_PATH=.* is not an SQLite database")' "the backup's answer says what is wrong"
expect_json '.message | test("went away") | not' "and not that the database went away"
api GET /backup/stats viewer
expect_json '.message | test("not an SQLite database")' "stats say the same"
check "no backup file was left" test -z "$(ls -A "$WORK/backups" | grep -v '^\.' || true)"

# the file becomes a database: ready, and a backup works
sqlite3 "$WORK/new.db" 'CREATE TABLE t(x); INSERT INTO t VALUES (1);'
mv "$WORK/new.db" "$DB"
for _ in $(seq 1 50); do
	api GET /ready none
	[ "$STATUS" = 200 ] && break
	sleep 0.2
done
expect_status 200 "/ready once SQLITE_PATH is a database"
api POST /backup/create operator
expect_status 200 "a backup once SQLITE_PATH is a database"
e2e_done
