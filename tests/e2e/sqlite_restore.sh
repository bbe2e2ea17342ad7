#!/usr/bin/env bash
# Restore round trips on SQLite: from a listed backup and from an upload,
# with and without a safety backup; the data comes back exactly.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo
e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB"

original=$(sqlite_sum)
api POST "/backup/create?compress=true" operator
expect_status 200 "backup created"
gz=$(jq -r .filename "$BODY")
api POST "/backup/create?compress=false" operator
plain=$(jq -r .filename "$BODY")

# change the database: rows, a new table (must be gone after the restore)
sqlite3 "$SQLITE_DB" "DELETE FROM orders WHERE id % 2 = 0; UPDATE customers SET name = 'changed'; CREATE TABLE added_later (x);"
check "the database changed" test "$(sqlite_sum)" != "$original"
changed=$(sqlite_sum)

# restore from a listed backup, with a safety backup (the default)
code=$(curl -s -o "$BODY" -w '%{http_code}' -X POST "$BASE/backup/restore/$gz?create_safety_backup=true" -H "Authorization: Bearer $(token operator)")
STATUS=$code
expect_status 200 "restore from a listed backup"
expect_json ".success == true and .message == \"Database restored successfully from: $gz\" and .safety_backup_created == true and (.safety_backup_filename | test(\"^safety_backup_sqlite_[0-9]{8}_[0-9]{6}(_[0-9]+)?\\\\.db\\\\.gz$\"))" "restore reply has the contract's fields"
safety=$(jq -r .safety_backup_filename "$BODY")
check "the data is back exactly" test "$(sqlite_sum)" = "$original"
check "the table created after the backup is gone" bash -c "! sqlite3 '$SQLITE_DB' 'SELECT 1 FROM added_later' 2>/dev/null"
api GET /backup/list viewer
expect_json "[.backups[] | select(.filename == \"$safety\") | .type] == [\"safety_backup\"]" "the safety backup is listed"

# the safety backup holds the changed state: restoring it gives that back
api POST "/backup/restore/$safety?create_safety_backup=false" operator
expect_status 200 "restore the safety backup, without a new one"
expect_json '.safety_backup_created == false and .safety_backup_filename == null' "no safety backup when asked not to"
check "the safety backup held the state before the restore" test "$(sqlite_sum)" = "$changed"

# upload-restore, compressed and plain, as the contract's curl shows
for f in "$gz" "$plain"; do
	cp "$WORK/backups/$f" "$WORK/upload-$f"
	sqlite3 "$SQLITE_DB" "DELETE FROM customers WHERE id > 100"
	code=$(curl -s -o "$BODY" -w '%{http_code}' -X POST "$BASE/backup/restore-upload?create_safety_backup=true" \
		-H "Authorization: Bearer $(token operator)" -F "file=@$WORK/upload-$f")
	STATUS=$code
	expect_status 200 "upload-restore of $f"
	expect_json ".success == true and .message == \"Database restored successfully from uploaded file: upload-$f\" and .safety_backup_created == true" "upload reply has the contract's fields"
	check "upload-restore of $f gives the data back" test "$(sqlite_sum)" = "$original"
done

# the form field create_safety_backup works too (the query wins if both)
api GET /backup/list viewer
before=$(jq '.total_count' "$BODY")
api POST /backup/restore-upload operator -F "file=@$WORK/upload-$gz" -F create_safety_backup=false
expect_status 200 "upload with the form field"
expect_json '.safety_backup_created == false'
api GET /backup/list viewer
expect_json ".total_count == $before" "no safety backup was written"

# an upload leaves no temporary behind
check "no temporaries left" bash -c "! ls -A '$WORK/backups' | grep -q '^\\.tmp-'"

# a database written to while it is backed up still gives a sound backup
( for i in $(seq 1 200); do sqlite3 "$SQLITE_DB" "INSERT INTO customers (name) VALUES ('w$i')" 2>/dev/null; done ) &
writer=$!
api POST /backup/create operator
wait $writer
expect_status 200 "backup while another connection writes"
f=$(jq -r .filename "$BODY")
gunzip -c "$WORK/backups/$f" >"$WORK/check.db"
check "that backup passes integrity_check" test "$(sqlite3 "$WORK/check.db" 'PRAGMA integrity_check')" = ok

# the live database keeps its journal mode whatever mode the backup was
# made in (a WAL backup restored into a rollback-journal database used to
# turn it into a WAL database)
cp "$SQLITE_DB" "$WORK/wal.db"
check "the live database now uses a rollback journal" test "$(sqlite3 "$SQLITE_DB" 'PRAGMA journal_mode=DELETE')" = delete
sqlite3 "$WORK/wal.db" "PRAGMA journal_mode=WAL; INSERT INTO customers (name) VALUES ('from a WAL database');" >/dev/null
wal_sum=$(sqlite_sum "$WORK/wal.db")
api POST "/backup/restore-upload?create_safety_backup=false" operator -F "file=@$WORK/wal.db"
expect_status 200 "upload-restore of a WAL database into a rollback-journal one"
check "the data of the WAL database is there" test "$(sqlite_sum)" = "$wal_sum"
check "the live database still uses a rollback journal" test "$(sqlite3 "$SQLITE_DB" 'PRAGMA journal_mode')" = delete
sqlite3 "$SQLITE_DB" "PRAGMA journal_mode=WAL" >/dev/null
api POST "/backup/restore/$plain?create_safety_backup=false" operator
expect_status 200 "restore of a rollback-journal backup into a WAL database"
check "the data is back exactly" test "$(sqlite_sum)" = "$original"
check "the live database still uses a WAL" test "$(sqlite3 "$SQLITE_DB" 'PRAGMA journal_mode')" = wal
check "the live database passes integrity_check" test "$(sqlite3 "$SQLITE_DB" 'PRAGMA integrity_check')" = ok
# SQLite cannot change the page size of a WAL database: a clear error, and
# the database as it was
sqlite3 "$WORK/page8k.db" "PRAGMA page_size=8192; CREATE TABLE t(x); INSERT INTO t VALUES (1);"
api POST "/backup/restore-upload?create_safety_backup=false" operator -F "file=@$WORK/page8k.db"
expect_error 500 restore_failed "a backup of another page size into a WAL database: 500"
expect_json '.message | test("page size \\(8192 bytes\\) is not the live database.s \\(4096 bytes\\)")' "the error says why"
check "the database is as it was" test "$(sqlite_sum)" = "$original"

e2e_done
