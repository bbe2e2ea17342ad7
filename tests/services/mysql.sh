#!/usr/bin/env bash
# Throw-away MariaDB server for the tests: own datadir, socket and free
# loopback port under $DBB_SERVICE_STATE/mysql.
#
#   tests/services/mysql.sh start   installs mariadb-server if missing, starts
#                                   it (idempotent) and prints export lines:
#                                   DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD
#                                   (+ MYSQL_SOCKET, MYSQL_ADMIN_USER for tests)
#   tests/services/mysql.sh stop    stops it and removes its state
#   tests/services/mysql.sh pause   kills the server (SIGKILL, as in a crash),
#                                   keeping its state (tests of outages)
#   tests/services/mysql.sh resume  starts the same server again (same data,
#                                   socket, port: the same exports)
#
# Logs go to stderr; stdout carries only the export lines.
set -euo pipefail
SVC_NAME=mysql
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

STATE_ROOT=${DBB_SERVICE_STATE:-/tmp/dbbackupd-services}
STATE="$STATE_ROOT/mysql"
DATA="$STATE/data"
RUN="$STATE/run"
TMPD="$STATE/tmp"
# A Unix socket path must stay under 108 bytes: a deep state dir gets its
# socket in a short directory of its own, remembered in $STATE/socket.
SOCK="$RUN/mysqld.sock"
if [ -s "$STATE/socket" ]; then
	SOCK=$(cat "$STATE/socket")
fi
PIDFILE="$RUN/mysqld.pid"
ENVFILE="$STATE/env"
LOG="$STATE/mariadbd.log"
DB_NAME=dbbtest
DB_USER=dbbuser

find_tool() {
	local t
	for t in "$@"; do
		if command -v "$t" >/dev/null 2>&1; then
			command -v "$t"
			return 0
		fi
		if [ -x "/usr/sbin/$t" ]; then
			echo "/usr/sbin/$t"
			return 0
		fi
	done
	return 1
}

install_if_missing() {
	if find_tool mariadbd mysqld >/dev/null && find_tool mariadb mysql >/dev/null &&
		find_tool mariadb-dump mysqldump >/dev/null &&
		find_tool mariadb-install-db mysql_install_db >/dev/null; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		log "mariadb-server is missing and this is not root: install mariadb-server mariadb-client"
		exit 1
	fi
	log "installing mariadb-server and mariadb-client with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >&2
}

# The admin account: the OS user, authenticated by unix_socket over our socket.
admin_sql() {
	"$CLIENT" --no-defaults --socket="$SOCK" --user="$(id -un)" --batch --skip-column-names "$@"
}

running() {
	[ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && [ -S "$SOCK" ] &&
		admin_sql -e 'SELECT 1' >/dev/null 2>&1
}

# launch_server PORT: starts the server of the state in $STATE (in the
# background) and waits until it answers; the same command line at start and
# at resume. Fails (server stopped) if it does not come up within 60 s.
launch_server() {
	local port=$1 pid run_as=()
	if [ -s "$STATE/run_as" ]; then
		run_as=("$(cat "$STATE/run_as")")
	fi
	log "starting $SERVER on 127.0.0.1:$port"
	"$SERVER" --no-defaults --datadir="$DATA" "${run_as[@]}" \
		--socket="$SOCK" --pid-file="$PIDFILE" --port="$port" --tmpdir="$TMPD" \
		--bind-address=127.0.0.1 --skip-name-resolve --log-error="$LOG" \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
		--innodb-buffer-pool-size=256M --innodb-log-file-size=256M \
		--innodb-flush-log-at-trx-commit=2 --max-allowed-packet=256M \
		--event-scheduler=OFF >/dev/null 2>&1 </dev/null &
	pid=$!
	for _ in $(seq 1 600); do
		if admin_sql -e 'SELECT 1' >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	return 1
}

find_tools() {
	SERVER=$(find_tool mariadbd mysqld)
	CLIENT=$(find_tool mariadb mysql)
	INSTALL_DB=$(find_tool mariadb-install-db mysql_install_db)
}

start() {
	install_if_missing
	find_tools

	if [ -s "$ENVFILE" ] && running; then
		cat "$ENVFILE"
		return 0
	fi
	# Stale state from an earlier run: start over.
	stop_server
	remove_state
	mkdir -p "$DATA" "$RUN" "$TMPD"
	SOCK="$RUN/mysqld.sock"
	if [ ${#SOCK} -gt 100 ]; then
		SOCK="$(mktemp -d /tmp/dbb-mysql.XXXXXX)/mysqld.sock"
		echo "$SOCK" >"$STATE/socket"
	fi

	local run_as=()
	if [ "$(id -u)" -eq 0 ]; then
		if id mysql >/dev/null 2>&1 && runuser -u mysql -- test -x "$STATE_ROOT" 2>/dev/null; then
			chown -R mysql: "$STATE" "$(dirname "$SOCK")"
			run_as=(--user=mysql)
		else
			run_as=(--user=root)
		fi
	fi

	log "initialising $DATA"
	if ! "$INSTALL_DB" --no-defaults --datadir="$DATA" "${run_as[@]}" \
		--auth-root-authentication-method=socket --skip-test-db --skip-name-resolve --tmpdir="$TMPD" \
		>"$STATE/install.log" 2>&1; then
		cat "$STATE/install.log" >&2
		exit 1
	fi

	if [ ${#run_as[@]} -gt 0 ]; then
		echo "${run_as[0]}" >"$STATE/run_as"
	fi
	local port attempt
	for attempt in 1 2 3 4 5; do
		port=$(free_port)
		if launch_server "$port"; then
			break
		fi
		port=""
		log "server did not come up (attempt $attempt):"
		tail -n 5 "$LOG" >&2 || true
	done
	if [ -z "$port" ]; then
		exit 1
	fi

	local password
	password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 20)
	# The anonymous ''@localhost accounts would shadow the user on
	# 127.0.0.1; there is no test database.
	admin_sql <<SQL
DROP USER IF EXISTS ''@'localhost';
DROP USER IF EXISTS ''@'$(uname -n)';
CREATE DATABASE \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER '$DB_USER'@'%' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'%';
FLUSH PRIVILEGES;
SQL
	if ! MYSQL_PWD="$password" "$CLIENT" --no-defaults -h 127.0.0.1 -P "$port" -u "$DB_USER" \
		"$DB_NAME" -e 'SELECT 1' >/dev/null; then
		log "cannot log in as $DB_USER over TCP"
		exit 1
	fi
	umask 077
	cat >"$ENVFILE" <<EOF
export DB_HOST=127.0.0.1 DB_PORT=$port DB_NAME=$DB_NAME DB_USER=$DB_USER DB_PASSWORD=$password
export MYSQL_SOCKET=$SOCK MYSQL_ADMIN_USER=$(id -un)
EOF
	log "ready"
	cat "$ENVFILE"
}

stop_server() {
	if [ -f "$PIDFILE" ]; then
		local pid
		pid=$(cat "$PIDFILE")
		if ! signal_and_wait TERM "$pid" 30; then
			log "server $pid did not stop, killing it"
			kill -9 "$pid" 2>/dev/null || true
		fi
	fi
}

remove_state() {
	if [ -s "$STATE/socket" ]; then
		rm -rf "$(dirname "$(cat "$STATE/socket")")"
	fi
	rm -rf "$STATE"
}

stop() {
	stop_server
	remove_state
	log "stopped"
}

# pause: the server dies as in a crash (SIGKILL); its data, socket path and
# port are kept. (SIGSTOP would leave every connection open and hanging, a
# hung server rather than one that went away; a clean shutdown would wait
# for the running statements. A kill resets the connections at once, refuses
# new ones, and the restart exercises crash recovery of what was committed.)
pause() {
	[ -s "$ENVFILE" ] || {
		log "no server state in $STATE (start it first)"
		exit 1
	}
	if [ -f "$PIDFILE" ]; then
		local pid
		pid=$(cat "$PIDFILE")
		signal_and_wait KILL "$pid" 10 && log "server $pid killed"
	fi
}

# resume: the same server (datadir, socket, port: the same exports) is
# started again; nothing to do if it runs.
resume() {
	[ -s "$ENVFILE" ] || {
		log "no server state in $STATE (start it first)"
		exit 1
	}
	find_tools
	if ! running; then
		local port
		port=$(sed -nE 's/.*DB_PORT=([0-9]+).*/\1/p' "$ENVFILE")
		if ! launch_server "$port"; then
			log "server did not come up again on port $port:"
			tail -n 20 "$LOG" >&2 || true
			exit 1
		fi
		log "ready again"
	fi
	cat "$ENVFILE"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
pause) pause ;;
resume) resume ;;
*)
	echo "usage: $0 start|stop|pause|resume" >&2
	exit 2
	;;
esac
