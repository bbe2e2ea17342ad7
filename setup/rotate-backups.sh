#!/usr/bin/env bash
# Deletes backups older than N days through the API, safely.
#
#   ACCESS_TOKEN=... setup/rotate-backups.sh --keep-days 7 [--keep-min 1] [--dry-run]
#
# BACKUP_API_URL defaults to http://localhost:8081. The age comes from the
# list's created_at (UTC), never from the file name. A backup whose date
# cannot be read is kept (and reported), and the newest --keep-min regular
# backups are always kept whatever their age, so a stopped cron job can never
# rotate away the last good backup. Prints each deletion; exits non-zero if
# the API refuses anything. Needs curl and jq.
#
# Why not the contract's script: it runs `date -d` on "YYYYMMDD_HHMMSS",
# which GNU date cannot parse, so AGE is empty, the age computes as ~20000
# days and every backup is deleted, including the one made a minute ago.
set -euo pipefail

keep_days=""
keep_min=1
dry_run=0
usage() {
	sed -n '2,10p' "$0" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case "$1" in
	--keep-days) keep_days=${2:-}; shift 2 ;;
	--keep-min) keep_min=${2:-}; shift 2 ;;
	--dry-run) dry_run=1; shift ;;
	-h | --help) usage ;;
	*) echo "rotate-backups: unknown argument $1" >&2; usage ;;
	esac
done
[[ "$keep_days" =~ ^[0-9]+$ ]] || { echo "rotate-backups: --keep-days N is required (a whole number of days)" >&2; exit 2; }
[[ "$keep_min" =~ ^[0-9]+$ ]] || { echo "rotate-backups: --keep-min must be a whole number" >&2; exit 2; }
: "${ACCESS_TOKEN:?rotate-backups: set ACCESS_TOKEN to a token with the admin role}"
api=${BACKUP_API_URL:-http://localhost:8081}
auth_header() { printf 'Authorization: Bearer %s' "$ACCESS_TOKEN"; }

list=$(curl -sS --fail-with-body -H "$(auth_header)" "$api/backup/list") || {
	echo "rotate-backups: cannot list backups: $list" >&2
	exit 1
}
now=$(date -u +%s)
limit=$((keep_days * 86400))
failed=0
deleted=0
regular_seen=0
# newest first, as the API lists them
while IFS=$'\t' read -r name created type; do
	[ -n "$name" ] || continue
	if [ "$type" != "safety_backup" ]; then
		regular_seen=$((regular_seen + 1))
		if [ "$regular_seen" -le "$keep_min" ]; then
			continue
		fi
	fi
	if ! ts=$(date -u -d "$created" +%s 2>/dev/null) || [ -z "$ts" ]; then
		echo "rotate-backups: keeping $name: cannot read its date \"$created\"" >&2
		continue
	fi
	age=$((now - ts))
	if [ "$age" -le "$limit" ]; then
		continue
	fi
	if [ "$dry_run" -eq 1 ]; then
		echo "would delete $name (created $created)"
		continue
	fi
	if out=$(curl -sS --fail-with-body -X DELETE -H "$(auth_header)" "$api/backup/delete/$name"); then
		echo "deleted $name (created $created)"
		deleted=$((deleted + 1))
	else
		echo "rotate-backups: could not delete $name: $out" >&2
		failed=1
	fi
done < <(printf '%s' "$list" | jq -r '.backups[] | [.filename, .created_at, (.type // "backup")] | @tsv')
echo "rotate-backups: $deleted deleted, keeping backups newer than $keep_days days" >&2
exit "$failed"
