#!/usr/bin/env bash
# PostgreSQL: files that are not plain PostgreSQL dumps are refused with 422
# saying what they are, and nothing is touched.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_lib.sh"
e2e_init
e2e_use_service postgresql
pg_reset
pg_load_fixture
pg_snapshot "$WORK/before.sql"
e2e_start DB_TYPE=postgresql

cat >"$WORK/mysql.sql" <<'SQL'
-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)
--
-- Host: localhost    Database: shop
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
DROP TABLE IF EXISTS `t`;
CREATE TABLE `t` (`id` int NOT NULL) ENGINE=InnoDB;
SQL
gzip -c "$WORK/mysql.sql" >"$WORK/mysql.sql.gz"
sqlite3 "$WORK/app.db" "CREATE TABLE t (x); INSERT INTO t VALUES (1);" 2>/dev/null ||
	printf 'SQLite format 3\0%4080s' "" >"$WORK/app.db"
printf 'CREATE (n:Person {name: "Ann"});\nMATCH (n) RETURN n;\n' >"$WORK/graph.cypher"
# A pg_dump file carrying a shell escape: psql would run it.
PGPASSWORD="$DB_PASSWORD" pg_dump -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$DB_NAME" |
	awk '/^SET statement_timeout/ && !d { print "\\! touch '"$WORK"'/pwned"; d = 1 } { print }' >"$WORK/shell.sql"

try() {
	local file=$1 what=$2 pattern=$3 driver=${4:-}
	api POST /backup/restore-upload operator -F "file=@$file" -F create_safety_backup=true
	expect_error 422 invalid_backup "$what → 422"
	# another database's file is named by its driver's recognise hook
	if [ -z "$driver" ] || built_driver "$driver"; then
		expect_json ".message | test(\"$pattern\"; \"i\")" "$what: the message says what it is"
	fi
}
try "$WORK/mysql.sql" "MySQL dump" "mysql" mysql
try "$WORK/mysql.sql.gz" "gzipped MySQL dump" "mysql" mysql
try "$WORK/app.db" "SQLite file" "sqlite" sqlite
try "$WORK/graph.cypher" "Cypher script" "cypher" neo4j
try "$WORK/shell.sql" "dump with a psql shell escape" "meta-command"

check "the shell escape never ran" test ! -e "$WORK/pwned"
check "no safety backup was made for refused files" bash -c "! ls '$WORK/backups' | grep -q '^safety_backup_'"
pg_snapshot "$WORK/after.sql"
check "database untouched" diff -q "$WORK/before.sql" "$WORK/after.sql"
e2e_done
