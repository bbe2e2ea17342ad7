#!/usr/bin/env bash
# Key rotation through Keycloak's admin API, without restarting the daemon:
# a new rsa-generated key of higher priority signs new tokens, which are
# accepted on first sight; a flood of unknown kids causes at most one JWKS
# fetch per refresh interval; tokens of a removed key stop working.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/keycloak_lib.sh"
kc_init
kc_start JWKS_REFRESH_INTERVAL=2 LOG_LEVEL=debug
pid0=$DAEMON_PID
R=/realms/$KEYCLOAK_REALM

kid_of() { b64url_decode "$(cut -d. -f1 <<<"$1")" | jq -r .kid; }

old=$(bash "$KC_SH" token operator) || exit 1
kid_old=$(kid_of "$old")
kc_api GET /backup/list "token:$old"
expect_status 200 "a token of the current key works"

kc_admin GET "$R"
realm_id=$(jq -r .id "$BODY")
kc_admin GET "$R/components?type=org.keycloak.keys.KeyProvider"
old_components=$(jq -r '.[] | select(.providerId == "rsa-generated") | .id' "$BODY")
check "the realm has an rsa-generated key provider" test -n "$old_components"

kc_admin POST "$R/components" -H 'Content-Type: application/json' -d "$(jq -nc --arg p "$realm_id" \
	--arg n "e2e-rotated-$$" '{name: $n, providerId: "rsa-generated",
	providerType: "org.keycloak.keys.KeyProvider", parentId: $p,
	config: {priority: ["500"], enabled: ["true"], active: ["true"], keySize: ["2048"], algorithm: ["RS256"]}}')"
expect_status 201 "admin API: a new active RSA key of higher priority"

new=$(bash "$KC_SH" token operator) || exit 1
kid_new=$(kid_of "$new")
check "new tokens are signed by the new key ($kid_new)" test "$kid_new" != "$kid_old"
sleep 2.2 # an unknown kid is looked up at most once per JWKS_REFRESH_INTERVAL
kc_api GET /backup/list "token:$new"
expect_status 200 "a token of the new key is accepted without a restart"
check "the daemon was not restarted" test "$DAEMON_PID" = "$pid0"
kc_api GET /backup/list "token:$old"
expect_status 200 "the old key still works while Keycloak publishes it"

# A flood of tokens with unknown kids: all 401, at most one fetch per interval.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/evil.pem" 2>/dev/null
P=$(cut -d. -f2 <<<"$new")
sleep 2.2 # let the refetch interval pass: the flood may cause one fetch
n0=$(daemon_fetches)
t0=$(date +%s%N)
bad=0
for i in $(seq 1 30); do
	H=$(b64url "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"flood-$i\"}")
	sig=$(printf '%s' "$H.$P" | openssl dgst -sha256 -sign "$WORK/evil.pem" -binary | base64 -w0 | tr '+/' '-_' | tr -d '=')
	kc_api GET /backup/list "token:$H.$P.$sig"
	[ "$STATUS" = 401 ] || bad=$((bad + 1))
done
t1=$(date +%s%N)
n1=$(daemon_fetches)
secs=$(((t1 - t0) / 1000000000 + 1))
check "30 unknown-kid tokens: all 401" test "$bad" = 0
check "the flood caused $((n1 - n0)) JWKS fetch(es) in ${secs}s (at most one per 2 s interval)" \
	test $((n1 - n0)) -le $((secs / 2 + 1))

# Remove the old key in Keycloak: its tokens stop working once the daemon's
# cache refreshes (every 5 refresh intervals = 10 s here).
for c in $old_components; do
	kc_admin DELETE "$R/components/$c"
	expect_status 204 "admin API: old key provider removed"
done
gone=0
for i in $(seq 1 30); do
	kc_api GET /backup/list "token:$old"
	if [ "$STATUS" = 401 ]; then
		gone=1
		break
	fi
	sleep 1
done
check "a token of the removed key is refused after the refresh (${i}s)" test "$gone" = 1
expect_json '.message | test("unknown kid")' "the reason is the unknown kid"
kc_api GET /backup/list "token:$new"
expect_status 200 "the new key still works"
kc_api POST "/backup/create?compress=true" "token:$new"
expect_status 200 "the operator creates a backup with the new key's token"
check "the daemon was never restarted" test "$DAEMON_PID" = "$pid0"

e2e_done
