#!/usr/bin/env bash
# A real SMTP server for the notification tests: Python's aiosmtpd (PyPI) on
# a free loopback port, storing every message it receives in a Maildir.
#
#   tests/services/smtp.sh start   install (once, cached), start, print exports:
#       export SMTP_URL=smtp://127.0.0.1:PORT SMTP_MAILDIR=...
#   tests/services/smtp.sh stop    stop it and remove its state
#
# aiosmtpd is installed with pip into a venv keyed by its version under
# ${DBB_CACHE_DIR:-$HOME/.cache/dbbackupd}; state under
# ${DBB_SERVICE_STATE:-/tmp/dbbackupd-services}/smtp. Plain SMTP without
# STARTTLS: the daemon allows that only for a loopback host.
set -euo pipefail

AIOSMTPD_VERSION=${AIOSMTPD_VERSION:-1.4.6}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SVC_NAME=smtp
# shellcheck source=common.sh
. "$HERE/common.sh"
VENV=$CACHE_ROOT/aiosmtpd-$AIOSMTPD_VERSION-venv
STATE=${DBB_SERVICE_STATE:-/tmp/dbbackupd-services}/smtp

ensure_venv() {
	[ -f "$VENV/.installed" ] && return 0
	ensure_commands python3:python3 ss:iproute2
	rm -rf "$VENV"
	python3 -m venv "$VENV" >&2 || {
		apt_install python3-venv
		rm -rf "$VENV"
		python3 -m venv "$VENV" >&2
	}
	log "installing aiosmtpd $AIOSMTPD_VERSION from PyPI into $VENV"
	"$VENV/bin/pip" install -q "aiosmtpd==$AIOSMTPD_VERSION" >&2 || die "pip install aiosmtpd failed"
	touch "$VENV/.installed"
}

running() { [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null; }

print_exports() {
	echo "export SMTP_URL=smtp://127.0.0.1:$(cat "$STATE/port") SMTP_MAILDIR=$STATE/maildir"
}

do_start() {
	if running; then
		print_exports
		return 0
	fi
	ensure_venv
	rm -rf "$STATE"
	mkdir -p "$STATE/maildir/tmp" "$STATE/maildir/new" "$STATE/maildir/cur"
	local port
	port=$(free_port)
	echo "$port" >"$STATE/port"
	"$VENV/bin/python" -m aiosmtpd -n -l "127.0.0.1:$port" \
		-c aiosmtpd.handlers.Mailbox "$STATE/maildir" >"$STATE/log" 2>&1 &
	echo $! >"$STATE/pid"
	for _ in $(seq 1 100); do
		if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			print_exports
			return 0
		fi
		running || break
		sleep 0.1
	done
	cat "$STATE/log" >&2
	die "aiosmtpd did not start"
}

do_stop() {
	if running; then
		signal_and_wait TERM "$(cat "$STATE/pid")" 10 || signal_and_wait KILL "$(cat "$STATE/pid")" 5
	fi
	rm -rf "$STATE"
}

case "${1:-}" in
start) do_start ;;
stop) do_stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
