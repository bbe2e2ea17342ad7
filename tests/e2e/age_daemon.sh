#!/usr/bin/env bash
# Issue 19, the daemon's side of the age encryption (docs/encryption.md), on
# one database named by E2E_AGE_DB (sqlite, postgresql, mysql), against
# Debian's `age`:
#   - dbbackupd keygen writes a 0600 identity file and prints its recipient;
#   - bad settings stop start-up with one line naming the variable, never
#     quoting a secret; --check-config shows recipients, never a secret key;
#   - with ENCRYPT_RECIPIENTS, backups are .gz.age/.zst.age/.<ext>.age, age
#     files from the first byte (no plaintext in the backups directory),
#     their SHA-256 is the ciphertext's, their sidecar names the recipients
#     (and sha256sum -c still reads it), the list says encrypted: true;
#     `age -d -i key` decrypts them and the native tool restores the result;
#   - restoring a .age backup without AGE_IDENTITY_FILE is a 409
#     restore_conflict naming AGE_IDENTITY_FILE, the database untouched;
#   - with it, the backup restores (safety backup encrypted too, and it
#     restores); a flipped byte, a truncated file, a file for another key:
#     422, the database untouched;
#   - restore-upload takes files made by `age -r`, `age -a -r` and `age -p`
#     (AGE_PASSPHRASE_FILE), and plain files as before (even with the
#     identity file gone, which makes an age upload a 409);
#   - MySQL (not transactional): a restore failing halfway is rolled back
#     from its encrypted safety backup without AGE_IDENTITY_FILE (the run's
#     own key);
#   - no secret key in the daemon's log.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
: "${E2E_AGE_DB:?E2E_AGE_DB must name the database (sqlite, postgresql, mysql)}"
e2e_init
command -v age >/dev/null || {
	echo "age_daemon: the age command is missing (setup/install-deps.sh --test installs it)" >&2
	exit 1
}

case "$E2E_AGE_DB" in
sqlite)
	ext=db
	e2e_sqlite_demo
	snapshot() { sqlite_sum >"$1"; }
	change() { sqlite3 "$SQLITE_DB" "DELETE FROM orders WHERE id % 2 = 0; CREATE TABLE IF NOT EXISTS added_later (x);"; }
	# native_snapshot PLAIN OUT: what the native tool makes of a plaintext dump
	native_snapshot() {
		cp "$1" "$WORK/native.db" && sqlite_sum "$WORK/native.db" >"$2"
	}
	plain_dump() { cp "$SQLITE_DB" "$1"; }
	start_args=(DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB")
	;;
postgresql)
	ext=sql
	e2e_use_service postgresql
	. "$DBB_SOURCE_DIR/tests/e2e/postgresql_lib.sh"
	pg_reset
	pg_load_fixture
	snapshot() { pg_snapshot "$1"; }
	change() { pgq -c "DELETE FROM app.orders WHERE id % 2 = 0; CREATE TABLE IF NOT EXISTS public.created_later (x int);" >/dev/null; }
	native_snapshot() {
		pg_reset && pgq -f "$1" >/dev/null && pg_snapshot "$2"
	}
	plain_dump() {
		PGPASSWORD="$DB_PASSWORD" pg_dump --no-owner --no-acl -h "$DB_HOST" -p "$DB_PORT" \
			-U "$DB_USER" -d "$DB_NAME" >"$1"
	}
	start_args=(DB_TYPE=postgresql)
	;;
mysql)
	ext=sql
	e2e_use_service mysql
	. "$DBB_SOURCE_DIR/tests/e2e/mysql_lib.sh"
	my_load_fixture
	snapshot() { my_dump "$1"; }
	change() { my_sql "DELETE FROM orders WHERE id % 2 = 0; CREATE TABLE IF NOT EXISTS created_later (x int);"; }
	native_snapshot() {
		my_reset && my_sql_file "$1" && my_dump "$2"
	}
	plain_dump() { my_dump "$1"; }
	start_args=(DB_TYPE=mysql)
	;;
*)
	echo "age_daemon: unknown E2E_AGE_DB=$E2E_AGE_DB" >&2
	exit 1
	;;
esac
re_ts="[0-9]{8}_[0-9]{6}(_[0-9]+)?"

# ---- keygen ----
"$DBBACKUPD" keygen "$WORK/key.txt" >"$WORK/keygen.out" 2>"$WORK/keygen.err"
check "keygen succeeds" test $? -eq 0
rcpt=$(cat "$WORK/keygen.out")
check "keygen prints one age1 recipient on stdout" grep -qE '^age1[02-9ac-hj-np-z]{58}$' "$WORK/keygen.out"
check "the identity file is 0600" test "$(stat -c %a "$WORK/key.txt")" = 600
check "age-keygen -y agrees with the printed recipient" test "$(age-keygen -y "$WORK/key.txt")" = "$rcpt"
check "keygen prints nothing secret" bash -c "! grep -q AGE-SECRET-KEY '$WORK/keygen.out' '$WORK/keygen.err'"
check "keygen never writes over a file" bash -c "! '$DBBACKUPD' keygen '$WORK/key.txt' >/dev/null 2>&1"
secret=$(grep -E '^AGE-SECRET-KEY-1' "$WORK/key.txt")
age-keygen -o "$WORK/other.txt" 2>/dev/null
other_rcpt=$(age-keygen -y "$WORK/other.txt")
printf 'correct horse battery staple\n' >"$WORK/pass.txt"
chmod 600 "$WORK/pass.txt"

# ---- settings ----
cc() { env BACKUP_DIR="$WORK/backups" AUTH_JWKS_FILE="$WORK/keys/jwks.json" "${start_args[@]}" "$@" \
	"$DBBACKUPD" --check-config >"$WORK/cc.out" 2>"$WORK/cc.err"; }
cc ENCRYPT_RECIPIENTS="age1notakey"
check "a malformed recipient stops start-up" test $? -ne 0
check "... with one line naming ENCRYPT_RECIPIENTS" bash -c \
	"test \$(wc -l <'$WORK/cc.err') -eq 1 && grep -q 'ENCRYPT_RECIPIENTS' '$WORK/cc.err'"
cc ENCRYPT_RECIPIENTS="$secret"
check "a secret key in ENCRYPT_RECIPIENTS stops start-up" test $? -ne 0
check "... naming the variable, without quoting the key" bash -c \
	"grep -q ENCRYPT_RECIPIENTS '$WORK/cc.err' && ! grep -qF '${secret:16:20}' '$WORK/cc.err' '$WORK/cc.out'"
cp "$WORK/key.txt" "$WORK/open.txt"
chmod 644 "$WORK/open.txt"
cc ENCRYPT_RECIPIENTS="$rcpt" AGE_IDENTITY_FILE="$WORK/open.txt"
check "an identity file others can read stops start-up" test $? -ne 0
check "... naming AGE_IDENTITY_FILE, without quoting the key" bash -c \
	"grep -q AGE_IDENTITY_FILE '$WORK/cc.err' && ! grep -qF '${secret:16:20}' '$WORK/cc.err'"
cc ENCRYPT_RECIPIENTS_FILE="$WORK/missing.txt"
check "a missing recipients file stops start-up naming it" bash -c \
	"grep -q ENCRYPT_RECIPIENTS_FILE '$WORK/cc.err'"
cc AGE_PASSPHRASE_FILE="$WORK/missing.txt"
check "a missing passphrase file stops start-up naming it" grep -q AGE_PASSPHRASE_FILE "$WORK/cc.err"
cc ENCRYPT_RECIPIENTS="$rcpt, $other_rcpt" AGE_IDENTITY_FILE="$WORK/key.txt"
check "--check-config accepts two recipients and the identity file" test $? -eq 0
check "--check-config shows the recipients" grep -qF "ENCRYPT_RECIPIENTS=$rcpt, $other_rcpt" "$WORK/cc.out"
check "--check-config shows the identity file's path" grep -qF "AGE_IDENTITY_FILE=$WORK/key.txt" "$WORK/cc.out"
check "--check-config shows no secret key" bash -c "! grep -q AGE-SECRET-KEY '$WORK/cc.out' '$WORK/cc.err'"

# ---- create, with recipients only ----
snapshot "$WORK/original" || exit 1
e2e_start "${start_args[@]}" ENCRYPT_RECIPIENTS="$rcpt"
api POST "/backup/create?compress=true" operator
expect_status 200 "create compress=true with ENCRYPT_RECIPIENTS"
expect_json ".filename | test(\"^backup_${E2E_AGE_DB}_${re_ts}\\\\.${ext}\\\\.gz\\\\.age\$\")" \
	"file name backup_${E2E_AGE_DB}_<ts>.${ext}.gz.age"
gz=$(jq -r .filename "$BODY")
sha=$(jq -r .sha256 "$BODY")
check "the file is an age file from its first byte" test "$(head -c 22 "$WORK/backups/$gz")" = "age-encryption.org/v1"
check "the sha256 answered is the ciphertext's" test "$(sha256sum "$WORK/backups/$gz" | cut -d' ' -f1)" = "$sha"
check "the sidecar names the recipient" grep -qxF "# age-recipient: $rcpt" "$WORK/backups/$gz.sha256"
check "sha256sum -c reads the sidecar" bash -c "cd '$WORK/backups' && sha256sum --quiet -c '$gz.sha256'"
age -d -i "$WORK/key.txt" -o "$WORK/gz.plain.gz" "$WORK/backups/$gz"
check "age -d -i key decrypts it" test $? -eq 0
gunzip -c "$WORK/gz.plain.gz" >"$WORK/gz.plain"
native_snapshot "$WORK/gz.plain" "$WORK/native_gz"
check "the native tool restores the decrypted .gz backup to the original" cmp -s "$WORK/original" "$WORK/native_gz"
restore_original() { # native_snapshot replaced the database: put the original back
	[ "$E2E_AGE_DB" = sqlite ] && return 0
	snapshot "$WORK/now" && cmp -s "$WORK/original" "$WORK/now" && return 0
	case "$E2E_AGE_DB" in
	postgresql) pg_reset && pg_load_fixture ;;
	mysql) my_load_fixture ;;
	esac
}
restore_original

api POST "/backup/create?compress=zstd" operator
expect_status 200 "create compress=zstd"
expect_json ".filename | test(\"\\\\.${ext}\\\\.zst\\\\.age\$\")" "compress=zstd ends in .zst.age"
zst=$(jq -r .filename "$BODY")
check "age -d | zstd -d gives the dump" bash -c \
	"age -d -i '$WORK/key.txt' '$WORK/backups/$zst' | zstd -q -d -c >'$WORK/zst.plain'"
api POST "/backup/create?compress=false" operator
expect_status 200 "create compress=false"
expect_json "(.filename | test(\"\\\\.${ext}\\\\.age\$\")) and (.filename | test(\"\\\\.(gz|zst)\\\\.\") | not)" \
	"compress=false ends in .${ext}.age"
plain=$(jq -r .filename "$BODY")
age -d -i "$WORK/key.txt" -o "$WORK/plain.plain" "$WORK/backups/$plain"
native_snapshot "$WORK/plain.plain" "$WORK/native_plain"
check "the native tool restores the decrypted uncompressed backup to the original" \
	cmp -s "$WORK/original" "$WORK/native_plain"
restore_original
check "only age files and sidecars in the backups directory (no plaintext)" bash -c \
	"cd '$WORK/backups' && for f in backup_*; do case \$f in *.age) test \"\$(head -c 22 \$f)\" = age-encryption.org/v1 || exit 1;; *.age.sha256) ;; *) exit 1;; esac; done"

api GET /backup/list viewer
expect_status 200 "list"
expect_json "[.backups[] | select(.filename == \"$gz\") | [.encrypted, .compressed, .compression]] == [[true, true, \"gzip\"]]" \
	"list: the .gz.age one is encrypted, gzip"
expect_json "[.backups[] | select(.filename == \"$zst\") | [.encrypted, .compression]] == [[true, \"zstd\"]]" \
	"list: the .zst.age one is encrypted, zstd"
expect_json "[.backups[] | select(.filename == \"$plain\") | [.encrypted, .compressed]] == [[true, false]]" \
	"list: the .${ext}.age one is encrypted, uncompressed"
api GET "/backup/download/$gz" viewer
expect_status 200 "download of a .age backup"
check "the download is the file" cmp -s "$BODY" "$WORK/backups/$gz"

# restore without the identity: 409 naming AGE_IDENTITY_FILE, nothing touched
change || exit 1
snapshot "$WORK/changed"
api POST "/backup/restore/$gz?create_safety_backup=true" operator
expect_error 409 restore_conflict "restore of a .age backup without AGE_IDENTITY_FILE"
expect_json '.message | test("AGE_IDENTITY_FILE")' "the message names AGE_IDENTITY_FILE"
cp "$WORK/backups/$gz" "$WORK/upload.age"
api POST /backup/restore-upload operator -F "file=@$WORK/upload.age" -F create_safety_backup=false
expect_error 409 restore_conflict "an age upload without AGE_IDENTITY_FILE"
snapshot "$WORK/after_refused"
check "the database was not touched" cmp -s "$WORK/changed" "$WORK/after_refused"
if [ "$E2E_AGE_DB" = mysql ]; then
	# MySQL restores are not transactional: a restore failing halfway is
	# rolled back from the safety backup, which is encrypted; this run's own
	# key decrypts it, with no AGE_IDENTITY_FILE (docs/encryption.md)
	my_dump "$WORK/good.sql"
	awk '/^-- Dumping data for table `customers`/ { print "INSERT INTO no_such_table VALUES (1);" } { print }' \
		"$WORK/good.sql" | gzip -c >"$WORK/broken.sql.gz"
	snapshot "$WORK/before_broken"
	api POST "/backup/restore-upload?create_safety_backup=true" operator -F "file=@$WORK/broken.sql.gz"
	expect_error 500 restore_failed "a plain upload failing halfway"
	expect_json '.rollback_performed == true and .rollback_succeeded == true and (.safety_backup_filename | test("\\.age$"))' \
		"rolled back from the encrypted safety backup without AGE_IDENTITY_FILE"
	rb=$(jq -r .safety_backup_filename "$BODY")
	snapshot "$WORK/after_broken"
	check "the database is as before the request" cmp -s "$WORK/before_broken" "$WORK/after_broken"
	check "the safety backup's sidecar names the run's own key" grep -q "this daemon run's own key" "$WORK/backups/$rb.sha256"
	check "age -d -i key decrypts the safety backup too" bash -c "age -d -i '$WORK/key.txt' -o /dev/null '$WORK/backups/$rb'"
fi
e2e_stop
check "no secret key in the daemon log" bash -c "! grep -q AGE-SECRET-KEY '$DAEMON_LOG'"

# ---- restore, with the identity ----
mv "$DAEMON_LOG" "$WORK/daemon1.log"
e2e_start "${start_args[@]}" ENCRYPT_RECIPIENTS="$rcpt" AGE_IDENTITY_FILE="$WORK/key.txt" \
	AGE_PASSPHRASE_FILE="$WORK/pass.txt"
api POST "/backup/restore/$gz?create_safety_backup=true" operator
expect_status 200 "restore from the .gz.age backup"
expect_json ".safety_backup_created == true and (.safety_backup_filename | test(\"^safety_backup_${E2E_AGE_DB}_${re_ts}\\\\.${ext}\\\\.(gz|zst)\\\\.age\$\"))" \
	"the safety backup is encrypted too"
safety=$(jq -r .safety_backup_filename "$BODY")
snapshot "$WORK/restored"
check "the database equals the original" cmp -s "$WORK/original" "$WORK/restored"
check "age -d -i key decrypts the safety backup" bash -c \
	"age -d -i '$WORK/key.txt' -o /dev/null '$WORK/backups/$safety'"
api POST "/backup/restore/$safety?create_safety_backup=false" operator
expect_status 200 "restore the encrypted safety backup"
snapshot "$WORK/back"
check "the safety backup held the changed state" cmp -s "$WORK/changed" "$WORK/back"
api POST "/backup/restore/$zst?create_safety_backup=false" operator
expect_status 200 "restore from the .zst.age backup"
snapshot "$WORK/restored_zst"
check "... the database equals the original" cmp -s "$WORK/original" "$WORK/restored_zst"

# damaged files: 422, nothing touched
change || exit 1
snapshot "$WORK/before_bad"
size=$(stat -c %s "$WORK/backups/$gz")
flipped="backup_${E2E_AGE_DB}_20200101_000000.${ext}.gz.age"
cp "$WORK/backups/$gz" "$WORK/backups/$flipped"
flip_byte "$WORK/backups/$flipped" $((size - 40))
api POST "/backup/restore/$flipped?create_safety_backup=true" operator
expect_error 422 invalid_backup "a flipped byte in a .age backup"
truncated="backup_${E2E_AGE_DB}_20200101_000001.${ext}.gz.age"
head -c $((size - 20)) "$WORK/backups/$gz" >"$WORK/backups/$truncated"
api POST "/backup/restore/$truncated?create_safety_backup=false" operator
expect_error 422 invalid_backup "a truncated .age backup"
foreign="backup_${E2E_AGE_DB}_20200101_000002.${ext}.gz.age"
age -d -i "$WORK/key.txt" "$WORK/backups/$gz" | age -r "$other_rcpt" -o "$WORK/backups/$foreign"
api POST "/backup/restore/$foreign?create_safety_backup=false" operator
expect_error 422 invalid_backup "a .age backup for another key"
snapshot "$WORK/after_bad"
check "the database was not touched by any of them" cmp -s "$WORK/before_bad" "$WORK/after_bad"

# restore-upload: files made by the age command, and plain ones
api POST "/backup/restore/$gz?create_safety_backup=false" operator
expect_status 200 "restore the original before the uploads"
plain_dump "$WORK/dump.plain"
snapshot "$WORK/dumped"
gzip -c "$WORK/dump.plain" >"$WORK/dump.gz"
age -r "$rcpt" -o "$WORK/up.age" "$WORK/dump.gz"
age -a -r "$rcpt" -o "$WORK/up.asc" "$WORK/dump.plain"
python3 "$DBB_SOURCE_DIR/tests/age/pty_passphrase.py" "$WORK/pass.txt" age -p -o "$WORK/up.pass.age" "$WORK/dump.gz" >/dev/null
check "age -p made a passphrase file" bash -c "head -c 60 '$WORK/up.pass.age' | grep -q -- '-> scrypt '"
for f in up.age up.asc up.pass.age dump.gz; do
	change || exit 1
	api POST /backup/restore-upload operator -F "file=@$WORK/$f;filename=backup.bin" -F create_safety_backup=true
	expect_status 200 "restore-upload of $f"
	snapshot "$WORK/uploaded"
	check "... restored the dump" cmp -s "$WORK/dumped" "$WORK/uploaded"
done
head -c 200 "$WORK/up.age" >"$WORK/short.age"
change || exit 1
snapshot "$WORK/before_short"
api POST /backup/restore-upload operator -F "file=@$WORK/short.age" -F create_safety_backup=false
expect_error 422 invalid_backup "a truncated age upload"
snapshot "$WORK/after_short"
check "... the database was not touched" cmp -s "$WORK/before_short" "$WORK/after_short"

# a .age backup is deleted like any other, with its sidecar
api DELETE "/backup/delete/$foreign" admin
expect_status 200 "delete of a .age backup"
check "... the file and its sidecar are gone" bash -c \
	"! ls '$WORK/backups/$foreign' '$WORK/backups/$foreign.sha256' 2>/dev/null | grep -q ."

# the identity file gone after start-up: plain uploads as before, age ones 409
mv "$WORK/key.txt" "$WORK/key.away"
change || exit 1
api POST /backup/restore-upload operator -F "file=@$WORK/dump.gz" -F create_safety_backup=false
expect_status 200 "a plain upload with the identity file gone"
api POST /backup/restore-upload operator -F "file=@$WORK/up.age" -F create_safety_backup=false
expect_error 409 restore_conflict "an age upload with the identity file gone"
expect_json '.message | test("AGE_IDENTITY_FILE")' "... naming AGE_IDENTITY_FILE"
mv "$WORK/key.away" "$WORK/key.txt"

e2e_stop
check "no secret key in the daemon logs" bash -c \
	"! grep -q -e AGE-SECRET-KEY -e 'correct horse' '$DAEMON_LOG' '$WORK/daemon1.log'"
e2e_done
