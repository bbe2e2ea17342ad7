#!/usr/bin/env bash
# MySQL upload-restore of dumps made by mariadb-dump outside the daemon,
# gzipped and plain: the database equals the dumped one afterwards.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service mysql
. "$DBB_SOURCE_DIR/tests/e2e/mysql_lib.sh"

check "fixture loads" my_load_fixture
# An ordinary outside dump (default options, no --hex-blob, with routines).
MYSQL_PWD="$DB_PASSWORD" "$(my_dumper)" --no-defaults -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" \
	--routines --events --single-transaction "$DB_NAME" >"$WORK/external.sql"
gzip -6 -c "$WORK/external.sql" >"$WORK/external.sql.gz"
my_dump "$WORK/original.sql"
e2e_start DB_TYPE=mysql

for f in external.sql.gz external.sql; do
	my_sql "SET FOREIGN_KEY_CHECKS=0; DELETE FROM orders; DELETE FROM customers; DROP PROCEDURE IF EXISTS add_order;
		CREATE TABLE IF NOT EXISTS stray (x INT)"
	api POST "/backup/restore-upload?create_safety_backup=true" operator -F "file=@$WORK/$f"
	expect_status 200 "upload-restore $f"
	expect_json '.success == true and .safety_backup_created == true' "$f: safety backup made"
	check "$f: database equals the dumped one" my_same_as "$WORK/original.sql"
	check "$f: stray table is gone" \
		test "$(my_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'stray'")" = 0
done

# The clean drops many tables and views several per statement: 600 tables
# with 60-character names (and 30 views on them) need more than one
# statement (16 KiB: about 200 of these); all go.
{
	echo "SET FOREIGN_KEY_CHECKS=0;"
	for i in $(seq 1 600); do
		printf 'CREATE TABLE `many_%s_%055d` (id INT PRIMARY KEY);\n' "$i" 0
	done
	for i in $(seq 1 30); do
		printf 'CREATE VIEW `many_view_%s` AS SELECT id FROM `many_%s_%055d`;\n' "$i" "$i" 0
	done
} >"$WORK/many.sql"
check "600 tables and 30 views created" my_sql_file "$WORK/many.sql"
api POST "/backup/restore-upload?create_safety_backup=false" operator -F "file=@$WORK/external.sql.gz"
expect_status 200 "upload-restore over 600 extra tables"
check "every extra table and view is gone" \
	test "$(my_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'many%'")" = 0
check "database equals the dumped one" my_same_as "$WORK/original.sql"

# Without a safety backup too.
my_sql "DELETE FROM audit"
api POST "/backup/restore-upload?create_safety_backup=false" operator -F "file=@$WORK/external.sql.gz"
expect_status 200 "upload-restore without safety backup"
expect_json '.safety_backup_created == false' "no safety backup when asked not to"
check "database equals the dumped one" my_same_as "$WORK/original.sql"

e2e_done
