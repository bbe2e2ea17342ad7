#!/usr/bin/env bash
# Neo4j benchmark: on a generated graph (default 200k nodes, 1M
# relationships) measures export and restore time and the daemon's peak RSS,
# standard export vs APOC's on the same graph in the same run, and prints the
# ratios. Targets (issue 7): standard export no slower than APOC's, daemon
# peak RSS <= 64 MiB.
#
#   tests/bench/neo4j.sh [BUILD_DIR]        (default: build)
#   NODES=200000 RELS_PER_NODE=5            graph size
#   APOC_RESTORE=1                          also time restoring APOC's export
#                                           (slow: every batch is parsed anew)
#
# It starts its own Neo4j (tests/services/neo4j.sh with a separate state
# directory) and stops it at the end.
set -uo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
bin=$build/dbbackupd
NODES=${NODES:-200000}
RELS_PER_NODE=${RELS_PER_NODE:-5}
export DBB_SERVICE_STATE=${BENCH_STATE:-/tmp/dbbackupd-bench}
work=$(mktemp -d /tmp/dbb-bench-neo4j.XXXXXX)
pid=""

[ -x "$bin" ] || {
	echo "bench: build the daemon first ($bin missing)" >&2
	exit 1
}

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	bash "$here/tests/services/neo4j.sh" stop
	rm -rf "$work"
}
trap cleanup EXIT

eval "$(bash "$here/tests/services/neo4j.sh" start)" || exit 1
export NEO4J_URL NEO4J_USER NEO4J_PASSWORD NEO4J_DATABASE
# shellcheck source=tests/e2e/neo4j_lib.sh
. "$here/tests/e2e/neo4j_lib.sh"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

echo "bench: generating $NODES nodes and $((NODES * RELS_PER_NODE)) relationships" >&2
t0=$(now)
n4j_wipe >/dev/null || exit 1
n4j_q 'CREATE INDEX bench_i IF NOT EXISTS FOR (n:N) ON (n.i)' >/dev/null || exit 1
n4j_q "UNWIND range(1, $NODES) AS i CALL { WITH i CREATE (:N {i: i, name: 'node ' + toString(i), score: i / 7.0, born: date('2000-01-01') + duration({days: i % 9000}), tags: ['a', 'b', toString(i % 10)]}) } IN TRANSACTIONS OF 20000 ROWS" >/dev/null || exit 1
n4j_q 'CALL db.awaitIndexes(600)' >/dev/null
n4j_q "MATCH (a:N) CALL { WITH a UNWIND range(1, $RELS_PER_NODE) AS k MATCH (b:N {i: (a.i * 7919 + k * 104729) % $NODES + 1}) CREATE (a)-[:R {k: k, w: k * 0.25, at: datetime('2020-01-01T00:00:00Z')}]->(b) } IN TRANSACTIONS OF 5000 ROWS" >/dev/null || exit 1
echo "bench: graph ready in $(secs "$t0" "$(now)") s" >&2

mkdir -p "$work/backups" "$work/keys"
"$bin" dev-keys "$work/keys" >/dev/null
tok=$("$bin" token --key "$work/keys/private.pem" --role operator --ttl 36000)

# start_daemon: a fresh daemon per measurement, so VmHWM is that operation's.
start_daemon() {
	: >"$work/daemon.log"
	env DB_TYPE=neo4j PORT=0 BIND_ADDRESS=127.0.0.1 BACKUP_DIR="$work/backups" \
		AUTH_JWKS_FILE="$work/keys/jwks.json" "$bin" >>"$work/daemon.log" 2>&1 &
	pid=$!
	local port
	for _ in $(seq 1 100); do
		port=$(sed -nE 's/.*listening on http:\/\/[^ ]*:([0-9]+).*/\1/p' "$work/daemon.log" | tail -n 1)
		if [ -n "$port" ] && curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null; then
			base="http://127.0.0.1:$port"
			return 0
		fi
		sleep 0.1
	done
	echo "bench: daemon did not start" >&2
	cat "$work/daemon.log" >&2
	exit 1
}

# run NAME METHOD PATH: times one request on a fresh daemon; sets
# last_secs, last_rss_kib, last_body.
run() {
	local name=$1 method=$2 path=$3 t code
	start_daemon
	t=$(now)
	code=$(curl -sS -o "$work/body" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $tok" "$base$path")
	last_secs=$(secs "$t" "$(now)")
	last_rss_kib=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
	last_body=$(cat "$work/body")
	kill "$pid" && wait "$pid" 2>/dev/null
	pid=""
	if [ "$code" != 200 ]; then
		echo "bench: $name failed ($code): $last_body" >&2
		exit 1
	fi
	printf '%-28s %8s s   peak RSS %6d KiB\n' "$name" "$last_secs" "$last_rss_kib"
}

echo "graph: $NODES nodes, $((NODES * RELS_PER_NODE)) relationships"
run "export standard" POST "/backup/create?compress=true"
std_secs=$last_secs std_rss=$last_rss_kib
std_file=$(jq -r .filename <<<"$last_body")
run "export apoc" POST "/backup/create?compress=true&use_apoc=true"
apoc_secs=$last_secs apoc_rss=$last_rss_kib
apoc_file=$(jq -r .filename <<<"$last_body")
printf '%-28s %s / %s\n' "backup sizes (gzip)" "$(stat -c %s "$work/backups/$std_file")" "$(stat -c %s "$work/backups/$apoc_file")"
# a cheap fingerprint of the graph (the e2e tests compare it exactly)
fingerprint() {
	n4j_q 'MATCH (n) RETURN count(n), sum(n.i), sum(size(n.name)), collect(DISTINCT labels(n))' | jq -c '.data.values'
	n4j_q 'MATCH (a)-[r]->(b) RETURN count(r), sum(r.k * a.i + b.i), sum(r.w), collect(DISTINCT type(r))' | jq -c '.data.values'
}
fingerprint >"$work/original.txt"

run "restore standard" POST "/backup/restore/$std_file?create_safety_backup=false"
rstd_secs=$last_secs rstd_rss=$last_rss_kib
fingerprint >"$work/restored.txt"
if cmp -s "$work/original.txt" "$work/restored.txt"; then echo "restore standard: same counts and sums"; else echo "restore standard: GRAPH DIFFERS"; fi
rapoc_secs="" rapoc_rss=""
if [ "${APOC_RESTORE:-0}" = 1 ]; then
	run "restore apoc" POST "/backup/restore/$apoc_file?create_safety_backup=false"
	rapoc_secs=$last_secs rapoc_rss=$last_rss_kib
fi

echo "--- ratios ---"
awk -v s="$std_secs" -v a="$apoc_secs" 'BEGIN { printf "export time standard/apoc: %.2f (target <= 1.00)\n", (a > 0 ? s / a : 0) }'
if [ -n "$rapoc_secs" ]; then
	awk -v s="$rstd_secs" -v a="$rapoc_secs" 'BEGIN { printf "restore time standard/apoc: %.2f\n", (a > 0 ? s / a : 0) }'
else
	echo "restore time apoc: not measured (APOC_RESTORE=1 to measure)"
fi
max=$std_rss
for r in $apoc_rss $rstd_rss $rapoc_rss; do [ "$r" -gt "$max" ] && max=$r; done
awk -v m="$max" 'BEGIN { printf "daemon peak RSS: %.1f MiB (target <= 64)\n", m / 1024 }'
