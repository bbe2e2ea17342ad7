#!/usr/bin/env bash
# Benchmark (not a test): the daemon's PostgreSQL create and restore against
# the native pipelines, on a pgbench database, in one run.
#
#   tests/bench/postgresql.sh [--scale N] [--level L] [--runs R] [--build DIR]
#                             [--data pgbench|text]
#
# Prints wall time, peak RSS and file size for
#   create:  daemon  vs  pg_dump | gzip -L  and  pg_dump | pigz -L
#            (and pg_dump > /dev/null: the producer alone, the floor)
#            daemon compress=zstd  vs  pg_dump | zstd -3 -T0  and  | gzip -6
#   restore: daemon  vs  gunzip -c file | psql --single-transaction
#            daemon (.zst)  vs  zstd -dc file | psql --single-transaction
#            the default restore (safety backup on)  vs  the same native
#            pipeline, with and without the native's reset of the database
#            (DROP SCHEMA public CASCADE, what dropdb/createdb does here;
#            the daemon cleans the database itself) timed
# --data pgbench (default): pgbench's tables (blank-padded filler: a dump
# gzip squeezes almost for free); --data text: a table of varied text
# (words, md5 hex, numbers, timestamps) about as large for the same scale,
# closer to what users keep and far less compressible.
# and the ratios (daemon / native). The creates, then the restores, run R
# times (default 3), interleaved: each ratio is printed as the ratio of the
# medians and as the median of the run-by-run ratios ("paired", with its
# range), the steadier of the two on a noisy machine. COMPRESS_THREADS in the
# environment is passed to the daemon (default: all cores). Uses
# tests/services/postgresql.sh for a throw-away cluster (started if needed,
# left running if it was running).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
scale=20
level=6
runs=3
data=pgbench
build="$src/build"
while [ $# -gt 0 ]; do
	case "$1" in
	--scale) scale=$2; shift 2 ;;
	--level) level=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--data) data=$2; shift 2 ;;
	-h | --help) sed -n 2,28p "$0"; exit 0 ;;
	*) echo "unknown argument $1" >&2; exit 2 ;;
	esac
done
bin=${DBBACKUPD:-$build/dbbackupd}
[ -x "$bin" ] || { echo "no dbbackupd at $bin (build first, or --build DIR)" >&2; exit 1; }
for t in pigz zstd curl jq; do
	command -v "$t" >/dev/null || { echo "missing $t (apt-get install pigz time curl jq)" >&2; exit 1; }
done

svc="$src/tests/services/postgresql.sh"
started_here=0
if ! [ -f "${DBB_SERVICE_STATE:-/tmp/dbbackupd-services}/postgresql/env" ]; then
	started_here=1
fi
eval "$(bash "$svc" start)"
export PGPASSWORD="$DB_PASSWORD"
conn=(-h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$DB_NAME")

work=$(mktemp -d "${TMPDIR:-/tmp}/dbb-bench.XXXXXX")
daemon_pid=""
cleanup() {
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	rm -rf "$work"
	if [ "$started_here" = 1 ]; then bash "$svc" stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# Clean database, then pgbench data.
reset_db() {
	psql -X -q "${conn[@]}" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SET client_min_messages = warning;
DROP SCHEMA public CASCADE;
CREATE SCHEMA public;
SQL
}
# Varied text: ~20-80 words from a 200-word list, an md5, numbers and a
# timestamp per row; 60,000 rows per scale unit (~15 MB).
text_data() {
	psql -X -q "${conn[@]}" -v ON_ERROR_STOP=1 -v rows="$((scale * 60000))" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE TABLE words AS SELECT w FROM regexp_split_to_table(
 'the of and to in is that for it as was with be by on not he this are or his from at which
  but have an they you were her she there been one all we their has would when if so no what
  my out up more time about can them some into only other could new like than then its two
  may first any these see now people way well our should because each just those how where
  must back much after year work over most make also made before many through down did get
  between own under never day same another know while last might us great old year off come
  since against go came right used take three states himself few house use during without
  again place around however home small found thought went say part once general high upon
  school every does got united left number course war until always away something fact
  though water less public put think almost hand enough far took head yet government system
  better set told nothing night end why called didnt eyes find going look asked later knew
  point next program city business give group toward young days let room president side
  social given present several order national possible rather second face per among form
  important often things looked early white case john become large big need four within felt', '\s+') AS w;
CREATE TABLE docs (
  id bigint PRIMARY KEY,
  title text NOT NULL,
  body text NOT NULL,
  digest text NOT NULL,
  amount numeric(12, 2),
  created timestamptz NOT NULL
);
WITH ws AS (SELECT array_agg(w) AS a FROM words)
INSERT INTO docs
SELECT g,
       initcap(a[1 + (g * 7) % 200] || ' ' || a[1 + (g * 13) % 200]),
       (SELECT string_agg(a[1 + floor(random() * array_length(a, 1))::int + 0 * s], ' ')
          FROM generate_series(1, 20 + (g % 61)) AS s),
       md5(g::text || random()::text),
       round((random() * 100000)::numeric, 2),
       now() - (random() * interval '3 years')
  FROM ws, generate_series(1, :rows) AS g;
CREATE INDEX docs_created ON docs (created);
DROP TABLE words;
SQL
}
reset_db
if [ "$data" = text ]; then
	echo "building a text database, scale $scale ..." >&2
	text_data
else
	echo "building a pgbench database, scale $scale ..." >&2
	"${PG_BIN:-/usr/lib/postgresql/15/bin}/pgbench" -i -q -s "$scale" "${conn[@]}" >/dev/null 2>&1 ||
		pgbench -i -q -s "$scale" "${conn[@]}" >/dev/null 2>&1
fi
db_size=$(psql -X -At "${conn[@]}" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")

maxrss() { # max "%M" over the time files given
	cat "$@" | awk 'BEGIN{m=0} {if ($1+0>m) m=$1+0} END{print m}'
}
# timed RSSFILE CMD...: runs CMD, writing its peak RSS (KiB) to RSSFILE.
timed() {
	local out=$1
	shift
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o "$out" "$@"
	else
		echo 0 >"$out"
		"$@"
	fi
}
[ -x /usr/bin/time ] || echo "(no /usr/bin/time: apt-get install time for the tools' RSS)" >&2

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }

native_create() { # gzip|pigz|zstd
	local t0 t1 args=(-"$level")
	[ "$1" = zstd ] && args=(-q -3 -T0)
	sync
	t0=$(date +%s.%N)
	timed "$work/rss.pgdump" pg_dump --no-owner --no-acl "${conn[@]}" |
		timed "$work/rss.$1" "$1" "${args[@]}" >"$work/native.$1.gz"
	t1=$(date +%s.%N)
	elapsed "$t0" "$t1" >>"$work/times.$1"
}
floor_create() {
	local t0 t1
	sync
	t0=$(date +%s.%N)
	pg_dump --no-owner --no-acl "${conn[@]}" >/dev/null
	t1=$(date +%s.%N)
	elapsed "$t0" "$t1" >>"$work/times.floor"
}

# ---- daemon ----
mkdir -p "$work/backups" "$work/keys"
"$bin" dev-keys "$work/keys" >/dev/null
env PORT=0 BIND_ADDRESS=127.0.0.1 BACKUP_DIR="$work/backups" AUTH_JWKS_FILE="$work/keys/jwks.json" \
	DB_TYPE=postgresql SAFETY_COMPRESSION="${SAFETY_COMPRESSION:-zstd:1}" GZIP_LEVEL="$level" ZSTD_LEVEL=3 COMPRESS_THREADS="${COMPRESS_THREADS:-0}" DB_HOST="$DB_HOST" DB_PORT="$DB_PORT" DB_NAME="$DB_NAME" \
	DB_USER="$DB_USER" DB_PASSWORD="$DB_PASSWORD" "$bin" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
port=""
for _ in $(seq 1 100); do
	port=$(sed -nE 's/.*listening on http:\/\/[^ ]*:([0-9]+).*/\1/p' "$work/daemon.log" | tail -n 1)
	[ -n "$port" ] && curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && break
	sleep 0.1
done
[ -n "$port" ] || { cat "$work/daemon.log" >&2; exit 1; }
base="http://127.0.0.1:$port"
tok=$("$bin" token --key "$work/keys/private.pem" --role admin --ttl 3600)
rss_now() { awk '/VmHWM/ {print $2}' "/proc/$daemon_pid/status"; }

daemon_create() { # [zstd]
	local t0 t1 codec=${1:-gzip}
	sync
	t0=$(date +%s.%N)
	curl -fsS -X POST -H "Authorization: Bearer $tok" "$base/backup/create?compress=$codec" \
		>"$work/create.json"
	t1=$(date +%s.%N)
	if [ "$codec" = zstd ]; then
		elapsed "$t0" "$t1" >>"$work/times.daemon_zstd"
		daemon_zstd_file=$(jq -r .filename "$work/create.json")
	else
		elapsed "$t0" "$t1" >>"$work/times.daemon"
		daemon_file=$(jq -r .filename "$work/create.json")
	fi
}

echo "timing $runs creates of each kind, interleaved ..." >&2
for _ in $(seq 1 "$runs"); do
	native_create gzip
	native_create pigz
	native_create zstd
	floor_create
	sleep 1 # backup names have a one-second resolution
	daemon_create
	daemon_create zstd
done
native_gzip_s=$(median <"$work/times.gzip")
native_pigz_s=$(median <"$work/times.pigz")
floor_s=$(median <"$work/times.floor")
daemon_create_s=$(median <"$work/times.daemon")
native_gzip_rss=$(maxrss "$work/rss.gzip")
native_pigz_rss=$(maxrss "$work/rss.pigz")
native_gzip_size=$(stat -c %s "$work/native.gzip.gz")
native_pigz_size=$(stat -c %s "$work/native.pigz.gz")
raw_size=$(gunzip -c "$work/native.gzip.gz" | wc -c)
daemon_size=$(stat -c %s "$work/backups/$daemon_file")
native_zstd_s=$(median <"$work/times.zstd")
native_zstd_rss=$(maxrss "$work/rss.zstd")
native_zstd_size=$(stat -c %s "$work/native.zstd.gz")
daemon_zstd_s=$(median <"$work/times.daemon_zstd")
daemon_zstd_size=$(stat -c %s "$work/backups/$daemon_zstd_file")
daemon_create_rss=$(rss_now)

# ---- restores, interleaved: native into a clean database (the reset is not
# timed), then the daemon's, which cleans the database itself in its
# transaction ----
echo "timing $runs restores of each kind, interleaved ..." >&2
for _ in $(seq 1 "$runs"); do
	sync
	t0=$(date +%s.%N)
	reset_db
	t1=$(date +%s.%N)
	elapsed "$t0" "$t1" >>"$work/times.native_reset"
	sync
	t0=$(date +%s.%N)
	gunzip -c "$work/native.gzip.gz" |
		timed "$work/rss.psql" psql -X -q --single-transaction -v ON_ERROR_STOP=1 "${conn[@]}" >/dev/null
	t1=$(date +%s.%N)
	elapsed "$t0" "$t1" >>"$work/times.native_restore"
	sync
	t0=$(date +%s.%N)
	curl -fsS -X POST -H "Authorization: Bearer $tok" \
		"$base/backup/restore/$daemon_file?create_safety_backup=false" >"$work/restore.json"
	t1=$(date +%s.%N)
	elapsed "$t0" "$t1" >>"$work/times.daemon_restore"
	# the default restore: safety backup on (SAFETY_COMPRESSION)
	sync
	t0=$(date +%s.%N)
	curl -fsS -X POST -H "Authorization: Bearer $tok" \
		"$base/backup/restore/$daemon_file" >"$work/restore.json"
	t1=$(date +%s.%N)
	elapsed "$t0" "$t1" >>"$work/times.daemon_safety_restore"
	safety_file=$(jq -r .safety_backup_filename "$work/restore.json")
	safety_size=$(stat -c %s "$work/backups/$safety_file")
	# (|| true: a daemon from before issue 22 logs neither)
	safety_log=$( (grep 'written before restoring' "$work/daemon.log" || true) | tail -n 1 | sed -E 's/.*\((.*)\)$/\1/')
	restore_log=$( (grep 'clean and restore took' "$work/daemon.log" || true) | tail -n 1 | sed -E 's/.*took ([0-9.]+s).*/\1/')
	rm -f "$work/backups"/safety_backup_*
	reset_db
	sync
	t0=$(date +%s.%N)
	zstd -q -dc "$work/native.zstd.gz" |
		psql -X -q --single-transaction -v ON_ERROR_STOP=1 "${conn[@]}" >/dev/null
	t1=$(date +%s.%N)
	elapsed "$t0" "$t1" >>"$work/times.native_zstd_restore"
	sync
	t0=$(date +%s.%N)
	curl -fsS -X POST -H "Authorization: Bearer $tok" \
		"$base/backup/restore/$daemon_zstd_file?create_safety_backup=false" >"$work/restore.json"
	t1=$(date +%s.%N)
	elapsed "$t0" "$t1" >>"$work/times.daemon_zstd_restore"
done
native_restore_s=$(median <"$work/times.native_restore")
native_reset_s=$(median <"$work/times.native_reset")
native_full_s=$(awk -v a="$native_restore_s" -v b="$native_reset_s" 'BEGIN { print a + b }')
daemon_safety_restore_s=$(median <"$work/times.daemon_safety_restore")
daemon_restore_s=$(median <"$work/times.daemon_restore")
native_zstd_restore_s=$(median <"$work/times.native_zstd_restore")
native_zstd_full_s=$(awk -v a="$native_zstd_restore_s" -v b="$native_reset_s" 'BEGIN { print a + b }')
daemon_zstd_restore_s=$(median <"$work/times.daemon_zstd_restore")
daemon_rss=$(rss_now)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# paired A B [C]: run by run, A's time over B's (plus C's, same run), as
# "median (min-max)" over the runs: pairing keeps a ratio meaningful when
# the machine's speed drifts between runs, which the ratio of medians does not.
paired() {
	local c=${3:-/dev/null}
	paste "$1" "$2" "$c" | awk '{ print $1 / ($2 + ($3 == "" ? 0 : $3)) }' | sort -n |
		awk '{ v[NR] = $1 } END { printf "paired %.2f (%.2f-%.2f)", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
ratio4() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
mib() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1024 }'; }
secs() { awk -v a="$1" 'BEGIN { printf "%.2f", a }'; }
cat <<EOF
PostgreSQL benchmark: --data $data, scale $scale ($db_size in the database, $((raw_size / 1048576)) MiB plain dump), gzip level $level, $(nproc) cores, COMPRESS_THREADS=${COMPRESS_THREADS:-0}, median of $runs
create
  pg_dump > /dev/null  $(secs "$floor_s")s  (the producer alone: no create can be faster)
  pg_dump | gzip -$level   $(secs "$native_gzip_s")s  gzip peak RSS $(mib "$native_gzip_rss") MiB  file $native_gzip_size bytes
  pg_dump | pigz -$level   $(secs "$native_pigz_s")s  pigz peak RSS $(mib "$native_pigz_rss") MiB  file $native_pigz_size bytes
  daemon create        $(secs "$daemon_create_s")s  daemon peak RSS $(mib "$daemon_create_rss") MiB  file $daemon_size bytes
  ratio time  daemon / (pg_dump|gzip) = $(ratio "$daemon_create_s" "$native_gzip_s"), $(paired "$work/times.daemon" "$work/times.gzip")   (target <= 0.5; pg_dump alone: $(ratio "$floor_s" "$native_gzip_s"))
  ratio time  daemon / (pg_dump|pigz) = $(ratio "$daemon_create_s" "$native_pigz_s"), $(paired "$work/times.daemon" "$work/times.pigz")   (target <= 1.0)
  ratio size  daemon / gzip -$level       = $(ratio4 "$daemon_size" "$native_gzip_size")   (target <= 1.0)
  ratio size  daemon / pigz -$level       = $(ratio4 "$daemon_size" "$native_pigz_size")
create, zstd (issue 15)
  pg_dump | zstd -3 -T0  $(secs "$native_zstd_s")s  zstd peak RSS $(mib "$native_zstd_rss") MiB  file $native_zstd_size bytes
  daemon create zstd   $(secs "$daemon_zstd_s")s  file $daemon_zstd_size bytes
  ratio time  daemon zstd / (pg_dump|zstd -3 -T0) = $(ratio "$daemon_zstd_s" "$native_zstd_s"), $(paired "$work/times.daemon_zstd" "$work/times.zstd")   (target <= 1.1)
  ratio time  daemon zstd / (pg_dump|gzip -$level)      = $(ratio "$daemon_zstd_s" "$native_gzip_s"), $(paired "$work/times.daemon_zstd" "$work/times.gzip")   (target <= 0.45)
  ratio size  daemon zstd / zstd -3               = $(ratio4 "$daemon_zstd_size" "$native_zstd_size")   (target <= 1.0)
restore
  gunzip -c | psql -1      $(secs "$native_restore_s")s
  DROP SCHEMA public CASCADE  $(secs "$native_reset_s")s  (the native's reset; the daemon cleans in its transaction)
  daemon restore       $(secs "$daemon_restore_s")s  (no safety backup: clean + restore, the file checked as it is restored)
  ratio time  daemon / (gunzip|psql) = $(ratio "$daemon_restore_s" "$native_restore_s"), $(paired "$work/times.daemon_restore" "$work/times.native_restore")   (target <= 1.05); with the reset timed: $(ratio "$daemon_restore_s" "$native_full_s"), $(paired "$work/times.daemon_restore" "$work/times.native_restore" "$work/times.native_reset")
  daemon default restore $(secs "$daemon_safety_restore_s")s  (safety backup on, SAFETY_COMPRESSION=${SAFETY_COMPRESSION:-zstd:1}: safety backup beside the validation, then clean + restore)
    last run: safety backup $safety_size bytes; $safety_log; clean + restore $restore_log
  ratio time  default restore / (reset + gunzip|psql) = $(ratio "$daemon_safety_restore_s" "$native_full_s"), $(paired "$work/times.daemon_safety_restore" "$work/times.native_restore" "$work/times.native_reset")   (target <= 1.5); without the reset timed: $(ratio "$daemon_safety_restore_s" "$native_restore_s")
  zstd -dc | psql -1       $(secs "$native_zstd_restore_s")s
  daemon restore .zst  $(secs "$daemon_zstd_restore_s")s
  ratio time  daemon .zst / (zstd -dc|psql) = $(ratio "$daemon_zstd_restore_s" "$native_zstd_restore_s"), $(paired "$work/times.daemon_zstd_restore" "$work/times.native_zstd_restore")   (target <= 1.05); with the reset timed: $(ratio "$daemon_zstd_restore_s" "$native_zstd_full_s"), $(paired "$work/times.daemon_zstd_restore" "$work/times.native_zstd_restore" "$work/times.native_reset")
daemon peak RSS over the run: $(mib "$daemon_rss") MiB (target <= 32)
EOF
