#!/usr/bin/env bash
# Graceful shutdown. SIGTERM during a backup: no new connections, the
# backup completes (its client gets 200, the file is whole and matches its
# SHA-256), and the process exits 0. A second signal, or SHUTDOWN_TIMEOUT,
# ends it at once with status 1, and nothing half-written is visible: the
# temporary is hidden and removed at the next start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operability_lib.sh"
e2e_init

SQLITE_DB="$WORK/big.db"
op_big_sqlite "$SQLITE_DB" "${OP_BIG_MIB:-120}"
B="$WORK/backups"

# visible: the names a client or a person sees in the backups directory
visible() { find "$B" -maxdepth 1 -type f ! -name '.*' -printf '%f\n' | sort; }
hidden() { find "$B" -maxdepth 1 -type f -name '.tmp-*' -printf '%f\n'; }

# start_create: a create in the background; its answer in $WORK/create.out
start_create() {
	: >"$WORK/create.out"
	curl -sS -o "$WORK/create.out" -w '%{http_code}' -X POST \
		-H "Authorization: Bearer $(token operator)" "$BASE/backup/create" \
		>"$WORK/create.status" 2>"$WORK/create.err" &
	CREATE_PID=$!
}

# wait_exit PID SECONDS: sets rc to the exit status, or "timeout"
wait_exit() {
	local i
	rc=timeout
	for i in $(seq 1 $(($2 * 10))); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1"
			rc=$?
			return
		fi
		sleep 0.1
	done
}

# ---- 1. one SIGTERM: the backup completes, exit 0 ----
e2e_start SQLITE_PATH="$SQLITE_DB"
start_create
check "the backup is being written (hidden temporary)" op_wait_tmp "$B"
check "nothing visible while it is written" test -z "$(visible)"
pid=$DAEMON_PID
kill -TERM "$pid"
sleep 0.5
check "new connections are refused while it finishes" \
	bash -c "! curl -sS -m 3 -o /dev/null '$BASE/health' 2>/dev/null"
check "the process is still running the backup" kill -0 "$pid"
wait "$CREATE_PID"
check "the running backup's client got 200" test "$(cat "$WORK/create.status")" = 200
wait_exit "$pid" 60
DAEMON_PID=""
check "the daemon exited 0 after the backup (got $rc)" test "$rc" = 0
check "the daemon logged the graceful stop" grep -q 'stopping; no new connections; 1 request(s) running' "$DAEMON_LOG"
name=$(jq -r .filename "$WORK/create.out")
check "the backup is listed in the directory" test "$(visible)" = "$(printf '%s\n%s' "$name" "$name.sha256")"
check "the backup is whole (gzip -t)" gzip -t "$B/$name"
check "the backup matches its SHA-256" bash -c "cd '$B' && sha256sum -c --quiet '$name.sha256'"
check "no temporary left" test -z "$(hidden)"
check "no sanitizer report" bash -c "! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' '$DAEMON_LOG'"
first=$(visible)

# ---- 2. a second signal: exit at once, nothing visible ----
e2e_start SQLITE_PATH="$SQLITE_DB"
start_create
check "second backup is being written" op_wait_tmp "$B"
pid=$DAEMON_PID
kill -TERM "$pid"
sleep 0.3
kill -INT "$pid"
wait_exit "$pid" 5
DAEMON_PID=""
check "a second signal ends the process at once, status 1 (got $rc)" test "$rc" = 1
wait "$CREATE_PID"
check "the cut backup's client got no success" test "$(cat "$WORK/create.status")" != 200
check "no half-written backup is visible" test "$(visible)" = "$first"
check "the cut backup is a hidden temporary" test -n "$(hidden)"
e2e_start SQLITE_PATH="$SQLITE_DB"
check "the next start removes the temporary" test -z "$(hidden)"
api GET /backup/list viewer
expect_json '.total_count == 1' "only the complete backup is listed"
e2e_stop

# ---- 3. SHUTDOWN_TIMEOUT passes: exit at once, nothing visible ----
e2e_start SQLITE_PATH="$SQLITE_DB" SHUTDOWN_TIMEOUT=1
start_create
check "third backup is being written" op_wait_tmp "$B"
pid=$DAEMON_PID
kill -TERM "$pid"
wait_exit "$pid" 10
DAEMON_PID=""
check "SHUTDOWN_TIMEOUT=1 ends the process with status 1 (got $rc)" test "$rc" = 1
check "the daemon said why" grep -q 'SHUTDOWN_TIMEOUT (1s) passed' "$DAEMON_LOG"
wait "$CREATE_PID"
check "no half-written backup is visible" test "$(visible)" = "$first"

# ---- 4. idle: SIGINT exits 0 at once ----
e2e_start SQLITE_PATH="$SQLITE_DB"
pid=$DAEMON_PID
kill -INT "$pid"
wait_exit "$pid" 5
DAEMON_PID=""
check "SIGINT when idle: exit 0 at once (got $rc)" test "$rc" = 0
check "the restart removed the last temporary" test -z "$(hidden)"

e2e_done
