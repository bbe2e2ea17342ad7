# Shared harness for end-to-end tests: starts the real dbbackupd on a free
# loopback port with fresh dev keys and drives it with curl, as users do.
#
#   . "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
#   e2e_init                      # temp dir $WORK, dev keys, trap cleanup
#   e2e_use_service postgresql    # sources the fixture's export lines
#   e2e_start [VAR=value ...]     # starts the daemon; sets $BASE $DAEMON_PID $DAEMON_LOG
#   api POST /backup/create?compress=true operator   # sets $STATUS, body in $BODY
#   expect_status 200; expect_json '.success == true'
#   e2e_done                      # prints the summary, exits non-zero on failure
#
# ROLE for api/token: admin, operator, viewer, none (no header), expired.
# Variables the test runner sets: DBBACKUPD (binary), DBB_SOURCE_DIR,
# DBB_SERVICES_DIR, DBB_TEST_TMP.

set -uo pipefail

: "${DBBACKUPD:?DBBACKUPD must name the dbbackupd binary}"
: "${DBB_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${DBB_SERVICES_DIR:=}"
: "${DBB_TEST_TMP:=${TMPDIR:-/tmp}}"

E2E_PASSED=0
E2E_FAILED=0
DAEMON_PID=""
STATUS=""
BODY=""

e2e_cleanup() {
	e2e_stop
	if [ -n "${WORK:-}" ] && [ -d "$WORK" ] && [ "$E2E_FAILED" -eq 0 ]; then
		rm -rf "$WORK"
	elif [ -n "${WORK:-}" ]; then
		echo "e2e: kept $WORK for inspection" >&2
	fi
}

e2e_init() {
	mkdir -p "$DBB_TEST_TMP"
	WORK=$(mktemp -d "$DBB_TEST_TMP/e2e.XXXXXX")
	export WORK
	mkdir -p "$WORK/backups" "$WORK/keys"
	"$DBBACKUPD" dev-keys "$WORK/keys" >/dev/null || {
		echo "e2e: dev-keys failed" >&2
		exit 1
	}
	BODY="$WORK/body"
	trap e2e_cleanup EXIT
}

# Sources the export lines that tests/services/NAME.sh start printed.
e2e_use_service() {
	local f="$DBB_SERVICES_DIR/$1.env"
	if [ ! -s "$f" ]; then
		echo "e2e: service $1 is not running (no $f)" >&2
		exit 1
	fi
	# shellcheck disable=SC1090
	. "$f"
}

# e2e_start [VAR=value ...]: the daemon gets the current environment plus
# these, with BACKUP_DIR and AUTH_JWKS_FILE defaulting to the test's. PORT=0
# lets the kernel pick a free port; the daemon logs the one it got.
e2e_start() {
	DAEMON_LOG="$WORK/daemon.log"
	: >"$DAEMON_LOG"
	env PORT=0 BIND_ADDRESS=127.0.0.1 BACKUP_DIR="$WORK/backups" \
		AUTH_JWKS_FILE="$WORK/keys/jwks.json" "$@" \
		"$DBBACKUPD" >>"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	local i port=""
	for i in $(seq 1 100); do
		port=$(sed -nE 's/.*listening on http:\/\/[^ ]*:([0-9]+).*/\1/p' "$DAEMON_LOG" | tail -n 1)
		BASE="http://127.0.0.1:$port"
		if [ -n "$port" ] && curl -fsS -o /dev/null "$BASE/health" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			echo "e2e: daemon exited during start-up:" >&2
			cat "$DAEMON_LOG" >&2
			DAEMON_PID=""
			exit 1
		fi
		sleep 0.1
	done
	echo "e2e: daemon did not answer /health" >&2
	cat "$DAEMON_LOG" >&2
	exit 1
}

# Stops the daemon with SIGTERM; it must exit 0 and its log must hold no
# sanitizer report (under the ASan/UBSan build, that is how leaks and
# undefined behaviour fail the test that caused them).
e2e_stop() {
	if [ -n "$DAEMON_PID" ]; then
		local rc=0
		kill "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null || rc=$?
		DAEMON_PID=""
		if [ "$rc" -ne 0 ]; then
			fail "the daemon exited with status $rc on SIGTERM"
		fi
		if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$DAEMON_LOG" 2>/dev/null; then
			fail "sanitizer report in the daemon log"
			grep -E -A30 'AddressSanitizer|LeakSanitizer|runtime error:' "$DAEMON_LOG" | head -60 >&2
		fi
	fi
}

# token ROLE [TTL]: a token the daemon accepts (expired: already expired).
# built_driver NAME: true if the daemon under test has that driver (CMake's
# DBB_WITH_<DB>); a test of what one driver says about another's files
# checks that message only then.
built_driver() {
	case ",${DBB_DRIVERS:-sqlite,postgresql,mysql,neo4j}," in
	*",$1,"*) return 0 ;;
	*) return 1 ;;
	esac
}

token() {
	case "$1" in
	expired) "$DBBACKUPD" token --key "$WORK/keys/private.pem" --role admin --ttl -60 ;;
	*) "$DBBACKUPD" token --key "$WORK/keys/private.pem" --role "$1" --ttl "${2:-600}" ;;
	esac
}

# api METHOD PATH ROLE [curl args...]: sets STATUS; body in file $BODY.
api() {
	local method=$1 path=$2 role=$3
	shift 3
	local auth=()
	if [ "$role" != none ]; then
		auth=(-H "Authorization: Bearer $(token "$role")")
	fi
	STATUS=$(curl -sS -o "$BODY" -w '%{http_code}' -X "$method" "${auth[@]}" "$@" "$BASE$path")
}

ok() {
	E2E_PASSED=$((E2E_PASSED + 1))
	echo "ok - $*"
}

fail() {
	E2E_FAILED=$((E2E_FAILED + 1))
	echo "FAIL - $*" >&2
	if [ -s "${BODY:-/nonexistent}" ]; then
		echo "  body: $(head -c 600 "$BODY")" >&2
	fi
}

# check DESCRIPTION COMMAND...: passes if the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

# part_skipped WHAT: a part of a test that cannot run here (not root, no
# tmpfs, a build option). Under CI=true that is a failure, never a silent
# skip: CI runs as root with the default build, so every part must run.
# poll_job ID ROLE: waits (5 min at most) for the async job's end (a state
# not queued/running); the job's JSON in $BODY. Fails on any answer but 200.
poll_job() {
	local i
	for i in $(seq 1 3000); do
		api GET "/jobs/$1" "$2"
		[ "$STATUS" = 200 ] || return 1
		jq -e '.state != "queued" and .state != "running"' "$BODY" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_restoring ID: waits until the job restores (bytes moving); fails when
# it ended first.
wait_restoring() {
	local i
	for i in $(seq 1 3000); do
		api GET "/jobs/$1" operator
		jq -e '.phase == "restoring" and .bytes_done > 0' "$BODY" >/dev/null && return 0
		jq -e '.state == "running" or .state == "queued"' "$BODY" >/dev/null || return 1
		sleep 0.05
	done
	return 1
}

part_skipped() {
	if [ "${CI:-}" = true ]; then
		fail "$1 (CI=true: not skipped)"
	else
		echo "# skipped: $1"
	fi
}

expect_status() {
	if [ "$STATUS" = "$1" ]; then ok "${2:-status $1}"; else fail "${2:-status} expected $1, got $STATUS"; fi
}

# expect_json JQ_EXPR [DESCRIPTION]: the body must make the expression true.
expect_json() {
	if jq -e "$1" "$BODY" >/dev/null 2>&1; then ok "${2:-$1}"; else fail "${2:-$1}"; fi
}

# expect_error STATUS CODE [DESCRIPTION]: a JSON error with that status and code.
expect_error() {
	if [ "$STATUS" = "$1" ] && jq -e --arg c "$2" \
		'.success == false and .error == $c and (.message | type == "string" and length > 0)' \
		"$BODY" >/dev/null 2>&1; then
		ok "${3:-error $1 $2}"
	else
		fail "${3:-error} expected $1 $2, got $STATUS"
	fi
}

e2e_done() {
	e2e_stop
	echo "$E2E_PASSED passed, $E2E_FAILED failed"
	if [ "$E2E_FAILED" -ne 0 ] && [ -n "${DAEMON_LOG:-}" ] && [ -f "$DAEMON_LOG" ]; then
		echo "--- daemon log (tail) ---" >&2
		tail -n 40 "$DAEMON_LOG" >&2
	fi
	[ "$E2E_FAILED" -eq 0 ]
	exit $?
}

# ---- SQLite helpers ----

# e2e_sqlite_demo [ROWS]: a demo database at $SQLITE_DB.
e2e_sqlite_demo() {
	SQLITE_DB="$WORK/app.db"
	bash "$DBB_SOURCE_DIR/setup/demo-sqlite.sh" --force "$SQLITE_DB" "${1:-200}" 2>/dev/null
}

# A checksum of a SQLite database's logical content.
sqlite_sum() {
	sqlite3 "${1:-$SQLITE_DB}" .dump | sha256sum | cut -d' ' -f1
}

# Files outside the backups directory that a test must never change: the
# keys and $WORK/outside.txt (a test writes it), with their names and modes.
outside_sum() {
	(cd "$WORK" && find keys outside.txt -printf '%p %m\n' 2>/dev/null && cat keys/* outside.txt 2>/dev/null) |
		sha256sum | cut -d' ' -f1
}

# The newest backup's name from the list.
newest_backup() {
	api GET /backup/list viewer
	jq -r '.backups[0].filename' "$BODY"
}
# Inverts every bit of the byte at OFFSET in FILE, so it really changes
# (writing a fixed value leaves it as it was 1 time in 256).
flip_byte() {
	local orig
	orig=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf %03o $((255 - orig)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
