#!/usr/bin/env bash
# Forged and broken tokens against a daemon on a real Keycloak: each is a 401
# with WWW-Authenticate: Bearer error="invalid_token" and a JSON body, and
# none reaches a handler (no backup made, nothing changed).
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/keycloak_lib.sh"
kc_init
kc_start AUTH_CLOCK_SKEW=0

real=$(kc_token viewer) || exit 1
IFS=. read -r H P S <<<"$real"
kid=$(b64url_decode "$H" | jq -r .kid)
kc_api GET /backup/list "token:$real"
expect_status 200 "the genuine viewer token works"

files_snapshot
# forged DESCRIPTION TOKEN [REASON]: refused on a mutating and a reading
# route, the message matching REASON.
forged() {
	kc_api POST "/backup/create?compress=true" "token:$2"
	expect_401 "$1"
	if [ -n "${3:-}" ]; then
		expect_json ".message | test(\"$3\")" "$1: the reason is \"$3\""
	fi
	kc_api GET /backup/list "token:$2"
	expect_401 "$1 (list)"
}

sign_rs256() { # KEYFILE INPUT
	printf '%s' "$2" | openssl dgst -sha256 -sign "$1" -binary | base64 -w0 | tr '+/' '-_' | tr -d '='
}

# 1. The payload changed after signing: viewer → admin.
P_admin=$(b64url "$(b64url_decode "$P" | jq -c '.realm_access.roles = ["admin"]')")
forged "payload changed after signing" "$H.$P_admin.$S" "signature"

# 2. alg none, with and without a signature.
H_none=$(b64url "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"$kid\"}")
forged "alg none, empty signature" "$H_none.$P_admin." "empty segment"
forged "alg none, old signature" "$H_none.$P_admin.$S" "algorithm not allowed"
forged "alg none, no kid" "$(b64url '{"alg":"none"}').$P_admin."

# 3. HS256 "signed" with the realm's public key as the HMAC secret.
curl -sS "$KEYCLOAK_URL/realms/$KEYCLOAK_REALM/protocol/openid-connect/certs" >"$WORK/certs.json"
x5c=$(jq -r --arg k "$kid" '.keys[] | select(.kid == $k) | .x5c[0]' "$WORK/certs.json")
printf -- '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' "$x5c" | fold -w 64 >"$WORK/cert.pem"
openssl x509 -in "$WORK/cert.pem" -pubkey -noout >"$WORK/pub.pem" 2>/dev/null
check "the realm's public key is at hand" test -s "$WORK/pub.pem"
H_hs=$(b64url "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"$kid\"}")
for variant in pem pem-no-newline; do
	secret=$(cat "$WORK/pub.pem")
	[ "$variant" = pem ] && secret="$secret"$'\n'
	sig=$(printf '%s' "$H_hs.$P_admin" | openssl dgst -sha256 -mac HMAC -macopt "key:$secret" -binary |
		base64 -w0 | tr '+/' '-_' | tr -d '=')
	forged "HS256 with the public key ($variant) as secret" "$H_hs.$P_admin.$sig" "algorithm not allowed"
done

# 4. Our own RSA key: under Keycloak's kid (bad signature) and under a new kid.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/evil.pem" 2>/dev/null
H_rs=$(b64url "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"$kid\"}")
forged "signed by another RSA key under Keycloak's kid" "$H_rs.$P_admin.$(sign_rs256 "$WORK/evil.pem" "$H_rs.$P_admin")" "signature"
H_unk=$(b64url '{"alg":"RS256","typ":"JWT","kid":"attacker-key-1"}')
forged "unknown kid" "$H_unk.$P_admin.$(sign_rs256 "$WORK/evil.pem" "$H_unk.$P_admin")" "unknown kid"
H_384=$(b64url "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"$kid\"}")
forged "ES256 under Keycloak's RSA kid" "$H_384.$P.$S" "does not match"

# 5. Malformed shapes.
forged "not a JWT" "hello"
forged "two segments" "$H.$P"
forged "four segments" "$H.$P.$S.$S"
forged "bad base64 in the header" "!!$H.$P.$S" "base64"
forged "header is not JSON" "$(b64url '{"alg":"RS256",').$P.$S" "malformed header"
forged "payload is not JSON" "$H.$(b64url 'not json').$S"
forged "oversized token (17 KiB)" "$H.$(head -c 17000 /dev/zero | tr '\0' 'A').$S" "too large"
forged "oversized header" "$(b64url "{\"alg\":\"RS256\",\"kid\":\"$kid\",\"x\":\"$(head -c 3000 /dev/zero | tr '\0' 'x')\"}").$P.$S" "header too large"
# A header far beyond any token (and beyond the server's request limits):
# refused one way or another, the daemon stays up.
printf 'Authorization: Bearer %s.%s.%s\n' "$(head -c 100000 /dev/zero | tr '\0' A)" AAAA AAAA >"$WORK/huge.hdr"
STATUS=$(curl -sS -o "$BODY" -w '%{http_code}' -H @"$WORK/huge.hdr" "$BASE/backup/list" 2>/dev/null)
check "a 100 KB Authorization header is refused ($STATUS)" test "$STATUS" != 200
check "the daemon is still up after it" kill -0 "$DAEMON_PID"
kc_api GET /backup/list anon -H "Authorization: Basic dXNlcjpwYXNz"
expect_401 "Basic instead of Bearer" unauthorized

# 6. An expired real token: a short-lived service-account client made
# through the admin API (access tokens valid 1 s), with the viewer role.
cid_name="e2e-short-$$"
csecret=$(head -c 24 /dev/urandom | base64 | tr -dc A-Za-z0-9)
kc_admin POST "/realms/$KEYCLOAK_REALM/clients" -H 'Content-Type: application/json' -d "$(jq -nc \
	--arg id "$cid_name" --arg s "$csecret" '{clientId: $id, enabled: true, publicClient: false,
	secret: $s, serviceAccountsEnabled: true, standardFlowEnabled: false,
	directAccessGrantsEnabled: false, attributes: {"access.token.lifespan": "1"},
	protocolMappers: [{name: "aud", protocol: "openid-connect", protocolMapper: "oidc-audience-mapper",
	config: {"included.client.audience": "dbbackupd", "access.token.claim": "true"}}]}')"
expect_status 201 "admin API: short-lived client created"
cuuid=$(tr -d '\r' <"$HEADERS" | sed -nE 's#^[Ll]ocation: .*/clients/([^/]+)$#\1#p')
kc_admin GET "/realms/$KEYCLOAK_REALM/clients/$cuuid/service-account-user"
uid=$(jq -r .id "$BODY")
kc_admin GET "/realms/$KEYCLOAK_REALM/roles/viewer"
role_json=$(jq -c '[{id, name}]' "$BODY")
kc_admin POST "/realms/$KEYCLOAK_REALM/users/$uid/role-mappings/realm" -H 'Content-Type: application/json' -d "$role_json"
expect_status 204 "admin API: viewer role granted"
short=$(printf 'grant_type=client_credentials&client_id=%s&client_secret=%s' "$cid_name" "$csecret" |
	curl -sS --data-binary @- "$KEYCLOAK_URL/realms/$KEYCLOAK_REALM/protocol/openid-connect/token" | jq -r .access_token)
kc_api GET /backup/list "token:$short"
expect_status 200 "the short-lived token works while fresh"
sleep 2.5
forged "expired Keycloak token" "$short" "expired"
kc_admin DELETE "/realms/$KEYCLOAK_REALM/clients/$cuuid"

files_unchanged "forged tokens"
check "no handler ran: no backup written" bash -c "! grep -q 'written:' '$DAEMON_LOG'"
check "the daemon is still up" kill -0 "$DAEMON_PID"

# 7. Wrong issuer: the daemon expects http://localhost:PORT, Keycloak issued
# for http://127.0.0.1:PORT (same server, same keys).
e2e_stop
kc_start KEYCLOAK_URL="${KEYCLOAK_URL/127.0.0.1/localhost}"
kc_api GET /backup/list "token:$real"
expect_401 "token of another issuer"
expect_json '.message | test("issuer")' "the message names the issuer"

# 8. Wrong audience: the daemon is another API.
e2e_stop
kc_start KEYCLOAK_CLIENT_ID=another-api
kc_api GET /backup/list "token:$real"
expect_401 "token for another audience"
expect_json '.message | test("audience")' "the message names the audience"

e2e_done
