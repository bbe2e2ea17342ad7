#!/usr/bin/env bash
# Issue 17: the alert rules in docs/operations.md ("Schedules and
# retention", the ```yaml block after "<!-- prometheus-rules -->") pass
# `promtool check rules` (promtool from promtool_path.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$HERE/../..
WORK=$(mktemp -d "${DBB_TEST_TMP:-/tmp}/promtool.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

promtool=$(bash "$HERE/promtool_path.sh")

# the yaml block that follows the marker in the docs
awk '/<!-- prometheus-rules -->/ { on = 1; next }
	on && /^```yaml/ { inblock = 1; next }
	inblock && /^```/ { exit }
	inblock { print }' "$SRC/docs/operations.md" >"$WORK/rules.yml"
[ -s "$WORK/rules.yml" ] || {
	echo "promtool_rules: no rules block after <!-- prometheus-rules --> in docs/operations.md" >&2
	exit 1
}
grep -q 'dbbackupd_last_success_timestamp_seconds' "$WORK/rules.yml" || {
	echo "promtool_rules: the rules do not use dbbackupd_last_success_timestamp_seconds" >&2
	exit 1
}
"$promtool" check rules "$WORK/rules.yml"
