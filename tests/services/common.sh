# shellcheck shell=bash
# What the service scripts (tests/services/<svc>.sh) share; sourced by them
# after they set SVC_NAME (the prefix of their log lines):
#
#   log MSG / die MSG      a line on stderr (stdout is for export lines only);
#                          die exits 1
#   apt_install PKG...     apt-get install, after an apt-get update if the
#                          package lists are missing or stale
#   ensure_commands CMD:PKG...   installs PKG for every CMD not on PATH
#   JAVA_SERVICE_TOOLS     what a Java service fetched with Maven needs
#   CACHE_ROOT, mvn_q ARGS...    the download cache (DBB_CACHE_DIR) and mvn,
#                          quiet, batch mode, with its repository in the cache
#   port_free PORT, free_port [EXCEPT]   a free loopback TCP port
#   signal_and_wait SIG PID SECONDS   sends SIG, waits for PID to go

CACHE_ROOT=${DBB_CACHE_DIR:-${HOME:-/root}/.cache/dbbackupd}

log() { echo "${SVC_NAME:-service}.sh: $*" >&2; }
die() {
	log "$*"
	exit 1
}

apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q "$@" >&2; then
		apt-get update -q >&2
		apt-get install -y -q "$@" >&2
	fi
}

# ensure_commands CMD:PKG...: installs (one apt-get run) the package of every
# command that is missing.
ensure_commands() {
	local missing=() pair
	for pair in "$@"; do
		command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing ${missing[*]}"
		apt_install "${missing[@]}"
	fi
}

# A Java distribution from Maven Central: a JRE, mvn to fetch it, curl to
# ask whether it answers, ss to find free ports.
# shellcheck disable=SC2034 # used by the scripts that source this file
JAVA_SERVICE_TOOLS=(java:openjdk-17-jre-headless mvn:maven curl:curl ss:iproute2)

mvn_q() {
	mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$CACHE_ROOT/m2" "$@"
}

# Nothing listens on PORT (ss if it is installed, and a connection attempt).
port_free() {
	! ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && ! (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port [EXCEPT]: a free port other than EXCEPT, from a random start in
# 20000-32000: below the ephemeral range (32768+), where an outgoing
# connection could take it meanwhile.
free_port() {
	local p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
	for _ in $(seq 1 200); do
		if port_free "$p" && [ "$p" != "${1:-}" ]; then
			echo "$p"
			return 0
		fi
		p=$((p + 1))
		[ "$p" -gt 32000 ] && p=20000
	done
	die "no free port found"
}

# signal_and_wait SIG PID SECONDS: sends SIG to PID and waits up to SECONDS
# for it to go; fails if it is still there (a PID already gone succeeds).
signal_and_wait() {
	local pid=$2 i
	kill "-$1" "$pid" 2>/dev/null || return 0
	for ((i = 0; i < $3 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$pid" 2>/dev/null
}
