#!/usr/bin/env bash
# Promise: a child dump/restore tool that hangs is killed after CHILD_TIMEOUT,
# the request gets an error that says so, nothing is left behind (no
# temporary, no process, no journal), the database is unchanged, and the
# daemon keeps working. The hung tools are fakes on PATH that answer
# --version like the real ones and then sleep.
# Usage: fault_child_hang.sh DRIVER (postgresql, mysql: FDB_TOOLS in fault_lib.sh)
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/fault_lib.sh"
e2e_init
fdb_init "${1:-${FAULT_DB:-postgresql}}"
tools=("${FDB_TOOLS[@]}")
if [ ${#tools[@]} -eq 0 ]; then
	# nothing to hang: registering this test for such a driver is a mistake,
	# not a pass
	echo "FAIL - fault_child_hang: $FDB runs no child tool (see faults.cmake)" >&2
	exit 1
fi
mark=$((3600 + RANDOM % 1000))
mkdir -p "$WORK/fakebin"
for t in "${tools[@]}"; do
	real=$(command -v "$t")
	cat >"$WORK/fakebin/$t" <<SH
#!/bin/sh
case "\$1" in --version|-V) exec "$real" "\$@" ;; esac
exec sleep $mark
SH
	chmod +x "$WORK/fakebin/$t"
done
fault_start
api POST /backup/create operator
expect_status 200 "a backup with the real tools"
good=$(jq -r .filename "$BODY")
sum=$(fdb_sum)
e2e_stop
fault_start PATH="$WORK/fakebin:$PATH" CHILD_TIMEOUT=2

t0=$(date +%s)
api POST /backup/create operator
t1=$(date +%s)
check "a hung ${tools[0]} is killed: error $STATUS after $((t1 - t0)) s" test "${STATUS:0:1}" = 5 -a $((t1 - t0)) -le 15
expect_json '.message | test("timed out")' "the error says it timed out"
check_backups_sound " (after a hung dump)"
check "no hung tool is left running" bash -c "! pgrep -f '[s]leep $mark' >/dev/null"

api POST "/backup/restore/$good?create_safety_backup=false" operator
check "a hung ${tools[1]} is killed: error $STATUS" test "${STATUS:0:1}" = 5
expect_json '.message | test("timed out")' "the error says it timed out"
check "no hung tool is left running" bash -c "! pgrep -f '[s]leep $mark' >/dev/null"
if [ "$FDB_ATOMIC" = 1 ]; then
	check "the database is unchanged" test "$(fdb_sum)" = "$sum"
	check "no restore journal is left" test ! -e "$WORK/backups/.restore-in-progress"
	check_backups_sound " (after a hung restore)"
	api GET /backup/list viewer
	expect_json 'has("interrupted_restore") | not' "nothing reported as interrupted"
else
	# cleaned, then the load hung: the database is partial and says so
	expect_json '.message | test("PARTIAL")' "the error says the database is partial"
	check "the restore journal is kept" test -e "$WORK/backups/.restore-in-progress"
	check_backups_sound " (after a hung restore)"
	expect_json '.interrupted_restore.source == "'"$good"'"' "the list reports the interrupted restore"
fi
e2e_stop
fault_start
api POST /backup/create operator
expect_status 200 "the real tools work again"
if [ "$FDB_ATOMIC" = 0 ]; then
	api POST "/backup/restore/$good?create_safety_backup=false" operator
	expect_status 200 "the operator restores the backup with the real tools"
	check "the database is as it was" test "$(fdb_sum)" = "$sum"
	api GET /backup/list viewer
	expect_json 'has("interrupted_restore") | not' "the report is gone"
fi
e2e_done
