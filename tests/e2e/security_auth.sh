#!/usr/bin/env bash
# Promise (issue 14, items 7 and 9): the daemon trusts no key material or
# setting that another local user could change, and a token has one meaning
# and one spelling.
#  - It refuses to start, with one line naming the file and what is wrong,
#    when AUTH_JWKS_FILE, the development private key next to it,
#    TLS_KEY_FILE, TLS_CERT_FILE or .env (or a directory on the way to one)
#    is writable by group or others or owned by another user than root or
#    the daemon's, or when a private key is readable by others.
#  - A JWKS file that becomes world-writable while it runs is not reloaded:
#    a key a local user adds there gives nothing; the keys loaded before
#    keep working; the log says so as an error.
#  - BIND_ADDRESS off loopback without TLS, and keys fetched over http://
#    from a host off loopback, are warned about at start-up unless
#    BIND_ALLOW_HTTP / KEYCLOAK_ALLOW_HTTP say it is meant.
#  - Tokens with a duplicate claim (exp, realm_access), with non-canonical
#    base64url, or living longer than AUTH_MAX_TOKEN_LIFETIME are refused
#    (401); two Authorization headers are a 400.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo 20
JWKS="$WORK/keys/jwks.json"
KID=$(jq -r '.keys[0].kid' "$JWKS")
BASEENV=(PORT=0 BIND_ADDRESS=127.0.0.1 BACKUP_DIR="$WORK/backups" AUTH_JWKS_FILE="$JWKS"
	SQLITE_PATH="$SQLITE_DB" DB_TYPE=sqlite)

# check_config [VAR=value...]: runs --check-config (in $CWD if set); sets
# OUT and RC.
check_config() {
	OUT=$(cd "${CWD:-.}" && env "${BASEENV[@]}" "$@" "$DBBACKUPD" --check-config 2>&1)
	RC=$?
}
has() { grep -Eq -- "$1" <<<"$OUT"; }
lacks() { ! grep -Eq -- "$1" <<<"$OUT"; }

# refused DESCRIPTION PATTERN [VAR=value...]: --check-config exits 2 with
# exactly one line that matches PATTERN.
refused() {
	local what=$1 pat=$2
	shift 2
	check_config "$@"
	if [ "$RC" -eq 2 ] && [ "$(wc -l <<<"$OUT")" -eq 1 ] && grep -Eq -- "$pat" <<<"$OUT"; then
		ok "$what: refused with one line ($(cut -c1-160 <<<"$OUT")...)"
	else
		fail "$what: expected exit 2 and one line matching /$pat/, got $RC: $OUT"
	fi
}

accepted() {
	local what=$1
	shift
	check_config "$@"
	if [ "$RC" -eq 0 ] && grep -q 'configuration OK' <<<"$OUT"; then
		ok "$what: accepted"
	else
		fail "$what: expected the configuration to be accepted, got $RC: $OUT"
	fi
}

# ---- item 7: files others can change ----
accepted "dev keys as dbbackupd dev-keys writes them"
chmod o+w "$JWKS"
refused "a world-writable AUTH_JWKS_FILE" "AUTH_JWKS_FILE $JWKS: .*writable by others"
chmod 664 "$JWKS"
refused "a group-writable AUTH_JWKS_FILE" "AUTH_JWKS_FILE .*writable by its group"
chmod 644 "$JWKS"
chmod 777 "$WORK/keys"
refused "AUTH_JWKS_FILE in a world-writable directory" "AUTH_JWKS_FILE .*directory $WORK/keys is writable"
chmod 1777 "$WORK/keys"
accepted "AUTH_JWKS_FILE (ours) in a sticky directory"
chmod 700 "$WORK/keys"
mkdir -p "$WORK/open" && chmod 777 "$WORK/open"
ln -s "$JWKS" "$WORK/open/jwks.json"
refused "AUTH_JWKS_FILE through a link in a world-writable directory" "directory $WORK/open is writable" \
	AUTH_JWKS_FILE="$WORK/open/jwks.json"
if [ "$(id -u)" -eq 0 ]; then
	chown nobody "$JWKS"
	refused "AUTH_JWKS_FILE owned by another user" "AUTH_JWKS_FILE .*owned by another user"
	chown root "$JWKS"
	chown nobody "$WORK/keys"
	refused "AUTH_JWKS_FILE in a directory owned by another user" "directory $WORK/keys is owned by another user"
	chown root "$WORK/keys"
else
	part_skipped "the owner checks need root"
fi
chmod 644 "$WORK/keys/private.pem"
refused "the development private key readable by others" "private.pem: .*others can read it"
chmod 620 "$WORK/keys/private.pem"
refused "the development private key writable by its group" "private.pem: .*writable by its group"
chmod 600 "$WORK/keys/private.pem"

mkdir -p "$WORK/openkeys" && chmod 777 "$WORK/openkeys"
out=$("$DBBACKUPD" dev-keys "$WORK/openkeys" 2>&1)
rc=$?
check "dev-keys into a world-writable directory fails (exit $rc)" test "$rc" -ne 0
check "... saying the daemon would refuse the keys" grep -q "will refuse these keys: .*openkeys is writable" <<<"$out"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
	-keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
chmod 600 "$WORK/tls.key"
chmod 644 "$WORK/tls.crt"
TLS=(TLS_CERT_FILE="$WORK/tls.crt" TLS_KEY_FILE="$WORK/tls.key")
accepted "a 0600 TLS key and a 0644 certificate" "${TLS[@]}"
chmod 644 "$WORK/tls.key"
refused "a TLS key readable by others" "TLS_KEY_FILE .*others can read it" "${TLS[@]}"
chmod 660 "$WORK/tls.key"
refused "a group-writable TLS key" "TLS_KEY_FILE .*writable by its group" "${TLS[@]}"
chmod 600 "$WORK/tls.key"
chmod 666 "$WORK/tls.crt"
refused "a world-writable TLS certificate" "TLS_CERT_FILE .*writable" "${TLS[@]}"
chmod 644 "$WORK/tls.crt"

mkdir -p "$WORK/cwd"
printf 'LOG_LEVEL=info\n' >"$WORK/cwd/.env"
chmod 644 "$WORK/cwd/.env"
CWD="$WORK/cwd" accepted "a 0644 .env"
chmod 666 "$WORK/cwd/.env"
CWD="$WORK/cwd" refused "a world-writable .env" "settings file \.env: .*writable"
rm -f "$WORK/cwd/.env"

# the daemon itself (not only --check-config) starts nothing
chmod o+w "$JWKS"
env "${BASEENV[@]}" timeout 20 "$DBBACKUPD" >"$WORK/refused.log" 2>&1
rc=$?
check "the daemon exits 2 on a world-writable AUTH_JWKS_FILE (got $rc)" test "$rc" -eq 2
check "... with one line naming the file" bash -c "[ \$(wc -l <'$WORK/refused.log') -eq 1 ] && grep -q 'AUTH_JWKS_FILE $JWKS' '$WORK/refused.log'"
chmod 644 "$JWKS"

# ---- item 7: a JWKS that becomes world-writable is not reloaded ----
"$DBBACKUPD" dev-keys "$WORK/evil" >/dev/null
evil_token() { "$DBBACKUPD" token --key "$WORK/evil/private.pem" --role admin --ttl 600; }
e2e_start SQLITE_PATH="$SQLITE_DB" JWKS_REFRESH_INTERVAL=1
api GET /backup/list admin
expect_status 200 "the dev admin token works"
cp "$JWKS" "$WORK/jwks.orig"
chmod 666 "$JWKS"
jq -s '{keys: (.[0].keys + .[1].keys)}' "$JWKS" "$WORK/evil/jwks.json" >"$WORK/merged.json"
cat "$WORK/merged.json" >"$JWKS" # a local user writes into the file
sleep 2
STATUS=$(curl -sS -o "$BODY" -w '%{http_code}' -H "Authorization: Bearer $(evil_token)" "$BASE/backup/list")
expect_error 401 invalid_token "a key added to the world-writable JWKS gives nothing"
sleep 2
STATUS=$(curl -sS -o "$BODY" -w '%{http_code}' -X DELETE -H "Authorization: Bearer $(evil_token)" "$BASE/backup/delete/backup_x_20260101_000000.db")
expect_error 401 invalid_token "... on later reloads either"
api GET /backup/list admin
expect_status 200 "the keys loaded before keep working"
check "the log says, as an error, that the file was not reloaded" \
	grep -Eq ' error auth: AUTH_JWKS_FILE NOT reloaded.*writable' "$DAEMON_LOG"
e2e_stop
cat "$WORK/jwks.orig" >"$JWKS"
chmod 644 "$JWKS"

# ---- item 7: clear-text transports are warned about ----
check_config BIND_ADDRESS=0.0.0.0
check "BIND_ADDRESS=0.0.0.0 without TLS: a warning" has 'warn INSECURE: BIND_ADDRESS 0.0.0.0'
check_config BIND_ADDRESS=0.0.0.0 BIND_ALLOW_HTTP=true
check "... not with BIND_ALLOW_HTTP=true" lacks INSECURE
check "... which says it is allowed" has 'allowed by BIND_ALLOW_HTTP'
check_config BIND_ADDRESS=0.0.0.0 "${TLS[@]}"
check "... nor with TLS" lacks INSECURE
check "... (configuration OK)" has 'configuration OK'
check_config BIND_ADDRESS=::1
check "BIND_ADDRESS=::1: no warning" lacks INSECURE
check_config AUTH_JWKS_FILE= KEYCLOAK_URL=http://192.0.2.1:9 KEYCLOAK_REALM=backup
check "keys over http:// from a host off loopback: a warning" has 'warn INSECURE: KEYCLOAK_URL http://192.0.2.1:9'
check_config AUTH_JWKS_FILE= KEYCLOAK_URL=http://192.0.2.1:9 KEYCLOAK_REALM=backup KEYCLOAK_ALLOW_HTTP=true
check "... not with KEYCLOAK_ALLOW_HTTP=true" lacks INSECURE
check_config AUTH_JWKS_FILE= KEYCLOAK_URL=http://127.0.0.1:9 KEYCLOAK_REALM=backup
check "keys over http:// from loopback (the test Keycloak): no warning" lacks INSECURE

# ---- item 9: one meaning, one spelling ----
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
# forge PAYLOAD_JSON: an RS256 token signed with the dev key, as spelled here
forge() {
	local h p s
	h=$(printf '{"alg":"RS256","typ":"JWT","kid":"%s"}' "$KID" | b64url)
	p=$(printf '%s' "$1" | b64url)
	s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$WORK/keys/private.pem" | b64url)
	printf '%s.%s.%s' "$h" "$p" "$s"
}
# call METHOD PATH TOKEN: sets STATUS, body in $BODY
call() {
	STATUS=$(curl -sS -o "$BODY" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3" "$BASE$2")
}
now=$(date +%s)
claims() { # IAT EXP ROLES_JSON [EXTRA_MEMBERS]
	printf '{"iss":"dbbackupd-local","aud":"dbbackupd","sub":"forged","iat":%s,"exp":%s,"realm_access":{"roles":%s}%s}' \
		"$1" "$2" "$3" "${4:-}"
}
e2e_start SQLITE_PATH="$SQLITE_DB"
gone=backup_sqlite_20200101_000000.db # absent: an admin gets 404, a viewer 403

call GET /backup/list "$(forge "$(claims "$now" $((now + 600)) '["viewer"]')")"
expect_status 200 "a token forged here with the dev key works (the control)"
call DELETE "/backup/delete/$gone" "$(forge "$(claims "$now" $((now + 600)) '["viewer"]')")"
expect_error 403 forbidden "... as a viewer"
tok=$(forge "{\"iss\":\"dbbackupd-local\",\"aud\":\"dbbackupd\",\"sub\":\"forged\",\"iat\":$now,\"exp\":$((now - 3600)),\"exp\":$((now + 600)),\"realm_access\":{\"roles\":[\"viewer\"]}}")
call GET /backup/list "$tok"
expect_error 401 invalid_token "exp twice (expired, then valid): refused"
expect_json '.message | test("duplicate")' "... saying duplicate"
call DELETE "/backup/delete/$gone" "$(forge "$(claims "$now" $((now + 600)) '["viewer"]' ',"realm_access":{"roles":["admin"]}')")"
expect_error 401 invalid_token "realm_access twice (viewer, then admin): refused, not admin"
call DELETE "/backup/delete/$gone" "$(forge "$(claims "$now" $((now + 600)) '["viewer"],"roles":["admin"]')")"
expect_error 401 invalid_token "roles twice in realm_access: refused"

# non-canonical base64url: the signature's last character with its unused
# bits set decodes to the same bytes
alphabet=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_
respell() {
	local t=$1 last=${1: -1} i
	i=$(awk -v a="$alphabet" -v c="$last" 'BEGIN { print index(a, c) - 1 }')
	printf '%s%s' "${t%?}" "${alphabet:$((i | 1)):1}"
}
tok=$(token admin)
call GET /backup/list "$tok"
expect_status 200 "the dev admin token (canonical)"
call GET /backup/list "$tok"
expect_status 200 "... again (from the token cache)"
call DELETE "/backup/delete/$gone" "$(respell "$tok")"
expect_error 401 invalid_token "the same token with the signature's unused bits set: refused"
expect_json '.message | test("non-canonical")' "... saying non-canonical"

# lifetime
call GET /backup/list "$(forge "$(claims "$now" $((now + 86400)) '["viewer"]')")"
expect_status 200 "a 24 h token"
call GET /backup/list "$(forge "$(claims "$now" $((now + 2 * 86400)) '["viewer"]')")"
expect_error 401 invalid_token "a 48 h token: refused"
expect_json '.message | test("lifetime")' "... saying lifetime"
call GET /backup/list "$(forge "$(claims $((now - 40 * 86400)) $((now + 600)) '["viewer"]')")"
expect_error 401 invalid_token "issued 40 days ago, valid 10 more minutes: refused"
call GET /backup/list "$(forge "{\"iss\":\"dbbackupd-local\",\"aud\":\"dbbackupd\",\"sub\":\"forged\",\"exp\":$((now + 30 * 86400)),\"realm_access\":{\"roles\":[\"viewer\"]}}")"
expect_error 401 invalid_token "no iat and exp in 30 days: refused"
check "dbbackupd token refuses a --ttl over AUTH_MAX_TOKEN_LIFETIME" \
	bash -c "! '$DBBACKUPD' token --key '$WORK/keys/private.pem' --role admin --ttl 172800 >/dev/null 2>&1"
e2e_stop
e2e_start SQLITE_PATH="$SQLITE_DB" AUTH_MAX_TOKEN_LIFETIME=3600
call GET /backup/list "$(forge "$(claims "$now" $((now + 7200)) '["viewer"]')")"
expect_error 401 invalid_token "AUTH_MAX_TOKEN_LIFETIME=3600: a 2 h token is refused"

# two Authorization headers
vtok=$(token viewer)
STATUS=$(curl -sS -o "$BODY" -w '%{http_code}' -H "Authorization: Bearer $vtok" -H "Authorization: Bearer $vtok" "$BASE/backup/list")
expect_error 400 bad_request "two Authorization headers (the same token twice): 400"
STATUS=$(curl -sS -o "$BODY" -w '%{http_code}' -X DELETE -H "Authorization: Bearer $(token admin)" -H "authorization: Bearer $vtok" "$BASE/backup/delete/$gone")
expect_error 400 bad_request "two Authorization headers (admin, then viewer): 400"
STATUS=$(curl -sS -o "$BODY" -w '%{http_code}' -H "Authorization: Bearer $vtok" "$BASE/backup/list")
expect_status 200 "one Authorization header: 200"
e2e_done
