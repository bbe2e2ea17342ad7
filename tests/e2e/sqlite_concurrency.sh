#!/usr/bin/env bash
# One mutating operation at a time (409 for the others, saying what runs),
# while list, download, stats and health keep answering fast: the threading
# model at work (docs/design.md).
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo 50
e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB"

api POST /backup/create operator
good=$(jq -r .filename "$BODY")
db_before=$(sqlite_sum)

# a restore that holds the lock for a while: another process holds the live
# database's write lock until this test lets go (fd 4), so the restore waits
# for it (SQLite's busy timeout, 10 s) with the operation lock held. (An
# upload takes the lock only once its body has arrived and been validated:
# a slow upload itself holds nothing; tests/e2e/security_upload_lock.sh.)
mkfifo "$WORK/hold"
(
	echo "BEGIN IMMEDIATE;"
	cat "$WORK/hold"
	echo "COMMIT;"
) | sqlite3 "$SQLITE_DB" &
holder=$!
exec 4>"$WORK/hold"
sleep 0.5
viewer_token=$(token viewer)
# (4>&-: the fifo's writer stays with this shell only)
curl -s -o "$WORK/slow.json" -H "Authorization: Bearer $(token operator)" \
	-F "file=@$WORK/backups/$good" "$BASE/backup/restore-upload" 4>&- &
slow=$!
for i in $(seq 1 100); do
	grep -q 'restore from the uploaded file started' "$DAEMON_LOG" && break
	sleep 0.1
done

api POST "/backup/restore/$good" operator
expect_error 409 operation_in_progress "a restore while another runs: 409"
expect_json '.message | test("uploaded file")' "the 409 says what is running"
api POST /backup/create operator
expect_error 409 operation_in_progress "a create while a restore runs: 409"
api DELETE "/backup/delete/$good" admin
expect_error 409 operation_in_progress "a delete while a restore runs: 409"

# reads are never blocked and answer fast
slowest=0
for i in $(seq 1 10); do
	t=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $viewer_token" "$BASE/backup/list")
	slowest=$(awk -v a="$slowest" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
done
check "list answers in under 0.5 s while a restore runs (slowest ${slowest}s)" awk -v s="$slowest" 'BEGIN { exit !(s < 0.5) }'
api GET "/backup/download/$good" viewer
expect_status 200 "download while a restore runs"
api GET /backup/stats viewer
expect_status 200 "stats while a restore runs"
check "the slow restore was still running throughout" kill -0 $slow
exec 4>&- # the database's write lock goes: the restore proceeds
wait $holder
wait $slow
check "the restore ends once the database is free (200)" bash -c "jq -e '.success == true' '$WORK/slow.json' >/dev/null"
check "database unchanged (the backup was of this content)" test "$(sqlite_sum)" = "$db_before"

# many creates at once: the losers get 409, every written file is sound
pids=()
for i in $(seq 1 8); do
	curl -s -o "$WORK/c$i.json" -X POST -H "Authorization: Bearer $(token operator)" "$BASE/backup/create" &
	pids+=($!)
done
wait "${pids[@]}"
wins=0
for i in $(seq 1 8); do
	if jq -e '.success == true' "$WORK/c$i.json" >/dev/null; then
		wins=$((wins + 1))
	else
		check "a concurrent create lost with 409" jq -e '.error == "operation_in_progress"' "$WORK/c$i.json"
	fi
done
check "at least one concurrent create won" test $wins -ge 1
check "every backup verifies against its sidecar" bash -c "cd '$WORK/backups' && sha256sum -c --quiet *.sha256"
check "every gzip backup is whole" bash -c "cd '$WORK/backups' && gzip -t *.gz"

# a restore of a large database: reads stay fast during the real restore
sqlite3 "$SQLITE_DB" "CREATE TABLE bulk(b BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 40000) INSERT INTO bulk SELECT randomblob(2000) FROM n;"
api POST "/backup/create?compress=false" operator
big=$(jq -r .filename "$BODY")
curl -s -o "$WORK/big.json" -X POST -H "Authorization: Bearer $(token operator)" "$BASE/backup/restore/$big" &
rpid=$!
sleep 0.3
during=0
slowest=0
while kill -0 $rpid 2>/dev/null; do
	t=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $(token viewer)" "$BASE/backup/list")
	if kill -0 $rpid 2>/dev/null; then
		during=$((during + 1))
		slowest=$(awk -v a="$slowest" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
	fi
done
wait $rpid
check "the big restore succeeded" jq -e '.success == true' "$WORK/big.json"
check "list was called during the big restore ($during times)" test $during -ge 1
check "list stayed fast during it (slowest ${slowest}s)" awk -v s="$slowest" 'BEGIN { exit !(s < 0.5) }'
e2e_done
