#!/usr/bin/env bash
# The oracle for the retention policy (issue 17): restic agrees. Creates a
# restic repository with snapshots at a few hundred generated times over
# 2021-2023 (restic backup --time, in TZ=$ZONE), runs
# `restic forget --dry-run --json` with several policies, and checks that our
# policy (src/sched/retention.c, through tests/retention/retention_oracle.c,
# guards off) keeps exactly the same snapshots, for the same reasons, with
# the same counters. The repository is kept in the build tree for re-runs
# (keyed by the times, the zone and restic's version). Needs Debian 12's restic (0.14): setup/install-deps.sh
# --test installs it. Where the two disagree, restic is right unless its
# documentation says otherwise (docs/schedules.md lists the known differences,
# none of which this test exercises).
set -euo pipefail

: "${RETENTION_ORACLE:?set by CTest: the retention_oracle helper}"
ZONE=${ORACLE_ZONE:-Europe/Berlin}
SEED=${ORACLE_SEED:-17}

if ! command -v restic >/dev/null 2>&1; then
	echo "restic_oracle: restic is not installed (setup/install-deps.sh --test installs it)" >&2
	exit 1
fi
echo "restic_oracle: $(restic version)"

base=${DBB_TEST_TMP:-/tmp}
mkdir -p "$base"
work=$(mktemp -d "$base/restic-oracle.XXXXXX")
trap 'rm -rf "$work"' EXIT

export TZ=$ZONE # restic reads --time and buckets snapshots in its local time
export RESTIC_CACHE_DIR=$work/cache
"$RETENTION_ORACLE" generate --tz "$ZONE" --seed "$SEED" >"$work/times"
count=$(wc -l <"$work/times")

# The repository depends only on the times, the zone and restic's version:
# it is kept in the build tree under that key, so a re-run skips the slow
# part (ORACLE_FRESH=1 makes a new one). Each `restic backup` spends most of
# its ~0.5 s of CPU deriving the key (scrypt), so they run side by side
# (backup takes a shared lock).
cache_root=$base/restic-oracle-cache
key=$({
	echo "$ZONE"
	restic version
	cat "$work/times"
} | sha256sum | cut -c1-16)
repo=$cache_root/$key
if [ "${ORACLE_FRESH:-0}" = 1 ] || [ ! -f "$repo/complete" ]; then
	rm -rf "$cache_root"
	mkdir -p "$cache_root"
	new=$cache_root/.new-$$
	(umask 077 && mkdir "$new" && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$new/password")
	# The password goes by environment, never on a command line.
	RESTIC_PASSWORD=$(cat "$new/password")
	export RESTIC_PASSWORD RESTIC_REPOSITORY=$new/repo
	restic init -q >/dev/null
	echo "one small file" >"$new/data"
	jobs=$(nproc)
	[ "$jobs" -lt 2 ] && jobs=2
	t0=$(date +%s)
	xargs -P "$jobs" -I{} restic backup -q --host oracle --time "{}" "$new/data" <"$work/times"
	echo "restic_oracle: made $count snapshots in $(($(date +%s) - t0)) s" \
		"(jobs=$jobs; $(uptime | sed 's/.*load/load/'))"
	touch "$new/complete"
	mv "$new" "$repo"
else
	echo "restic_oracle: reusing the repository of an earlier run ($repo; ORACLE_FRESH=1 makes a new one)"
fi
RESTIC_PASSWORD=$(cat "$repo/password")
export RESTIC_PASSWORD RESTIC_REPOSITORY=$repo/repo

restic snapshots --json | jq -r '.[] | "\(.id) \(.time)"' >"$work/snapshots"
made=$(wc -l <"$work/snapshots")
if [ "$made" -ne "$count" ]; then
	echo "restic_oracle: expected $count snapshots, restic has $made" >&2
	exit 1
fi

policies=(
	"--keep-last 1"
	"--keep-last 25"
	"--keep-hourly 40"
	"--keep-daily 30"
	"--keep-weekly 20"
	"--keep-monthly 24"
	"--keep-monthly 100"
	"--keep-yearly 10"
	"--keep-daily 1000"
	"--keep-within 5d"
	"--keep-within 30d"
	"--keep-within 1m"
	"--keep-within 2y"
	"--keep-within 36h"
	"--keep-within 1y2m"
	"--keep-within 2m3d12h"
	"--keep-daily 7 --keep-weekly 4 --keep-monthly 12"
	"--keep-last 3 --keep-hourly 6 --keep-daily 10 --keep-within 7d --keep-yearly 2"
	"--keep-hourly 1 --keep-weekly 200 --keep-within 1y"
	"--keep-within-hourly 3d --keep-within-daily 2m --keep-within-weekly 6m --keep-within-monthly 2y --keep-within-yearly 3y"
	"--keep-monthly 6 --keep-within-daily 10d --keep-yearly 3"
)

passed=0
failed=0
for policy in "${policies[@]}"; do
	# shellcheck disable=SC2086 # the policy is a list of flags
	restic forget --no-lock --dry-run --json $policy >"$work/forget.json"
	groups=$(jq length "$work/forget.json")
	if [ "$groups" != 1 ]; then
		echo "FAIL $policy: restic made $groups groups (expected 1: one host, one path)" >&2
		failed=$((failed + 1))
		continue
	fi
	jq -r '.[0] as $g | range(0; $g.keep | length) as $i |
		"\($g.keep[$i].id) \($g.reasons[$i].matches | join(","))" +
		($g.reasons[$i].counters | to_entries | map(" \(.key)=\(.value)") | join(""))' \
		"$work/forget.json" >"$work/restic.out"
	# shellcheck disable=SC2086
	"$RETENTION_ORACLE" apply --tz "$ZONE" --now "$(date +%s)" $policy \
		<"$work/snapshots" >"$work/ours.out"
	kept=$(wc -l <"$work/restic.out")
	if diff -u "$work/restic.out" "$work/ours.out" >"$work/diff"; then
		echo "ok   $policy: both keep $kept of $count"
		passed=$((passed + 1))
	else
		echo "FAIL $policy: restic (-) and ours (+) differ:" >&2
		# show the times of the snapshots that differ
		grep -E '^[-+][0-9a-f]{64}' "$work/diff" | while read -r line; do
			id=${line:1:64}
			echo "  ${line:0:1} $(grep "^$id" "$work/snapshots" | cut -d' ' -f2) ${line:66}"
		done >&2
		failed=$((failed + 1))
	fi
done
echo "restic_oracle: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
