#!/usr/bin/env bash
# Load figures (a benchmark, not a test): prints
#   1. wrk against GET /health and the authenticated GET /backup/list with
#      1,000 backups on disk: requests/s and p99 latency (targets: the list
#      at least half the rate of /health, p99 < 20 ms);
#   2. the download of a 1 GiB backup from the daemon vs nginx serving the
#      same file on loopback in the same run (target: >= 0.9x);
#   3. 64 parallel downloads of it: the daemon's peak RSS (target < 64 MiB).
#
#   tests/bench/load.sh [--build DIR] [--duration S] [--threads T] [--conns C]
#
# Needs wrk and nginx (Debian: apt-get install wrk nginx-light), curl, jq.
# The SQLite demo database is the driver (downloads and the list never touch
# the database). Everything lives in a temporary directory, removed at the end.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build="$src/build"
duration=10
threads=2
conns=32
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--threads) threads=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	-h | --help) sed -n 2,16p "$0"; exit 0 ;;
	*) echo "unknown argument $1" >&2; exit 2 ;;
	esac
done
bin=${DBBACKUPD:-$build/dbbackupd}
[ -x "$bin" ] || { echo "no dbbackupd at $bin (build first, or --build DIR)" >&2; exit 1; }
for t in wrk nginx curl jq; do
	command -v "$t" >/dev/null || { echo "missing $t (apt-get install wrk nginx-light curl jq)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/dbb-load.XXXXXX")
daemon=""
nginx_pid=""
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	[ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/backups" "$work/keys" "$work/nginx"
"$bin" dev-keys "$work/keys" >/dev/null
bash "$src/setup/demo-sqlite.sh" --force "$work/app.db" 200 2>/dev/null

free_port() {
	local p=$((20000 + RANDOM % 30000))
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
	echo "$p"
}

# 1,000 backups on disk, each with its sidecar (small gzip files: the list
# reads each one's magic bytes and sidecar, never its content)
echo "preparing 1,000 backups and a 1 GiB one..." >&2
printf 'backup content\n' | gzip -c >"$work/small.gz"
sum=$(sha256sum "$work/small.gz" | cut -d' ' -f1)
for i in $(seq 0 999); do
	n=$(printf 'backup_sqlite_2024%02d%02d_%02d%02d00.db.gz' $((i / 300 % 12 + 1)) $((i / 12 % 28 + 1)) $((i % 24)) $((i % 60)))
	[ -e "$work/backups/$n" ] && n=${n%.db.gz}_$((i % 9 + 2)).db.gz
	cp "$work/small.gz" "$work/backups/$n"
	echo "$sum  $n" >"$work/backups/$n.sha256"
done
big=backup_sqlite_20250101_000000.db
head -c $((1024 * 1024 * 1024)) /dev/urandom >"$work/backups/$big"
echo "$(sha256sum "$work/backups/$big" | cut -d' ' -f1)  $big" >"$work/backups/$big.sha256"
total=$(ls "$work/backups" | grep -vc '\.sha256$')
sync # the 1 GiB written back now, not during the measurements

port=$(free_port)
PORT=$port BIND_ADDRESS=127.0.0.1 BACKUP_DIR="$work/backups" AUTH_JWKS_FILE="$work/keys/jwks.json" \
	DB_TYPE=sqlite SQLITE_PATH="$work/app.db" MAX_CONNECTIONS=256 MAX_CONNECTIONS_PER_IP=0 LOG_LEVEL=warn \
	"$bin" >"$work/daemon.log" 2>&1 &
daemon=$!
for i in $(seq 1 100); do
	curl -fs -o /dev/null "http://127.0.0.1:$port/health" && break
	sleep 0.1
done
base="http://127.0.0.1:$port"
tok=$("$bin" token --key "$work/keys/private.pem" --role viewer --ttl 3600)
listed=$(curl -fs -H "Authorization: Bearer $tok" "$base/backup/list" | jq .total_count)
echo "backups on disk: $total, listed: $listed"

# ---- 1. wrk ----
wrk_run() { # ID LABEL URL [wrk args]: prints req/s and p99, sets rps_ID
	local id=$1 label=$2 url=$3
	shift 3
	wrk -t"$threads" -c"$conns" -d"${duration}s" --latency "$@" "$url" >"$work/wrk.$id"
	local rps p99 errs
	rps=$(awk '/^Requests\/sec/ { print $2 }' "$work/wrk.$id")
	p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk.$id")
	errs=$(grep -E 'Non-2xx|Socket errors' "$work/wrk.$id" | tr '\n' ' ' || true)
	printf '%-34s %10s req/s   p99 %8s   %s\n' "$label" "$rps" "$p99" "$errs"
	printf -v "rps_$id" '%s' "$rps"
}
echo
echo "== wrk: $threads threads, $conns connections, ${duration}s each"
wrk_run health "GET /health" "$base/health"
wrk_run list "GET /backup/list (1,000 backups)" "$base/backup/list" -H "Authorization: Bearer $tok"
wrk_run listgz "  the same, Accept-Encoding: gzip" "$base/backup/list" -H "Authorization: Bearer $tok" \
	-H 'Accept-Encoding: gzip'
plain=$(curl -fs -H "Authorization: Bearer $tok" "$base/backup/list" | wc -c)
packed=$(curl -fs -H "Authorization: Bearer $tok" -H 'Accept-Encoding: gzip' "$base/backup/list" | wc -c)
echo "list body: $plain bytes, $packed gzip'd"
awk -v l="$rps_list" -v g="$rps_listgz" -v h="$rps_health" 'BEGIN {
	printf "list / health rate: %.2f identity, %.2f gzip (target >= 0.5)\n", l / h, g / h }'

# ---- 2. 1 GiB download: daemon vs nginx ----
nport=$(free_port)
cat >"$work/nginx/nginx.conf" <<NGX
daemon off;
master_process off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 256; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	client_body_temp_path $work/nginx;
	proxy_temp_path $work/nginx;
	fastcgi_temp_path $work/nginx;
	uwsgi_temp_path $work/nginx;
	scgi_temp_path $work/nginx;
	server {
		listen 127.0.0.1:$nport;
		root $work/backups;
	}
}
NGX
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
for i in $(seq 1 50); do
	curl -fs -o /dev/null -r 0-0 "http://127.0.0.1:$nport/$big" && break
	sleep 0.1
done
speed() { # URL [curl args]: best of 3, bytes/s
	local best=0 s i
	for i in 1 2 3; do
		s=$(curl -fs -o /dev/null -w '%{speed_download}' "$@")
		best=$(awk -v a="$best" -v b="$s" 'BEGIN { print (b > a ? b : a) }')
	done
	echo "$best"
}
cat "$work/backups/$big" >/dev/null # both read it from the page cache
echo
echo "== 1 GiB download on loopback (best of 3)"
sd=$(speed "$base/backup/download/$big" -H "Authorization: Bearer $tok")
sn=$(speed "http://127.0.0.1:$nport/$big")
awk -v d="$sd" -v n="$sn" 'BEGIN {
	printf "dbbackupd %8.0f MiB/s\nnginx     %8.0f MiB/s\nratio     %8.2f (target >= 0.9)\n",
		d / 1048576, n / 1048576, d / n }'

# ---- 3. 64 parallel downloads: RSS ----
echo
echo "== 64 parallel downloads of the 1 GiB backup (its first 256 MiB each)"
rss0=$(awk '/^VmRSS/ { print $2 }' "/proc/$daemon/status")
hwm0=$(awk '/^VmHWM/ { print $2 }' "/proc/$daemon/status")
pids=()
t0=$(date +%s.%N)
for i in $(seq 1 64); do
	curl -fs -o /dev/null -r 0-268435455 -H "Authorization: Bearer $tok" "$base/backup/download/$big" &
	pids+=($!)
done
peak=0
while kill -0 "${pids[0]}" 2>/dev/null || [ "$(jobs -rp | wc -l)" -gt 1 ]; do
	r=$(awk '/^VmRSS/ { print $2 }' "/proc/$daemon/status")
	[ "$r" -gt "$peak" ] && peak=$r
	sleep 0.1
	[ "$(jobs -rp | grep -vc "^$nginx_pid\$")" -le 1 ] && break
done
wait "${pids[@]}" || true
t1=$(date +%s.%N)
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$daemon/status")
awk -v a="$rss0" -v p="$peak" -v h="$hwm" -v h0="$hwm0" -v t0="$t0" -v t1="$t1" 'BEGIN {
	printf "16 GiB served in %.1f s (%.0f MiB/s)\n", t1 - t0, 16384 / (t1 - t0)
	printf "daemon RSS before %.1f MiB, peak sampled during %.1f MiB (target < 64)\n", a / 1024, p / 1024
	printf "high-water mark: %.1f MiB before the downloads (the wrk runs), %.1f MiB after\n", h0 / 1024, h / 1024 }'
