#!/usr/bin/env bash
# Deletes backups older than N days through the API, safely.
#
#   rotate-backups.sh --keep-days 7 [--keep-min 1] [--target NAME] [--dry-run]
#       [--keycloak URL] [--realm NAME] [--client-id ID] [--secret-file FILE]
#
# The token: with a secret file (ROTATE_CLIENT_SECRET_FILE or --secret-file,
# mode 0600) a fresh one from Keycloak's client-credentials grant
# (KEYCLOAK_URL, KEYCLOAK_REALM=backup, ROTATE_CLIENT_ID=dbbackupd-rotate,
# an admin service account); else ACCESS_TOKEN (admin role; it expires).
# BACKUP_API_URL defaults to http://localhost:8081. --target NAME (or
# BACKUP_TARGET) rotates that target's backups (?target=NAME); without it,
# the default target's.
#
# The age comes from the list's created_at (UTC), never from the file name.
# A backup whose date cannot be read is kept (and reported), and the newest
# --keep-min regular backups of each target are always kept whatever their
# age, so a stopped cron job can never rotate away a target's last good
# backup. A delete refused because another operation runs (409) is tried
# again after the Retry-After the daemon names (3 tries). Prints each
# deletion; exits non-zero if the API refuses anything. Needs curl and jq.
#
# Why not the contract's script: it runs `date -d` on "YYYYMMDD_HHMMSS",
# which GNU date cannot parse, so AGE is empty, the age computes as ~20000
# days and every backup is deleted, including the one made a minute ago.
set -euo pipefail

keep_days=""
keep_min=1
dry_run=0
target=${BACKUP_TARGET:-}
kc=${KEYCLOAK_URL:-}
realm=${KEYCLOAK_REALM:-backup}
client=${ROTATE_CLIENT_ID:-dbbackupd-rotate}
secret_file=${ROTATE_CLIENT_SECRET_FILE:-}
usage() {
	sed -n '2,21p' "$0" >&2
	exit 2
}
need() { [ -n "${2:-}" ] || { echo "rotate-backups: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
	case "$1" in
	--keep-days) need "$1" "${2:-}"; keep_days=$2; shift 2 ;;
	--keep-min) need "$1" "${2:-}"; keep_min=$2; shift 2 ;;
	--target) need "$1" "${2:-}"; target=$2; shift 2 ;;
	--keycloak) need "$1" "${2:-}"; kc=$2; shift 2 ;;
	--realm) need "$1" "${2:-}"; realm=$2; shift 2 ;;
	--client-id) need "$1" "${2:-}"; client=$2; shift 2 ;;
	--secret-file) need "$1" "${2:-}"; secret_file=$2; shift 2 ;;
	--dry-run) dry_run=1; shift ;;
	-h | --help) usage ;;
	*) echo "rotate-backups: unknown argument $1" >&2; usage ;;
	esac
done
[[ "$keep_days" =~ ^[0-9]+$ ]] || { echo "rotate-backups: --keep-days N is required (a whole number of days)" >&2; exit 2; }
[[ "$keep_min" =~ ^[0-9]+$ ]] || { echo "rotate-backups: --keep-min must be a whole number" >&2; exit 2; }
if [ -n "$target" ] && ! [[ "$target" =~ ^[a-z0-9][a-z0-9_-]{0,31}$ ]]; then
	echo "rotate-backups: --target must be a target name ([a-z0-9][a-z0-9_-]{0,31})" >&2
	exit 2
fi
api=${BACKUP_API_URL:-http://localhost:8081}
api=${api%/}
query=""
[ -z "$target" ] || query="target=$target"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=setup/api-token.sh
. "$(dirname "$0")/api-token.sh"
if [ -n "$secret_file" ]; then
	api_token_fetch "$kc" "$realm" "$client" "$secret_file" "$tmp" 2>"$tmp/why" || {
		echo "rotate-backups: $(cat "$tmp/why")" >&2
		exit 1
	}
elif [ -n "${ACCESS_TOKEN:-}" ]; then
	api_token_header "$ACCESS_TOKEN" "$tmp"
else
	echo "rotate-backups: set ROTATE_CLIENT_SECRET_FILE (and KEYCLOAK_URL) for a token from Keycloak, or ACCESS_TOKEN to a token with the admin role" >&2
	exit 2
fi

list=$(curl -sS --fail-with-body -H @"$tmp/auth.header" "$api/backup/list${query:+?$query}") || {
	echo "rotate-backups: cannot list backups: $list" >&2
	exit 1
}

# DELETE, again after Retry-After while another operation runs (409)
delete() {
	local name=$1 try status wait
	for try in 1 2 3; do
		status=$(curl -sS -o "$tmp/delete.json" -D "$tmp/delete.head" -w '%{http_code}' -X DELETE \
			-H @"$tmp/auth.header" "$api/backup/delete/$name${query:+?$query}") || status=000
		if [ "$status" != 409 ] || [ "$try" = 3 ]; then
			break
		fi
		wait=$(tr -d '\r' <"$tmp/delete.head" | sed -nE 's/^[Rr]etry-[Aa]fter: *([0-9]+)$/\1/p')
		wait=${wait:-5}
		[ "$wait" -le 60 ] || wait=60
		echo "rotate-backups: $name: another operation is running; trying again in $wait s" >&2
		sleep "$wait"
	done
	[ "$status" = 200 ] && return 0
	cat "$tmp/delete.json" 2>/dev/null
	return 1
}

now=$(date -u +%s)
limit=$((keep_days * 86400))
failed=0
deleted=0
declare -A regular_seen=()
# newest first, as the API lists them; --keep-min counts per target (a list
# item's target, when the daemon says; else the one asked for)
while IFS=$'\t' read -r name created type tgt; do
	[ -n "$name" ] || continue
	if [ "$type" != "safety_backup" ]; then
		regular_seen[$tgt]=$((${regular_seen[$tgt]:-0} + 1))
		if [ "${regular_seen[$tgt]}" -le "$keep_min" ]; then
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
	if out=$(delete "$name"); then
		echo "deleted $name (created $created)"
		deleted=$((deleted + 1))
	else
		echo "rotate-backups: could not delete $name: $out" >&2
		failed=1
	fi
done < <(printf '%s' "$list" | jq -r --arg t "${target:-default}" \
	'.backups[] | [.filename, .created_at, (.type // "backup"), (.target // $t)] | @tsv')
echo "rotate-backups: $deleted deleted${target:+ of target $target}, keeping backups newer than $keep_days days" >&2
exit "$failed"
