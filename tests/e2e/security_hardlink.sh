#!/usr/bin/env bash
# Issue 14, item 11: a hard link planted in the backups directory under a
# valid backup name (to a file elsewhere on the same file system) is never
# listed, downloaded, restored or deleted, like a symlink: storage refuses
# every file whose link count is not 1. Its target is left as it was.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo
e2e_start SQLITE_PATH="$SQLITE_DB"
before=$(sqlite_sum)

# the target: a secret outside, and a real SQLite database outside (so that
# a restore of it would succeed if it were followed)
echo "secret outside the backups directory" >"$WORK/outside.txt"
cp "$SQLITE_DB" "$WORK/other.db"
sqlite3 "$WORK/other.db" "DELETE FROM $(sqlite3 "$WORK/other.db" "SELECT name FROM sqlite_master WHERE type='table' LIMIT 1")"
sum_outside=$(outside_sum)
ln "$WORK/outside.txt" "$WORK/backups/backup_sqlite_20000101_000000.db"
ln "$WORK/other.db" "$WORK/backups/backup_sqlite_20000101_000001.db"
check "the links are hard links (link count 2)" \
	test "$(stat -c %h "$WORK/backups/backup_sqlite_20000101_000001.db")" = 2

api GET /backup/list viewer
expect_status 200
expect_json '[.backups[].filename] | index("backup_sqlite_20000101_000000.db") == null' "a hard link is not listed"
expect_json '[.backups[].filename] | index("backup_sqlite_20000101_000001.db") == null' "  ... nor the other"
for f in backup_sqlite_20000101_000000.db backup_sqlite_20000101_000001.db; do
	api GET "/backup/download/$f" viewer
	expect_error 404 not_found "hard link $f: download 404"
	api POST "/backup/restore/$f?create_safety_backup=false" operator
	expect_error 404 not_found "hard link $f: restore 404"
	api DELETE "/backup/delete/$f" admin
	expect_error 404 not_found "hard link $f: delete 404"
done
api GET /backup/download/backup_sqlite_20000101_000000.db viewer -H 'Range: bytes=0-5'
expect_error 404 not_found "hard link: a range of it 404 too"
check "the database was not touched" test "$(sqlite_sum)" = "$before"
check "the link targets are as they were" test "$(outside_sum)" = "$sum_outside"

# a real backup stays listed, and a sidecar that is a hard link is ignored
api POST /backup/create operator
expect_status 200
name=$(jq -r .filename "$BODY")
rm -f "$WORK/backups/$name.sha256"
printf '%064d  %s\n' 0 "$name" >"$WORK/fake.sha256"
ln "$WORK/fake.sha256" "$WORK/backups/$name.sha256"
api GET /backup/list viewer
expect_json '.backups | length == 1' "the real backup is listed"
expect_json '(.backups[0].sha256 // "") | test("^0+$") | not' "  ... without the hard-linked sidecar's content"
e2e_done
