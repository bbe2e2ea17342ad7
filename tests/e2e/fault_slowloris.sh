#!/usr/bin/env bash
# Promise: a slowloris client (a header byte a second, never finishing its
# request) neither blocks anyone else nor lives forever: others are answered
# fast while it trickles, and the daemon drops it once CONNECTION_TIMEOUT
# seconds have passed without a complete request head (libmicrohttpd's own
# timeout is an idle timeout, which a byte a second never reaches).
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/fault_lib.sh"
e2e_init
fdb_init "${1:-${FAULT_DB:-sqlite}}"
TIMEOUT=4
fault_start CONNECTION_TIMEOUT=$TIMEOUT MAX_CONNECTIONS=16
port=${BASE##*:}

# slow_client N: sends a header byte a second; writes in $WORK/slowN the
# seconds after which the server closed the connection (or "alive").
slow_client() {
	local out="$WORK/slow$1" i rc x
	exec 3<>"/dev/tcp/127.0.0.1/$port" || { echo "noconnect" >"$out"; return; }
	printf 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ' >&3
	for ((i = 1; i <= 30; i++)); do
		printf 'a' >&3 2>/dev/null || { echo "$i" >"$out"; exec 3>&-; return; }
		read -r -t 1 -N 1 x <&3
		rc=$?
		if [ $rc -le 128 ]; then
			echo "$i" >"$out"
			exec 3>&-
			return
		fi
	done
	echo alive >"$out"
	exec 3>&-
}

pids=()
for n in 1 2 3 4 5 6 7 8; do
	slow_client $n &
	pids+=($!)
done
sleep 1
slowest=0
for i in $(seq 1 20); do
	t=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $(token viewer)" "$BASE/backup/list")
	slowest=$(awk -v a="$slowest" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
	t=$(curl -s -o /dev/null -w '%{time_total}' "$BASE/health")
	slowest=$(awk -v a="$slowest" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
done
check "others are answered fast while 8 slow clients trickle (slowest ${slowest}s)" \
	awk -v s="$slowest" 'BEGIN { exit !(s < 0.5) }'
wait "${pids[@]}"
for n in 1 2 3 4 5 6 7 8; do
	r=$(cat "$WORK/slow$n")
	check "slow client $n dropped after about CONNECTION_TIMEOUT=${TIMEOUT}s (after $r s)" \
		bash -c "[ '$r' != alive ] && [ '$r' != noconnect ] && [ '$r' -ge $((TIMEOUT - 1)) ] && [ '$r' -le $((TIMEOUT + 3)) ]"
done
api GET /backup/list viewer
expect_status 200 "the daemon still answers afterwards"
check "the log says why the slow ones were dropped" grep -q 'request head' "$DAEMON_LOG"
e2e_done
