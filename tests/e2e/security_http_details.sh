#!/usr/bin/env bash
# Issue 14, item 13: HTTP details. A 416 is a JSON error; a request with
# 1,000 query parameters gets an answer (400) and an access log line; an
# HTTP/1.1 request without Host, with two Host or two Content-Length
# headers, or with both Content-Length and Transfer-Encoding is refused 400
# and its connection closed; /docs is sent with a Content-Security-Policy
# that allows only the daemon's own scripts (and the page has no inline
# script) and with X-Frame-Options, as is every other answer; a chunked
# upload over MAX_UPLOAD_BYTES gets its 413 at once.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo
e2e_start SQLITE_PATH="$SQLITE_DB" MAX_UPLOAD_BYTES=1M
port=${BASE##*:}
HDRS="$WORK/headers"

# raw REQUEST: sends it on a fresh connection, prints the whole answer (a
# server that answers and closes before the request is all sent is fine)
trap '' PIPE
raw() {
	exec 3<>"/dev/tcp/127.0.0.1/$port"
	printf '%b' "$1" >&3 2>/dev/null
	timeout 5 cat <&3
	exec 3>&-
}
# raw_check DESCRIPTION REQUEST: a 400 bad_request JSON answer, connection closed
raw_check() {
	raw "$2" >"$WORK/raw"
	sed -n '/^\r$/,$p' "$WORK/raw" | tail -n +2 >"$BODY"
	STATUS=$(head -n1 "$WORK/raw" | cut -d' ' -f2)
	expect_error 400 bad_request "$1"
	check "  ... and the connection is closed" grep -qi '^Connection: close' "$WORK/raw"
}

# 416
api POST /backup/create operator
name=$(jq -r .filename "$BODY")
size=$(stat -c %s "$WORK/backups/$name")
: >"$BODY"
api GET "/backup/download/$name" viewer -D "$HDRS" -H "Range: bytes=$((size + 10))-"
expect_error 416 range_not_satisfiable "a range past the end: a JSON 416"
check "  ... with Content-Range: bytes */$size" grep -qi "^Content-Range: bytes \*/$size" "$HDRS"
check "  ... and a JSON Content-Type" grep -qi '^Content-Type: application/json' "$HDRS"

# 1,000 query parameters (and 20,000 one-letter ones: a 40 KB request line)
for n in 1000 20000; do
	if [ $n = 1000 ]; then
		q=$(seq 1 $n | sed 's/^/a/; s/$/=1/' | paste -sd'&')
	else
		q=$(yes a | head -n $n | paste -sd'&')
	fi
	api GET "/health?$q" none
	expect_error 400 bad_request "$n query parameters: 400"
	check "  ... the message says how many" jq -e --arg n "$n" '.message | contains($n)' "$BODY"
done
check "  ... and each has its access log line" test "$(grep -c 'GET /health 400 ' "$DAEMON_LOG")" -ge 2
api GET "/health?$(seq 1 64 | sed 's/^/a/; s/$/=1/' | paste -sd'&')" none
expect_status 200 "64 query parameters are fine"

# a head libmicrohttpd refuses itself (10,000 headers: 431) has its log line
raw "GET /health HTTP/1.1\r\nHost: x\r\n$(for i in $(seq 1 10000); do printf 'X-H%d: v\\r\\n' "$i"; done)\r\n" >"$WORK/raw"
check "10,000 headers: libmicrohttpd's 431" grep -q '^HTTP/1.1 431' "$WORK/raw"
check "  ... logged" grep -q ' /health 431 .*refused by libmicrohttpd' "$DAEMON_LOG"

# framing
raw_check "HTTP/1.1 without Host: 400" 'GET /health HTTP/1.1\r\n\r\n'
raw_check "two Host headers: 400" 'GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'
raw_check "two Content-Length headers: 400" \
	'POST /backup/create HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello'
raw_check "Content-Length and Transfer-Encoding: 400" \
	'POST /backup/create HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
raw 'GET /health HTTP/1.0\r\n\r\n' >"$WORK/raw"
check "HTTP/1.0 without Host is fine (200)" grep -q '^HTTP/1.[01] 200' "$WORK/raw"

# /docs: CSP and X-Frame-Options (and no inline script on the page)
curl -s -D "$HDRS" -o "$BODY" "$BASE/docs"
if grep -q '^HTTP/1.1 200' "$HDRS"; then
	check "/docs has a Content-Security-Policy" grep -qi '^Content-Security-Policy: ' "$HDRS"
	check "  ... allowing scripts from the daemon only" \
		bash -c "grep -i '^Content-Security-Policy: ' '$HDRS' | grep -q \"script-src 'self'[;\r]\""
	check "  ... never framed" grep -qi "^Content-Security-Policy: .*frame-ancestors 'none'" "$HDRS"
	check "/docs has X-Frame-Options: DENY" grep -qi '^X-Frame-Options: DENY' "$HDRS"
	check "the page has no inline script" bash -c "! grep -Pzo '<script>' '$BODY' >/dev/null"
	curl -s -o /dev/null -w '%{http_code}' "$BASE/docs/init.js" >"$WORK/code"
	check "its script is served (/docs/init.js)" grep -q 200 "$WORK/code"
else
	part_skipped "the /docs checks: built without Swagger UI (DBB_DOCS_UI=OFF)"
fi
curl -s -D "$HDRS" -o /dev/null "$BASE/health"
check "every answer has X-Frame-Options: DENY" grep -qi '^X-Frame-Options: DENY' "$HDRS"
check "  ... and a Content-Security-Policy that allows nothing" \
	grep -qi "^Content-Security-Policy: default-src 'none'" "$HDRS"

# a chunked upload over MAX_UPLOAD_BYTES (1M): 413 at once, not a dropped
# connection; one under it works
head -c $((40 * 1024 * 1024)) /dev/urandom >"$WORK/big.db"
api POST /backup/restore-upload operator -H 'Transfer-Encoding: chunked' -F "file=@$WORK/big.db"
expect_error 413 payload_too_large "a chunked upload of 40 MB over MAX_UPLOAD_BYTES=1M: 413"
check "  ... the message names the limit" jq -e '.message | contains("MAX_UPLOAD_BYTES")' "$BODY"
check "  ... logged" grep -q 'POST /backup/restore-upload 413 ' "$DAEMON_LOG"
check "  ... no temporary left" bash -c "! ls -A '$WORK/backups' | grep -q '^\.tmp-'"
gzip -c "$SQLITE_DB" >"$WORK/small.db.gz"
api POST "/backup/restore-upload?create_safety_backup=false" operator -H 'Transfer-Encoding: chunked' \
	-F "file=@$WORK/small.db.gz"
expect_status 200 "a chunked upload under the limit is restored"
api GET /health none
expect_status 200 "the daemon answers afterwards"
e2e_done
