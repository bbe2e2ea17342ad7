#!/usr/bin/env bash
# Promise: the database going away in the middle of a dump or of a restore
# gives a clear JSON error, leaves no partial file, and the restore is rolled
# back as the driver promises. The daemon keeps serving.
#   - atomic drivers (SQLite, PostgreSQL: one transaction): the database is
#     exactly as it was, nothing is reported as interrupted;
#   - non-atomic drivers (MySQL, Neo4j: clean, then load; FDB_ATOMIC=0): the
#     daemon restores its safety backup at once; while the database is still
#     away that fails too, and then the answer says so and names the safety
#     backup, the restore stays reported as interrupted (list, health), and
#     restoring that safety backup once the database is back gives the
#     database exactly as it was (if the database was back in time for the
#     rollback, it is as it was at once, nothing reported).
# How the database goes away:
#   sqlite: the file is truncated under a running dump; the file is moved
#           away while the restore's safety backup runs
#   postgresql: the server is stopped (pg_ctl stop -m fast) mid-dump and
#           mid-restore (psql loading), then started again
#   mysql, neo4j: the server is killed (SIGKILL, as in a crash:
#           tests/services/<db>.sh pause) mid-dump and mid-restore (mysql:
#           the mariadb client loading; neo4j: nodes being loaded), then
#           started again on the same port and data (resume)
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
postgresql | mysql | neo4j)
	# never leave the shared server down for the next test
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
	if [ "$FDB" != sqlite ]; then
		# the same answer as for a server gone before the dump began
		expect_error 503 database_unavailable "a server gone mid-dump: 503 database_unavailable"
	fi
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
		# while the dump is loaded (psql, mariadb; Neo4j: nodes)
		wait_for "test -e '$WORK/backups/.restore-in-progress'" 120
		wait_for fdb_loading 60
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
safety=$(jq -r '.safety_backup_filename // empty' "$BODY")
rolled_back=1
if [ "$FDB_ATOMIC" = 1 ]; then
	expect_json '.message | test("as it was|not touched|unavailable"; "i")' "the message says the database was not changed"
else
	check "the safety backup was made and is named in the answer ($safety)" test -n "$safety"
	expect_json '.rollback_performed == true' "the daemon tried to roll back from the safety backup"
	if jq -e '.rollback_succeeded == true' "$BODY" >/dev/null; then
		echo "  (the database was back in time for the rollback)"
		expect_json '.message | test("rolled back.*as it was"; "i")' "the message says the database was rolled back"
	else
		rolled_back=0
		# the database was still away: the way back is the report
		expect_json ".message | test(\"partial\"; \"i\") and contains(\"$safety\")" \
			"the message says the database may be partial and names the safety backup"
		api GET /backup/list viewer
		expect_json ".interrupted_restore.safety_backup == \"$safety\"" "the list reports the interrupted restore and its safety backup"
		STATUS=$(curl -sS -o "$BODY" -w '%{http_code}' "$BASE/health")
		expect_json ".interrupted_restore.safety_backup == \"$safety\"" "health reports it too"
		check "the restore journal is kept" test -e "$WORK/backups/.restore-in-progress"
	fi
fi
BODY="$WORK/body"
database_back
if [ "$rolled_back" = 0 ]; then
	# the operator's move once the database is back
	api POST "/backup/restore/$safety?create_safety_backup=false" operator
	expect_status 200 "the safety backup restores once the database is back"
fi
check "the restore was rolled back: the database is as it was" test "$(fdb_sum)" = "$sum_now"
check_backups_sound " (after the database went away mid-restore)"
expect_json 'has("interrupted_restore") | not' "no interrupted restore is reported (it was rolled back)"
check "no restore journal left" test ! -e "$WORK/backups/.restore-in-progress"

# the same restore works once the database is back
api POST "/backup/restore/$good?create_safety_backup=false" operator
expect_status 200 "the restore works once the database is back"
check "... and gives the backup's content" test "$(fdb_sum)" = "$sum_good"
e2e_done
