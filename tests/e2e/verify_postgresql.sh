#!/usr/bin/env bash
# Test-restores on PostgreSQL (issue 20): the dump is restored into a
# scratch database (VERIFY_DB_NAME) the daemon creates and drops, never
# into the live one. Without CREATEDB the verification cannot run (409,
# nothing recorded); with a role that has it (VERIFY_DB_USER) a good backup
# passes with the right row counts while the live database does not even
# accept connections, a backup with one broken statement fails and is
# recorded, and no scratch database is left behind.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_lib.sh"
e2e_init
e2e_use_service postgresql
pg_admin() { bash "$DBB_SOURCE_DIR/tests/services/postgresql.sh" psql-admin "$@"; }
pg_reset
pg_load_fixture
SCRATCH=dbbackupd_verify_e2e
VROLE=dbbackupd_verify_e2e
VPW=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
pg_admin -d postgres -v role="$VROLE" -v pw="$VPW" >/dev/null <<'SQL'
SELECT format('CREATE ROLE %I LOGIN CREATEDB', :'role')
	WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" LOGIN CREATEDB PASSWORD :'pw';
SQL
allow_live() { pg_admin -d postgres -c "ALTER DATABASE \"$DB_NAME\" ALLOW_CONNECTIONS $1" >/dev/null; }
trap 'allow_live true; e2e_cleanup' EXIT
scratch_dbs() { pg_admin -d postgres -At -c "SELECT count(*) FROM pg_database WHERE datname = '$SCRATCH'"; }
count() { pg_value "SELECT count(*) FROM $1"; }
orders=$(count app.orders)
customers=$(count app.customers)
logs=$(count audit.log)
items=$(count public.items)
ntables=$(pg_value "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname !~ '^pg_'")

# the daemon's own role has no CREATEDB: the verification cannot run
e2e_start DB_TYPE=postgresql VERIFY_DB_NAME="$SCRATCH"
api POST "/backup/create?compress=true" operator
expect_status 200 "backup created"
gz=$(jq -r .filename "$BODY")
pg_snapshot "$WORK/before.sql"
api POST "/backup/verify/$gz" operator
expect_error 409 restore_conflict "without CREATEDB the verification cannot run (409)"
expect_json '.message | test("CREATEDB") and test("VERIFY_DB_NAME")' "the message names the privilege and the setting"
check "nothing was recorded" test ! -e "$WORK/backups/$gz.verify"
e2e_stop

# a role with CREATEDB for the scratch database only
e2e_start DB_TYPE=postgresql VERIFY_DB_NAME="$SCRATCH" VERIFY_DB_USER="$VROLE" VERIFY_DB_PASSWORD="$VPW"
allow_live false # the live database takes no connection at all meanwhile
api POST "/backup/verify/$gz" operator
expect_status 200 "verify of a good backup (the live database refusing connections)"
expect_json ".success == true and .verify_ok == true and .recorded == true and .counts.table_count == $ntables" \
	"verify_ok, recorded, $ntables tables"
expect_json ".counts.tables[\"app.orders\"] == $orders and .counts.tables[\"app.customers\"] == $customers and .counts.tables[\"audit.log\"] == $logs and .counts.tables[\"public.items\"] == $items" \
	"the row counts are the live database's ($orders orders, $customers customers, $logs log rows)"
allow_live true
check "no scratch database is left behind" test "$(scratch_dbs)" = 0
check "no password in the log" bash -c "! grep -qF -- '$VPW' '$DAEMON_LOG' && ! grep -qF -- '$DB_PASSWORD' '$DAEMON_LOG'"

# the same backup with one broken statement, re-gzipped under its name
gunzip -c "$WORK/backups/$gz" >"$WORK/dump.sql"
check "the dump has the index to break" grep -q 'orders_customer_idx ON app.orders USING btree (customer_id)' "$WORK/dump.sql"
sed -i 's/orders_customer_idx ON app.orders USING btree (customer_id)/orders_customer_idx ON app.orders USING btree (no_such_column)/' "$WORK/dump.sql"
gzip -c "$WORK/dump.sql" >"$WORK/backups/$gz"
(cd "$WORK/backups" && sha256sum "$gz" >"$gz.sha256")
allow_live false
api POST "/backup/verify/$gz" operator
expect_error 422 verify_failed "verify of the broken backup fails (422 verify_failed)"
expect_json '.verify_ok == false and .recorded == true and (.message | test("no_such_column"))' \
	"recorded, with psql's words"
allow_live true
api GET /backup/list viewer
expect_json "[.backups[] | select(.filename == \"$gz\") | .verify_ok] == [false] and ([.backups[] | select(.filename == \"$gz\") | .verified_at | type] == [\"string\"])" \
	"the list shows the failed verification"
check "no scratch database is left behind after the failure" test "$(scratch_dbs)" = 0
pg_snapshot "$WORK/after.sql"
check "the live database is unchanged (pg_dump compared)" diff -q "$WORK/before.sql" "$WORK/after.sql"

# a scratch database left over (a crash) is dropped first
pg_admin -d postgres -c "CREATE DATABASE $SCRATCH OWNER $VROLE" >/dev/null
api POST "/backup/create?compress=true" operator
good=$(jq -r .filename "$BODY")
api POST "/backup/verify/$good" operator
expect_status 200 "a scratch database left over is replaced"
check "and dropped after" test "$(scratch_dbs)" = 0
e2e_stop
env DB_TYPE=postgresql VERIFY_DB_NAME="$DB_NAME" BACKUP_DIR="$WORK/backups" \
	AUTH_JWKS_FILE="$WORK/keys/jwks.json" "$DBBACKUPD" --check-config >"$WORK/check.out" 2>&1
check "VERIFY_DB_NAME naming the live database is refused at start-up" test $? -ne 0
check "... saying why" grep -q 'VERIFY_DB_NAME must not be DB_NAME' "$WORK/check.out"
env DB_TYPE=postgresql VERIFY_DB_NAME=--help BACKUP_DIR="$WORK/backups" \
	AUTH_JWKS_FILE="$WORK/keys/jwks.json" "$DBBACKUPD" --check-config >"$WORK/check.out" 2>&1
check "a VERIFY_DB_NAME a client tool would read as an option is refused" test $? -ne 0
e2e_done
