#!/usr/bin/env bash
# Bad input never changes the database or any file outside the backups
# directory, and always gets a JSON error with the right status.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo
echo "precious" >"$WORK/outside.txt"
e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB" MAX_UPLOAD_BYTES=1M

api POST /backup/create operator
good=$(jq -r .filename "$BODY")
db_before=$(sqlite_sum)
out_before=$(outside_sum)

# unknown file
api GET /backup/download/backup_sqlite_20000101_000000.db.gz viewer
expect_error 404 not_found "unknown file: 404"
api POST /backup/restore/backup_sqlite_20000101_000000.db.gz operator
expect_error 404 not_found "restore of an unknown file: 404"

# traversal in every spelling: 400, nothing outside touched
for p in "..%2f..%2foutside.txt" "%2e%2e%2f%2e%2e%2foutside.txt" "%2e%2e" "..%2F" \
	"%2Fetc%2Fpasswd" "backup_sqlite_20000101_000000.db%00.txt" "$good%00" "..%5c..%5coutside.txt" \
	"%252e%252e%252f" "$good%2f..%2f..%2foutside.txt" "backup_sqlite_20241110_120000.db%0a"; do
	api GET "/backup/download/$p" viewer
	expect_error 400 invalid_filename "download $p"
	api POST "/backup/restore/$p" operator
	expect_error 400 invalid_filename "restore $p"
	api DELETE "/backup/delete/$p" admin
	expect_error 400 invalid_filename "delete $p"
done
# a literal ../ path (curl would normalise it: --path-as-is keeps it)
STATUS=$(curl -s --path-as-is -o "$BODY" -w '%{http_code}' -H "Authorization: Bearer $(token viewer)" "$BASE/backup/download/../../outside.txt")
expect_error 400 invalid_filename "literal ../ path"
# a symlink planted in the backups directory is never followed
ln -s "$WORK/outside.txt" "$WORK/backups/backup_sqlite_20000101_000000.db"
api GET /backup/download/backup_sqlite_20000101_000000.db viewer
expect_error 404 not_found "symlink: 404"
api DELETE /backup/delete/backup_sqlite_20000101_000000.db admin
expect_error 404 not_found "symlink not deleted"
api POST /backup/restore/backup_sqlite_20000101_000000.db operator
expect_error 404 not_found "symlink not restored"
rm -f "$WORK/backups/backup_sqlite_20000101_000000.db"

# corrupt and truncated gzip, non-SQLite, empty: 422, database unchanged
gzip -c "$SQLITE_DB" >"$WORK/good.db.gz"
size=$(stat -c %s "$WORK/good.db.gz")
head -c $((size / 2)) "$WORK/good.db.gz" >"$WORK/truncated.db.gz"
head -c $((size - 4)) "$WORK/good.db.gz" >"$WORK/no-trailer.db.gz"
cp "$WORK/good.db.gz" "$WORK/corrupt.db.gz"
printf '\xff\xff\xff\xff' | dd of="$WORK/corrupt.db.gz" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
cp "$WORK/good.db.gz" "$WORK/badcrc.db.gz"
printf '\x00\x00\x00\x00' | dd of="$WORK/badcrc.db.gz" bs=1 seek=$((size - 8)) conv=notrunc 2>/dev/null
printf -- '-- MySQL dump 10.13\nCREATE TABLE t (x int);\n' >"$WORK/mysql.sql"
printf 'hello, I am not a database\n' >"$WORK/text.txt"
gzip -c "$WORK/text.txt" >"$WORK/text.txt.gz"
: >"$WORK/empty.db"
head -c 8192 "$SQLITE_DB" >"$WORK/halfdb.db"
for f in truncated.db.gz no-trailer.db.gz corrupt.db.gz badcrc.db.gz mysql.sql text.txt text.txt.gz empty.db halfdb.db; do
	api POST /backup/restore-upload operator -F "file=@$WORK/$f"
	expect_error 422 invalid_backup "upload of $f: 422"
	check "database unchanged after $f" test "$(sqlite_sum)" = "$db_before"
done
if built_driver mysql; then # named by the MySQL driver's recognise hook
	api POST /backup/restore-upload operator -F "file=@$WORK/mysql.sql"
	expect_json '.message | test("MySQL")' "the error says what the file is"
fi
# the same through a listed file: a corrupt backup in the directory
cp "$WORK/corrupt.db.gz" "$WORK/backups/backup_sqlite_20000101_000001.db.gz"
api POST /backup/restore/backup_sqlite_20000101_000001.db.gz operator
expect_error 422 invalid_backup "restore of a corrupt listed backup: 422"
check "database unchanged" test "$(sqlite_sum)" = "$db_before"

# oversize upload: 413 (MAX_UPLOAD_BYTES=1M), both announced and streamed
head -c 2000000 /dev/urandom >"$WORK/big.bin"
api POST /backup/restore-upload operator -F "file=@$WORK/big.bin"
expect_error 413 payload_too_large "oversize upload: 413"
STATUS=$(head -c 2000000 /dev/urandom | curl -s -o "$BODY" -w '%{http_code}' -H "Authorization: Bearer $(token operator)" -F "file=@-;filename=stream.bin" -H "Transfer-Encoding: chunked" "$BASE/backup/restore-upload")
expect_error 413 payload_too_large "oversize chunked upload: 413"

# upload mistakes
api POST /backup/restore-upload operator -F "other=@$WORK/good.db.gz"
expect_error 400 bad_request "no file field: 400"
api POST /backup/restore-upload operator -H "Content-Type: application/json" --data '{"file":"x"}'
expect_error 415 unsupported_media_type "not multipart: 415"

# methods, endpoints, query values
api GET /backup/create operator
expect_error 405 method_not_allowed "GET on create: 405"
api PUT /backup/list viewer
expect_error 405 method_not_allowed "PUT on list: 405"
api GET /backup/nothing viewer
expect_error 404 not_found "unknown endpoint: 404"
for q in "compress=maybe" "compress=" "compress=true&compress=false" "compress"; do
	api POST "/backup/create?$q" operator
	expect_error 400 invalid_parameter "create?$q: 400"
done
api POST "/backup/restore/$good?create_safety_backup=perhaps" operator
expect_error 400 invalid_parameter "create_safety_backup=perhaps: 400"
api POST "/backup/restore-upload?create_safety_backup=perhaps" operator -F "file=@$WORK/good.db.gz"
expect_error 400 invalid_parameter "upload with create_safety_backup=perhaps: 400"

check "database unchanged by all of the above" test "$(sqlite_sum)" = "$db_before"
check "nothing outside the backups directory changed" test "$(outside_sum)" = "$out_before"
check "outside.txt intact" grep -qx precious "$WORK/outside.txt"
check "no temporaries left" bash -c "! ls -A '$WORK/backups' | grep -q '^\\.tmp-'"
check "daemon still alive" kill -0 "$DAEMON_PID"
e2e_done
