#!/usr/bin/env bash
# MySQL round trip: create → change the data → restore gives back exactly the
# original database (FKs, indexes, view, trigger, procedure, function, event,
# utf8mb4 emoji, BLOBs, DATETIME/DECIMAL/JSON, NULLs), compressed and plain;
# objects created after the backup are gone (clean restore); stats.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service mysql
. "$DBB_SOURCE_DIR/tests/e2e/mysql_lib.sh"

check "fixture loads" my_load_fixture
my_dump "$WORK/original.sql"
e2e_start DB_TYPE=mysql

api GET /health none
expect_status 200 "health answers"

api POST "/backup/create?compress=true" operator
expect_status 200 "create compressed"
expect_json '.success == true and (.filename | test("^backup_mysql_[0-9]{8}_[0-9]{6}(_[0-9]+)?\\.sql\\.gz$"))' \
	"compressed name backup_mysql_<ts>.sql.gz"
gz=$(jq -r .filename "$BODY")
check "compressed backup is valid gzip" gzip -t "$WORK/backups/$gz"
gzip -dc "$WORK/backups/$gz" >"$WORK/backup.sql"
has_objects() {
	grep -q 'CREATE.*PROCEDURE `add_order`' "$WORK/backup.sql" &&
		grep -Eq 'TRIGGER `?orders_audit`? AFTER INSERT' "$WORK/backup.sql" &&
		grep -q 'EVENT `nightly_cleanup`' "$WORK/backup.sql" &&
		grep -q '0x00FF00FE0D0A1A5C27225C00' "$WORK/backup.sql"
}
no_password() {
	! grep -qF -- "$DB_PASSWORD" "$WORK/backup.sql" && ! grep -qF -- "$DB_PASSWORD" "$DAEMON_LOG"
}
check "backup has routines, triggers, events, hex blobs" has_objects
check "password never in the backup or the log" no_password

api POST "/backup/create?compress=false" operator
expect_status 200 "create plain"
plain=$(jq -r .filename "$BODY")
check "plain name ends in .sql" grep -Eq '^backup_mysql_[0-9_]+\.sql$' <<<"$plain"
check "plain backup is SQL text" grep -q 'MariaDB dump\|MySQL dump' "$WORK/backups/$plain"

# The contract's other examples with DB_TYPE=mysql: list, download, delete.
api GET /backup/list viewer
expect_status 200 "list"
expect_json '.total_count == 2 and ([.backups[].filename] | sort) == (["'"$gz"'", "'"$plain"'"] | sort)' \
	"list names both backups"
api GET "/backup/download/$gz" viewer
expect_status 200 "download"
check "downloaded bytes are the backup" cmp -s "$BODY" "$WORK/backups/$gz"

api GET /backup/stats viewer
expect_status 200 "stats"
check "stats name the tables" grep -q '"customers"' "$BODY"
check "stats carry the server version" grep -q 'MariaDB' "$BODY"

# Change everything: data, schema and code objects; add a table.
my_sql "SET FOREIGN_KEY_CHECKS=0; UPDATE customers SET name = 'changed', prefs = NULL;
	DELETE FROM blobs WHERE id = 1; INSERT INTO orders (customer_id, total) VALUES (2, 1);
	DROP VIEW customer_totals; DROP PROCEDURE add_order; DROP EVENT nightly_cleanup;
	ALTER TABLE customers ADD COLUMN extra INT; CREATE TABLE after_backup (x INT);
	CREATE VIEW after_view AS SELECT 1 AS one;"
if my_same_as "$WORK/original.sql"; then fail "changes are visible"; else ok "changes are visible"; fi

api POST "/backup/restore/$gz?create_safety_backup=true" operator
expect_status 200 "restore compressed backup"
expect_json '.success == true and .safety_backup_created == true and
	(.safety_backup_filename | test("^safety_backup_mysql_[0-9]{8}_[0-9]{6}(_[0-9]+)?\\.sql\\.zst$"))' \
	"safety backup named"
safety=$(jq -r .safety_backup_filename "$BODY")
check "restored database equals the original (dump compare)" my_same_as "$WORK/original.sql"
check "table created after the backup is gone" \
	test "$(my_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('after_backup', 'after_view')")" = 0
check "emoji survive" test "$(my_sql "SELECT note FROM customers WHERE id = 1")" = 'emoji 😀🎉🐬 and 中文 and ümlauts'
check "function with emoji survives" test "$(my_sql "SELECT greet('x')")" = 'héllo x 👋'
check "binary column survives" test "$(my_sql "SELECT HEX(data) FROM blobs WHERE id = 1")" = 00FF00FE0D0A1A5C27225C00
trigger_fires() {
	my_sql 'CALL add_order(1, 2.50)' && [ "$(my_sql 'SELECT COUNT(*) FROM audit')" = 2 ]
}
fk_enforced() {
	! my_sql 'INSERT INTO orders (customer_id, total) VALUES (999, 1)' 2>/dev/null
}
check "procedure and trigger work after restore" trigger_fires
check "foreign key is enforced after restore" fk_enforced

# The safety backup holds the changed state: restoring it brings that back.
api POST "/backup/restore/$safety?create_safety_backup=false" operator
expect_status 200 "restore the safety backup"
expect_json '.safety_backup_created == false' "no safety backup when asked not to"
check "safety backup had the changed state" \
	test "$(my_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'after_backup'")" = 1

# Plain backup, twice in a row: clean + restore is repeatable.
for i in 1 2; do
	api POST "/backup/restore/$plain?create_safety_backup=false" operator
	expect_status 200 "restore plain backup ($i)"
	check "equals the original after plain restore ($i)" my_same_as "$WORK/original.sql"
done

api DELETE "/backup/delete/$plain" admin
expect_status 200 "delete"
check "deleted file is gone" test ! -e "$WORK/backups/$plain"

e2e_done
