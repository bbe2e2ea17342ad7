#!/usr/bin/env bash
# Throw-away PostgreSQL cluster for the tests: installs Debian's packages if
# missing, runs its own cluster as user postgres on a free loopback port with a
# password-protected, non-superuser role owning one database.
#
#   postgresql.sh start   prints export DB_HOST=... DB_PORT=... DB_NAME=...
#                         DB_USER=... DB_PASSWORD=... PG_BIN=... (logs: stderr)
#   postgresql.sh stop    stops the cluster and removes its state
#   postgresql.sh pause|resume   stop/start the same cluster (tests of outages)
#   postgresql.sh psql-admin ARGS...   psql as the cluster's superuser
set -euo pipefail
SVC_NAME=postgresql
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

STATE_ROOT=${DBB_SERVICE_STATE:-/tmp/dbbackupd-services}
STATE=$STATE_ROOT/postgresql
DATA=$STATE/data
SOCK=$STATE/sock
ENVFILE=$STATE/env
DB_NAME=dbbackupd_test
DB_USER=dbbackupd

# Runs a command as the cluster's owner (postgres when we are root).
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then
		echo "$d"
	fi
}

install_packages() {
	if [ -n "$(pg_bindir)" ] && command -v pg_dump >/dev/null && command -v psql >/dev/null; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		log "PostgreSQL is not installed and we are not root: install postgresql"
		exit 1
	fi
	log "installing PostgreSQL from Debian's packages"
	export DEBIAN_FRONTEND=noninteractive
	# Debian's postinst would create and start a default cluster; we run our own.
	mkdir -p /etc/postgresql-common/createcluster.d
	if [ ! -e /etc/postgresql-common/createcluster.d/dbbackupd.conf ]; then
		echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/dbbackupd.conf
	fi
	apt-get update -qq >&2 || true
	apt-get install -y -qq --no-install-recommends postgresql postgresql-client >&2
	if [ -z "$(pg_bindir)" ]; then
		log "no initdb found after installing postgresql"
		exit 1
	fi
}

running() {
	[ -f "$ENVFILE" ] && [ -f "$DATA/postmaster.pid" ] &&
		as_owner "$(pg_bindir)/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

wait_ready() {
	local port=$1 i
	for i in $(seq 1 120); do
		if "$(pg_bindir)/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres; then
			return 0
		fi
		sleep 0.5
	done
	log "PostgreSQL did not become ready on port $port"
	tail -n 30 "$STATE/server.log" >&2 || true
	exit 1
}

pg_start_server() {
	local port=$1
	as_owner "$(pg_bindir)/pg_ctl" -D "$DATA" -l "$STATE/server.log" -w -t 60 \
		-o "-p $port -k $SOCK -c listen_addresses=127.0.0.1 -c fsync=off" start >&2
	wait_ready "$port"
}

admin_psql() {
	local port
	port=$(sed -nE 's/.*DB_PORT=([0-9]+).*/\1/p' "$ENVFILE" 2>/dev/null || true)
	as_owner "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "${port:-$1}" -U postgres "$@"
}

start() {
	install_packages
	if running; then
		cat "$ENVFILE"
		return 0
	fi
	if [ -f "$ENVFILE" ] && [ -d "$DATA" ]; then
		# state left from a stopped run: start it again
		local port
		port=$(sed -nE 's/.*DB_PORT=([0-9]+).*/\1/p' "$ENVFILE")
		if port_free "$port"; then
			pg_start_server "$port"
			cat "$ENVFILE"
			return 0
		fi
	fi
	stop_quiet
	mkdir -p "$STATE_ROOT"
	chmod 755 "$STATE_ROOT" 2>/dev/null || true
	mkdir -p "$STATE" "$SOCK"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$STATE" "$SOCK"
	fi
	chmod 700 "$STATE"
	if ! as_owner test -w "$STATE"; then
		log "user postgres cannot write $STATE: choose a DBB_SERVICE_STATE it can reach"
		exit 1
	fi

	local bindir port password
	bindir=$(pg_bindir)
	port=$(free_port)
	password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	log "initdb in $DATA ($bindir), port $port"
	as_owner "$bindir/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
		--auth-local=trust --auth-host=scram-sha-256 >"$STATE/initdb.log" 2>&1 || {
		cat "$STATE/initdb.log" >&2
		exit 1
	}
	pg_start_server "$port"
	as_owner "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$port" -U postgres -d postgres \
		-v pw="$password" -v role="$DB_USER" -v db="$DB_NAME" >&2 <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'pw' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE :"db" OWNER :"role";
SQL
	umask 077
	printf 'export DB_HOST=127.0.0.1 DB_PORT=%s DB_NAME=%s DB_USER=%s DB_PASSWORD=%s PG_BIN=%s\n' \
		"$port" "$DB_NAME" "$DB_USER" "$password" "$bindir" >"$ENVFILE.tmp"
	mv "$ENVFILE.tmp" "$ENVFILE"
	log "PostgreSQL ready on 127.0.0.1:$port (database $DB_NAME, role $DB_USER)"
	cat "$ENVFILE"
}

stop_quiet() {
	local bindir
	bindir=$(pg_bindir)
	if [ -n "$bindir" ] && [ -f "$DATA/postmaster.pid" ]; then
		as_owner "$bindir/pg_ctl" -D "$DATA" -m immediate -w stop >&2 2>&1 || true
	fi
	rm -rf "$STATE"
}

case "${1:-}" in
start) start ;;
stop)
	stop_quiet
	log "stopped"
	;;
pause)
	as_owner "$(pg_bindir)/pg_ctl" -D "$DATA" -m fast -w stop >&2
	;;
resume)
	port=$(sed -nE 's/.*DB_PORT=([0-9]+).*/\1/p' "$ENVFILE")
	pg_start_server "$port"
	;;
psql-admin)
	shift
	admin_psql "$@"
	;;
*)
	echo "usage: postgresql.sh start|stop" >&2
	exit 2
	;;
esac
