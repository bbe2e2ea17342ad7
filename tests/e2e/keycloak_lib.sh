# shellcheck shell=bash
# Helpers for the end-to-end tests against a real Keycloak (the keycloak
# fixture, tests/services/keycloak.sh). Sourced after lib.sh.
#
#   kc_init                      e2e_init + the fixture's exports + a demo SQLite db
#   kc_start [VAR=value ...]     the daemon on that Keycloak (no AUTH_JWKS_FILE)
#   kc_api METHOD PATH WHO [curl args...]   WHO: admin operator viewer norole (Keycloak
#                                users), anon (no header), or a literal "token:<jwt>"
#   expect_401                   401, JSON invalid_token/unauthorized, WWW-Authenticate Bearer
#   files_snapshot / files_unchanged   the backups directory did not change

KC_SH="$DBB_SOURCE_DIR/tests/services/keycloak.sh"
HEADERS=""

kc_init() {
	e2e_init
	e2e_use_service keycloak
	export DBB_SERVICE_STATE="${KEYCLOAK_STATE%/keycloak}"
	e2e_sqlite_demo 50
	HEADERS="$WORK/headers"
}

kc_start() {
	e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB" AUTH_JWKS_FILE= \
		KEYCLOAK_URL="$KEYCLOAK_URL" KEYCLOAK_REALM="$KEYCLOAK_REALM" \
		KEYCLOAK_CLIENT_ID="$KEYCLOAK_CLIENT_ID" "$@"
}

# kc_token ROLE: a Keycloak access token for that user, cached for 2 minutes.
kc_token() {
	local role=$1 f="$WORK/kc_token_$1"
	if [ ! -s "$f" ] || [ $(($(date +%s) - $(stat -c %Y "$f"))) -gt 120 ]; then
		local kc_role=$role
		[ "$role" = norole ] && kc_role=none
		bash "$KC_SH" token "$kc_role" >"$f.tmp" || {
			echo "e2e: no Keycloak token for $role" >&2
			return 1
		}
		mv "$f.tmp" "$f"
	fi
	cat "$f"
}

kc_api() {
	local method=$1 path=$2 who=$3 tok
	shift 3
	local auth=()
	case "$who" in
	anon) ;;
	token:*) auth=(-H "Authorization: Bearer ${who#token:}") ;;
	*)
		tok=$(kc_token "$who") || {
			STATUS=000
			return
		}
		auth=(-H "Authorization: Bearer $tok")
		;;
	esac
	STATUS=$(curl -sS -o "$BODY" -D "$HEADERS" -w '%{http_code}' -X "$method" "${auth[@]}" "$@" \
		"$BASE$path")
}

# expect_401 [DESCRIPTION] [CODE]: status 401, the JSON error CODE
# (invalid_token by default) and an RFC 6750 WWW-Authenticate header.
expect_401() {
	local what=${1:-401} code=${2:-invalid_token} want_hdr='^www-authenticate: bearer'
	[ "$code" = invalid_token ] && want_hdr='^www-authenticate: bearer .*error="invalid_token"'
	if [ "$STATUS" = 401 ] && jq -e --arg c "$code" '.success == false and .error == $c' "$BODY" \
		>/dev/null 2>&1 && tr -d '\r' <"$HEADERS" | grep -qiE "$want_hdr"; then
		ok "$what: 401 $code with WWW-Authenticate"
	else
		fail "$what: expected 401 $code with WWW-Authenticate, got $STATUS $(grep -i www-auth "$HEADERS" | tr -d '\r')"
	fi
}

files_snapshot() {
	(cd "$WORK/backups" && ls -A | sort) >"$WORK/files.before"
	sqlite_sum >"$WORK/db.before"
}

files_unchanged() {
	if (cd "$WORK/backups" && ls -A | sort) | cmp -s - "$WORK/files.before" &&
		[ "$(sqlite_sum)" = "$(cat "$WORK/db.before")" ]; then
		ok "${1:-nothing changed}: backups directory and database unchanged"
	else
		fail "${1:-nothing changed}: the backups directory or the database changed"
	fi
}

# b64url STRING: base64url without padding.
b64url() {
	printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='
}

# b64url_decode SEGMENT
b64url_decode() {
	local s
	s=$(printf '%s' "$1" | tr -- '-_' '+/')
	while [ $((${#s} % 4)) -ne 0 ]; do s="$s="; done
	printf '%s' "$s" | base64 -d 2>/dev/null
}

# kc_admin METHOD PATH [curl args...]: the Keycloak admin API; body in $BODY.
kc_admin() {
	local method=$1 path=$2
	shift 2
	local tok
	tok=$(bash "$KC_SH" admin-token) || {
		STATUS=000
		return
	}
	STATUS=$(curl -sS -o "$BODY" -D "$HEADERS" -w '%{http_code}' -X "$method" \
		-H "Authorization: Bearer $tok" "$@" "$KEYCLOAK_URL/admin$path")
}

# daemon_fetches: how many JWKS fetches the daemon logged (LOG_LEVEL=debug).
daemon_fetches() {
	grep -c 'auth: JWKS fetched' "$DAEMON_LOG"
}
