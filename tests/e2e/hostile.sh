#!/usr/bin/env bash
# Promise: hostile requests get a JSON error (or, for a request head too big
# to read, a refusal) and change nothing: path traversal in every encoding,
# headers of 1 MiB and 10,000 headers, bodies announced larger than sent,
# negative and overflowing Content-Length and Range, invalid UTF-8 in names,
# repeated and malformed query parameters, JSON injection in file names (the
# JSON answers stay valid). No secret (token, DB_PASSWORD) ever appears in a
# log, a response or a child's command line (ps while a dump runs).
# Usage: hostile.sh DRIVER (sqlite, postgresql, mysql, neo4j: the ps check
# while a dump runs is for a driver that runs a child tool; Neo4j's password
# is looked for in ps, the log and the answers)
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/fault_lib.sh"
e2e_init
fdb_init "${1:-${FAULT_DB:-sqlite}}"
echo "precious" >"$WORK/outside.txt"
fault_start MAX_UPLOAD_BYTES=64M CONNECTION_TIMEOUT=5
port=${BASE##*:}
api POST /backup/create operator
good=$(jq -r .filename "$BODY")
sum0=$(fdb_sum)
out0=$(outside_sum)
vtok=$(token viewer)
atok=$(token admin)

# raw TEXT: sends TEXT (printf %b escapes) on a fresh connection, reads the
# answer until the server closes (10 s at most). RAW_STATUS: the status code,
# or 000 when the server closed without an answer.
raw() {
	timeout 12 bash -c 'trap "" PIPE; exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 0; printf "%b" "$2" >&3; timeout 10 cat <&3' _ "$port" "$1" >"$WORK/raw.out" 2>/dev/null
	RAW_STATUS=$(head -n 1 "$WORK/raw.out" | awk '{ print $2 }')
	: "${RAW_STATUS:=000}"
	# the JSON body, if any
	sed '1,/^\r$/d' "$WORK/raw.out" >"$WORK/raw.body"
}
alive() {
	curl -s -o /dev/null -w '%{http_code}' "$BASE/health" | grep -q 200
}
# FILE: valid JSON, or empty, or libmicrohttpd's own HTML refusal (it
# answers a malformed head itself before any handler runs; see
# docs/reliability.md)
json_ok() {
	[ ! -s "$1" ] || jq -e . "$1" >/dev/null 2>&1 || grep -q '^<html>' "$1"
}

# ---- traversal, every encoding (literal, %-encoded, double-encoded,
# backslash, overlong UTF-8, full-width dots, NUL, absolute) ----
for p in "../outside.txt" "..%2Foutside.txt" "%2e%2e/outside.txt" "%2E%2E%2Foutside.txt" \
	"%252e%252e%252foutside.txt" "..%5coutside.txt" "..\\\\outside.txt" "%c0%ae%c0%ae%c0%afoutside.txt" \
	"%e0%80%ae%e0%80%ae/outside.txt" "%ef%bc%8e%ef%bc%8e%ef%bc%8foutside.txt" "..%u2216outside.txt" \
	".%00./outside.txt" "%2f$WORK/outside.txt" "//$WORK/outside.txt" "...//....//outside.txt" \
	"$good/../../outside.txt" "$good%00.txt" "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd"; do
	for m in "GET /backup/download" "POST /backup/restore" "DELETE /backup/delete"; do
		raw "${m% *} ${m#* }/$p HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $atok\r\nConnection: close\r\n\r\n"
		if [ "$RAW_STATUS" = 400 ] || [ "$RAW_STATUS" = 404 ]; then
			if jq -e '.success == false' "$WORK/raw.body" >/dev/null 2>&1; then
				ok "$m/$p: $RAW_STATUS with a JSON error"
			else
				fail "$m/$p: $RAW_STATUS without a JSON error body"
			fi
		else
			fail "$m/$p: expected 400 or 404, got $RAW_STATUS"
		fi
	done
done
check "nothing outside the backups directory changed" test "$(outside_sum)" = "$out0"
check "the database is unchanged" test "$(fdb_sum)" = "$sum0"

# ---- huge heads: refused, the daemon keeps serving ----
big=$(head -c 1048576 /dev/zero | tr '\0' a)
raw "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: $big\r\nConnection: close\r\n\r\n"
check "a 1 MiB header is refused ($RAW_STATUS)" test "$RAW_STATUS" = 431 -o "$RAW_STATUS" = 413 -o "$RAW_STATUS" = 400 -o "$RAW_STATUS" = 000
check "the daemon answers after a 1 MiB header" alive
many=$(for i in $(seq 1 10000); do printf 'X-H%d: v\\r\\n' "$i"; done)
raw "GET /backup/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $vtok\r\n${many}Connection: close\r\n\r\n"
check "10,000 headers are refused ($RAW_STATUS)" test "$RAW_STATUS" = 431 -o "$RAW_STATUS" = 413 -o "$RAW_STATUS" = 400 -o "$RAW_STATUS" = 000
check "the daemon answers after 10,000 headers" alive
raw "GET /backup/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $big\r\nConnection: close\r\n\r\n"
check "a 1 MiB bearer token is refused ($RAW_STATUS)" test "$RAW_STATUS" != 200 -a "$RAW_STATUS" != 500

# ---- Content-Length: negative, overflowing, larger than sent ----
for cl in -1 -9223372036854775808 18446744073709551616 99999999999999999999999999 1e9 0x10 " 12" "12, 13"; do
	raw "POST /backup/restore-upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $atok\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: $cl\r\nConnection: close\r\n\r\n--B--\r\n"
	check "Content-Length '$cl': refused ($RAW_STATUS), never 2xx or 5xx" \
		bash -c "[ '$RAW_STATUS' = 000 ] || [ '${RAW_STATUS:0:1}' = 4 ]"
	check "Content-Length '$cl': the answer is JSON or nothing" json_ok "$WORK/raw.body"
done
# a body announced larger than sent: the connection ends, the lock goes
raw "POST /backup/restore-upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $atok\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 1000000\r\n\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nshort"
check "the upload lock is released after a short body" \
	wait_for "curl -s -o '$WORK/c.json' -X POST -H 'Authorization: Bearer $atok' '$BASE/backup/create' && jq -e .success '$WORK/c.json' >/dev/null" 15
check "no temporary left after a short body" wait_for no_temporaries 10
STATUS=$(curl -s -o "$BODY" -w '%{http_code}' -X POST -H "Authorization: Bearer $atok" \
	-H "Content-Length: 50" --data-binary 'only ten b' --max-time 10 "$BASE/backup/create")
check "a create with a short body does not hang the daemon" alive

# ---- Range: negative, overflowing, inverted, multiple, garbage ----
size=$(stat -c %s "$WORK/backups/$good")
for r in "bytes=-5-10" "bytes=--1" "bytes=0-99999999999999999999999" "bytes=18446744073709551615-" \
	"bytes=18446744073709551616-" "bytes=5-2" "bytes=0-0,1-1" "bytes=$size-" "bytes=-0" "bytes=abc" \
	"bytes=1-2-3" "bytes= 1-2" "octets=0-1" "bytes=-18446744073709551615" "bytes=0-18446744073709551615"; do
	STATUS=$(curl -s -o "$BODY" -D "$WORK/hdr" -w '%{http_code}' -H "Authorization: Bearer $vtok" \
		-H "Range: $r" "$BASE/backup/download/$good")
	got=$(stat -c %s "$BODY")
	len=$(tr -d '\r' <"$WORK/hdr" | awk 'tolower($1) == "content-length:" { print $2 }')
	case "$STATUS" in
	200) check "Range '$r': whole file ($got bytes)" test "$got" -eq "$size" ;;
	206) check "Range '$r': a part that matches Content-Length ($got = $len)" test "$got" = "$len" -a "$got" -le "$size" ;;
	416) check "Range '$r': 416 with Content-Range */size" grep -qi "content-range: bytes \*/$size" "$WORK/hdr" ;;
	*) fail "Range '$r': unexpected $STATUS" ;;
	esac
done

# ---- query parameters: repeated, malformed ----
for q in "compress=maybe" "compress=true&compress=false" "compress=" "compress" "compress=tru%00e" \
	"compress=%ff" "compress=%c3%28" "compress=1e0" "compress=TRUE%20"; do
	api POST "/backup/create?$q" operator
	expect_error 400 invalid_parameter "create?$q"
done
api POST "/backup/create?compress[]=maybe" operator
check "an unknown parameter is ignored ($STATUS)" test "$STATUS" = 200
for q in "create_safety_backup=maybe" "create_safety_backup=true&create_safety_backup=true" "create_safety_backup="; do
	api POST "/backup/restore/$good?$q" operator
	expect_error 400 invalid_parameter "restore?$q"
done
api POST "/backup/create?&&&=&=x&%00=1" operator
check "junk separators: no 5xx ($STATUS)" test "${STATUS:0:1}" != 5
api GET "/backup/list?$(head -c 60000 /dev/zero | tr '\0' a)=1" viewer
check "a huge query string: no 5xx ($STATUS)" test "${STATUS:0:1}" != 5 -a "$STATUS" != 000 -o "$STATUS" = 000
check "alive after the query parameters" alive

# ---- names: invalid UTF-8, JSON injection; the JSON answers stay valid ----
for p in "backup_sqlite_20240101_000000%ff.db" "%ff%fe%fd" "backup_%c3%28_20240101_000000.db" \
	"x%22%2C%22success%22%3Atrue%2C%22a%22%3A%22" "%22%7D%5D%7D" "backup_sqlite_20240101_000000.db%5C%22"; do
	api GET "/backup/download/$p" viewer
	expect_json '.success == false' "download $p: JSON error ($STATUS)"
done
# uploaded file names go into the answer's message: they must not break it
cp "$WORK/backups/$good" "$WORK/upload.bin"
for fname in $'bad\xff\xfename.db' $'x", "success": false, "y": "' $'new\nline\r\x01.db' $'\xc3\x28\xa0\xa1' \
	"$(head -c 400 /dev/zero | tr '\0' 'e')"; do
	printf '%s' "$fname" >"$WORK/fname"
	STATUS=$(curl -s -o "$BODY" -w '%{http_code}' -H "Authorization: Bearer $atok" \
		-F "file=@$WORK/upload.bin;filename=\"$(sed 's/"/\\"/g' "$WORK/fname")\"" \
		"$BASE/backup/restore-upload?create_safety_backup=false")
	expect_json '.success == true and (.message | type == "string")' \
		"upload named $(printf '%q' "$fname" | head -c 40): 200 and valid JSON (got $STATUS)"
done
check "the database is the backup's content" test "$(fdb_sum)" = "$sum0"

# ---- no secret in logs, responses or a child's command line ----
if [ ${#FDB_TOOLS[@]} -gt 0 ]; then
	fdb_grow 4
	: >"$WORK/ps.txt"
	curl -s -o "$WORK/dump.json" -X POST -H "Authorization: Bearer $atok" "$BASE/backup/create" &
	cpid=$!
	seen=0
	while kill -0 $cpid 2>/dev/null; do
		if pgrep -P "$DAEMON_PID" >/dev/null; then
			seen=1
			ps -eww -o args >>"$WORK/ps.txt"
		fi
		sleep 0.05
	done
	wait $cpid
	check "a child tool was seen running ($(grep -c -- "${FDB_TOOLS[0]}" "$WORK/ps.txt") ps lines with ${FDB_TOOLS[0]})" test $seen -eq 1
	check "DB_PASSWORD is not on any command line" bash -c "! grep -qF -- '$DB_PASSWORD' '$WORK/ps.txt'"
	check "DB_PASSWORD is in no log" bash -c "! grep -qF -- '$DB_PASSWORD' '$DAEMON_LOG'"
	api POST /backup/create operator
	api GET /backup/stats viewer
	check "DB_PASSWORD is in no response" bash -c "! grep -qF -- '$DB_PASSWORD' '$BODY' '$WORK/dump.json'"
fi
if [ "$FDB" = neo4j ]; then
	# no child tool: the password goes to libcurl in memory
	api POST /backup/create operator
	cp "$BODY" "$WORK/create.json"
	api GET /backup/stats viewer
	ps -eww -o args >"$WORK/ps.txt"
	check "NEO4J_PASSWORD is not on any command line" bash -c "! grep -qF -- '$NEO4J_PASSWORD' '$WORK/ps.txt'"
	check "NEO4J_PASSWORD is in no log" bash -c "! grep -qF -- '$NEO4J_PASSWORD' '$DAEMON_LOG'"
	check "NEO4J_PASSWORD is in no response" bash -c "! grep -qF -- '$NEO4J_PASSWORD' '$BODY' '$WORK/create.json'"
fi
check "no token is in the log" bash -c "! grep -qF -- '${atok:20:40}' '$DAEMON_LOG' && ! grep -qF -- '${vtok:20:40}' '$DAEMON_LOG'"
check "no 'Bearer' in the log" bash -c "! grep -q 'Bearer ' '$DAEMON_LOG'"
check "nothing outside the backups directory changed, at the end" test "$(outside_sum)" = "$out0"
check_backups_sound
e2e_done
