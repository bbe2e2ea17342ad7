#!/usr/bin/env bash
# /health and /ready (public, JSON, cheap), readiness failing when the
# database is gone, and optional HTTPS with TLS_CERT_FILE/TLS_KEY_FILE.
# /ready's details are for a viewer token (tests/e2e/security_ready.sh), and
# its result is reused for 2 s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operability_lib.sh"
e2e_init

e2e_sqlite_demo
e2e_start SQLITE_PATH="$SQLITE_DB"

api GET /health none
expect_status 200 "/health without a token"
expect_json '.status == "ok" and .service == "dbbackupd" and (.version | type == "string")'
api GET /ready none
expect_status 200 "/ready without a token"
expect_json '.status == "ready"'
api GET /ready viewer
expect_json '.status == "ready" and .database_type == "sqlite"'
expect_json '.checks.database.ok and .checks.backup_dir.ok and .checks.auth.ok'
expect_json '.checks.backup_dir.free_bytes > 0'
check "/ready leaves no temporary behind" test -z "$(ls -A "$WORK/backups")"
api POST /ready none
expect_error 405 method_not_allowed "POST /ready"

# the database disappears: not ready (503), still alive
mv "$SQLITE_DB" "$SQLITE_DB.away"
sleep 2.5 # the last result is reused for 2 s
api GET /ready viewer
expect_status 503 "/ready with the database gone"
expect_json '.status == "not_ready" and (.checks.database.ok | not) and (.checks.database.message | length > 0)'
expect_json '.checks.backup_dir.ok and .checks.auth.ok' "the other checks still pass"
api GET /health none
expect_status 200 "/health is still 200"
mv "$SQLITE_DB.away" "$SQLITE_DB"
sleep 2.5
api GET /ready none
expect_status 200 "/ready again once the database is back"
e2e_stop

# ---- TLS ----
op_apt openssl >/dev/null || fail "cannot install openssl"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
	-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
chmod 600 "$WORK/tls.key"

# a half TLS configuration is refused at start, naming the missing variable
out=$(env BACKUP_DIR="$WORK/backups" AUTH_JWKS_FILE="$WORK/keys/jwks.json" SQLITE_PATH="$SQLITE_DB" \
	TLS_CERT_FILE="$WORK/tls.crt" "$DBBACKUPD" --check-config 2>&1)
rc=$?
check "TLS_CERT_FILE without TLS_KEY_FILE: exit 2" test "$rc" = 2
check "... naming TLS_KEY_FILE" grep -q TLS_KEY_FILE <<<"$out"
out=$(env PORT=0 BACKUP_DIR="$WORK/backups" AUTH_JWKS_FILE="$WORK/keys/jwks.json" \
	SQLITE_PATH="$SQLITE_DB" TLS_CERT_FILE="$WORK/tls.crt" TLS_KEY_FILE="$WORK/nothing.pem" \
	timeout 10 "$DBBACKUPD" 2>&1)
rc=$?
check "a missing key file: exit 2" test "$rc" = 2
check "... naming TLS_KEY_FILE" grep -q TLS_KEY_FILE <<<"$out"

DAEMON_LOG="$WORK/daemon-tls.log"
env PORT=0 BIND_ADDRESS=127.0.0.1 BACKUP_DIR="$WORK/backups" AUTH_JWKS_FILE="$WORK/keys/jwks.json" \
	SQLITE_PATH="$SQLITE_DB" TLS_CERT_FILE="$WORK/tls.crt" TLS_KEY_FILE="$WORK/tls.key" \
	"$DBBACKUPD" >"$DAEMON_LOG" 2>&1 &
DAEMON_PID=$!
port=""
for _ in $(seq 1 100); do
	port=$(sed -nE 's/.*listening on https:\/\/[^ ]*:([0-9]+).*/\1/p' "$DAEMON_LOG" | tail -n 1)
	[ -n "$port" ] && break
	sleep 0.1
done
check "the daemon says it listens with https" test -n "$port"
BASE="https://127.0.0.1:$port"
CURL_TLS=(--cacert "$WORK/tls.crt")
STATUS=$(curl -sS "${CURL_TLS[@]}" -o "$BODY" -w '%{http_code}' "$BASE/health")
expect_status 200 "GET /health over HTTPS"
check "plain HTTP on the TLS port gets no answer" \
	bash -c "! curl -sS -m 5 -o /dev/null 'http://127.0.0.1:$port/health' 2>/dev/null"
STATUS=$(curl -sS "${CURL_TLS[@]}" -o "$BODY" -w '%{http_code}' -X POST \
	-H "Authorization: Bearer $(token operator)" "$BASE/backup/create")
expect_status 200 "create over HTTPS"
name=$(jq -r .filename "$BODY")
sum=$(jq -r .sha256 "$BODY")
# downloads go through TLS (no sendfile): the bytes must be the same
STATUS=$(curl -sS "${CURL_TLS[@]}" -o "$WORK/dl" -w '%{http_code}' \
	-H "Authorization: Bearer $(token viewer)" "$BASE/backup/download/$name")
expect_status 200 "download over HTTPS"
check "the download over HTTPS has the recorded SHA-256" test "$(sha256sum <"$WORK/dl" | cut -d' ' -f1)" = "$sum"
STATUS=$(curl -sS "${CURL_TLS[@]}" -o "$WORK/dl2" -w '%{http_code}' -r 100- \
	-H "Authorization: Bearer $(token viewer)" "$BASE/backup/download/$name")
expect_status 206 "a byte range over HTTPS"
check "the range is the file's tail" cmp -s "$WORK/dl2" <(tail -c +101 "$WORK/dl")

e2e_done
