#!/usr/bin/env bash
# The MariaDB server goes away: create, restore and stats answer 503 with the
# reason; list and download keep working. Wrong credentials: 503 too. A
# dump that hangs (a table locked by another session) is killed after
# CHILD_TIMEOUT and leaves no file. Uses
# its own server (tests/services/mysql.sh with a private state dir), so the
# shared one keeps running for the other tests.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
export DBB_SERVICE_STATE="$WORK/svc"
svc() { bash "$DBB_SOURCE_DIR/tests/services/mysql.sh" "$@"; }
stop_private() { svc stop >/dev/null 2>&1; }
trap 'stop_private; e2e_cleanup' EXIT
svc start >"$WORK/svc.env" || { echo "private mariadb did not start" >&2; exit 1; }
. "$WORK/svc.env"
. "$DBB_SOURCE_DIR/tests/e2e/mysql_lib.sh"

check "fixture loads" my_load_fixture
e2e_start DB_TYPE=mysql CHILD_TIMEOUT=3

api POST "/backup/create?compress=true" operator
expect_status 200 "create while the server runs"
name=$(jq -r .filename "$BODY")
cp "$WORK/backups/$name" "$WORK/copy.gz"

# Another session holds a write lock: mariadb-dump waits for it forever.
my_sql "LOCK TABLES customers WRITE; SELECT SLEEP(60)" >/dev/null 2>&1 &
locker=$!
sleep 1
files_before=$(backup_files)
t0=$(date +%s)
api POST "/backup/create?compress=true" operator
expect_error 500 backup_failed "hung dump: 500 backup_failed"
check "hung dump: message says it timed out" grep -qi "timed out" "$BODY"
check "hung dump: killed within 15 s" test $(($(date +%s) - t0)) -le 15
check "hung dump: no file left" test "$(backup_files)" = "$files_before"
no_dump_running() { ! pgrep -f "^mariadb-dump .*--port=$DB_PORT( |$)" >/dev/null; }
check "hung dump: no mariadb-dump left running" no_dump_running
kill "$locker" 2>/dev/null
wait "$locker" 2>/dev/null

check "server stops" svc stop
t0=$(date +%s)
api POST "/backup/create?compress=true" operator
expect_error 503 database_unavailable "create with the server stopped"
check "reason given" grep -qi "connect" "$BODY"
check "answered within 10 s" test $(($(date +%s) - t0)) -le 10
api POST "/backup/restore/$name" operator
expect_error 503 database_unavailable "restore with the server stopped"
no_safety_file() { ! compgen -G "$WORK/backups/safety_backup_*" >/dev/null; }
check "no safety backup attempted into a file" no_safety_file
api POST "/backup/restore-upload" operator -F "file=@$WORK/copy.gz"
expect_error 503 database_unavailable "restore-upload with the server stopped"
api GET /backup/stats viewer
expect_status 503 "stats with the server stopped"
api GET /backup/list viewer
expect_status 200 "list still works"
expect_json '.backups | map(.filename) | index("'"$name"'") != null' "list has the backup"
api GET "/backup/download/$name" viewer
expect_status 200 "download still works"
check "downloaded bytes are the backup" cmp -s "$BODY" "$WORK/copy.gz"
e2e_stop

# Wrong password against the running shared-style server: 503, not 500.
svc start >"$WORK/svc.env"
. "$WORK/svc.env"
e2e_start DB_TYPE=mysql DB_PASSWORD=wrong-password
api POST "/backup/create" operator
expect_error 503 database_unavailable "wrong password: 503"
check "reason says access denied" grep -qi "access denied" "$BODY"
not_echoed() { ! grep -q 'wrong-password' "$BODY" "$DAEMON_LOG"; }
check "the wrong password is not echoed" not_echoed

e2e_done
