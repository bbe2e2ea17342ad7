#!/usr/bin/env bash
# Issue 19: the cost of encryption in a create, same run: two daemons on the
# same SQLite database, one plain, one with ENCRYPT_RECIPIENTS (the age
# layer between the codec and the hash), creates taken in turn (plain,
# encrypted, plain, ...) so both see the same load; prints each pair, the
# median ratio of wall times (target: at most 1.15x) and of the daemon's
# CPU seconds (user + system), each daemon's peak RSS (VmHWM;
# target: within 2 MiB) and the load average.
#   tests/bench/age_create.sh [SIZE_MIB] [RUNS]   (defaults 512, 5)
#   COMPRESS=true|zstd|false (default true: gzip)
# Needs a built build/dbbackupd (the optimised build), sqlite3, jq, curl.
set -eEuo pipefail
trap 'echo "bench/age_create.sh: failed at line $LINENO" >&2' ERR
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${DBBACKUPD:-$here/build/dbbackupd}
size_mib=${1:-512}
runs=${2:-5}
compress=${COMPRESS:-true}
work=$(mktemp -d "${TMPDIR:-/tmp}/dbb-bench-age.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "building a ${size_mib} MiB SQLite database..." >&2
rows=$((size_mib * 1024 / 2))
# half random (incompressible), half text (compressible), like real data
sqlite3 "$work/app.db" "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB, s TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < $rows)
INSERT INTO t(b, s) SELECT randomblob(900), printf('%0900d', i) FROM n;" >/dev/null
"$bin" dev-keys "$work/keys" >/dev/null
"$bin" keygen "$work/key.txt" >"$work/recipient" 2>/dev/null

# start NAME [VAR=value...]: a daemon with its own backups directory
start() {
	local name=$1 port
	shift
	mkdir -p "$work/$name"
	env PORT=0 SQLITE_PATH="$work/app.db" BACKUP_DIR="$work/$name" \
		AUTH_JWKS_FILE="$work/keys/jwks.json" "$@" "$bin" >"$work/$name.log" 2>&1 &
	pids+=($!)
	eval "pid_$name=$!"
	for _ in $(seq 100); do
		port=$(sed -nE 's/.*listening on http:\/\/[^ ]*:([0-9]+).*/\1/p' "$work/$name.log")
		[ -n "$port" ] && break
		sleep 0.1
	done
	eval "base_$name=http://127.0.0.1:$port"
}
start plain
start enc ENCRYPT_RECIPIENTS="$(cat "$work/recipient")"
tok=$("$bin" token --key "$work/keys/private.pem" --role operator --ttl 7200)

# cpu PID: the process's user + system CPU seconds so far
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }

# create NAME: one backup (removed after), prints its seconds; the daemon's
# CPU seconds for it go to $work/NAME.cpu
create() {
	local base t0 t1 f pid c0
	eval "base=\$base_$1"
	eval "pid=\$pid_$1"
	c0=$(cpu "$pid")
	t0=$(now)
	curl -sf -o "$work/answer.json" -X POST -H "Authorization: Bearer $tok" \
		"$base/backup/create?compress=$compress"
	t1=$(now)
	elapsed "$c0" "$(cpu "$pid")" >"$work/$1.cpu"
	f=$(jq -r .filename "$work/answer.json")
	ls -l "$work/$1/$f" | awk '{ print $5 }' >"$work/$1.size"
	rm -f "$work/$1/$f" "$work/$1/$f.sha256"
	elapsed "$t0" "$t1"
}

create plain >/dev/null # warm the page cache
ratios=()
cpu_ratios=()
printf '%-5s %8s %8s %7s %9s %9s %7s   load\n' run plain age ratio "plain cpu" "age cpu" ratio
for i in $(seq 1 "$runs"); do
	p=$(create plain)
	pc=$(cat "$work/plain.cpu")
	e=$(create enc)
	ec=$(cat "$work/enc.cpu")
	r=$(ratio "$e" "$p")
	rc=$(ratio "$ec" "$pc")
	ratios+=("$r")
	cpu_ratios+=("$rc")
	printf '%-5s %7ss %7ss %6sx %8ss %8ss %6sx   %s\n' "$i" "$p" "$e" "$r" "$pc" "$ec" "$rc" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
done
rss_plain=$(awk '/VmHWM/ { print $2 }' "/proc/$pid_plain/status")
rss_enc=$(awk '/VmHWM/ { print $2 }' "/proc/$pid_enc/status")
echo "database: $(stat -c %s "$work/app.db") bytes; backup: plain $(cat "$work/plain.size"), age $(cat "$work/enc.size") bytes (compress=$compress)"
echo "median ratio age/plain: wall $(printf '%s\n' "${ratios[@]}" | median)x (target <= 1.15x), daemon CPU $(printf '%s\n' "${cpu_ratios[@]}" | median)x"
echo "peak RSS (VmHWM): plain ${rss_plain} KiB, age ${rss_enc} KiB, difference $((rss_enc - rss_plain)) KiB (target within 2048)"
echo "uptime: $(uptime)"
