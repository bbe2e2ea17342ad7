#!/usr/bin/env bash
# Issue 18: the daemon's offsite copy of a backup against `aws s3 cp` of the
# same file to the same store, same run. One daemon (the optimised
# build/dbbackupd) on an SQLite database of SIZE_MIB MiB of random rows, with
# S3_BUCKET set; each run makes an uncompressed backup (POST
# /backup/create?compress=false, so the file is the size asked for) and
# times its upload: from the create's answer (the copy is queued then) to
# the log line "offsite copy of FILE uploaded and verified" (the upload, its
# HEAD check and the record: what a user waits for). Then `aws s3 cp` of
# the same local file to another key. Prints each run, the median ratio
# (target: at most 1.1x) and the daemon's peak RSS (VmHWM, the whole run,
# creates included; target: at most 64 MiB) and the load average.
#   tests/bench/s3_daemon.sh [SIZE_MIB [RUNS]]   (default 1024 MiB, 3 runs)
# Uses the store of the S3_* variables when S3_ENDPOINT is set, else starts
# one with tests/services/s3.sh (its own state directory) and stops it after.
# Needs a built build/dbbackupd, sqlite3, jq, curl.
set -eEuo pipefail
trap 'echo "bench/s3_daemon.sh: failed at line $LINENO" >&2' ERR
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${DBBACKUPD:-$here/build/dbbackupd}
size_mib=${1:-1024}
runs=${2:-3}
[ -x "$bin" ] || {
	echo "bench: build dbbackupd first (cmake --build build)" >&2
	exit 1
}
work=$(mktemp -d "${TMPDIR:-/tmp}/dbb-bench-s3d.XXXXXX")
started="" pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	fi
	if [ -n "$started" ]; then
		DBB_SERVICE_STATE=$work/state bash "$here/tests/services/s3.sh" stop >/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${S3_ENDPOINT:-}" ]; then
	started=1
	eval "$(DBB_SERVICE_STATE=$work/state bash "$here/tests/services/s3.sh" start)"
fi
aws_bin=$(bash "$here/tests/s3/pyenv.sh")
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY \
	AWS_DEFAULT_REGION=$S3_REGION AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	AWS_EC2_METADATA_DISABLED=true
aws() { "$aws_bin/aws" --endpoint-url "$S3_ENDPOINT" "$@"; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "building a ${size_mib} MiB SQLite database of random rows..." >&2
sqlite3 "$work/app.db" "CREATE TABLE b(x BLOB); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL
SELECT i + 1 FROM c WHERE i < $size_mib) INSERT INTO b SELECT randomblob(1048576) FROM c;"
"$bin" dev-keys "$work/keys" >/dev/null
prefix="bench/$$"
mkdir -p "$work/backups"
# the secret goes through the environment, as in production
env PORT=0 SQLITE_PATH="$work/app.db" BACKUP_DIR="$work/backups" \
	AUTH_JWKS_FILE="$work/keys/jwks.json" S3_PREFIX="$prefix/daemon/" \
	S3_ENDPOINT="$S3_ENDPOINT" S3_REGION="$S3_REGION" S3_BUCKET="$S3_BUCKET" \
	S3_ACCESS_KEY_ID="$S3_ACCESS_KEY_ID" S3_SECRET_ACCESS_KEY="$S3_SECRET_ACCESS_KEY" \
	"$bin" >"$work/daemon.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 100); do
	port=$(sed -nE 's/.*listening on http:\/\/[^ ]*:([0-9]+).*/\1/p' "$work/daemon.log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { cat "$work/daemon.log" >&2; exit 1; }
base=http://127.0.0.1:$port
tok=$("$bin" token --key "$work/keys/private.pem" --role admin --ttl 7200)

# upload_seconds FILE T0: waits for the daemon's line saying FILE's copy is
# uploaded and verified (at most 30 min); prints the seconds since T0
upload_seconds() {
	local i
	for i in $(seq 1 18000); do
		if grep -q "offsite copy of $1 uploaded and verified" "$work/daemon.log"; then
			elapsed "$2" "$(now)"
			return 0
		fi
		if grep -q "offsite copy of $1: .*\(failed\|error\)" "$work/daemon.log"; then
			grep "offsite copy of $1" "$work/daemon.log" >&2
			return 1
		fi
		sleep 0.1
	done
	return 1
}

: >"$work/ours" && : >"$work/native"
printf '%-5s %9s %11s %7s   load\n' run daemon "aws s3 cp" ratio
for i in $(seq 1 "$runs"); do
	curl -sf -o "$work/answer.json" -X POST -H "Authorization: Bearer $tok" \
		"$base/backup/create?compress=false"
	t0=$(now)
	f=$(jq -r .filename "$work/answer.json")
	d=$(upload_seconds "$f" "$t0")
	t1=$(now)
	aws s3 cp --only-show-errors "$work/backups/$f" "s3://$S3_BUCKET/$prefix/native/$f"
	n=$(elapsed "$t1" "$(now)")
	# both objects hold the file (then removed: the store reclaims space only
	# when it vacuums)
	want=$(stat -c %s "$work/backups/$f")
	for k in "daemon/$f" "native/$f"; do
		got=$(aws s3api head-object --bucket "$S3_BUCKET" --key "$prefix/$k" --query ContentLength)
		[ "$got" = "$want" ] || { echo "bench: $k stored $got bytes, not $want" >&2; exit 1; }
		aws s3 rm --only-show-errors "s3://$S3_BUCKET/$prefix/$k"
	done
	curl -sf -o /dev/null -X DELETE -H "Authorization: Bearer $tok" "$base/backup/delete/$f"
	echo "$d" >>"$work/ours"
	echo "$n" >>"$work/native"
	printf '%-5s %8ss %10ss %6sx   %s\n' "$i" "$d" "$n" "$(ratio "$d" "$n")" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
done
o=$(median <"$work/ours")
n=$(median <"$work/native")
rss=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
echo "backup: ${want} bytes, uncompressed; medians of $runs: daemon ${o}s, aws s3 cp ${n}s"
echo "median ratio daemon/aws: $(ratio "$o" "$n")x (target <= 1.1x)"
printf 'daemon peak RSS (VmHWM, creates included): %.1f MiB (target <= 64)\n' \
	"$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
echo "uptime: $(uptime)"
