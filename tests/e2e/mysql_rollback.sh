#!/usr/bin/env bash
# MySQL DDL is not transactional: a restore that fails halfway is undone by
# restoring the safety backup, and the response says so. Without a safety
# backup the response says the database is partial. A dump that fails
# halfway leaves no file and answers 500 with the tool's words.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service mysql
. "$DBB_SOURCE_DIR/tests/e2e/mysql_lib.sh"

check "fixture loads" my_load_fixture
# A good dump with an error in its middle: the first tables are restored,
# then the client stops.
my_dump "$WORK/good.sql"
awk '/^-- Dumping data for table `customers`/ { print "INSERT INTO no_such_table VALUES (1);" } { print }' \
	"$WORK/good.sql" >"$WORK/broken.sql"
check "broken dump has its error in the middle" grep -q no_such_table "$WORK/broken.sql"
gzip -c "$WORK/broken.sql" >"$WORK/broken.sql.gz"

# The state before the request differs from the dump's.
my_sql "CREATE TABLE before_state (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO before_state VALUES (1, '🙂');
	UPDATE customers SET name = 'before' WHERE id = 2"
my_dump "$WORK/before.sql"

e2e_start DB_TYPE=mysql

api POST "/backup/restore-upload?create_safety_backup=true" operator -F "file=@$WORK/broken.sql.gz"
expect_error 500 restore_failed "restore failing halfway gives 500 restore_failed"
check "message has the client's words" grep -q "no_such_table" "$BODY"
check "message says the safety backup was restored" grep -qi "safety backup.*restored\|restored.*safety backup\|rolled back" "$BODY"
expect_json '.rollback_performed == true and .rollback_succeeded == true and .safety_backup_created == true' \
	"response says the rollback was performed and succeeded"
check "database equals its state before the request" my_same_as "$WORK/before.sql"
safety_kept() { compgen -G "$WORK/backups/safety_backup_mysql_*" >/dev/null; }
check "the safety backup is kept" safety_kept

# Same from a listed backup file.
cp "$WORK/broken.sql.gz" "$WORK/backups/backup_mysql_20200101_000000.sql.gz"
api POST "/backup/restore/backup_mysql_20200101_000000.sql.gz" operator
expect_error 500 restore_failed "listed broken backup: 500 restore_failed"
expect_json '.rollback_performed == true and .rollback_succeeded == true' "listed: rolled back"
check "listed: database equals its state before the request" my_same_as "$WORK/before.sql"

# Without a safety backup nothing can be rolled back: the response says so.
api POST "/backup/restore-upload?create_safety_backup=false" operator -F "file=@$WORK/broken.sql"
expect_error 500 restore_failed "no safety backup: 500 restore_failed"
check "message says the database is partial" grep -qi "partial" "$BODY"
# Put the state back for the rest of the test.
my_reset && my_sql_file "$WORK/before.sql"
check "state back" my_same_as "$WORK/before.sql"

# A dump that fails halfway: a view whose table is gone makes mariadb-dump
# stop after the tables before it have been written.
my_sql "CREATE TABLE zz_gone (a INT); CREATE VIEW zz_broken AS SELECT a FROM zz_gone; DROP TABLE zz_gone"
files_before=$(backup_files)
api POST "/backup/create?compress=true" operator
expect_error 500 backup_failed "failing dump gives 500 backup_failed"
check "message has the tool's words" grep -q "zz_broken" "$BODY"
check "no file left behind" test "$(backup_files)" = "$files_before"
api POST "/backup/create?compress=false" operator
expect_error 500 backup_failed "failing plain dump gives 500 backup_failed"
check "no plain file left behind" test "$(backup_files)" = "$files_before"
# The safety backup fails the same way: the restore stops before touching anything.
api POST "/backup/restore-upload?create_safety_backup=true" operator -F "file=@$WORK/good.sql"
expect_error 500 backup_failed "restore whose safety backup fails: 500, nothing done"
check "view still there, nothing restored" \
	test "$(my_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('zz_broken', 'before_state')")" = 2
my_sql "DROP VIEW zz_broken"
check "database equals its state before" my_same_as "$WORK/before.sql"

e2e_done
