#!/usr/bin/env bash
# A real Keycloak for development and the tests, on a free loopback port.
#
#   tests/services/keycloak.sh start          fetch what is missing, start, wait, print exports:
#       export KEYCLOAK_URL=http://127.0.0.1:PORT KEYCLOAK_REALM=backup KEYCLOAK_CLIENT_ID=dbbackupd
#       export KEYCLOAK_STATE=... KEYCLOAK_CRON_SECRET_FILE=...
#   tests/services/keycloak.sh token ROLE     an access token of the ROLE user (admin, operator,
#                                             viewer, none) from the token endpoint
#   tests/services/keycloak.sh stop           stop it and remove its state
#   tests/services/keycloak.sh admin-token    a master-realm admin token (admin API, for tests)
#
# Keycloak comes from Maven Central (org.keycloak:keycloak-quarkus-dist) through
# mvn, is unpacked and built once (`kc.sh build --db=dev-file`) under
# ${DBB_CACHE_DIR:-$HOME/.cache/dbbackupd}, and runs `start --optimized` with its
# state under ${DBB_SERVICE_STATE:-/tmp/dbbackupd-services}/keycloak, importing
# setup/keycloak/backup-realm.json with fresh random secrets and passwords (kept
# in 0600 files there, never on a command line). Logs go to stderr, only export
# lines to stdout. Idempotent: `start` while it runs prints the same exports.
set -euo pipefail

KC_VERSION=${KC_VERSION:-26.5.6}
REALM=backup
CLIENT_ID=dbbackupd
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SVC_NAME=keycloak
# shellcheck source=common.sh
. "$HERE/common.sh"
REALM_FILE=$HERE/../../setup/keycloak/backup-realm.json
ZIP_DIR=$CACHE_ROOT/keycloak
DIST=$CACHE_ROOT/keycloak-$KC_VERSION-built
STATE=${DBB_SERVICE_STATE:-/tmp/dbbackupd-services}/keycloak
SECRETS=$STATE/secrets

# The distribution, unpacked and built for the dev-file database, once.
ensure_dist() {
	[ -f "$DIST/.built" ] && return 0
	local zip=$ZIP_DIR/keycloak-quarkus-dist-$KC_VERSION.zip tmp
	mkdir -p "$ZIP_DIR"
	if [ ! -s "$zip" ]; then
		log "fetching org.keycloak:keycloak-quarkus-dist:$KC_VERSION:zip from Maven Central"
		mvn_q dependency:copy \
			-Dartifact="org.keycloak:keycloak-quarkus-dist:$KC_VERSION:zip" \
			-DoutputDirectory="$ZIP_DIR" >&2 || die "mvn could not fetch Keycloak $KC_VERSION"
	fi
	tmp=$(mktemp -d "$CACHE_ROOT/.keycloak-build.XXXXXX")
	unzip -q "$zip" -d "$tmp" || {
		rm -rf "$tmp"
		die "cannot unpack $zip"
	}
	log "building Keycloak $KC_VERSION for the dev-file database (once)"
	if ! (cd "$tmp/keycloak-$KC_VERSION" && bin/kc.sh build --db=dev-file >&2); then
		rm -rf "$tmp"
		die "kc.sh build failed"
	fi
	touch "$tmp/keycloak-$KC_VERSION/.built"
	rm -rf "$DIST"
	mv "$tmp/keycloak-$KC_VERSION" "$DIST"
	rm -rf "$tmp"
}

random_secret() {
	head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32
}

base_url() { echo "http://127.0.0.1:$(cat "$STATE/port")"; }

running() {
	[ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null
}

realm_ok() {
	[ -f "$STATE/port" ] &&
		curl -fsS -o /dev/null --max-time 5 "$(base_url)/realms/$REALM/protocol/openid-connect/certs" 2>/dev/null
}

print_exports() {
	echo "export KEYCLOAK_URL=$(base_url) KEYCLOAK_REALM=$REALM KEYCLOAK_CLIENT_ID=$CLIENT_ID"
	echo "export KEYCLOAK_STATE=$STATE KEYCLOAK_CRON_SECRET_FILE=$SECRETS/cron_secret"
}

# The realm file with fresh secrets, where --import-realm finds it (0600).
write_realm() {
	local dest=$1
	(
		umask 077
		sed -e "s/\${DBB_KC_CLIENT_SECRET}/$(cat "$SECRETS/client_secret")/" \
			-e "s/\${DBB_KC_CRON_SECRET}/$(cat "$SECRETS/cron_secret")/" \
			-e "s/\${DBB_KC_ADMIN_PASSWORD}/$(cat "$SECRETS/password_admin")/" \
			-e "s/\${DBB_KC_OPERATOR_PASSWORD}/$(cat "$SECRETS/password_operator")/" \
			-e "s/\${DBB_KC_VIEWER_PASSWORD}/$(cat "$SECRETS/password_viewer")/" \
			-e "s/\${DBB_KC_NONE_PASSWORD}/$(cat "$SECRETS/password_none")/" \
			"$REALM_FILE" >"$dest"
	)
}

do_start() {
	if running && realm_ok; then
		print_exports
		return 0
	fi
	if running; then
		do_stop
	fi
	# jq: token answers; unzip: the distribution; openssl: not for Keycloak
	# itself, the keycloak e2e tests forge tokens with it
	ensure_commands "${JAVA_SERVICE_TOOLS[@]}" jq:jq unzip:unzip openssl:openssl
	mkdir -p "$CACHE_ROOT"
	ensure_dist
	[ -f "$REALM_FILE" ] || die "no realm file at $REALM_FILE"
	rm -rf "$STATE"
	mkdir -p "$STATE"
	(
		umask 077
		mkdir -p "$SECRETS"
		for f in client_secret cron_secret admin_password password_admin password_operator \
			password_viewer password_none; do
			random_secret >"$SECRETS/$f"
		done
	)
	# A private copy of the built distribution (hard links when possible):
	# Keycloak keeps its dev-file database and imports under its home.
	cp -al "$DIST" "$STATE/kc" 2>/dev/null || cp -a "$DIST" "$STATE/kc"
	rm -rf "$STATE/kc/data"
	mkdir -p "$STATE/kc/data/import"
	write_realm "$STATE/kc/data/import/$REALM-realm.json"

	local port mport
	port=$(free_port)
	mport=$(free_port "$port")
	echo "$port" >"$STATE/port"
	log "starting Keycloak $KC_VERSION on 127.0.0.1:$port"
	(
		cd "$STATE/kc"
		export KC_BOOTSTRAP_ADMIN_USERNAME=admin
		KC_BOOTSTRAP_ADMIN_PASSWORD=$(cat "$SECRETS/admin_password")
		export KC_BOOTSTRAP_ADMIN_PASSWORD
		export JAVA_OPTS_KC_HEAP="-Xms64m -Xmx768m"
		exec setsid bin/kc.sh start --optimized --http-enabled=true --http-host=127.0.0.1 \
			--http-port="$port" --http-management-port="$mport" --hostname-strict=false \
			--cache=local --import-realm </dev/null >"$STATE/keycloak.log" 2>&1
	) &
	echo $! >"$STATE/pid"

	local i
	for i in $(seq 1 480); do
		if realm_ok; then
			log "Keycloak answers after $((i / 2)) s"
			print_exports
			return 0
		fi
		if ! running; then
			tail -n 40 "$STATE/keycloak.log" >&2
			die "Keycloak exited during start-up"
		fi
		sleep 0.5
	done
	tail -n 40 "$STATE/keycloak.log" >&2
	do_stop
	die "Keycloak did not answer within 240 s"
}

do_stop() {
	if running; then
		local pid
		pid=$(cat "$STATE/pid")
		if ! signal_and_wait TERM "$pid" 30; then
			log "Keycloak did not stop in 30 s, killing it"
			# setsid made kc.sh the leader of its own process group
			kill -KILL -- "-$pid" 2>/dev/null || true
		fi
	fi
	rm -rf "$STATE"
}

# POSTs a form read from stdin to the realm's token endpoint (secrets never
# reach a command line) and prints the access token.
token_request() {
	local realm=$1 out
	out=$(curl -sS --max-time 20 -X POST --data-binary @- \
		-H 'Content-Type: application/x-www-form-urlencoded' \
		"$(base_url)/realms/$realm/protocol/openid-connect/token") || die "token endpoint unreachable"
	local tok
	tok=$(jq -r '.access_token // empty' <<<"$out")
	[ -n "$tok" ] || die "no token: $(jq -c '{error, error_description}' <<<"$out" 2>/dev/null || echo "$out")"
	echo "$tok"
}

do_token() {
	local role=${1:-} user
	case "$role" in
	admin | operator | viewer) user=backup-$role ;;
	none) user=backup-norole ;;
	*) die "usage: keycloak.sh token admin|operator|viewer|none" ;;
	esac
	running && [ -f "$STATE/port" ] || die "Keycloak is not running (keycloak.sh start)"
	printf 'grant_type=password&client_id=%s&client_secret=%s&username=%s&password=%s&scope=openid' \
		"$CLIENT_ID" "$(cat "$SECRETS/client_secret")" "$user" "$(cat "$SECRETS/password_$role")" |
		token_request "$REALM"
}

do_admin_token() {
	running && [ -f "$STATE/port" ] || die "Keycloak is not running (keycloak.sh start)"
	printf 'grant_type=password&client_id=admin-cli&username=admin&password=%s' \
		"$(cat "$SECRETS/admin_password")" | token_request master
}

case "${1:-}" in
start) do_start ;;
stop) do_stop ;;
token) do_token "${2:-}" ;;
admin-token) do_admin_token ;;
*)
	echo "usage: keycloak.sh start|stop|token ROLE|admin-token" >&2
	exit 2
	;;
esac
