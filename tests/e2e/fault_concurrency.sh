#!/usr/bin/env bash
# Promise: many simultaneous creates and restores (listed and uploaded)
# against one database are serialized: each gets 200 or 409
# operation_in_progress (never a 500), at least one wins each round, no file
# is corrupt, and the database is always one whole state.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/fault_lib.sh"
e2e_init
fdb_init "${1:-${FAULT_DB:-sqlite}}"
fault_start

api POST /backup/create operator
good=$(jq -r .filename "$BODY")
sum_good=$(fdb_sum)
fdb_change
sum_changed=$(fdb_sum)
tok=$(token operator)

for round in 1 2 3; do
	pids=()
	for i in $(seq 1 16); do
		case $((i % 4)) in
		0) args=(-X POST "$BASE/backup/create?compress=true") ;;
		1) args=(-X POST "$BASE/backup/create?compress=false") ;;
		2) args=(-X POST "$BASE/backup/restore/$good") ;;
		3) args=(-F "file=@$WORK/backups/$good" "$BASE/backup/restore-upload?create_safety_backup=false") ;;
		esac
		curl -s -o "$WORK/r$i.json" -w '%{http_code}' -H "Authorization: Bearer $tok" "${args[@]}" >"$WORK/r$i.status" &
		pids+=($!)
	done
	wait "${pids[@]}"
	wins=0 losses=0 other=0
	for i in $(seq 1 16); do
		st=$(cat "$WORK/r$i.status")
		if [ "$st" = 200 ] && jq -e '.success == true' "$WORK/r$i.json" >/dev/null; then
			wins=$((wins + 1))
		elif [ "$st" = 409 ] && jq -e '.error == "operation_in_progress"' "$WORK/r$i.json" >/dev/null; then
			losses=$((losses + 1))
		else
			other=$((other + 1))
			echo "  request $i: $st $(head -c 300 "$WORK/r$i.json")" >&2
		fi
	done
	check "round $round: $wins won, $losses got 409, none else" test $other -eq 0 -a $wins -ge 1
	s=$(fdb_sum)
	check "round $round: the database is one whole state" test "$s" = "$sum_good" -o "$s" = "$sum_changed"
	check_backups_sound " (round $round)"
done
e2e_done
