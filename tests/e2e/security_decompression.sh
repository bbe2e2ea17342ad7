#!/usr/bin/env bash
# Issue 14, item 4: a gzip bomb cannot fill the disk or be restored. The
# decompressed size of an uploaded backup is limited (MAX_RESTORE_BYTES,
# default 10 x MAX_UPLOAD_BYTES, and never more than the backups
# directory's free space less a reserve), in the restore input chain that
# every driver reads (here SQLite, whose validation stages the decompressed
# file in the backups directory): 413, nothing left behind, the database
# untouched. A listed backup (written by the daemon) has no such limit.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo
# a database of 15 MB that compresses to a few KB: a "bomb" for a 1M upload
sqlite3 "$SQLITE_DB" "CREATE TABLE padding(x); INSERT INTO padding VALUES (zeroblob(15000000));"
e2e_start SQLITE_PATH="$SQLITE_DB" MAX_UPLOAD_BYTES=1M
api POST /backup/create?compress=true operator
expect_status 200 "a listed backup of the 15 MB database"
listed=$(jq -r .filename "$BODY")
check "  ... compressed to less than 1M ($(stat -c %s "$WORK/backups/$listed") bytes)" \
	test "$(stat -c %s "$WORK/backups/$listed")" -lt 1048576
cp "$WORK/backups/$listed" "$WORK/bomb.db.gz"
sqlite3 "$SQLITE_DB" "INSERT INTO padding VALUES (1)"
before=$(sqlite_sum)

no_leftovers() {
	! ls -A "$WORK/backups" | grep -Eq '^\.tmp-|^\.restore'
}

api POST "/backup/restore-upload?create_safety_backup=false" operator -F "file=@$WORK/bomb.db.gz"
expect_error 413 payload_too_large "an upload that decompresses to 15 MB, over MAX_RESTORE_BYTES (10 x 1M): 413"
check "  ... the message names MAX_RESTORE_BYTES" jq -e '.message | contains("MAX_RESTORE_BYTES")' "$BODY"
check "  ... the database was not touched" test "$(sqlite_sum)" = "$before"
check "  ... nothing left behind" no_leftovers
check "  ... no safety backup made" test "$(ls "$WORK/backups" | grep -c '^safety_')" = 0

api POST "/backup/restore/$listed?create_safety_backup=false" operator
expect_status 200 "the same file as a listed backup (the daemon wrote it) is restored: no limit"
check "  ... the database is the backup's" bash -c "[ \"\$(sqlite3 '$SQLITE_DB' 'SELECT count(*) FROM padding')\" = 1 ]"

e2e_stop
e2e_start SQLITE_PATH="$SQLITE_DB" MAX_UPLOAD_BYTES=1M MAX_RESTORE_BYTES=32M
api POST "/backup/restore-upload?create_safety_backup=false" operator -F "file=@$WORK/bomb.db.gz"
expect_status 200 "with MAX_RESTORE_BYTES=32M the same upload is restored"
check "--check-config shows MAX_RESTORE_BYTES (default: 10 x MAX_UPLOAD_BYTES)" \
	bash -c "env -i PATH='$PATH' SQLITE_PATH='$SQLITE_DB' AUTH_JWKS_FILE='$WORK/keys/jwks.json' MAX_UPLOAD_BYTES=1M \
		'$DBBACKUPD' --check-config | grep -qx 'MAX_RESTORE_BYTES=10485760'"

# The issue's case: a small file system for the backups (root only: a
# tmpfs), the limit set far above it. The bomb stops at the free space less
# the reserve, instead of filling the file system to the 507.
if [ "$(id -u)" = 0 ] && command -v mount >/dev/null; then
	e2e_stop
	mkdir -p "$WORK/small"
	if mount -t tmpfs -o size=12m tmpfs "$WORK/small" 2>/dev/null; then
		trap 'umount "$WORK/small" 2>/dev/null; e2e_cleanup' EXIT
		e2e_start SQLITE_PATH="$SQLITE_DB" BACKUP_DIR="$WORK/small" MAX_UPLOAD_BYTES=1M MAX_RESTORE_BYTES=1T
		free_before=$(df -B1 --output=avail "$WORK/small" | tail -1)
		api POST "/backup/restore-upload?create_safety_backup=false" operator -F "file=@$WORK/bomb.db.gz"
		expect_error 413 payload_too_large "on a 12 MiB file system: 413, not 507"
		check "  ... the message names the free space" jq -e '.message | contains("free space")' "$BODY"
		check "  ... nothing left behind" bash -c "! ls -A '$WORK/small' | grep -Eq '^\.tmp-|^\.restore'"
		check "  ... the space given back" test "$(df -B1 --output=avail "$WORK/small" | tail -1)" -ge "$free_before"
		check "  ... the database was not touched" bash -c "[ \"\$(sqlite3 '$SQLITE_DB' 'SELECT count(*) FROM padding')\" = 1 ]"
		e2e_stop
		umount "$WORK/small"
		trap e2e_cleanup EXIT
	else
		part_skipped "the free-space part: cannot mount a tmpfs"
	fi
else
	part_skipped "the free-space part needs root (a tmpfs)"
fi
e2e_done
