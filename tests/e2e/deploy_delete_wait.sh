#!/usr/bin/env bash
# DELETE waits a short bounded time (DBB_DELETE_WAIT_MS, 3 s) for a running
# operation, then answers 409 operation_in_progress; every busy 409 carries
# Retry-After (docs/design.md, "One mutating operation per database").
# Whether the delete waited is read from the daemon's log, never from a clock.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo 50
sqlite3 "$SQLITE_DB" 'PRAGMA journal_mode=DELETE;' >/dev/null
e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB"

api POST /backup/create operator
first=$(jq -r .filename "$BODY")
sleep 1.1 # a second backup name (names carry the second)
api POST /backup/create operator
second=$(jq -r .filename "$BODY")
check "two backups to delete" test -n "$first" -a -n "$second" -a "$first" != "$second"

# A backup that holds the operation lock until this test lets go: another
# process holds an exclusive lock on the live database (a rollback-journal
# one, so readers wait too) until fd 4 closes, and the dump waits for it (up
# to 6 busy timeouts, a minute). The backup is running once the metrics
# say so; the first check below shows it holds the lock.
hold_lock() {
	rm -f "$WORK/hold"
	mkfifo "$WORK/hold"
	(
		echo "BEGIN EXCLUSIVE;"
		cat "$WORK/hold"
		echo "COMMIT;"
	) | sqlite3 "$SQLITE_DB" &
	HOLDER=$!
	exec 4>"$WORK/hold"
	sleep 0.5
	curl -s -o "$WORK/slow.json" -H "Authorization: Bearer $(token operator)" \
		-X POST "$BASE/backup/create" 4>&- &
	SLOW=$!
	for _ in $(seq 1 100); do
		api GET /metrics viewer
		grep -q '^dbbackupd_operations_running{operation="backup".*} 1$' "$BODY" && break
		sleep 0.1
	done
	sleep 0.5 # from the gauge to the lock: a few instructions
}
release_lock() {
	exec 4>&-
	wait "$HOLDER"
	wait "$SLOW"
}

# 1. The operation outlasts the wait: 409 with Retry-After, after waiting.
hold_lock
api POST /backup/create operator -D "$WORK/h_create"
expect_error 409 operation_in_progress "a create while a backup runs: 409"
check "the create's 409 carries Retry-After: 5" grep -qi '^Retry-After: 5' "$WORK/h_create"
api DELETE "/backup/delete/$second" admin -D "$WORK/h_delete"
expect_error 409 operation_in_progress "a delete while a backup outlasts its wait: 409"
check "the delete's 409 carries Retry-After: 5" grep -qi '^Retry-After: 5' "$WORK/h_delete"
check "the delete waited before its 409 (logged)" grep -q "delete of $second waits up to 3 s" "$DAEMON_LOG"
check "the refused delete left the file" test -f "$WORK/backups/$second"
release_lock
check "the backup that held the lock succeeded" jq -e '.success == true' "$WORK/slow.json"

# 2. The operation ends within the wait: the delete succeeds, no 409.
hold_lock
before=$(grep -c "waits up to" "$DAEMON_LOG")
curl -s -o "$WORK/del.json" -w '%{http_code}' -H "Authorization: Bearer $(token admin)" \
	-X DELETE "$BASE/backup/delete/$second" >"$WORK/del.status" 4>&- &
del=$!
for _ in $(seq 1 100); do
	[ "$(grep -c "waits up to" "$DAEMON_LOG")" -gt "$before" ] && break
	sleep 0.1
done
check "the delete is waiting for the backup (logged)" \
	test "$(grep -c "waits up to" "$DAEMON_LOG")" -gt "$before"
release_lock
wait "$del"
check "the delete that waited answered 200" test "$(cat "$WORK/del.status")" = 200
check "the delete that waited deleted the file" test ! -e "$WORK/backups/$second"

# 3. Nothing runs: the delete does not wait at all.
before=$(grep -c "waits up to" "$DAEMON_LOG")
api DELETE "/backup/delete/$first" admin -D "$WORK/h_free"
expect_status 200 "a delete with nothing running"
check "it did not wait" test "$(grep -c "waits up to" "$DAEMON_LOG")" -eq "$before"
check "a 200 carries no Retry-After" sh -c "! grep -qi '^Retry-After' '$WORK/h_free'"
e2e_done
