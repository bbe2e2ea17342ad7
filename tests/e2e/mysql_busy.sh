#!/usr/bin/env bash
# While a MySQL restore runs (the mariadb client busy for seconds), list,
# download, stats and health answer at once, and a second create or restore
# gets 409 saying what is running. The restore then completes.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service mysql
. "$DBB_SOURCE_DIR/tests/e2e/mysql_lib.sh"

check "fixture loads" my_load_fixture
my_sql "CREATE TABLE bulk (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB;
	INSERT INTO bulk SELECT seq, MD5(seq) FROM seq_1_to_400000;"
my_dump "$WORK/original.sql"
e2e_start DB_TYPE=mysql

api POST "/backup/create?compress=true" operator
expect_status 200 "create"
name=$(jq -r .filename "$BODY")

# timed COMMAND...: runs it here (so api's STATUS stays set); MS = its milliseconds.
timed() {
	local t0
	t0=$(date +%s%N)
	"$@"
	MS=$((($(date +%s%N) - t0) / 1000000))
}

curl -sS -o "$WORK/restore.json" -w '%{http_code}' -X POST \
	-H "Authorization: Bearer $(token operator)" \
	"$BASE/backup/restore/$name?create_safety_backup=false" >"$WORK/restore.status" &
restore_pid=$!
# Wait until the restore has really started (the lock is taken).
started() { grep -q "restore from $name started" "$DAEMON_LOG"; }
for _ in $(seq 1 100); do
	started && break
	sleep 0.05
done
check "the restore started" started
api POST "/backup/create" operator
expect_error 409 operation_in_progress "create during the restore: 409"
check "409 says a restore is running" grep -qi "restor" "$BODY"
api POST "/backup/restore/$name" operator
expect_error 409 operation_in_progress "second restore during the restore: 409"

timed api GET /backup/list viewer
expect_status 200 "list during the restore"
check "list answered in $MS ms (< 1000)" test "$MS" -lt 1000
timed api GET "/backup/download/$name" viewer
expect_status 200 "download during the restore"
check "download answered in $MS ms (< 1000)" test "$MS" -lt 1000
timed api GET /backup/stats viewer
expect_status 200 "stats during the restore"
check "stats answered in $MS ms (< 1000)" test "$MS" -lt 1000
timed api GET /health none
expect_status 200 "health during the restore"
check "health answered in $MS ms (< 1000)" test "$MS" -lt 1000
# The running mariadb client got its password from a 0600 option file in a
# 0700 directory, never on its command line. (The restore validates the
# whole file first: wait for the client.)
client_running() { pgrep -f "^mariadb .*--port=$DB_PORT( |$)" >/dev/null; }
for _ in $(seq 1 200); do
	client_running && break
	sleep 0.05
done
check "the mariadb client is running" client_running
not_on_argv() { ! pgrep -f -- "$DB_PASSWORD" >/dev/null; }
check "password not on any command line" not_on_argv
# (Other tests' daemons may be creating and removing theirs meanwhile: an
# entry that vanishes between the glob and stat is skipped.)
optfile_private() {
	local d f mode n=0
	for d in "${TMPDIR:-/tmp}"/dbbackupd-mysql-*; do
		mode=$(stat -c %a "$d" 2>/dev/null) || continue
		[ "$mode" = 700 ] || return 1
		for f in "$d"/*; do
			mode=$(stat -c %a "$f" 2>/dev/null) || continue
			[ "$mode" = 600 ] || return 1
			n=$((n + 1))
		done
	done
	[ "$n" -gt 0 ]
}
check "option file is 0600 in a 0700 directory" optfile_private
check "the restore was still running meanwhile" kill -0 "$restore_pid"

wait "$restore_pid"
check "restore finished with 200" test "$(cat "$WORK/restore.status")" = 200
check "database equals the original" my_same_as "$WORK/original.sql"

e2e_done
