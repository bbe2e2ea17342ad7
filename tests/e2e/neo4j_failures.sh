#!/usr/bin/env bash
# Neo4j failure paths: a script failing midway is rolled back from the safety
# backup (named in the answer); an SQL dump, an SQLite file, a truncated and a
# foreign Cypher script get 422 and touch nothing; an unreachable Neo4j or
# wrong credentials give 503 while the daemon keeps serving.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service neo4j
. "$DBB_SOURCE_DIR/tests/e2e/neo4j_lib.sh"

n4j_wipe || exit 1
n4j_seed full || exit 1
e2e_start DB_TYPE=neo4j

api POST "/backup/create?compress=false" operator
expect_status 200 "backup created"
plain=$(jq -r .filename "$BODY")
# the state before the failing restore differs from the backup
n4j_q 'MATCH (n:Bulk) WHERE n.i > 2000 DETACH DELETE n' >/dev/null
n4j_q 'CREATE (:AddedLater {x: 1})' >/dev/null
n4j_canon "$WORK/before.txt"

# a statement that fails at run time, in the middle of the node batches
bad="$WORK/midway-bad.cypher"
awk 'BEGIN { n = 0 } /^UNWIND/ { n++; if (n == 2) print "CREATE (:Broken {x: 1 / 0});" } { print }' \
	"$WORK/backups/$plain" >"$bad"
check "the broken script has the failing statement midway" grep -q '^CREATE (:Broken' "$bad"
api POST "/backup/restore-upload" operator -F "file=@$bad"
expect_error 500 restore_failed "a failing statement gives restore_failed"
expect_json '.message | test("ArithmeticError")' "the message carries Neo4j's error"
expect_json '.message | test("safety_backup_neo4j_[0-9]{8}_[0-9]{6}(_[0-9]+)?\\.cypher\\.gz")' "the message names the safety backup"
n4j_canon "$WORK/after.txt"
check "the graph equals its state before the request" cmp "$WORK/before.txt" "$WORK/after.txt"

# wrong files: 422, nothing touched
printf -- '-- PostgreSQL database dump\nSET statement_timeout = 0;\nCREATE TABLE t (id int);\n' >"$WORK/dump.sql"
printf -- '-- MySQL dump 10.13\n/*!40101 SET NAMES utf8 */;\nCREATE TABLE t (id int);\n' >"$WORK/mysql.sql"
sqlite3 "$WORK/db.sqlite" 'CREATE TABLE t (x); INSERT INTO t VALUES (1);' 2>/dev/null ||
	printf 'SQLite format 3\000\020\000\001\001' >"$WORK/db.sqlite"
head -c 20000 "$WORK/backups/$plain" >"$WORK/truncated.cypher"
grep -v '^// dbbackupd end of backup' "$WORK/backups/$plain" >"$WORK/no-end.cypher"
printf 'CREATE (:A {x: 1});\n' >"$WORK/foreign.cypher"
gzip -c "$WORK/dump.sql" >"$WORK/dump.sql.gz"
for f in dump.sql mysql.sql db.sqlite truncated.cypher no-end.cypher foreign.cypher dump.sql.gz; do
	api POST "/backup/restore-upload" operator -F "file=@$WORK/$f"
	expect_error 422 invalid_backup "$f is refused with 422"
done
api POST "/backup/restore-upload" operator -F "file=@$WORK/dump.sql"
expect_json '.message | test("SQL dump")' "the message says it is an SQL dump"
if built_driver sqlite; then # named by the SQLite driver's recognise hook
	api POST "/backup/restore-upload" operator -F "file=@$WORK/db.sqlite"
	expect_json '.message | test("SQLite")' "the message says it is an SQLite database"
fi
n4j_canon "$WORK/after2.txt"
check "nothing was touched" cmp "$WORK/before.txt" "$WORK/after2.txt"
e2e_stop

# Neo4j unreachable (nothing listens there: what a stopped Neo4j looks like)
dead=$(for p in $(seq 20000 20100); do (: <"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; break; }; done)
e2e_start DB_TYPE=neo4j NEO4J_URL="http://127.0.0.1:$dead"
api POST /backup/create operator
expect_error 503 database_unavailable "create with Neo4j down: 503"
expect_json '.message | test("unreachable")' "the reason is given"
api GET /backup/stats viewer
expect_error 503 database_unavailable "stats with Neo4j down: 503"
api POST "/backup/restore/$plain" operator
expect_error 503 database_unavailable "restore with Neo4j down: 503"
api GET /backup/list viewer
expect_status 200 "the daemon keeps serving the list"
check "health still answers" curl -fsS -o /dev/null "$BASE/health"
e2e_stop

# wrong credentials
e2e_start DB_TYPE=neo4j NEO4J_PASSWORD=wrong-password
api GET /backup/stats viewer
expect_error 503 database_unavailable "wrong credentials: 503"
expect_json '.message | test("credentials")' "the reason names the credentials"
check "the password is not in the message" bash -c "! grep -q wrong-password '$BODY'"
check "the password is not in the log" bash -c "! grep -q -e wrong-password -e '$NEO4J_PASSWORD' '$DAEMON_LOG'"
e2e_stop

e2e_done
