#!/usr/bin/env bash
# Starts (or stops) a throw-away Neo4j Community 5.26 with APOC on free
# loopback ports for the tests. `start` prints only export lines on stdout:
#   export NEO4J_URL=http://127.0.0.1:PORT NEO4J_USER=neo4j NEO4J_PASSWORD=... NEO4J_DATABASE=neo4j
# Neo4j and APOC come from Maven Central (there is no tarball there) through
# mvn, cached under ${DBB_CACHE_DIR:-$HOME/.cache/dbbackupd}; the server runs
# from those jars with its state under ${DBB_SERVICE_STATE:-/tmp/dbbackupd-services}/neo4j.
# Idempotent: `start` while it runs prints the same exports.
# `pause` kills the server (SIGKILL, as in a crash) and keeps its state;
# `resume` starts the same server again (same ports, password and data: the
# same exports) and waits until it answers.
# NEO4J_WITH_APOC=0 starts it without APOC (for the tests of that case).
set -euo pipefail

SVC_NAME=neo4j
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NEO4J_VERSION=5.26.19
APOC_VERSION=5.26.19
DIST=$CACHE_ROOT/neo4j-$NEO4J_VERSION
STATE=${DBB_SERVICE_STATE:-/tmp/dbbackupd-services}/neo4j

# mvn_copy OUTDIR GROUP:ARTIFACT...: copies the runtime closure of the
# artifacts (version $NEO4J_VERSION / $APOC_VERSION given inline) to OUTDIR.
mvn_copy() {
	local out=$1 work deps="" ga
	shift
	for ga in "$@"; do
		deps+="<dependency><groupId>${ga%%:*}</groupId><artifactId>$(echo "$ga" | cut -d: -f2)</artifactId><version>${ga##*:}</version></dependency>"
	done
	work=$(mktemp -d)
	cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.dbbackupd</groupId><artifactId>fetch</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>$deps</dependencies>
</project>
EOF
	if ! mvn_q -f "$work/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$out" >&2; then
		rm -rf "$work"
		return 1
	fi
	rm -rf "$work"
}

# The server's jars in $DIST/lib, APOC and the few libraries it needs that
# the server does not already ship in $DIST/plugins.
ensure_dist() {
	[ -f "$DIST/.complete" ] && return 0
	log "fetching Neo4j $NEO4J_VERSION and APOC $APOC_VERSION from Maven Central"
	local tmp j base
	tmp=$(mktemp -d "$CACHE_ROOT/.neo4j-fetch.XXXXXX")
	mvn_copy "$tmp/lib" "org.neo4j:neo4j:$NEO4J_VERSION" || {
		rm -rf "$tmp"
		die "mvn could not fetch org.neo4j:neo4j:$NEO4J_VERSION"
	}
	mvn_copy "$tmp/apoc" "org.neo4j.procedure:apoc-core:$APOC_VERSION" \
		"org.neo4j.procedure:apoc-common:$APOC_VERSION" || {
		rm -rf "$tmp"
		die "mvn could not fetch APOC $APOC_VERSION"
	}
	mkdir -p "$tmp/plugins"
	for j in "$tmp"/apoc/*.jar; do
		base=$(basename "$j" | sed -E 's/-[0-9][0-9A-Za-z.]*\.jar$//')
		if ! compgen -G "$tmp/lib/$base-[0-9]*.jar" >/dev/null; then
			mv "$j" "$tmp/plugins/"
		fi
	done
	rm -rf "$tmp/apoc"
	touch "$tmp/.complete"
	rm -rf "$DIST"
	mv "$tmp" "$DIST"
}

query_ok() {
	# shellcheck disable=SC1091
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
		-u "neo4j:$(cat "$STATE/password")" -H 'Content-Type: application/json' \
		-d '{"statement":"RETURN 1"}' "http://127.0.0.1:$(cat "$STATE/http_port")/db/neo4j/query/v2" 2>/dev/null) || true
	[ "$code" = 202 ]
}

running() {
	[ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null
}

print_exports() {
	echo "export NEO4J_URL=http://127.0.0.1:$(cat "$STATE/http_port") NEO4J_USER=neo4j NEO4J_PASSWORD=$(cat "$STATE/password") NEO4J_DATABASE=neo4j"
}

java_cmd() {
	local plugins="$DIST/plugins/*:" apoc=${NEO4J_WITH_APOC:-1}
	# a resumed server keeps the choice it was started with
	[ -s "$STATE/with_apoc" ] && apoc=$(cat "$STATE/with_apoc")
	[ "$apoc" = 0 ] && plugins=""
	echo java -Xms256m -Xmx512m -XX:+UseG1GC \
		--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED \
		--add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
		-cp "$plugins$STATE/conf/*:$DIST/lib/*"
}

do_start() {
	if running && query_ok; then
		print_exports
		return 0
	fi
	if running; then
		do_stop
	fi
	ensure_commands "${JAVA_SERVICE_TOOLS[@]}"
	mkdir -p "$CACHE_ROOT"
	ensure_dist
	rm -rf "$STATE"
	mkdir -p "$STATE/conf" "$STATE/data" "$STATE/logs" "$STATE/run" "$STATE/import"
	chmod 700 "$STATE"
	echo "${NEO4J_WITH_APOC:-1}" >"$STATE/with_apoc"
	local http bolt pass plugins_dir=$DIST/plugins
	[ "${NEO4J_WITH_APOC:-1}" = 0 ] && plugins_dir=$STATE/plugins && mkdir -p "$plugins_dir"
	http=$(free_port)
	bolt=$(free_port "$http")
	pass=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)
	[ ${#pass} -ge 12 ] || pass="dbb$(date +%s%N)"
	umask 077
	echo "$http" >"$STATE/http_port"
	echo "$bolt" >"$STATE/bolt_port"
	echo "$pass" >"$STATE/password"
	cat >"$STATE/conf/neo4j.conf" <<EOF
server.directories.data=$STATE/data
server.directories.logs=$STATE/logs
server.directories.run=$STATE/run
server.directories.import=$STATE/import
server.directories.plugins=$plugins_dir
server.default_listen_address=127.0.0.1
server.default_advertised_address=127.0.0.1
server.bolt.listen_address=127.0.0.1:$bolt
server.bolt.advertised_address=127.0.0.1:$bolt
server.http.listen_address=127.0.0.1:$http
server.http.advertised_address=127.0.0.1:$http
server.https.enabled=false
server.memory.pagecache.size=128m
server.memory.heap.max_size=512m
db.memory.transaction.total.max=256m
dbms.security.procedures.unrestricted=apoc.*
dbms.security.procedures.allowlist=apoc.*
dbms.usage_report.enabled=false
server.logs.gc.enabled=false
db.tx_log.rotation.retention_policy=2 files
EOF
	cat >"$STATE/conf/apoc.conf" <<EOF
apoc.export.file.enabled=false
apoc.import.file.enabled=false
EOF
	log "setting the initial password"
	# The password is a throw-away for this test instance; neo4j-admin only
	# takes it as an argument.
	# shellcheck disable=SC2046
	if ! NEO4J_HOME=$STATE NEO4J_CONF=$STATE/conf $(java_cmd) \
		org.neo4j.server.startup.Neo4jAdminCommand dbms set-initial-password "$pass" \
		>"$STATE/logs/admin.log" 2>&1 </dev/null; then
		cat "$STATE/logs/admin.log" >&2
		die "set-initial-password failed"
	fi
	launch
}

# Starts the server of the state in $STATE (ports, password and data are
# already there) and waits until it answers a query.
launch() {
	local pid
	log "starting Neo4j on http 127.0.0.1:$(cat "$STATE/http_port"), bolt 127.0.0.1:$(cat "$STATE/bolt_port")"
	# shellcheck disable=SC2046
	NEO4J_HOME=$STATE NEO4J_CONF=$STATE/conf setsid $(java_cmd) \
		org.neo4j.server.CommunityEntryPoint --home-dir="$STATE" --config-dir="$STATE/conf" \
		>>"$STATE/logs/console.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$STATE/pid"
	for _ in $(seq 1 240); do
		if query_ok; then
			log "Neo4j is up (pid $pid)"
			print_exports
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 40 "$STATE/logs/console.log" >&2
			die "Neo4j exited during start-up"
		fi
		sleep 0.5
	done
	tail -n 40 "$STATE/logs/console.log" >&2
	do_stop
	die "Neo4j did not answer within 120 s"
}

# pause: the database goes away as in a crash (SIGKILL: open connections are
# reset, new ones refused); its state is kept. resume: the same server (same
# ports, password and data, so the same exports) is started again and
# recovers; nothing to do if it runs.
do_pause() {
	[ -f "$STATE/http_port" ] || die "no Neo4j state in $STATE (start it first)"
	if running; then
		local pid
		pid=$(cat "$STATE/pid")
		signal_and_wait KILL "$pid" 10 && log "Neo4j (pid $pid) killed"
	fi
}

do_resume() {
	if [ ! -f "$STATE/http_port" ] || [ ! -f "$STATE/conf/neo4j.conf" ]; then
		die "no Neo4j state in $STATE (start it first)"
	fi
	if running && query_ok; then
		print_exports
		return 0
	fi
	if running; then
		die "Neo4j runs (pid $(cat "$STATE/pid")) but does not answer"
	fi
	launch
}

do_stop() {
	local pid
	if [ -f "$STATE/pid" ]; then
		pid=$(cat "$STATE/pid")
		if ! signal_and_wait TERM "$pid" 30; then
			log "Neo4j (pid $pid) did not stop, killing it"
			kill -9 "$pid" 2>/dev/null || true
		fi
	fi
	rm -rf "$STATE"
}

case "${1:-}" in
start) do_start ;;
stop) do_stop ;;
pause) do_pause ;;
resume) do_resume ;;
*)
	echo "usage: $0 start|stop|pause|resume" >&2
	exit 2
	;;
esac
