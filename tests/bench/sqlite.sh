#!/usr/bin/env bash
# Memory and speed of backing up and restoring a large SQLite database
# through the API, against the native tools in the same run:
#   create:  daemon POST /backup/create   vs  sqlite3 .backup + gzip -6
#   create under a steady writer (tests/e2e/sqlite_writer.py committing 10
#            rows every ~2 ms): three creates, each against the idle create
#            (issue 13: within 1.5x)
#   restore: daemon POST /backup/restore  vs  gunzip -c > file + file copy,
#            in pairs (RESTORE_RUNS)
#   create of the same database in rollback-journal mode: how long it is
#            read-locked (the daemon's log)
# Prints wall times, ratios, the daemon's own per-phase times (its debug
# log), the daemon's peak RSS (VmHWM) and the load average.
#   tests/bench/sqlite.sh [SIZE_MIB]      (default 1024)
#   RESTORE_RUNS=N: restore/native pairs (default 3); the median ratio counts
# Needs a built build/dbbackupd, sqlite3, gzip, python3.
set -eEuo pipefail
trap 'echo "bench/sqlite.sh: failed at line $LINENO" >&2' ERR
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${DBBACKUPD:-$here/build/dbbackupd}
size_mib=${1:-1024}
restore_runs=${RESTORE_RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/dbb-bench.XXXXXX")
pid=""
writer=""
cleanup() {
	[ -n "$writer" ] && kill "$writer" 2>/dev/null && wait "$writer" 2>/dev/null
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
row() { printf '%-44s %7ss %7ss %6sx\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }

echo "building a ${size_mib} MiB SQLite database..." >&2
rows=$((size_mib * 1024 / 2))
# half random (incompressible), half text (compressible), like real data
sqlite3 "$work/app.db" "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB, s TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < $rows)
INSERT INTO t(b, s) SELECT randomblob(900), printf('%0900d', i) FROM n;" >/dev/null
ls -l "$work/app.db" >&2

"$bin" dev-keys "$work/keys" >/dev/null
mkdir -p "$work/backups"
PORT=0 LOG_LEVEL=debug SQLITE_PATH="$work/app.db" BACKUP_DIR="$work/backups" \
	AUTH_JWKS_FILE="$work/keys/jwks.json" "$bin" >"$work/daemon.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
	port=$(sed -nE 's/.*listening on http:\/\/[^ ]*:([0-9]+).*/\1/p' "$work/daemon.log")
	[ -n "$port" ] && break
	sleep 0.1
done
base=http://127.0.0.1:$port
tok=$("$bin" token --key "$work/keys/private.pem" --role operator --ttl 7200)
# post PATH: the JSON answer; a failure stops the run with the answer and
# the end of the daemon's log
post() {
	if ! curl -sf -o "$work/answer.json" -X POST -H "Authorization: Bearer $tok" "$base$1"; then
		echo "POST $1 failed: $(cat "$work/answer.json" 2>/dev/null)" >&2
		tail -5 "$work/daemon.log" >&2
		return 1
	fi
	cat "$work/answer.json"
}
create() {
	post "/backup/create?compress=true" | jq -r .filename
}

t0=$(now)
file=$(create)
t1=$(now)
sqlite3 "$work/app.db" ".backup '$work/native.db'" && gzip -6 -c "$work/native.db" >"$work/native.db.gz"
t2=$(now)
create_d=$(elapsed "$t0" "$t1")
create_n=$(elapsed "$t1" "$t2")
rm -f "$work/native.db"

# the same create while an application commits steadily
python3 "$here/tests/e2e/sqlite_writer.py" "$work/app.db" "$work/writer.status" 10 2000 2 &
writer=$!
sleep 1
busy=()
for i in 1 2 3; do
	t0=$(now)
	f=$(create)
	t1=$(now)
	busy+=("$(elapsed "$t0" "$t1")")
	rm -f "$work/backups/$f" "$work/backups/$f.sha256"
done
kill "$writer" && wait "$writer" || true
writer=""
writer_status=$(cat "$work/writer.status")

# restores in pairs, daemon then native, so that each ratio compares two
# runs made under the same load; the median ratio is the figure
# (the native copy is then synced too, timed apart: the daemon's restore is
# durable when it answers, gunzip | cp is not)
restore_d=()
restore_n=()
restore_s=()
for i in $(seq 1 "$restore_runs"); do
	t0=$(now)
	post "/backup/restore/$file?create_safety_backup=false" >/dev/null
	t1=$(now)
	gunzip -c "$work/native.db.gz" >"$work/restored.db" && cp "$work/restored.db" "$work/app-copy.db"
	t2=$(now)
	sync "$work/app-copy.db"
	t3=$(now)
	rm -f "$work/restored.db" "$work/app-copy.db"
	restore_d+=("$(elapsed "$t0" "$t1")")
	restore_n+=("$(elapsed "$t1" "$t2")")
	restore_s+=("$(elapsed "$t1" "$t3")")
done
rss_kib=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")

# how long a rollback-journal database is read-locked by a create
sqlite3 "$work/app.db" "PRAGMA journal_mode=DELETE" >/dev/null
t0=$(now)
f=$(create)
t1=$(now)
create_rollback=$(elapsed "$t0" "$t1")

printf '%-44s %8s %8s %7s\n' "" daemon native ratio
row "create (sqlite .backup + gzip -6)" "$create_d" "$create_n"
for i in 0 1 2; do
	row "create $((i + 1)) under a writer (vs idle create)" "${busy[$i]}" "$create_d"
done
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratios=()
ratios_sync=()
for i in "${!restore_d[@]}"; do
	row "restore $((i + 1)) (gunzip -c > file + cp)" "${restore_d[$i]}" "${restore_n[$i]}"
	row "restore $((i + 1)) (the same + sync of the copy)" "${restore_d[$i]}" "${restore_s[$i]}"
	ratios+=("$(ratio "${restore_d[$i]}" "${restore_n[$i]}")")
	ratios_sync+=("$(ratio "${restore_d[$i]}" "${restore_s[$i]}")")
done
printf '%-44s %26sx\n' "restore, median ratio (gunzip -c + cp)" "$(printf '%s\n' "${ratios[@]}" | median)"
printf '%-44s %26sx\n' "restore, median ratio (the same + sync)" "$(printf '%s\n' "${ratios_sync[@]}" | median)"
row "create, rollback journal (vs WAL create)" "$create_rollback" "$create_d"
echo "writer: $writer_status"
echo "daemon phases (its debug log):"
grep -E 'sqlite (dump|restore|check)|read-locked' "$work/daemon.log" | sed -E 's/^[^ ]+ (debug|info) /  /'
printf 'backup size: daemon %s bytes, gzip -6 %s bytes\n' "$(stat -c %s "$work/backups/$file")" "$(stat -c %s "$work/native.db.gz")"
printf 'daemon peak RSS (VmHWM): %d KiB = %.1f MiB for a %d MiB database\n' "$rss_kib" "$(awk -v k="$rss_kib" 'BEGIN { print k / 1024 }')" "$size_mib"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
