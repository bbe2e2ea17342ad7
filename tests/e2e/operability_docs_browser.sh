#!/usr/bin/env bash
# /docs opens in headless Chromium (Debian's) with every other host made
# unresolvable, so the page can only work with what the daemon serves, and
# shows the API's operations. The screenshot is kept under the build
# directory (tests/operability-artifacts/docs.png).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operability_lib.sh"
e2e_init
mkdir -p "$OP_ARTIFACTS"
op_apt chromium fonts-liberation || {
	fail "cannot install chromium"
	e2e_done
}
CHROMIUM=$(command -v chromium || command -v chromium-browser)

e2e_sqlite_demo
e2e_start SQLITE_PATH="$SQLITE_DB"

browse() {
	# a fresh profile each time; no network but this daemon
	local profile
	profile=$(mktemp -d "$WORK/chromium.XXXXXX")
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-dev-shm-usage --user-data-dir="$profile" \
		--host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
		--window-size=1280,1800 --virtual-time-budget=20000 "$@" 2>>"$WORK/chromium.log"
}

browse --dump-dom "$BASE/docs" >"$WORK/dom.html"
check "Chromium rendered the page" test -s "$WORK/dom.html"
check "Swagger UI rendered (its container holds the UI)" grep -q 'class="swagger-ui' "$WORK/dom.html"
check "the page shows the API title" grep -q 'dbbackupd' "$WORK/dom.html"
for p in /backup/create /backup/list /backup/stats /backup/download/ /backup/restore/ \
	/backup/restore-upload /backup/delete/ /health /ready /metrics; do
	check "the page shows $p" grep -q "$p" "$WORK/dom.html"
done
check "the page shows the bearer security scheme (Authorize)" grep -q 'Authorize' "$WORK/dom.html"

rm -f "$OP_ARTIFACTS/docs.png"
browse --screenshot="$OP_ARTIFACTS/docs.png" "$BASE/docs" >/dev/null
check "screenshot saved at $OP_ARTIFACTS/docs.png" test -s "$OP_ARTIFACTS/docs.png"
# A blank page compresses to a few KiB; a rendered one is far larger.
check "the screenshot is not blank" test "$(stat -c %s "$OP_ARTIFACTS/docs.png")" -gt 20000

# What the browser fetched: only the daemon, every file found.
check "the browser's requests were all answered 200" \
	bash -c "! grep -E ' (GET) /docs[^ ]* [^2][0-9][0-9] ' '$DAEMON_LOG'"
check "the browser loaded the spec" grep -q 'GET /openapi.json 200' "$DAEMON_LOG"
check "the browser loaded the bundle" grep -q 'GET /docs/swagger-ui-bundle.js 200' "$DAEMON_LOG"

e2e_done
