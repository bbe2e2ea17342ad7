#!/usr/bin/env bash
# Checking an SQLite file has a deadline (issue 14, item 5): a 440 KB file
# whose planted index makes PRAGMA integrity_check compute a 16 MB string
# for each of its 20,000 rows (each value under the daemon's 16 MiB limit,
# minutes of work in all; old: it ran to the end, then the file was
# restored) is refused with 422 when the deadline for a file of its size
# (30 s + 240 s per GiB: 31 s) passes, the live database unchanged, and
# the daemon answers other requests meanwhile.
# curl's --max-time is a guard for the old behaviour, not a timing test.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo 50
e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB" SHUTDOWN_TIMEOUT=5
db_before=$(sqlite_sum)

# the entries hold 16000000, what the planted expression computes; the
# column reference keeps SQLite from computing it once for all rows
sqlite3 "$WORK/slow.db" "CREATE TABLE t(x);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 20000) INSERT INTO t SELECT i FROM n;
CREATE INDEX i ON t(16000000 + x - x);
PRAGMA writable_schema=ON;
UPDATE sqlite_schema SET sql='CREATE INDEX i ON t(length(hex(zeroblob(8000000 + x - x))))' WHERE name='i';"

curl -sS --max-time 150 -o "$WORK/slow.json" -w '%{http_code}' \
	-H "Authorization: Bearer $(token operator)" -F "file=@$WORK/slow.db" \
	"$BASE/backup/restore-upload" >"$WORK/slow.status" &
upload=$!
sleep 2
api GET /health none
expect_status 200 "health answers while the check runs"
api GET /backup/list viewer
expect_status 200 "list answers while the check runs"
wait $upload
STATUS=$(cat "$WORK/slow.status")
cp "$WORK/slow.json" "$BODY"
expect_error 422 invalid_backup "the slow file is refused: 422"
expect_json '.message | test("takes longer than 31 s")' "the refusal names the deadline"
check "the live database is unchanged" test "$(sqlite_sum)" = "$db_before"
check "no temporary left" bash -c "! ls -A '$WORK/backups' | grep -q '^\\.tmp-'"
e2e_done
