#!/usr/bin/env bash
# Test-restores on MySQL/MariaDB (issue 20): the dump is restored by the
# restore's own client into a scratch schema (VERIFY_DB_NAME) the daemon
# creates and drops, never into the live one. Without privileges on the
# scratch schema the verification cannot run (409, nothing recorded); with
# them a good backup passes with the right row counts while the daemon's
# user has lost every privilege on the live schema, a backup with one
# broken statement fails and is recorded, and no scratch schema is left.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service mysql
. "$DBB_SOURCE_DIR/tests/e2e/mysql_lib.sh"
SCRATCH=dbbackupd_verify_e2e
admin() {
	"$(my_client)" --no-defaults --socket="$MYSQL_SOCKET" --user="${MYSQL_ADMIN_USER:-root}" --batch \
		--skip-column-names -e "$1"
}
scratch_schemas() { admin "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$SCRATCH'"; }
live_grant() { admin "GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'%'"; }
trap 'live_grant; admin "REVOKE ALL PRIVILEGES ON \`$SCRATCH\`.* FROM '"'"'$DB_USER'"'"'@'"'"'%'"'"'" 2>/dev/null; e2e_cleanup' EXIT

check "fixture loads" my_load_fixture
my_dump "$WORK/original.sql"
count() { my_sql "SELECT COUNT(*) FROM \`$1\`"; }
customers=$(count customers)
orders=$(count orders)
blobs=$(count blobs)
audit=$(count audit)
ntables=$(my_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'")
e2e_start DB_TYPE=mysql VERIFY_DB_NAME="$SCRATCH"
api POST "/backup/create?compress=true" operator
expect_status 200 "backup created"
gz=$(jq -r .filename "$BODY")

api POST "/backup/verify/$gz" operator
expect_error 409 restore_conflict "without privileges on the scratch schema the verification cannot run (409)"
expect_json '.message | test("VERIFY_DB_NAME") and test("CREATE and DROP")' "the message names the setting and the privileges"
check "nothing was recorded" test ! -e "$WORK/backups/$gz.verify"

# the scratch schema's privileges for the daemon's user; none on the live one meanwhile
admin "GRANT ALL PRIVILEGES ON \`$SCRATCH\`.* TO '$DB_USER'@'%'"
admin "REVOKE ALL PRIVILEGES ON \`$DB_NAME\`.* FROM '$DB_USER'@'%'"
api POST "/backup/verify/$gz" operator
expect_status 200 "verify of a good backup (no privilege on the live schema)"
expect_json ".success == true and .verify_ok == true and .recorded == true and .counts.table_count == $ntables" \
	"verify_ok, recorded, $ntables tables"
expect_json ".counts.tables.customers == $customers and .counts.tables.orders == $orders and .counts.tables.blobs == $blobs and .counts.tables.audit == $audit" \
	"the row counts are the live database's ($customers customers, $orders orders, $blobs blobs, $audit audit rows)"
check "no scratch schema is left behind" test "$(scratch_schemas)" = 0

# the same backup with one broken statement, re-gzipped under its name
gunzip -c "$WORK/backups/$gz" >"$WORK/dump.sql"
check "the dump inserts into orders" grep -q '^INSERT INTO `orders` VALUES' "$WORK/dump.sql"
sed -i 's/^INSERT INTO `orders` VALUES/INSERT INTO `no_such_table` VALUES/' "$WORK/dump.sql"
gzip -c "$WORK/dump.sql" >"$WORK/backups/$gz"
(cd "$WORK/backups" && sha256sum "$gz" >"$gz.sha256")
api POST "/backup/verify/$gz" operator
expect_error 422 verify_failed "verify of the broken backup fails (422 verify_failed)"
expect_json '.verify_ok == false and .recorded == true and (.message | test("no_such_table"))' \
	"recorded, with the client's words"
live_grant
api GET /backup/list viewer
expect_json "[.backups[] | select(.filename == \"$gz\") | .verify_ok] == [false]" \
	"the list shows the failed verification"
check "no scratch schema is left behind after the failure" test "$(scratch_schemas)" = 0
check "the live database is unchanged (dump compared)" my_same_as "$WORK/original.sql"
e2e_done
