#!/usr/bin/env bash
# Issue 16, several targets in one daemon (docs/targets.md): an SQLite
# default target plus a PostgreSQL and a MariaDB target (TARGETS_DIR), every
# /backup/ endpoint per target in both forms (?target=NAME and
# /targets/NAME/backup/...), GET /targets, unknown_target, files in
# BACKUP_DIR/<name>/ named after the target, two targets backing up at once
# each with its own 409, no restore across targets, roles scoped to a
# target, target="NAME" in metrics, audit and access log lines, and the old
# single-target curl lines unchanged.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/mysql_lib.sh"

# on_pg / on_my COMMAND...: runs a helper with that service's settings.
on_pg() { (e2e_use_service postgresql && "$@"); }
on_my() { (e2e_use_service mysql && "$@"); }

# The targets' files: the services' settings, one file each.
mkdir -p "$WORK/targets"
target_file() {
	printf 'DB_TYPE=%s\nDB_HOST=%s\nDB_PORT=%s\nDB_NAME=%s\nDB_USER=%s\nDB_PASSWORD=%s\n' \
		"$1" "$DB_HOST" "$DB_PORT" "$DB_NAME" "$DB_USER" "$DB_PASSWORD"
}
on_pg target_file postgresql >"$WORK/targets/pg.env"
on_my target_file mysql >"$WORK/targets/shop-db.env"
PG_PASSWORD=$(on_pg printenv DB_PASSWORD)

on_pg pg_reset
on_pg pgq -c "CREATE TABLE items (id int PRIMARY KEY, v text);
	INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 1000) g;"
on_my my_reset
on_my my_sql "CREATE TABLE orders (id INT PRIMARY KEY, v VARCHAR(64)) ENGINE=InnoDB;
	INSERT INTO orders SELECT seq, MD5(seq) FROM seq_1_to_1000;"

# ---- --check-config lists every target, secrets masked; --probe asks each
cfg_env=(BACKUP_DIR="$WORK/backups" AUTH_JWKS_FILE="$WORK/keys/jwks.json"
	DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB" TARGETS_DIR="$WORK/targets")
env "${cfg_env[@]}" "$DBBACKUPD" --check-config --probe >"$WORK/check.out" 2>&1
check "--check-config --probe exits 0" test $? -eq 0
check "it lists the three targets" grep -q '^targets: 3$' "$WORK/check.out"
check "the default target is sqlite" grep -q '^target sqlite: sqlite, backups in .*/backups (default)$' "$WORK/check.out"
check "pg in BACKUP_DIR/pg" grep -q "^target pg: postgresql, backups in $WORK/backups/pg\$" "$WORK/check.out"
check "a target's password masked" grep -q '^pg: DB_PASSWORD=\*\*\*\*\*\*\*\*$' "$WORK/check.out"
check "no password in the output" bash -c '! grep -qF -- "$1" "$2"' _ "$PG_PASSWORD" "$WORK/check.out"
check "probe: each database answers" test "$(grep -c '^probe .* database answers$' "$WORK/check.out")" -eq 3
# a bad file stops start-up with one line naming file and variable
printf 'DB_TYPE=postgresql\nGZIP_LEVEL=42\n' >"$WORK/targets/bad.env"
env "${cfg_env[@]}" "$DBBACKUPD" --check-config >"$WORK/bad.out" 2>&1
check "a bad target file: exit 2" test $? -eq 2
check "one line naming file and variable" grep -q "configuration error: $WORK/targets/bad.env: GZIP_LEVEL" "$WORK/bad.out"
rm "$WORK/targets/bad.env"
# a database that does not answer: --probe says so, exit 1
printf 'DB_TYPE=postgresql\nDB_HOST=127.0.0.1\nDB_PORT=1\nDB_NAME=x\nDB_USER=x\n' >"$WORK/targets/gone.env"
env "${cfg_env[@]}" "$DBBACKUPD" --check-config --probe >"$WORK/gone.out" 2>&1
check "--probe with a database down: exit 1" test $? -eq 1
check "--probe names it" grep -q '^probe gone: the postgresql database does not answer' "$WORK/gone.out"
rm "$WORK/targets/gone.env"

e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB" TARGETS_DIR="$WORK/targets"

# ---- GET /targets
api GET /targets viewer
expect_status 200 "GET /targets"
expect_json '.default_target == "sqlite" and ([.targets[].name] == ["sqlite", "pg", "shop-db"])' "three targets, the default first"
expect_json '[.targets[].type] == ["sqlite", "postgresql", "mysql"]' "their types"
expect_json 'all(.targets[]; .health.ok == true and .last_backup == null)' "healthy, no backup yet"
api GET /targets none
expect_error 401 unauthorized "GET /targets needs a token"

# ---- unknown targets (after authentication: who has no token learns nothing)
api GET "/backup/list?target=nope" viewer
expect_error 404 unknown_target "?target=nope: 404 unknown_target"
api POST /targets/nope/backup/create operator
expect_error 404 unknown_target "/targets/nope/backup/create: 404 unknown_target"
api GET "/backup/list?target=nope" none
expect_error 401 unauthorized "unknown target without a token: 401 first"
api POST "/backup/create?target=pg" none
expect_error 401 unauthorized "create without a token: 401"
api GET "/targets/pg/backup/list?target=shop-db" viewer
expect_error 400 invalid_parameter "path and ?target= disagree: 400"
api GET /targets/pg/health none
expect_error 404 not_found "only /backup/ routes under /targets/NAME/"

# ---- every endpoint, per target, in both forms
declare -A FILE
for t in pg shop-db; do
	api POST "/backup/create?target=$t&compress=true" operator
	expect_status 200 "$t: create with ?target="
	f=$(jq -r .filename "$BODY")
	check "$t: named backup_${t}_..." bash -c "[[ '$f' =~ ^backup_${t}_[0-9]{8}_[0-9]{6}(_[0-9]+)?\.sql\.gz$ ]]"
	check "$t: written in BACKUP_DIR/$t/" test -f "$WORK/backups/$t/$f"
	FILE[$t]=$f
	api POST "/targets/$t/backup/create?compress=zstd" operator
	expect_status 200 "$t: create with /targets/$t/"
	z=$(jq -r .filename "$BODY")
	check "$t: zstd file in its directory" test -f "$WORK/backups/$t/$z"
	api GET "/targets/$t/backup/list" viewer
	expect_status 200 "$t: list"
	expect_json "[.backups[].filename] | sort == ([\"${FILE[$t]}\", \"$z\"] | sort)" "$t: lists its own two backups"
	api GET "/backup/list?target=$t" viewer
	expect_json "(.backups | length) == 2" "$t: the same with ?target="
	api GET "/targets/$t/backup/stats" viewer
	expect_status 200 "$t: stats"
	api GET "/backup/download/${FILE[$t]}?target=$t" viewer
	expect_status 200 "$t: download"
	cp "$BODY" "$WORK/$t.dl"
	check "$t: downloaded the file" cmp -s "$WORK/$t.dl" "$WORK/backups/$t/${FILE[$t]}"
	api DELETE "/targets/$t/backup/delete/$z" admin
	expect_status 200 "$t: delete"
	check "$t: deleted from its directory" test ! -e "$WORK/backups/$t/$z"
done
# restores: the data comes back
on_pg pgq -c "DELETE FROM items WHERE id > 10"
api POST "/targets/pg/backup/restore/${FILE[pg]}" operator
expect_status 200 "pg: restore"
check "pg: the rows are back" test "$(on_pg pg_value 'SELECT count(*) FROM items')" = 1000
on_my my_sql "DELETE FROM orders WHERE id > 10"
api POST "/backup/restore/${FILE[shop-db]}?target=shop-db&create_safety_backup=true" operator
expect_status 200 "shop-db: restore"
expect_json '.safety_backup_filename | test("^safety_backup_shop-db_")' "shop-db: its safety backup named after it"
check "shop-db: safety backup in its directory" test -f "$WORK/backups/shop-db/$(jq -r .safety_backup_filename "$BODY")"
check "shop-db: the rows are back" test "$(on_my my_sql 'SELECT COUNT(*) FROM orders')" = 1000
on_pg pgq -c "DELETE FROM items WHERE id > 10"
api POST "/targets/pg/backup/restore-upload" operator -F "file=@$WORK/pg.dl"
expect_status 200 "pg: restore-upload"
check "pg: the rows are back after the upload" test "$(on_pg pg_value 'SELECT count(*) FROM items')" = 1000
api POST "/backup/restore-upload?target=shop-db" operator -F "file=@$WORK/shop-db.dl" -F create_safety_backup=false
expect_status 200 "shop-db: restore-upload"

# ---- the old single-target curl lines: the default target, as before
api POST "/backup/create?compress=true" operator
expect_status 200 "create (no target): the default"
SQ=$(jq -r .filename "$BODY")
check "default: named backup_sqlite_... in BACKUP_DIR" test -f "$WORK/backups/$SQ"
check "default: named after DB_TYPE" bash -c "[[ '$SQ' == backup_sqlite_* ]]"
api GET /backup/list viewer
expect_json "[.backups[].filename] == [\"$SQ\"]" "default list: its own file only, not the other targets' directories"
api GET "/backup/list?target=sqlite" viewer
expect_json "[.backups[].filename] == [\"$SQ\"]" "?target=sqlite: the default target by its name"
api GET /targets/sqlite/backup/list viewer
expect_json "[.backups[].filename] == [\"$SQ\"]" "/targets/sqlite/backup/list: the same"
api GET "/backup/download/$SQ" viewer
expect_status 200 "download (no target)"
cp "$BODY" "$WORK/sqlite.dl"
api POST "/backup/restore/$SQ" operator
expect_status 200 "restore (no target)"
api GET /backup/stats viewer
expect_status 200 "stats (no target)"
api GET /targets viewer
expect_json "(.targets[0].last_backup.filename == \"$SQ\") and (.targets[1].last_backup.filename == \"${FILE[pg]}\")" "GET /targets: last backups"

# ---- no restore across targets
api POST "/targets/pg/backup/restore/${FILE[shop-db]}" operator
expect_error 404 not_found "pg cannot restore shop-db's file (not in its directory)"
api POST "/backup/restore/${FILE[pg]}" operator
expect_error 404 not_found "the default target cannot restore pg's file"
api POST "/backup/restore/pg%2F${FILE[pg]}" operator
expect_error 400 invalid_filename "nor by a path into pg's directory"
api POST "/targets/shop-db/backup/restore-upload" operator -F "file=@$WORK/pg.dl"
expect_error 422 invalid_backup "shop-db refuses an upload of pg's backup"
api POST "/targets/pg/backup/restore-upload" operator -F "file=@$WORK/sqlite.dl"
expect_error 422 invalid_backup "pg refuses an upload of the SQLite target's backup"
api DELETE "/backup/delete/${FILE[pg]}" admin
expect_error 404 not_found "the default target cannot delete pg's file"
check "pg's file still there" test -f "$WORK/backups/pg/${FILE[pg]}"

# ---- two targets back up at once, each with its own lock
# A session holding a lock the dump needs keeps each backup running until
# it is released: pg_dump waits on an ACCESS EXCLUSIVE lock, mariadb-dump
# on a WRITE lock.
on_pg pgq -c "BEGIN; LOCK TABLE items IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120); COMMIT;" >/dev/null 2>&1 &
pg_holder=$!
on_my my_sql "LOCK TABLES orders WRITE; SELECT SLEEP(120);" >/dev/null 2>&1 &
my_holder=$!
holding() { test "$(on_pg pg_value "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND mode = 'AccessExclusiveLock' AND granted AND relation = 'items'::regclass")" = 1 &&
	test "$(on_my my_sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(120)%'")" -ge 1; }
for _ in $(seq 1 100); do holding && break; sleep 0.1; done
check "both lock holders hold their locks" holding
curl -sS -o "$WORK/pgc.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $(token operator)" \
	"$BASE/targets/pg/backup/create" >"$WORK/pgc.status" &
pg_create=$!
curl -sS -o "$WORK/myc.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $(token operator)" \
	"$BASE/backup/create?target=shop-db" >"$WORK/myc.status" &
my_create=$!
waiting() { test "$(on_pg pg_value "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")" -ge 1 &&
	test "$(on_my my_sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE STATE LIKE 'Waiting for table%'")" -ge 1; }
for _ in $(seq 1 200); do waiting && break; sleep 0.1; done
check "both dumps run at once (each waits on its database's lock)" waiting
api POST /targets/pg/backup/create operator
expect_error 409 operation_in_progress "pg: a second create gets 409"
api POST "/backup/create?target=shop-db" operator
expect_error 409 operation_in_progress "shop-db: a second create gets 409"
api POST "/backup/restore/${FILE[shop-db]}?target=shop-db" operator
expect_error 409 operation_in_progress "shop-db: a restore meanwhile gets 409"
api POST /backup/create operator
expect_status 200 "the default target backs up meanwhile"
api GET /targets/pg/backup/list viewer
expect_status 200 "pg: list meanwhile"
# release the locks: both backups finish
on_pg pg_value "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()" >/dev/null
for id in $(on_my my_sql "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(120)%'"); do
	on_my my_sql "KILL $id" >/dev/null 2>&1
done
wait "$pg_create" "$my_create"
wait "$pg_holder" "$my_holder" 2>/dev/null
check "pg: the first create ends 200" test "$(cat "$WORK/pgc.status")" = 200
check "shop-db: the first create ends 200" test "$(cat "$WORK/myc.status")" = 200
check "pg: its file in its directory" test -f "$WORK/backups/pg/$(jq -r .filename "$WORK/pgc.json")"
check "shop-db: its file in its directory" test -f "$WORK/backups/shop-db/$(jq -r .filename "$WORK/myc.json")"

# ---- roles scoped to a target
api POST /targets/pg/backup/create operator:pg
expect_status 200 "operator:pg creates on pg"
api POST "/backup/create?target=shop-db" operator:pg
expect_error 403 forbidden "operator:pg cannot create on shop-db"
api POST /backup/create operator:pg
expect_error 403 forbidden "operator:pg cannot create on the default target"
api GET /backup/list operator:pg
expect_error 403 forbidden "operator:pg cannot even list the default target"
api GET /targets operator:pg
expect_status 200 "GET /targets with a scoped role"
expect_json '[.targets[].name] == ["pg"]' "it lists only pg"
api DELETE "/targets/pg/backup/delete/${FILE[pg]}" operator:pg
expect_error 403 forbidden "operator:pg cannot delete (admin)"
api GET /targets/shop-db/backup/list viewer:shop-db
expect_status 200 "viewer:shop-db lists shop-db"
api POST /targets/shop-db/backup/create viewer:shop-db
expect_error 403 forbidden "viewer:shop-db cannot create"
api GET /metrics viewer:shop-db
expect_error 403 forbidden "a scoped role does not read the daemon's metrics"
api DELETE "/targets/shop-db/backup/delete/${FILE[shop-db]}" admin:shop-db
expect_status 200 "admin:shop-db deletes on shop-db"
api DELETE "/targets/pg/backup/delete/${FILE[pg]}" admin:shop-db
expect_error 403 forbidden "admin:shop-db cannot delete on pg"
api POST /targets/pg/backup/create viewer
expect_error 403 forbidden "a global viewer is a viewer everywhere"
api POST "/targets/shop-db/backup/create" operator
expect_status 200 "a global operator creates everywhere"

# ---- target="NAME" in metrics, audit and access log lines
api GET /metrics viewer
expect_status 200 "GET /metrics"
check "metrics: pg's backups carry target=\"pg\"" grep -Eq '^dbbackupd_operations_total\{operation="backup",database="postgresql",target="pg",outcome="success"\} [1-9]' "$BODY"
check "metrics: the default target's carry target=\"sqlite\"" grep -Eq '^dbbackupd_operations_total\{operation="backup",database="sqlite",target="sqlite",outcome="success"\} [1-9]' "$BODY"
check "metrics: shop-db's 409s counted as its rejected backups" grep -Eq '^dbbackupd_operations_total\{operation="backup",database="mysql",target="shop-db",outcome="rejected"\} [1-9]' "$BODY"
check "metrics: backups on disk per target" grep -Eq '^dbbackupd_backups_on_disk\{target="pg",type="backup"\} [1-9]' "$BODY"
check "metrics: last backup per target" grep -Eq '^dbbackupd_last_successful_backup_timestamp_seconds\{database="mysql",target="shop-db"\} [1-9]' "$BODY"
check "audit line carries target=pg" grep -Eq 'audit action=create outcome=success .* target=pg req=[0-9a-f]{16}$' "$DAEMON_LOG"
check "audit line carries target=shop-db" grep -Eq 'audit action=delete outcome=success .* target=shop-db req=[0-9a-f]{16}$' "$DAEMON_LOG"
check "audit line of a refused target: role for it, and the target" grep -Eq 'audit action=create outcome=forbidden status=403 user="dev-operator:pg" .*role=none file="" target=shop-db req=[0-9a-f]{16}$' "$DAEMON_LOG"
check "access log carries target=pg" grep -Eq 'info POST /targets/pg/backup/create 200 [0-9.]+ms target=pg sub=dev-operator' "$DAEMON_LOG"
check "a refused token chose no target: audit target=-" grep -Eq 'audit action=create outcome=unauthorized status=401 .* target=- req=[0-9a-f]{16}$' "$DAEMON_LOG"
check "access log carries target=sqlite for the old form" grep -Eq 'info POST /backup/create 200 [0-9.]+ms target=sqlite sub=' "$DAEMON_LOG"

e2e_done
