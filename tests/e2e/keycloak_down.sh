#!/usr/bin/env bash
# Keycloak hanging, then stopped: tokens signed with cached keys keep working,
# other requests are never blocked by a JWKS fetch, the daemon stays up; a
# daemon started while Keycloak is down answers 503 until it can fetch keys.
# Stops the shared Keycloak: runs after the other keycloak tests.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/keycloak_lib.sh"
kc_init
kc_start JWKS_REFRESH_INTERVAL=1 LOG_LEVEL=debug
kc_pid=$(cat "$KEYCLOAK_STATE/pid")

admin=$(bash "$KC_SH" token admin) || exit 1
viewer=$(bash "$KC_SH" token viewer) || exit 1
kc_api GET /backup/list "token:$viewer"
expect_status 200 "viewer token works while Keycloak is up"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/evil.pem" 2>/dev/null
unknown_kid_token() {
	local H P sig
	H=$(b64url "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"$1\"}")
	P=$(cut -d. -f2 <<<"$admin")
	sig=$(printf '%s' "$H.$P" | openssl dgst -sha256 -sign "$WORK/evil.pem" -binary | base64 -w0 | tr '+/' '-_' | tr -d '=')
	echo "$H.$P.$sig"
}
ms() { echo $(($(date +%s%N) / 1000000)); }

# 1. Keycloak hangs (SIGSTOP): a refetch waits for its timeout, nothing else does.
kill -STOP -- "-$kc_pid"
sleep 1.1
t0=$(ms)
curl -sS -o "$WORK/slow.body" -w '%{http_code}' -H "Authorization: Bearer $(unknown_kid_token hang-1)" \
	"$BASE/backup/list" >"$WORK/slow.status" &
slow=$!
sleep 0.3
t1=$(ms)
kc_api GET /backup/list "token:$viewer"
t2=$(ms)
expect_status 200 "a cached-key token works while Keycloak hangs"
check "…answered in $((t2 - t1)) ms while a JWKS fetch hangs (< 1000)" test $((t2 - t1)) -lt 1000
kc_api GET /health anon
expect_status 200 "health answers while a JWKS fetch hangs"
# More unknown kids while the fetch hangs: only a few requests may wait for
# it (4), the rest get their 401 at once instead of pinning connections.
more=()
for i in 1 2 3 4 5 6 7; do
	curl -sS -o /dev/null -w "%{http_code} %{time_total}\n" \
		-H "Authorization: Bearer $(unknown_kid_token "hang-more-$i")" "$BASE/backup/list" \
		>"$WORK/more.$i" &
	more+=($!)
done
wait "$slow"
t3=$(ms)
wait "${more[@]}"
fast=$(cat "$WORK"/more.* | awk '$1 == 401 && $2 < 1.0' | wc -l)
all401=$(cat "$WORK"/more.* | awk '$1 == 401' | wc -l)
check "7 more unknown kids during the hang: all 401 ($all401), at least 4 at once ($fast)" \
	bash -c "[ $all401 = 7 ] && [ $fast -ge 4 ]"
check "the unknown-kid request got 401 ($(cat "$WORK/slow.status")) after $((t3 - t0)) ms (bounded wait < 8000)" \
	bash -c "[ \"$(cat "$WORK/slow.status")\" = 401 ] && [ $((t3 - t0)) -lt 8000 ]"
kill -CONT -- "-$kc_pid"

# 2. Keycloak stopped.
bash "$KC_SH" stop
check "Keycloak is stopped" bash -c "! kill -0 $kc_pid 2>/dev/null"
kc_api GET /backup/list "token:$viewer"
expect_status 200 "viewer token (cached key) works with Keycloak stopped"
kc_api POST "/backup/create?compress=true" "token:$admin"
expect_status 200 "admin creates a backup with Keycloak stopped"
sleep 6 # past the cache's refresh age (5 intervals): the refresh fails, the keys stay
kc_api GET /backup/list "token:$viewer"
expect_status 200 "still works after a failed periodic refresh"
check "the daemon logged that it keeps the cached keys" grep -q 'keeping the cached keys' "$DAEMON_LOG"
t0=$(ms)
kc_api GET /backup/list "token:$(unknown_kid_token down-1)"
t1=$(ms)
expect_401 "unknown kid with Keycloak stopped"
check "…answered in $((t1 - t0)) ms (< 2000)" test $((t1 - t0)) -lt 2000
kc_api DELETE "/backup/delete/nothing.db.gz" "token:$viewer"
expect_error 403 forbidden "a viewer still cannot delete with Keycloak stopped"
check "the daemon is still up" kill -0 "$DAEMON_PID"
kc_api GET /health anon
expect_status 200 "health answers"

# 3. A daemon started while Keycloak is down: up, 503 for tokens, no crash.
e2e_stop
kc_start JWKS_REFRESH_INTERVAL=1
check "the daemon starts without Keycloak, saying so" grep -q 'starting without token keys' "$DAEMON_LOG"
kc_api GET /backup/list "token:$viewer"
expect_error 503 auth_unavailable "no keys yet: 503 auth_unavailable"
kc_api GET /backup/list anon
expect_401 "no token is still 401" unauthorized
check "the daemon is still up" kill -0 "$DAEMON_PID"

e2e_done
