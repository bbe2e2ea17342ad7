#!/usr/bin/env bash
# Nightly backup for cron that keeps working after the first night: gets a
# fresh access token with the client-credentials grant of a Keycloak service
# account (secret read from a 0600 file, never from the command line), then
# calls POST /backup/create. Silent on success (-v prints the backup's name);
# on failure prints the error on stderr and exits non-zero, so cron mails it.
#
#   0 2 * * * KEYCLOAK_URL=https://sso.example.com CRON_CLIENT_SECRET_FILE=/etc/dbbackupd/cron.secret /opt/dbbackupd/setup/cron-backup.sh
#
# Settings (environment, or the options below):
#   BACKUP_API_URL            the daemon (default http://localhost:8081)
#   KEYCLOAK_URL              e.g. https://sso.example.com (required)
#   KEYCLOAK_REALM            default backup
#   CRON_CLIENT_ID            the service-account client (default dbbackupd-cron)
#   CRON_CLIENT_SECRET_FILE   file holding its secret, mode 0600 or 0400 (required)
#   BACKUP_COMPRESS           true (default) or false
#   BACKUP_TARGET             the target to back up (?target=NAME); default: the default one
set -uo pipefail

usage() {
	cat >&2 <<'USAGE'
usage: cron-backup.sh [-v] [--api URL] [--keycloak URL] [--realm NAME] [--client-id ID]
                      [--secret-file FILE] [--compress true|false] [--target NAME]
USAGE
	exit 2
}

die() {
	echo "cron-backup.sh: $*" >&2
	exit 1
}

API=${BACKUP_API_URL:-http://localhost:8081}
KC=${KEYCLOAK_URL:-}
REALM=${KEYCLOAK_REALM:-backup}
CLIENT=${CRON_CLIENT_ID:-dbbackupd-cron}
SECRET_FILE=${CRON_CLIENT_SECRET_FILE:-}
COMPRESS=${BACKUP_COMPRESS:-true}
TARGET=${BACKUP_TARGET:-}
VERBOSE=0

while [ $# -gt 0 ]; do
	case "$1" in
	-v | --verbose) VERBOSE=1 ;;
	--api) API=${2:?}; shift ;;
	--keycloak) KC=${2:?}; shift ;;
	--realm) REALM=${2:?}; shift ;;
	--client-id) CLIENT=${2:?}; shift ;;
	--secret-file) SECRET_FILE=${2:?}; shift ;;
	--compress) COMPRESS=${2:?}; shift ;;
	--target) TARGET=${2:?}; shift ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
	shift
done

command -v curl >/dev/null || die "curl is not installed"
command -v jq >/dev/null || die "jq is not installed"
[ -n "$KC" ] || die "KEYCLOAK_URL is not set"
[ -n "$SECRET_FILE" ] || die "CRON_CLIENT_SECRET_FILE is not set"
case "$COMPRESS" in
true | false) ;;
*) die "BACKUP_COMPRESS must be true or false" ;;
esac
if [ -n "$TARGET" ] && ! [[ "$TARGET" =~ ^[a-z0-9][a-z0-9_-]{0,31}$ ]]; then
	die "--target must be a target name ([a-z0-9][a-z0-9_-]{0,31})"
fi
API=${API%/}

tmp=$(mktemp -d) || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

# 1. A fresh token (setup/api-token.sh: the secret through stdin, the token
# in a 0600 header file).
# shellcheck source=setup/api-token.sh
. "$(dirname "$0")/api-token.sh"
api_token_fetch "$KC" "$REALM" "$CLIENT" "$SECRET_FILE" "$tmp" 2>"$tmp/why" || die "$(cat "$tmp/why")"
unset API_TOKEN

# 2. The backup (of --target's database when given).
status=$(curl -sS --connect-timeout 10 -o "$tmp/create.json" -w '%{http_code}' -X POST \
	-H @"$tmp/auth.header" "$API/backup/create?compress=$COMPRESS${TARGET:+&target=$TARGET}" \
	2>"$tmp/curl.err")
rc=$?
[ $rc -eq 0 ] || die "POST $API/backup/create failed: $(cat "$tmp/curl.err")"
if [ "$status" != 200 ] || ! jq -e '.success == true' "$tmp/create.json" >/dev/null 2>&1; then
	die "backup failed (HTTP $status): $(jq -r '"\(.error // "?"): \(.message // "")"' "$tmp/create.json" 2>/dev/null || head -c 300 "$tmp/create.json")"
fi
if [ "$VERBOSE" = 1 ]; then
	jq -r '"created \(.filename) (\(.size_mb) MB)"' "$tmp/create.json"
fi
exit 0
