#!/usr/bin/env bash
# Benchmark (not a test): PostgreSQL restores of the regression-suite
# database (tests/e2e/pg_regress_db.sh, built as the service's owner role)
# against the native pipeline, in one run, interleaved.
#
#   tests/bench/postgresql_regress.sh [--runs R] [--build DIR] [--keep]
#
# Prints the median of R runs (default 3) of
#   native:   gunzip -c file | psql --single-transaction, into an empty database
#   in-place: POST /backup/restore/file over the database (validation, the
#             check, the clean, the load), without and with the safety backup
#   upload:   POST /backup/restore-upload of the file into an empty database
# and the ratios to native, with the load average. The empty databases are
# made before each run, untimed. --keep keeps the built database
# (dbbackupd_bench_regress) for the next run, which then skips the build.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
runs=3
build="$src/build"
keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	-h | --help) sed -n 2,15p "$0"; exit 0 ;;
	*) echo "unknown argument $1" >&2; exit 2 ;;
	esac
done
bin=${DBBACKUPD:-$build/dbbackupd}
[ -x "$bin" ] || { echo "no dbbackupd at $bin (build first, or --build DIR)" >&2; exit 1; }

svc="$src/tests/services/postgresql.sh"
started_here=0
if ! [ -f "${DBB_SERVICE_STATE:-/tmp/dbbackupd-services}/postgresql/env" ]; then
	started_here=1
fi
eval "$(bash "$svc" start)"
export PGHOST=$DB_HOST PGPORT=$DB_PORT PGUSER=$DB_USER PGPASSWORD=$DB_PASSWORD
admin() { bash "$svc" psql-admin -d postgres -c "SET client_min_messages = warning" -c "$1" >/dev/null; }
DB=dbbackupd_bench_regress
NATIVE=dbbackupd_bench_native
UP=dbbackupd_bench_upload

work=$(mktemp -d "${TMPDIR:-/tmp}/dbb-bench.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	admin "DROP DATABASE IF EXISTS $NATIVE WITH (FORCE)" || true
	admin "DROP DATABASE IF EXISTS $UP WITH (FORCE)" || true
	[ "$keep" = 1 ] || admin "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
	rm -rf "$work"
	if [ "$started_here" = 1 ]; then bash "$svc" stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

if [ -z "$(psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
	echo "building the regression-suite database (a few minutes) ..." >&2
	admin "CREATE DATABASE $DB OWNER \"$DB_USER\""
	bash "$src/tests/e2e/pg_regress_db.sh" build "$DB"
fi

# start_daemon DBNAME: a daemon on DBNAME; sets base.
start_daemon() {
	local log="$work/daemon.$1.log" port=""
	mkdir -p "$work/backups" "$work/keys"
	[ -f "$work/keys/private.pem" ] || "$bin" dev-keys "$work/keys" >/dev/null
	env PORT=0 BIND_ADDRESS=127.0.0.1 BACKUP_DIR="$work/backups" AUTH_JWKS_FILE="$work/keys/jwks.json" \
		DB_TYPE=postgresql DB_HOST="$DB_HOST" DB_PORT="$DB_PORT" DB_NAME="$1" \
		DB_USER="$DB_USER" DB_PASSWORD="$DB_PASSWORD" "$bin" >"$log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 100); do
		port=$(sed -nE 's/.*listening on http:\/\/[^ ]*:([0-9]+).*/\1/p' "$log" | tail -n 1)
		[ -n "$port" ] && curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && break
		sleep 0.1
	done
	[ -n "$port" ] || { cat "$log" >&2; exit 1; }
	base="http://127.0.0.1:$port"
}
start_daemon "$DB"
inplace=$base
start_daemon "$UP"
upload=$base
admin "CREATE DATABASE $UP OWNER \"$DB_USER\""
tok=$("$bin" token --key "$work/keys/private.pem" --role admin --ttl 3600)
api() { curl -fsS -X POST -H "Authorization: Bearer $tok" "$@"; }

api "$inplace/backup/create?compress=true" >"$work/create.json"
file=$(jq -r .filename "$work/create.json")
size=$(stat -c %s "$work/backups/$file")
tables=$(psql -X -At -d "$DB" -c "SELECT count(*) FROM pg_class WHERE relkind IN ('r','p') AND oid >= 16384")

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# timed NAME CMD...: appends CMD's wall time to $work/times.NAME.
timed() {
	local name=$1 t0
	shift
	sync
	t0=$(now)
	"$@" >/dev/null
	elapsed "$t0" "$(now)" >>"$work/times.$name"
}
native() {
	gunzip -c "$work/backups/$file" | psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$NATIVE" 2>/dev/null
}

echo "timing $runs runs of each, interleaved ..." >&2
loads=()
for _ in $(seq 1 "$runs"); do
	admin "DROP DATABASE IF EXISTS $NATIVE WITH (FORCE)"
	admin "CREATE DATABASE $NATIVE OWNER \"$DB_USER\""
	timed native native
	timed inplace api "$inplace/backup/restore/$file?create_safety_backup=false"
	timed inplace_safety api "$inplace/backup/restore/$file?create_safety_backup=true"
	admin "DROP DATABASE IF EXISTS $UP WITH (FORCE)"
	admin "CREATE DATABASE $UP OWNER \"$DB_USER\""
	timed upload api "$upload/backup/restore-upload?create_safety_backup=false" -F "file=@$work/backups/$file"
	loads+=("$(cut -d' ' -f1 /proc/loadavg)")
	rm -f "$work"/backups/safety_backup_*
done

n=$(median <"$work/times.native")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
secs() { awk -v a="$1" 'BEGIN { printf "%.2f", a }'; }
row() { # label name
	local m
	m=$(median <"$work/times.$2")
	printf '  %-52s %6ss  %s× native\n' "$1" "$(secs "$m")" "$(ratio "$m" "$n")"
}
cat <<EOF
PostgreSQL restore of the regression-suite database ($tables tables, backup $size bytes gzip), $(nproc) cores, median of $runs, 1-min load average during the runs: ${loads[*]}
  native: gunzip -c | psql --single-transaction, empty database  $(secs "$n")s
$(row "in-place restore (check, clean, load)" inplace)
$(row "in-place restore with the safety backup" inplace_safety)
$(row "restore-upload into an empty database" upload)
EOF
