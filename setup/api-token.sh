# Sourced by setup/cron-backup.sh and setup/rotate-backups.sh: a fresh
# access token with the client-credentials grant of a Keycloak service
# account. The secret is read from a file of mode 0600 or 0400 and goes to
# curl through stdin, never on a command line; the token is left in a
# variable and in a 0600 header file for curl (-H @file), never in argv.
#
#   api_token_fetch KEYCLOAK_URL REALM CLIENT_ID SECRET_FILE WORKDIR
#
# On success sets API_TOKEN and writes WORKDIR/auth.header
# ("Authorization: Bearer ..."); on failure prints why on stderr (never the
# secret) and returns 1. Needs curl and jq.

# api_token_header TOKEN WORKDIR: the header file curl reads with -H @file.
api_token_header() {
	(
		umask 077
		printf 'Authorization: Bearer %s\n' "$1" >"$2/auth.header"
	)
}

api_token_fetch() {
	local kc=${1%/} realm=$2 client=$3 secret_file=$4 work=$5 mode secret status rc
	if [ -z "$kc" ]; then
		echo "KEYCLOAK_URL is not set" >&2
		return 1
	fi
	if ! [ -f "$secret_file" ] || ! [ -r "$secret_file" ]; then
		echo "cannot read the secret file $secret_file" >&2
		return 1
	fi
	mode=$(stat -L -c '%a' "$secret_file") || return 1
	case "$mode" in
	600 | 400) ;;
	*)
		echo "$secret_file has mode $mode; it must be 0600 (chmod 600 $secret_file)" >&2
		return 1
		;;
	esac
	secret=$(tr -d '\r\n' <"$secret_file")
	if [ -z "$secret" ]; then
		echo "$secret_file is empty" >&2
		return 1
	fi
	status=$(printf 'grant_type=client_credentials&client_id=%s&client_secret=%s' "$client" "$secret" |
		curl -sS --connect-timeout 10 --max-time 60 -o "$work/token.json" -w '%{http_code}' \
			-H 'Content-Type: application/x-www-form-urlencoded' --data-binary @- \
			"$kc/realms/$realm/protocol/openid-connect/token" 2>"$work/token.err")
	rc=$?
	unset secret
	if [ $rc -ne 0 ]; then
		echo "token request to $kc failed: $(cat "$work/token.err")" >&2
		return 1
	fi
	API_TOKEN=$(jq -r '.access_token // empty' "$work/token.json" 2>/dev/null)
	if [ "$status" != 200 ] || [ -z "$API_TOKEN" ]; then
		echo "no token from $kc (HTTP $status): $(jq -r '"\(.error // "?"): \(.error_description // "")"' "$work/token.json" 2>/dev/null || head -c 300 "$work/token.json")" >&2
		return 1
	fi
	rm -f "$work/token.json"
	api_token_header "$API_TOKEN" "$work"
}
