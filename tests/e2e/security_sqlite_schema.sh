#!/usr/bin/env bash
# An SQLite file with a hostile schema is refused (422) before anything is
# touched, and checking it stays within the daemon's memory limit (issue 14,
# item 5; docs/driver-sqlite.md, "Validation").
#  - the reviewer's file: 12 KB, an index on length(hex(zeroblob(400000000)))
#    planted through writable_schema over entries that match it, so that
#    PRAGMA integrity_check passes after computing an 800 MB string (old:
#    ~2 GB of RSS, then restored into the live database), uploaded and as a
#    file in the backups directory;
#  - an index expression holding six 16 MB values at once (each under the
#    value limit; together over the memory budget);
#  - a schema entry that its own SQL does not produce (a second statement
#    after the CREATE INDEX), which SQLite itself loads without a word.
# For each: 422 invalid_backup saying which limit, the live database and the
# backups directory unchanged; then the daemon's peak RSS (VmHWM) is under
# the documented 128 MiB. curl's --max-time is a guard, not a timing test.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo 50
e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB"
db_before=$(sqlite_sum)
RSS_LIMIT_KIB=$((128 * 1024))

# plant NAME ROWS CREATE_INDEX_SQL PLANTED_SQL: $WORK/NAME.db with table t
# (ROWS rows), an index made by CREATE_INDEX_SQL, whose SQL is then
# replaced by PLANTED_SQL through writable_schema.
plant() {
	rm -f "$WORK/$1.db"
	sqlite3 "$WORK/$1.db" "CREATE TABLE t(x);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < $2) INSERT INTO t SELECT i FROM n;
$3;
PRAGMA writable_schema=ON;
UPDATE sqlite_schema SET sql='$4' WHERE name='i';" || fail "cannot build $1.db"
}

# the reviewer's file: every entry is 800000000, what the planted
# expression computes
plant zeroblob 3 "CREATE INDEX i ON t(length(hex(zeroblob(4)))*100000000)" \
	"CREATE INDEX i ON t(length(hex(zeroblob(400000000))))"
check "the planted file is small ($(stat -c %s "$WORK/zeroblob.db") bytes)" \
	test "$(stat -c %s "$WORK/zeroblob.db")" -le 16384
# six hex strings of 16,000,000 to 16,000,010 characters alive at once
plant wide 3 "CREATE INDEX i ON t(16000010)" \
	"CREATE INDEX i ON t(length(max(hex(zeroblob(8000000)), hex(zeroblob(8000001)), hex(zeroblob(8000002)), hex(zeroblob(8000003)), hex(zeroblob(8000004)), hex(zeroblob(8000005)))))"
# a second statement hidden after the index's own
plant tail 3 "CREATE INDEX i ON t(x)" "CREATE INDEX i ON t(x); CREATE TABLE planted(y)"
# (not zeroblob.db: sqlite3 would need 2 GB to say so)
for f in wide tail; do
	check "$f.db passes sqlite3's own integrity check (only the daemon's limits refuse it)" \
		test "$(sqlite3 "$WORK/$f.db" 'PRAGMA integrity_check' 2>&1)" = ok
done

backups_before=$(ls -A "$WORK/backups" | sort | sha256sum)

# upload_refused FILE LIMIT_RE: a 422 whose message matches LIMIT_RE
upload_refused() {
	STATUS=$(curl -sS --max-time 120 -o "$BODY" -w '%{http_code}' \
		-H "Authorization: Bearer $(token operator)" -F "file=@$WORK/$1.db" \
		"$BASE/backup/restore-upload")
	expect_error 422 invalid_backup "upload of $1.db: 422"
	expect_json ".message | test(\"$2\")" "the refusal of $1.db says why ($2)"
	check "the live database is unchanged after $1.db" test "$(sqlite_sum)" = "$db_before"
}

upload_refused zeroblob "larger than 16 MiB"
upload_refused wide "more than 64 MiB of memory"
upload_refused tail "more than one statement"

# a hostile file in the backups directory is no more trusted than an upload
cp "$WORK/zeroblob.db" "$WORK/backups/backup_sqlite_20000101_000000.db"
STATUS=$(curl -sS --max-time 120 -o "$BODY" -w '%{http_code}' -X POST \
	-H "Authorization: Bearer $(token operator)" \
	"$BASE/backup/restore/backup_sqlite_20000101_000000.db")
expect_error 422 invalid_backup "restore of the planted file from the backups directory: 422"
check "the live database is unchanged after it" test "$(sqlite_sum)" = "$db_before"
rm -f "$WORK/backups/backup_sqlite_20000101_000000.db"

check "no safety backup or temporary was left" test "$(ls -A "$WORK/backups" | sort | sha256sum)" = "$backups_before"
rss=$(awk '/VmHWM/ { print $2 }' "/proc/$DAEMON_PID/status")
check "the daemon's peak RSS stayed under 128 MiB ($((rss / 1024)) MiB)" test "$rss" -lt "$RSS_LIMIT_KIB"
api GET /backup/list viewer
expect_status 200 "the daemon still answers"
e2e_done
