#!/usr/bin/env bash
# Promise: when the backups directory fills up during a backup (or an
# upload), the answer is 507 insufficient_storage, no partial file is left,
# the space is given back, and the daemon keeps serving: once there is room
# again, backups work. The directory is a small tmpfs mounted by the test
# (root only: otherwise the test is skipped, exit 77 — except under CI=true,
# where CI runs as root and a skip would hide a broken test: there it fails).
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/fault_lib.sh"
skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL - $1 (CI=true: not skipped)" >&2
		exit 1
	fi
	echo "skipped: $1"
	exit 77
}
if [ "$(id -u)" -ne 0 ]; then
	skip "mounting a tmpfs needs root"
fi
e2e_init
fdb_init "${1:-${FAULT_DB:-sqlite}}"
mount -t tmpfs -o size=16m,mode=0750 dbbfull "$WORK/backups" || skip "cannot mount a tmpfs"
trap 'e2e_stop; umount -l "$WORK/backups" 2>/dev/null; e2e_cleanup' EXIT
fdb_grow 2 # ~40 MB of random bytes: more than the 16 MiB file system
fault_start
free_before=$(df -k --output=avail "$WORK/backups" | tail -n 1)

for args in "compress=false" "compress=true"; do
	api POST "/backup/create?$args" operator
	expect_error 507 insufficient_storage "a backup that does not fit ($args): 507"
	check_backups_sound " (after the full disk, $args)"
	check "no backup file at all" test -z "$(ls "$WORK/backups")"
	check "the space is given back" test "$(df -k --output=avail "$WORK/backups" | tail -n 1)" -ge $((free_before - 64))
	STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/health")
	expect_status 200 "health answers"
done

# an upload that does not fit
head -c $((24 * 1024 * 1024)) /dev/urandom >"$WORK/big.bin"
sum_before=$(fdb_sum)
api POST /backup/restore-upload operator -F "file=@$WORK/big.bin"
expect_error 507 insufficient_storage "an upload that does not fit: 507"
check "the database is unchanged" test "$(fdb_sum)" = "$sum_before"
check_backups_sound " (after the full disk, upload)"

# room again (a smaller database): backups work, the daemon did not need a restart
case "$FDB" in
sqlite) sqlite3 "$SQLITE_DB" "DROP TABLE bulk; VACUUM;" ;;
postgresql) pgq -c "DROP TABLE public.bulk;" >/dev/null ;;
esac
api POST /backup/create operator
expect_status 200 "a backup that fits works"
check_backups_sound " (at the end)"
e2e_done
