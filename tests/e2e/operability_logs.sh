#!/usr/bin/env bash
# Issue 20, "Logs and metrics an operator can use": LOG_FORMAT=json (every
# line one JSON object), a request id on every line of a request and in its
# X-Request-Id answer, the client address, X-Forwarded-For and X-Request-Id
# believed only from TRUSTED_PROXIES; the metrics pass `promtool check
# metrics` with request durations as a histogram, 405s under their route
# and the process_* metrics.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_sqlite_demo

# hdr NAME: the value of response header NAME of the last `call`
call() {
	local role=$1
	shift
	STATUS=$(curl -sS -D "$WORK/headers" -o "$BODY" -w '%{http_code}' \
		-H "Authorization: Bearer $(token "$role")" "$@")
}
hdr() {
	tr -d '\r' <"$WORK/headers" | sed -n "s/^$1: //Ip" | tail -n 1
}
# lines_of ID: the daemon's JSON lines of request ID
lines_of() {
	jq -c --arg id "$1" 'select(.request_id == $id)' "$DAEMON_LOG"
}

# ---- JSON lines ----
e2e_start SQLITE_PATH="$SQLITE_DB" LOG_FORMAT=json
call operator -X POST "$BASE/backup/create"
expect_status 200 "create a backup"
ID=$(hdr X-Request-Id)
check "the answer carries X-Request-Id (16 hex digits)" grep -qxE '[0-9a-f]{16}' <<<"$ID"
call viewer "$BASE/backup/list"
ID2=$(hdr X-Request-Id)
check "each request has its own id" test -n "$ID2" -a "$ID2" != "$ID"
call viewer -X PUT "$BASE/backup/list"
expect_status 405 "a method the path does not take"
check "... its answer has an id too" test -n "$(hdr X-Request-Id)"
call viewer -H "X-Request-Id: forged-by-client" -H "X-Forwarded-For: 203.0.113.7" "$BASE/health"
check "a client's X-Request-Id is not taken (no trusted proxy)" \
	test "$(hdr X-Request-Id)" != forged-by-client
sleep 0.5
check "every line of the log is one JSON object with time, level and msg" \
	jq -e -s 'length > 5 and all(.[]; (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")) and
		(.level | IN("debug", "info", "warn", "error")) and (.msg | type == "string"))' "$DAEMON_LOG"
check "the create's lines carry its id: the backup, the audit and the access line" \
	test "$(lines_of "$ID" | jq -s '[.[].msg] | (any(test("^audit action=create outcome=success"))) and
		(any(test("^POST /backup/create 200 "))) and length >= 3')" = true
check "the access line names role and client" \
	test "$(lines_of "$ID" | jq -r 'select(.msg | startswith("POST /backup/create")) | .msg' |
		grep -cE ' role=operator client=127\.0\.0\.1$')" = 1
check "lines outside a request carry no id" \
	test "$(jq -c 'select(.msg | startswith("dbbackupd ")) | has("request_id")' "$DAEMON_LOG" | sort -u)" = false
check "an untrusted X-Forwarded-For is not the client" \
	jq -e -s 'any(.[]; .msg | test("^GET /health 200 .* client=127\\.0\\.0\\.1$"))' "$DAEMON_LOG"
check "no id forged by the client in the log" bash -c "! grep -q forged-by-client '$DAEMON_LOG'"

# ---- metrics ----
PROMTOOL=$(bash "$DBB_SOURCE_DIR/tests/sched/promtool_path.sh") || PROMTOOL=""
call viewer "$BASE/metrics"
expect_status 200 "/metrics"
check "promtool check metrics accepts /metrics" bash -c "'$PROMTOOL' check metrics <'$BODY'"
check "request durations are a histogram" \
	grep -qE '^dbbackupd_http_request_duration_seconds_bucket\{method="POST",route="/backup/create",le="\+Inf"\} 1$' "$BODY"
check "the 405 is counted under its route, method other" \
	grep -qE '^dbbackupd_http_requests_total\{method="other",route="/backup/list",status="405"\} 1$' "$BODY"
check "no empty label value" bash -c "! grep -q '=\"\"' '$BODY'"
for m in process_cpu_seconds_total process_resident_memory_bytes process_open_fds process_max_fds \
	process_start_time_seconds process_virtual_memory_bytes; do
	check "$m is there" grep -qE "^$m [0-9.e+]+$" "$BODY"
done
rss=$(awk '/^process_resident_memory_bytes /{print $2}' "$BODY")
rss_proc=$(awk '/^VmRSS:/{print $2 * 1024}' "/proc/$DAEMON_PID/status")
check "process_resident_memory_bytes is the daemon's RSS (within 8 MiB of /proc)" \
	test "$(((rss > rss_proc ? rss - rss_proc : rss_proc - rss) < 8388608))" = 1
e2e_stop

# ---- behind a trusted proxy, text lines ----
e2e_start SQLITE_PATH="$SQLITE_DB" TRUSTED_PROXIES="10.0.0.0/8, 127.0.0.1"
call viewer -H "X-Request-Id: trace-4bf92f3577b34da6" -H "X-Forwarded-For: 198.51.100.9, 203.0.113.7" "$BASE/backup/list"
expect_status 200 "a list through the proxy"
check "the proxy's X-Request-Id is taken and returned" test "$(hdr X-Request-Id)" = trace-4bf92f3577b34da6
call viewer -H "X-Request-Id: bad id\"x" "$BASE/health"
check "an X-Request-Id with other characters is replaced by ours" grep -qxE '[0-9a-f]{16}' <<<"$(hdr X-Request-Id)"
call viewer -H "X-Forwarded-For: 198.51.100.9, 10.1.2.3" "$BASE/health"
sleep 0.5
check "text lines of a request end with req=ID" \
	grep -qE '^[0-9T:-]+Z info GET /backup/list 200 .* req=trace-4bf92f3577b34da6$' "$DAEMON_LOG"
check "the client is the rightmost untrusted X-Forwarded-For hop" \
	grep -qE 'GET /backup/list 200 .* client=203\.0\.113\.7 req=' "$DAEMON_LOG"
check "  ... skipping hops of trusted proxies" \
	grep -qE 'GET /health 200 .* client=198\.51\.100\.9 req=' "$DAEMON_LOG"
e2e_stop

# ---- readiness and dbbackupd_database_up per target ----
# a second SQLite target whose file is not a database: the daemon starts,
# that target is not ready, the default one is
mkdir -p "$WORK/targets"
head -c 4096 /dev/urandom >"$WORK/broken.db"
printf 'DB_TYPE=sqlite\nSQLITE_PATH=%s\n' "$WORK/broken.db" >"$WORK/targets/broken.env"
e2e_start SQLITE_PATH="$SQLITE_DB" TARGETS_DIR="$WORK/targets"
api GET /ready none
expect_status 503 "/ready: not ready while one target's database is not one"
api GET /ready viewer
check "  ... its details list both targets, only the default one ready" \
	jq -e '.status == "not_ready" and ([.targets[] | {(.name): .ready}] | add) == {"sqlite": true, "broken": false}
		and (.targets[] | select(.name == "broken") | .checks.database.ok == false and (.checks.database.message | length > 0))' "$BODY"
api GET "/ready?target=sqlite" none
expect_status 200 "/ready?target=sqlite: ready"
api GET "/ready?target=broken" none
expect_status 503 "/ready?target=broken: not ready"
api GET "/ready?target=nope" none
expect_error 404 unknown_target "/ready?target=nope"
api GET /metrics viewer
check "dbbackupd_database_up per target" \
	bash -c "grep -qx 'dbbackupd_database_up{database=\"sqlite\",target=\"sqlite\"} 1' '$BODY' &&
		grep -qx 'dbbackupd_database_up{database=\"sqlite\",target=\"broken\"} 0' '$BODY'"
e2e_stop

# ---- settings ----
env SQLITE_PATH="$SQLITE_DB" BACKUP_DIR="$WORK/backups" AUTH_JWKS_FILE="$WORK/keys/jwks.json" \
	LOG_FORMAT=yaml "$DBBACKUPD" >"$WORK/bad.log" 2>&1
check "LOG_FORMAT=yaml stops start-up, naming the variable" grep -q 'LOG_FORMAT must be text or json' "$WORK/bad.log"
env SQLITE_PATH="$SQLITE_DB" BACKUP_DIR="$WORK/backups" AUTH_JWKS_FILE="$WORK/keys/jwks.json" \
	TRUSTED_PROXIES="10.0.0.0/33" "$DBBACKUPD" >"$WORK/bad.log" 2>&1
check "a bad TRUSTED_PROXIES entry stops start-up, naming it" grep -q 'TRUSTED_PROXIES: bad prefix length "/33"' "$WORK/bad.log"
e2e_done
