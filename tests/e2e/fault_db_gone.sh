#!/usr/bin/env bash
# Promise: the database going away in the middle of a dump or of a restore
# gives a clear JSON error, leaves no partial file, and the restore is rolled
# back as the driver promises (both drivers restore atomically: the database
# is exactly as it was). The daemon keeps serving.
#   sqlite: the file is truncated under a running dump; the file is moved
#           away while the restore's safety backup runs
#   postgresql: the server is stopped (pg_ctl stop -m fast) mid-dump and
#           mid-restore, then started again
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/fault_lib.sh"
e2e_init
fdb_init "${1:-${FAULT_DB:-sqlite}}"
fdb_grow 4
fault_start
svc() { bash "$DBB_SOURCE_DIR/tests/services/$FDB.sh" "$@" >/dev/null 2>&1; }

api POST /backup/create operator
expect_status 200 "a first backup"
good=$(jq -r .filename "$BODY")
sum_good=$(fdb_sum)
n_before=$(ls "$WORK/backups" | grep -vc '\.sha256$')

# database_away / database_back: the fault and its repair
case "$FDB" in
sqlite)
	cp "$SQLITE_DB" "$WORK/pristine.db"
	database_away_dump() { : >"$SQLITE_DB"; }
	database_back_dump() { cp "$WORK/pristine.db" "$SQLITE_DB"; rm -f "$SQLITE_DB-wal" "$SQLITE_DB-shm"; }
	database_away() { mv "$SQLITE_DB" "$WORK/away.db"; }
	database_back() { mv "$WORK/away.db" "$SQLITE_DB"; }
	;;
postgresql)
	trap 'svc resume; e2e_cleanup' EXIT
	database_away_dump() { svc pause; }
	database_back_dump() { svc resume; }
	database_away() { svc pause; }
	database_back() { svc resume; }
	;;
esac

# ---- mid-dump ----
curl -s -o "$WORK/dump.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $(token operator)" \
	"$BASE/backup/create?compress=true" >"$WORK/dump.status" &
cpid=$!
check "the dump has started" wait_for tmp_growing 60
database_away_dump
wait $cpid
st=$(cat "$WORK/dump.status")
BODY="$WORK/dump.json"
if [ "$st" = 200 ]; then
	# the dump had all it needed before the fault (SQLite copies the pages
	# first): then its file must be whole
	ok "the dump finished before the fault hit it"
else
	STATUS=$st
	expect_json ".success == false and (.error | length > 0) and (.message | length > 0)" "mid-dump failure is a JSON error with a message (got $st)"
	echo "  $(jq -r .message "$BODY")"
	check "no new backup listed after the failed dump" \
		test "$(ls "$WORK/backups" | grep -vc '\.sha256$')" -eq "$n_before"
fi
BODY="$WORK/body"
check_backups_sound " (after the database went away mid-dump)"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/health")
expect_status 200 "the daemon keeps serving"
database_back_dump
check "the database is back as it was" test "$(fdb_sum)" = "$sum_good"

# ---- mid-restore ----
# The fault must land while the restore runs: a restore that wins the race
# (it finished before the database went away) is tried again, 3 times at most.
for attempt in 1 2 3; do
	fdb_change
	sum_now=$(fdb_sum)
	curl -s -o "$WORK/restore.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $(token operator)" \
		"$BASE/backup/restore/$good" >"$WORK/restore.status" &
	cpid=$!
	if [ "$FDB" = sqlite ]; then
		# while the safety backup is written, before the live database is opened
		wait_for tmp_growing 60
	else
		# while psql loads the dump
		wait_for "test -e '$WORK/backups/.restore-in-progress'" 120
		wait_for "pgrep -P $DAEMON_PID >/dev/null" 30
	fi
	database_away
	wait $cpid
	STATUS=$(cat "$WORK/restore.status")
	[ "$STATUS" != 200 ] && break
	echo "  (attempt $attempt: the restore finished before the fault; again)"
	database_back
done
BODY="$WORK/restore.json"
expect_json ".success == false and (.message | length > 0)" "mid-restore failure is a JSON error with a message (got $STATUS)"
check "... and a 5xx status" test "${STATUS:0:1}" = 5
echo "  $(jq -r .message "$BODY")"
expect_json '.message | test("as it was|not touched|unavailable"; "i")' "the message says the database was not changed"
BODY="$WORK/body"
database_back
check "the restore was rolled back: the database is as it was" test "$(fdb_sum)" = "$sum_now"
check_backups_sound " (after the database went away mid-restore)"
expect_json 'has("interrupted_restore") | not' "no interrupted restore is reported (it was rolled back)"
check "no restore journal left" test ! -e "$WORK/backups/.restore-in-progress"

# the same restore works once the database is back
api POST "/backup/restore/$good?create_safety_backup=false" operator
expect_status 200 "the restore works once the database is back"
check "... and gives the backup's content" test "$(fdb_sum)" = "$sum_good"
e2e_done
