#!/usr/bin/env bash
# Issue 14, item 3: slow clients cannot take the service. While 200 slow
# connections hang (heads or bodies a byte every 2 s, from one loopback
# address or from a hundred), /health and an authenticated list from
# another address are answered within 1 s each; a body on a route that
# takes none is answered at once and its connection closed; a slow upload,
# token or not, is dropped once it falls under MIN_BODY_RATE (libmicrohttpd's
# CONNECTION_TIMEOUT is an idle timeout: a byte every 2 s never reaches it).
# The slow clients are tests/e2e/security_slow.py.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo
SLOW="$DBB_SOURCE_DIR/tests/e2e/security_slow.py"
# 30 s: longer than the whole attack, so only the new defences can end it
e2e_start SQLITE_PATH="$SQLITE_DB" CONNECTION_TIMEOUT=30
port=${BASE##*:}

# probes FROM: 5 x /health and 5 x /backup/list (viewer) from address FROM,
# each must be answered 200 within 1 s.
probes() {
	local from=$1 i code bad=0 t
	t=$(token viewer)
	for i in 1 2 3 4 5; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 --interface "$from" "$BASE/health")
		[ "$code" = 200 ] || bad=$((bad + 1))
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 --interface "$from" \
			-H "Authorization: Bearer $t" "$BASE/backup/list")
		[ "$code" = 200 ] || bad=$((bad + 1))
	done
	[ "$bad" -eq 0 ] || echo "  $bad of 10 probes from $from not answered 200 within 1 s" >&2
	[ "$bad" -eq 0 ]
}

# attack NAME ARGS...: runs security_slow.py for 12 s in the background
attack() {
	local name=$1
	shift
	python3 "$SLOW" --port "$port" --seconds 12 --report "$WORK/$name.json" "$@" &
	ATTACK=$!
	sleep 3
}

report() { jq -r "$2" "$WORK/$1.json"; }

# 1. 200 slow heads from one address: MAX_CONNECTIONS_PER_IP (16) refuses
#    the rest at once
attack heads1 --mode head --count 200 --sources 127.0.0.1 --reconnect
check "200 slow heads from 127.0.0.1: others answered within 1 s" probes 127.0.0.2
wait "$ATTACK"
check "no more than MAX_CONNECTIONS_PER_IP=16 of them were held ($(report heads1 .held) at the end)" \
	test "$(report heads1 .held)" -le 16

# 2. 200 slow heads from 100 addresses: the per-address limit does not
#    apply; connections without a request head are dropped to keep room
attack heads100 --mode head --count 200 --sources 127.0.1.1+100 --reconnect
check "200 slow heads from 100 addresses: others answered within 1 s" probes 127.0.0.2
wait "$ATTACK"
check "the log says connections were dropped to keep room" \
	grep -q 'had sent no complete request head: MAX_CONNECTIONS=64 nearly in use, 8 kept free' "$DAEMON_LOG"

# 3. 200 slow bodies to a route that takes none (no token needed): each is
#    answered at once and closed
attack bodies100 --mode body --path /health --count 200 --sources 127.0.2.1+100
check "200 slow bodies from 100 addresses: others answered within 1 s" probes 127.0.0.2
wait "$ATTACK"
check "every slow body to /health was answered and closed at once ($(report bodies100 .alive) still open)" \
	test "$(report bodies100 .alive)" -eq 0
check "  ... within 3 s of the start (last after $(report bodies100 '.closed_after | max')s)" \
	jq -e '(.closed_after | length) == 200 and (.closed_after | max) < 3' "$WORK/bodies100.json" >/dev/null

# 4. an upload that trickles, with an operator token, is dropped once under
#    MIN_BODY_RATE over CONNECTION_TIMEOUT (4 s here), long before the 12 s
e2e_stop
e2e_start SQLITE_PATH="$SQLITE_DB" CONNECTION_TIMEOUT=4
port=${BASE##*:}
SLOW_TOKEN=$(token operator) attack upload --mode body --method POST --path /backup/restore-upload \
	--count 4 --sources 127.0.3.1+4
wait "$ATTACK"
check "4 slow uploads (a byte every 2 s, operator token) were all dropped ($(report upload .alive) still open)" \
	test "$(report upload .alive)" -eq 0
check "  ... after about CONNECTION_TIMEOUT=4 s (at $(report upload '.closed_after | join(" ")') s)" \
	jq -e '(.closed_after | length) == 4 and (.closed_after | max) >= 3 and (.closed_after | max) <= 10' \
	"$WORK/upload.json" >/dev/null
check "the log says why" grep -q 'slower than MIN_BODY_RATE' "$DAEMON_LOG"
check "no temporary left" bash -c "! ls -A '$WORK/backups' | grep -q '^\.tmp-'"
api GET /backup/list viewer
expect_status 200 "the daemon answers afterwards"
e2e_done
