#!/usr/bin/env bash
# The dashboard's files (issue 21, docs/dashboard.md): /ui, /ui/, its
# assets and /ui/config.json are public, embedded in the binary (served
# from any working directory), with their content types and a strict
# Content-Security-Policy (no inline code; Keycloak's origin only when
# tokens come from Keycloak); unknown names are JSON 404s. The pages
# themselves are tested in a browser by tests/ui/.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_sqlite_demo
cd / || exit 1
e2e_start SQLITE_PATH="$SQLITE_DB"

HDRS="$WORK/headers"
# get PATH: status in $STATUS, body in $BODY, headers in $HDRS
get() { STATUS=$(curl -sS -D "$HDRS" -o "$BODY" -w '%{http_code}' "$BASE$1"); }
header() { sed -n "s/^$1: *//Ip" "$HDRS" | tr -d '\r' | tail -n 1; }
csp_has() { header Content-Security-Policy | tr ';' '\n' | sed 's/^ *//' | grep -qxF "$1"; }

for p in /ui /ui/; do
	get "$p"
	expect_status 200 "GET $p without a token"
	check "$p is HTML" test "$(header Content-Type)" = "text/html; charset=utf-8"
	check "$p is the dashboard page" grep -q 'id="token-input"' "$BODY"
	check "$p loads its script as a module from /ui/assets" grep -q '<script type="module" src="/ui/assets/app.js"></script>' "$BODY"
	check "$p has no inline script" bash -c "! grep -Eq '<script>|<script [^>]*>[^<]' '$BODY'"
	check "$p has no inline style" bash -c "! grep -Eqi '<style|style=' '$BODY'"
	for d in "default-src 'none'" "script-src 'self'" "style-src 'self'" "img-src 'self' data:" \
		"connect-src 'self'" "form-action 'none'" "frame-ancestors 'none'" "base-uri 'none'"; do
		check "$p CSP: $d" csp_has "$d"
	done
	check "$p: X-Content-Type-Options nosniff" test "$(header X-Content-Type-Options)" = nosniff
	check "$p: Referrer-Policy no-referrer" test "$(header Referrer-Policy)" = no-referrer
done

for a in app.js api.js auth.js util.js uPlot.esm.js app.css uPlot.min.css; do
	get "/ui/assets/$a"
	expect_status 200 "GET /ui/assets/$a"
	check "/ui/assets/$a is not empty" test -s "$BODY"
	case $a in
	*.js) want="text/javascript; charset=utf-8" ;;
	*.css) want="text/css; charset=utf-8" ;;
	esac
	check "/ui/assets/$a is $want" test "$(header Content-Type)" = "$want"
	check "/ui/assets/$a has the CSP" csp_has "script-src 'self'"
done
check "uPlot is the npm package's" bash -c "curl -sS '$BASE/ui/assets/uPlot.esm.js' | grep -q 'export { uPlot as default }'"
check "the app uses neither localStorage nor cookies" bash -c "! curl -sS '$BASE/ui/assets/auth.js' '$BASE/ui/assets/app.js' '$BASE/ui/assets/api.js' '$BASE/ui/assets/util.js' | grep -Eq 'localStorage\.|document\.cookie'"

# issue 21's bound: the dashboard's own bundle (page, modules, styles; not
# the chart library) is at most 150 KB gzipped, as served
own=0
for a in /ui/ /ui/assets/app.js /ui/assets/api.js /ui/assets/auth.js /ui/assets/util.js /ui/assets/app.css; do
	own=$((own + $(curl -sS "$BASE$a" | gzip -9 | wc -c)))
done
echo "bundle: ${own} bytes gzipped without uPlot"
check "size bound: the bundle without the chart library is <= 150 KB gzipped (${own} bytes)" test "$own" -le 153600

get /ui/config.json
expect_status 200 "GET /ui/config.json without a token"
check "/ui/config.json is JSON" test "$(header Content-Type)" = "application/json"
expect_json '.auth == "dev" and (has("keycloak") | not)' "with a JWKS file only: auth dev, no keycloak member"

get /ui/assets/nothing.js
expect_error 404 not_found "unknown asset"
check "  ... with the dashboard's CSP" csp_has "frame-ancestors 'none'"
get /ui/assets/index.html
expect_error 404 not_found "/ui/assets/index.html is not a second copy"
STATUS=$(curl -sS -o "$BODY" -w '%{http_code}' --path-as-is "$BASE/ui/assets/../../keys/private.pem")
expect_error 404 not_found "no file outside the embedded set"
get /ui/assets/
expect_error 404 not_found "GET /ui/assets/ (no asset name)"
STATUS=$(curl -sS -o "$BODY" -w '%{http_code}' -X POST "$BASE/ui")
expect_error 405 method_not_allowed "POST /ui"
e2e_stop

# Tokens from Keycloak: the page may talk to Keycloak's origin (and only
# that), and says which client to use. (No Keycloak needs to run: the
# keys still come from the test's JWKS file.)
e2e_start SQLITE_PATH="$SQLITE_DB" KEYCLOAK_URL=http://127.0.0.1:9/kc/ KEYCLOAK_REALM=backup
get /ui/config.json
expect_json '.auth == "keycloak" and .keycloak.url == "http://127.0.0.1:9/kc" and .keycloak.realm == "backup" and .keycloak.client_id == "dbbackupd-ui"' \
	"with KEYCLOAK_URL: auth keycloak, its URL, realm and the dashboard's client"
get /ui
check "CSP: connect-src adds Keycloak's origin" csp_has "connect-src 'self' http://127.0.0.1:9"
check "CSP: form-action is Keycloak's origin" csp_has "form-action http://127.0.0.1:9"
e2e_stop

e2e_start SQLITE_PATH="$SQLITE_DB" KEYCLOAK_URL=http://keycloak:8080 UI_KEYCLOAK_URL=https://sso.example.com/ UI_CLIENT_ID=my-dashboard
get /ui/config.json
expect_json '.keycloak.url == "https://sso.example.com" and .keycloak.client_id == "my-dashboard"' \
	"UI_KEYCLOAK_URL and UI_CLIENT_ID are what the page uses"
get /ui/
check "CSP: the browser's Keycloak (UI_KEYCLOAK_URL)" csp_has "connect-src 'self' https://sso.example.com"
e2e_stop

check "a UI_KEYCLOAK_URL that is not http(s) is refused at start-up" \
	bash -c "UI_KEYCLOAK_URL=ftp://x AUTH_JWKS_FILE='$WORK/keys/jwks.json' '$DBBACKUPD' --check-config 2>&1 | grep -q UI_KEYCLOAK_URL"

e2e_done
