#!/usr/bin/env bash
# A backup finishes while an application writes steadily, and holds one
# consistent state (issue 13, section 3). A writer (sqlite_writer.py) commits
# a transaction of 10 rows every few milliseconds for the whole test; three
# creates on a WAL database, then two on a rollback-journal one, must all
# finish while it writes, each backup must pass PRAGMA integrity_check and
# hold whole transactions only (every txn it has has its 10 rows, and its
# txns are 1..max: one moment of the writer's history), and the writer must
# never have waited longer than its busy timeout (no SQLITE_BUSY). Then, in
# each mode, backups are restored while the writer writes and another
# process reads: the reader never sees a partial state.
# No timing is asserted: curl's --max-time is only a guard against a create
# that never ends (the stepped backup of old restarted after every write);
# tests/bench/sqlite.sh compares the times.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
SQLITE_DB="$WORK/app.db"
ROWS=10
sqlite3 "$SQLITE_DB" "PRAGMA journal_mode=WAL; CREATE TABLE bulk(b BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 8000)
INSERT INTO bulk SELECT randomblob(4000) FROM n;" >/dev/null
# the daemon never waits long for a create that a failed test left running
e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB" SHUTDOWN_TIMEOUT=5

WRITER=""
writer_status() { sed -nE "s/.*$1=([0-9]+).*/\1/p" "$WORK/writer.status" 2>/dev/null; }
committed() { writer_status committed; }

# start_writer BUSY_TIMEOUT_MS: starts it and waits for its first commits.
start_writer() {
	rm -f "$WORK/writer.status"
	python3 "$DBB_SOURCE_DIR/tests/e2e/sqlite_writer.py" "$SQLITE_DB" "$WORK/writer.status" \
		"$ROWS" "$1" 2 2>>"$WORK/writer.err" &
	WRITER=$!
	local i
	for i in $(seq 1 200); do
		[ "$(committed)" -ge 20 ] 2>/dev/null && return 0
		sleep 0.05
	done
	fail "the writer did not start committing"
}

stop_writer() {
	kill "$WRITER" 2>/dev/null
	wait "$WRITER" 2>/dev/null
	WRITER=""
}
trap 'stop_writer; e2e_cleanup' EXIT

# create_while_writing N QUERY: a create that must finish while the writer
# keeps committing; the backup is left uncompressed in $WORK/backup-N.db.
create_while_writing() {
	local n=$1 query=$2 before after file
	before=$(committed)
	STATUS=$(curl -sS --max-time 180 -o "$BODY" -w '%{http_code}' -X POST \
		-H "Authorization: Bearer $(token operator)" "$BASE/backup/create?$query")
	after=$(committed)
	expect_status 200 "create $n finished while the writer wrote"
	check "the writer committed during create $n ($before -> $after transactions)" \
		test "$after" -gt "$before"
	check "the writer is still running after create $n" kill -0 "$WRITER"
	file=$(jq -r .filename "$BODY")
	case "$file" in
	*.gz) gunzip -c "$WORK/backups/$file" >"$WORK/backup-$n.db" ;;
	*) cp "$WORK/backups/$file" "$WORK/backup-$n.db" ;;
	esac
}

# check_backup N: sound, whole transactions, one moment of the writer.
check_backup() {
	local db="$WORK/backup-$1.db"
	check "backup $1 passes PRAGMA integrity_check" \
		test "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok
	check "backup $1 holds only whole transactions of $ROWS rows" \
		test "$(sqlite3 "$db" "SELECT count(*) FROM (SELECT txn FROM w GROUP BY txn HAVING count(*) != $ROWS)")" = 0
	check "backup $1 holds transactions 1..max without a gap ($(sqlite3 "$db" 'SELECT max(txn) FROM w') of them)" \
		test "$(sqlite3 "$db" 'SELECT count(*) > 0 AND count(DISTINCT txn) = max(txn) FROM w')" = 1
	check "backup $1 has all of the bulk table" \
		test "$(sqlite3 "$db" 'SELECT count(*) FROM bulk')" = 8000
}

# check_writer BUSY_TIMEOUT_MS: it never waited longer than its busy timeout.
check_writer() {
	local errors max
	errors=$(writer_status errors)
	max=$(writer_status max_commit_ms)
	check "the writer never got SQLITE_BUSY (busy timeout $1 ms; longest transaction ${max} ms, $(committed) committed)" \
		test "$errors" = 0
	if [ "$errors" != 0 ]; then
		head -5 "$WORK/writer.err" >&2
	fi
}

# WAL: the copy is one read transaction; the writer never waits for it.
start_writer 2000
create_while_writing 1 compress=true
create_while_writing 2 compress=false
create_while_writing 3 compress=true
stop_writer
check_writer 2000
for n in 1 2 3; do check_backup "$n"; done

# restore_while_writing MODE N...: restores backups N... (uncompressed
# copies uploaded) while the writer writes and another process reads. The
# readers see the old contents or the new, never a mix (every transaction
# they see is whole); the writer only waits (30 s busy timeout: it waits
# for the copy); afterwards the database is sound and holds whole
# transactions only. (The writer numbers on from the largest txn in the
# database when it starts, so restoring a backup taken since the table was
# last emptied never makes it reuse a number.) Then the table is emptied,
# so that the writer's numbers start again from 1 for the next backups.
reader_loop() {
	local bad=0 out
	while [ ! -e "$WORK/reader.stop" ]; do
		out=$(sqlite3 -cmd '.timeout 30000' "$SQLITE_DB" \
			"SELECT count(*) FROM (SELECT txn FROM w GROUP BY txn HAVING count(*) != $ROWS)" 2>&1)
		[ "$out" = 0 ] || { bad=$((bad + 1)); echo "$out" >>"$WORK/reader.err"; }
		echo "$bad" >"$WORK/reader.bad"
	done
}
restore_while_writing() {
	local mode=$1 n reader
	shift
	rm -f "$WORK/reader.stop" "$WORK/reader.bad"
	start_writer 30000
	reader_loop &
	reader=$!
	for n in "$@"; do
		STATUS=$(curl -sS --max-time 180 -o "$BODY" -w '%{http_code}' \
			-H "Authorization: Bearer $(token operator)" -F "file=@$WORK/backup-$n.db" \
			"$BASE/backup/restore-upload?create_safety_backup=false")
		expect_status 200 "$mode: restore of backup $n while the writer writes and a reader reads"
	done
	touch "$WORK/reader.stop"
	wait "$reader"
	stop_writer
	check_writer 30000
	check "$mode: the reader never saw a partial transaction" test "$(cat "$WORK/reader.bad")" = 0
	check "$mode: after the restores the database passes PRAGMA integrity_check" \
		test "$(sqlite3 -cmd '.timeout 30000' "$SQLITE_DB" 'PRAGMA integrity_check')" = ok
	check "$mode: after the restores it holds only whole transactions" \
		test "$(sqlite3 -cmd '.timeout 30000' "$SQLITE_DB" "SELECT count(*) FROM (SELECT txn FROM w GROUP BY txn HAVING count(*) != $ROWS)")" = 0
	check "$mode: the database kept its journal mode" \
		test "$(sqlite3 -cmd '.timeout 30000' "$SQLITE_DB" 'PRAGMA journal_mode')" = "$mode"
	# (a busy timeout, as every writer here has: the daemon's checkpoint
	# after the restores takes the write lock for the moment it empties the
	# WAL, docs/driver-sqlite.md)
	sqlite3 -cmd '.timeout 30000' "$SQLITE_DB" "DELETE FROM w"
}
restore_while_writing wal 1 3

# Rollback journal: the copy holds a read lock for as long as it takes to
# copy the file locally (never the compression); a writer waits that long.
# Leaving WAL mode needs the database to itself, and SQLite does not wait
# for that (no busy handler): the daemon's checkpoint after the WAL restores
# (docs/driver-sqlite.md) may keep its connection open for some seconds
# under load, so this is retried, as an application would, for up to 60 s.
leave_wal() {
	local i
	for i in $(seq 120); do
		[ "$(sqlite3 "$SQLITE_DB" "PRAGMA journal_mode=DELETE" 2>/dev/null)" = delete ] && return 0
		sleep 0.5
	done
	return 1
}
check "the database leaves WAL mode for a rollback journal" leave_wal
start_writer 30000
create_while_writing 4 compress=true
create_while_writing 5 compress=false
stop_writer
check_writer 30000
for n in 4 5; do check_backup "$n"; done
restore_while_writing delete 4 5
check "the daemon logged how long the rollback-journal database was read-locked" \
	grep -q 'read-locked for' "$DAEMON_LOG"
grep 'read-locked for' "$DAEMON_LOG" | sed 's/^/  /'
e2e_done
