#!/usr/bin/env bash
# Speed of our age layers (src/age/, through age_tool) against Debian's age
# on the same file in the same run: encryption to one X25519 recipient and
# decryption with its identity; wall and CPU seconds, MB per CPU-second, and
# the ratio of CPU seconds (ours / age's). The file is read
# from the page cache (one warm-up read) and the output goes to /dev/null,
# so the figures are the CPU cost of the layers. Prints the load average:
# the machine is shared, write it down with the figures.
#   tests/bench/age.sh [SIZE_MIB]      (default 1024)
# Needs build/tests/age_tool (the optimised build) and Debian's age.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
tool=${AGE_TOOL:-$here/build/tests/age_tool}
size_mib=${1:-1024}
runs=${RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/dbb-age-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

mbs() { awk -v s="$1" -v t="$2" 'BEGIN { printf "%.0f", s * 1048576 / t / 1e6 }'; }

head -c $((size_mib * 1048576)) /dev/urandom >"$work/plain"
cat "$work/plain" >/dev/null
age-keygen -o "$work/key" 2>/dev/null
rcpt=$(age-keygen -y "$work/key")
"$tool" encrypt -r "$rcpt" <"$work/plain" >"$work/ours.age"
age -r "$rcpt" -o "$work/theirs.age" "$work/plain"

# each command $runs times, ours and age's in turn; the fastest run of each
# (wall seconds, and CPU seconds: user + system, steadier on a busy machine)
run() { # run CMD: "wall cpu" of one run
	/usr/bin/time -f '%e %U %S' -o "$work/time" sh -c "$1" >/dev/null
	awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$work/time"
}
: >"$work/enc_ours" >"$work/enc_age" >"$work/dec_ours" >"$work/dec_age"
for _ in $(seq "$runs"); do
	run "'$tool' encrypt -r '$rcpt' <'$work/plain'" >>"$work/enc_ours"
	run "age -r '$rcpt' <'$work/plain'" >>"$work/enc_age"
	run "'$tool' decrypt -i '$work/key' <'$work/ours.age'" >>"$work/dec_ours"
	run "age -d -i '$work/key' <'$work/theirs.age'" >>"$work/dec_age"
done
echo "age bench: ${size_mib} MiB, fastest of $runs; $(uptime | sed 's/.*load/load/')"
printf '%-4s %9s %9s %9s %9s %12s %12s %10s\n' "" "ours wall" "age wall" "ours cpu" "age cpu" \
	"ours MB/cpu-s" "age MB/cpu-s" "cpu ratio"
for op in enc dec; do
	read -r ow oc < <(sort -k2 -n "$work/${op}_ours" | head -1)
	read -r aw ac < <(sort -k2 -n "$work/${op}_age" | head -1)
	printf '%-4s %9s %9s %9s %9s %12s %12s %10s\n' "$op" "$ow" "$aw" "$oc" "$ac" \
		"$(mbs "$size_mib" "$oc")" "$(mbs "$size_mib" "$ac")" \
		"$(awk -v x="$oc" -v y="$ac" 'BEGIN { printf "%.2f", x / y }')"
done
echo "age bench: done; $(uptime | sed 's/.*load/load/')"
