#!/usr/bin/env bash
# Files that are not MySQL/MariaDB dumps of this database are refused with
# 422 before anything is touched: a PostgreSQL dump, an SQLite file, a
# Cypher script, a corrupt gzip of a good dump, a dump of other databases.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service mysql
. "$DBB_SOURCE_DIR/tests/e2e/mysql_lib.sh"

check "fixture loads" my_load_fixture
my_dump "$WORK/original.sql"

cat >"$WORK/pg.sql" <<'SQL'
--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SET client_encoding = 'UTF8';
CREATE TABLE public.t (id integer NOT NULL);
COPY public.t (id) FROM stdin;
1
\.
SQL
gzip -c "$WORK/pg.sql" >"$WORK/pg.sql.gz"
# A real SQLite file, made without the sqlite3 CLI: the daemon's own
# SQLite driver is not needed, a valid header is what matters here.
if command -v sqlite3 >/dev/null; then
	sqlite3 "$WORK/app.db" 'CREATE TABLE t (x); INSERT INTO t VALUES (1);'
else
	python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE t (x)"); c.commit()' "$WORK/app.db"
fi
printf 'CREATE (:Person {name: "Ada"});\nCREATE (:Person {name: "Alan"});\n' >"$WORK/graph.cypher"
# A dump of several databases (would write outside DB_NAME).
{
	echo 'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `mysql`;'
	echo 'USE `mysql`;'
	cat "$WORK/original.sql"
} >"$WORK/alldbs.sql"
# A good dump whose gzip is cut short.
gzip -c "$WORK/original.sql" | head -c 2000 >"$WORK/truncated.sql.gz"

e2e_start DB_TYPE=mysql
before=$(backup_files)

for f in pg.sql pg.sql.gz app.db graph.cypher alldbs.sql truncated.sql.gz; do
	api POST "/backup/restore-upload?create_safety_backup=true" operator -F "file=@$WORK/$f"
	expect_error 422 invalid_backup "$f refused with 422"
	# another database's file is named by its driver's recognise hook
	case $f in
	pg.sql*) ! built_driver postgresql || check "$f: message says PostgreSQL" grep -q PostgreSQL "$BODY" ;;
	app.db) ! built_driver sqlite || check "$f: message says SQLite" grep -q SQLite "$BODY" ;;
	graph.cypher) ! built_driver neo4j || check "$f: message says Cypher" grep -q Cypher "$BODY" ;;
	alldbs.sql) check "$f: message names the other database" grep -q 'mysql' "$BODY" ;;
	esac
	check "$f: database untouched" my_same_as "$WORK/original.sql"
	check "$f: no file written (not even a safety backup)" test "$(backup_files)" = "$before"
done

e2e_done
