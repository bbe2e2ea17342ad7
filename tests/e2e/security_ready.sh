#!/usr/bin/env bash
# Issue 14, item 8: GET /ready without a token says only ready / not ready
# (no database type, error text or free bytes); a viewer token or
# METRICS_TOKEN gets the details, a token that does not verify a 401. The
# checks run at most once every 2 s and one at a time, however many probes
# come (the debug log line "readiness checked" counts them).
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo
MT=metrics-token-0123456789
e2e_start SQLITE_PATH="$SQLITE_DB" METRICS_TOKEN=$MT LOG_LEVEL=debug

api GET /ready none
expect_status 200 "ready, no token: 200"
expect_json '. == {"status":"ready"}' "  ... and only {\"status\":\"ready\"}"
api GET /ready viewer
expect_status 200 "ready, viewer token: 200"
expect_json '.database_type == "sqlite" and .checks.database.ok == true and (.checks.backup_dir.free_bytes | type == "number")' \
	"  ... with the details"
api GET /ready none -H "Authorization: Bearer $MT"
expect_json '.checks.database.ok == true' "METRICS_TOKEN gets the details too"
api GET /ready none -H "Authorization: Bearer not.a.token"
expect_error 401 invalid_token "a token that does not verify: 401"

# the database goes away: anonymous callers learn only "not_ready"
mv "$SQLITE_DB" "$SQLITE_DB.away"
sleep 2.5 # the cached result ages out
api GET /ready none
expect_status 503 "database gone, no token: 503"
expect_json '. == {"status":"not_ready"}' "  ... and only {\"status\":\"not_ready\"}, no error text"
api GET /ready viewer
expect_status 503 "database gone, viewer: 503"
expect_json '.checks.database.ok == false and (.checks.database.message | length > 0)' "  ... with the database's error"
mv "$SQLITE_DB.away" "$SQLITE_DB"
sleep 2.5 # the failing result ages out, so the flood must run a check

# a flood of probes: 400 requests, 40 at a time
before=$(grep -c 'readiness checked' "$DAEMON_LOG")
t0=$(date +%s.%N)
seq 1 400 | xargs -P 40 -I{} curl -s -o /dev/null "$BASE/ready"
t1=$(date +%s.%N)
after=$(grep -c 'readiness checked' "$DAEMON_LOG")
checks=$((after - before))
bound=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) / 2 + 2 }')
check "400 probes in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s ran the checks $checks time(s) (at most one per 2 s: <= $bound)" \
	bash -c "[ $checks -ge 1 ] && [ $checks -le $bound ]"
e2e_done
