#!/usr/bin/env bash
# PostgreSQL failures: a dump with an error near its end rolls back entirely
# (database unchanged, safety backup named); a pg_dump that fails leaves no
# file and reports pg_dump's own words; a hung pg_dump is killed at
# CHILD_TIMEOUT.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_lib.sh"
e2e_init
e2e_use_service postgresql
svc() { bash "$DBB_SOURCE_DIR/tests/services/postgresql.sh" "$@"; }
pg_reset
pg_load_fixture
PGPASSWORD="$DB_PASSWORD" pg_dump --no-owner --no-acl -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" \
	-d "$DB_NAME" >"$WORK/good.sql"
# The same dump with a failing statement just before its end.
awk '/^-- PostgreSQL database dump complete/ && !done { print "INSERT INTO public.no_such_table VALUES (1);"; done = 1 } { print }' \
	"$WORK/good.sql" | gzip -c >"$WORK/bad_end.sql.gz"

# A different current state, so "unchanged" is not "restored".
pgq >/dev/null <<'SQL'
DELETE FROM app.orders WHERE id > 10;
CREATE TABLE public.created_later (x int);
SQL
pg_snapshot "$WORK/before.sql"
e2e_start DB_TYPE=postgresql CHILD_TIMEOUT=4

api POST /backup/restore-upload operator -F "file=@$WORK/bad_end.sql.gz" -F create_safety_backup=true
expect_error 500 restore_failed "dump failing near its end → 500"
expect_json '.message | test("no_such_table")' "message carries psql's words"
expect_json '.safety_backup_created == true and (.safety_backup_filename | test("^safety_backup_postgresql_"))' "safety backup named"
safety=$(jq -r .safety_backup_filename "$BODY")
check "safety backup exists" test -s "$WORK/backups/$safety"
pg_snapshot "$WORK/after.sql"
check "database unchanged after the failed restore (pg_dump compared)" diff -q "$WORK/before.sql" "$WORK/after.sql"

# A truncated gzip: refused before anything is touched.
head -c 20000 "$WORK/bad_end.sql.gz" >"$WORK/truncated.sql.gz"
api POST /backup/restore-upload operator -F "file=@$WORK/truncated.sql.gz" -F create_safety_backup=true
expect_error 422 invalid_backup "truncated gzip → 422"
pg_snapshot "$WORK/after2.sql"
check "database unchanged after the truncated upload" diff -q "$WORK/before.sql" "$WORK/after2.sql"

# pg_dump fails: a table the role may not read (made by the superuser).
svc psql-admin -d "$DB_NAME" -c "CREATE TABLE public.not_yours (x int)" >/dev/null
ls "$WORK/backups" >"$WORK/files_before"
api POST "/backup/create?compress=true" operator
expect_error 500 backup_failed "failing pg_dump → 500 backup_failed"
expect_json '.message | test("pg_dump") and test("permission denied")' "message carries pg_dump's words"
ls "$WORK/backups" >"$WORK/files_after"
check "no file left behind" cmp -s "$WORK/files_before" "$WORK/files_after"
check "no temporary left behind" bash -c "! ls -A '$WORK/backups' | grep -q '^\\.tmp-'"
svc psql-admin -d "$DB_NAME" -c "DROP TABLE public.not_yours" >/dev/null

# A hung pg_dump (waiting on a lock) is killed at CHILD_TIMEOUT.
pgq -c "BEGIN; LOCK TABLE app.orders IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(15); COMMIT;" \
	>/dev/null 2>&1 &
locker=$!
sleep 1
t0=$(date +%s)
api POST "/backup/create?compress=true" operator
t1=$(date +%s)
expect_error 500 backup_failed "hung pg_dump → 500"
expect_json '.message | test("timed out")' "message says it timed out"
check "killed within the timeout (+ grace)" test $((t1 - t0)) -lt 12
check "no pg_dump left running" bash -c "! pgrep -P $DAEMON_PID pg_dump"
kill "$locker" 2>/dev/null
wait "$locker" 2>/dev/null
e2e_stop

# A pg_dump older than the server is refused up front, with what to do.
mkdir -p "$WORK/oldbin"
cat >"$WORK/oldbin/pg_dump" <<'SH'
#!/bin/sh
if [ "$1" = --version ]; then echo "pg_dump (PostgreSQL) 9.6.24"; exit 0; fi
echo "this old pg_dump must not run" >&2
exit 1
SH
chmod +x "$WORK/oldbin/pg_dump"
e2e_start DB_TYPE=postgresql PATH="$WORK/oldbin:$PATH"
api POST "/backup/create?compress=true" operator
expect_error 500 backup_failed "old pg_dump → 500"
expect_json '.message | test("older than the PostgreSQL [0-9]+ server")' "message says pg_dump is too old"
e2e_done
