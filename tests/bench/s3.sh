#!/usr/bin/env bash
# Upload speed and memory of the offsite S3 client against the AWS CLI, same
# file, same store (SeaweedFS on loopback), same run:
#   ours:   dbb-s3 put FILE KEY          (what the daemon will call: 64 MiB
#                                         parts, each hashed then streamed)
#   ours+:  dbb-s3 put FILE KEY SHA256   (with the SHA-256 the backup's sidecar
#                                         already has: one read less)
#   native: aws s3 cp FILE s3://bucket/KEY (AWS CLI v1: 8 MiB parts, 10 threads)
# Runs them in turn (ours, ours+, native) RUNS times and prints the median
# wall times, the ratios and dbb-s3's peak RSS (GNU time's %M).
#   tests/bench/s3.sh [SIZE_MIB [RUNS]]    (default 1024 MiB, 3 runs)
# Uses the store of the S3_* variables when S3_ENDPOINT is set, else starts
# one with tests/services/s3.sh (its own state dir) and stops it after.
# Needs a built build/tests/dbb-s3 (or DBB_S3_TOOL).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
tool=${DBB_S3_TOOL:-$here/build/tests/dbb-s3}
size_mib=${1:-1024}
runs=${2:-3}
[ -x "$tool" ] || {
	echo "bench: build dbb-s3 first (cmake --build build --target dbb-s3)" >&2
	exit 1
}
work=$(mktemp -d "${TMPDIR:-/tmp}/dbb-bench-s3.XXXXXX")
started=""
cleanup() {
	if [ -n "$started" ]; then
		DBB_SERVICE_STATE=$work/state bash "$here/tests/services/s3.sh" stop || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${S3_ENDPOINT:-}" ]; then
	started=1
	eval "$(DBB_SERVICE_STATE=$work/state bash "$here/tests/services/s3.sh" start)"
fi
bin=$(bash "$here/tests/s3/pyenv.sh")
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY \
	AWS_DEFAULT_REGION=$S3_REGION AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	AWS_EC2_METADATA_DISABLED=true
export S3_ENDPOINT S3_REGION S3_BUCKET S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY

echo "making a ${size_mib} MiB file of random bytes..." >&2
head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$work/file"
sum=$(sha256sum "$work/file" | cut -d' ' -f1)
prefix="bench/$$"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: >"$work/ours" && : >"$work/ours_known" && : >"$work/native" && : >"$work/rss"
for i in $(seq 1 "$runs"); do
	t0=$(now)
	/usr/bin/time -f '%M' -o "$work/time" "$tool" put "$work/file" "$prefix/ours" >"$work/out"
	t1=$(now)
	grep -q "^sha256=$sum$" "$work/out" || { echo "bench: dbb-s3 put failed" >&2; exit 1; }
	cat "$work/time" >>"$work/rss"
	"$tool" put "$work/file" "$prefix/ours-known" "$sum" >"$work/out"
	t2=$(now)
	"$bin/aws" --endpoint-url "$S3_ENDPOINT" s3 cp --only-show-errors "$work/file" "s3://$S3_BUCKET/$prefix/native"
	t3=$(now)
	# what was stored is the file (then removed: the store reclaims space
	# only when it vacuums)
	for k in ours ours-known native; do
		got=$("$bin/aws" --endpoint-url "$S3_ENDPOINT" s3api head-object --bucket "$S3_BUCKET" \
			--key "$prefix/$k" --query ContentLength)
		[ "$got" = $((size_mib * 1024 * 1024)) ] || { echo "bench: $k stored $got bytes" >&2; exit 1; }
		"$bin/aws" --endpoint-url "$S3_ENDPOINT" s3 rm --only-show-errors "s3://$S3_BUCKET/$prefix/$k"
	done
	echo "$(elapsed "$t0" "$t1")" >>"$work/ours"
	echo "$(elapsed "$t1" "$t2")" >>"$work/ours_known"
	echo "$(elapsed "$t2" "$t3")" >>"$work/native"
	echo "run $i: ours $(tail -n 1 "$work/ours")s, ours+sha $(tail -n 1 "$work/ours_known")s, aws s3 cp $(tail -n 1 "$work/native")s (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
done

o=$(median <"$work/ours")
k=$(median <"$work/ours_known")
n=$(median <"$work/native")
rss=$(sort -n "$work/rss" | tail -n 1)
printf '%-52s %8s %7s\n' "upload of ${size_mib} MiB (median of $runs)" time ratio
printf '%-52s %7ss %6.2fx\n' "dbb-s3 put (hash pass, then 64 MiB parts)" "$o" "$(awk -v a="$o" -v b="$n" 'BEGIN { print a / b }')"
printf '%-52s %7ss %6.2fx\n' "dbb-s3 put with the sidecar's SHA-256" "$k" "$(awk -v a="$k" -v b="$n" 'BEGIN { print a / b }')"
printf '%-52s %7ss %6.2fx\n' "aws s3 cp (AWS CLI $("$bin/aws" --version 2>&1 | cut -d' ' -f1))" "$n" 1
printf 'dbb-s3 peak RSS: %.1f MiB\n' "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
