#!/usr/bin/env bash
# PostgreSQL stopped → create/restore/stats answer 503 with the reason, while
# list and download keep working; a wrong password → 503 naming the
# authentication failure.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_lib.sh"
e2e_init
e2e_use_service postgresql
svc() { bash "$DBB_SOURCE_DIR/tests/services/postgresql.sh" "$@"; }
pg_reset
pg_load_fixture
e2e_start DB_TYPE=postgresql

api POST "/backup/create?compress=true" operator
expect_status 200 "create while PostgreSQL runs"
name=$(jq -r .filename "$BODY")

svc pause >/dev/null 2>&1
trap 'svc resume >/dev/null 2>&1; e2e_cleanup' EXIT

api POST "/backup/create?compress=true" operator
expect_error 503 database_unavailable "create with PostgreSQL stopped → 503"
expect_json '.message | test("unavailable|refused"; "i")' "503 says why"
api POST "/backup/restore/$name?create_safety_backup=true" operator
expect_error 503 database_unavailable "restore with PostgreSQL stopped → 503"
api POST "/backup/restore/$name?create_safety_backup=false" operator
expect_error 503 database_unavailable "restore without safety backup, PostgreSQL stopped → 503"
api GET /backup/stats viewer
expect_error 503 database_unavailable "stats with PostgreSQL stopped → 503"
api GET /backup/list viewer
expect_status 200 "list still works"
expect_json "[.backups[].filename] | index(\"$name\") != null" "list shows the backup"
api GET "/backup/download/$name" viewer
expect_status 200 "download still works"
check "downloaded file intact" cmp -s "$BODY" "$WORK/backups/$name"
check "no partial files after the failed create" bash -c "[ \$(ls -A '$WORK/backups' | grep -c '^backup_postgresql_.*gz\$') -eq 1 ] && ! ls -A '$WORK/backups' | grep -q '^\\.tmp-'"
curl -fsS "$BASE/health" >/dev/null
check "health answers" test $? -eq 0

svc resume >/dev/null 2>&1
api POST "/backup/create?compress=true" operator
expect_status 200 "create works again once PostgreSQL is back"
e2e_stop

e2e_start DB_TYPE=postgresql DB_PASSWORD=wrong-password
api POST "/backup/create?compress=true" operator
expect_error 503 database_unavailable "wrong password → 503"
expect_json '.message | test("authentication failed")' "503 names the authentication failure"
check "the wrong password is not echoed" bash -c "! grep -q wrong-password '$BODY' '$DAEMON_LOG'"
e2e_done
