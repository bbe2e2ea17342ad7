#!/usr/bin/env bash
# What the browser tests of /ui need, installed when missing (CTest fixture
# ui.deps, and usable by hand):
#   - Debian's Chromium (/usr/bin/chromium, package chromium) and fonts, with
#     apt (setup/install-deps.sh --test lists them too);
#   - node and npm (Debian's nodejs/npm when there is none);
#   - puppeteer-core and axe-core pinned by tests/ui/package-lock.json, with
#     `npm ci --ignore-scripts` into UI_DIR (the build tree). npm's cache is
#     kept under ${DBB_CACHE_DIR:-$HOME/.cache/dbbackupd}/npm-ui-<lockfile
#     hash>, as the other downloads of the test services are: a new build
#     directory installs from it without the network.
# usage: tests/ui/deps.sh UI_DIR       (prints nothing on stdout)
set -euo pipefail
ui_dir=${1:?usage: deps.sh UI_DIR}
here=$(cd "$(dirname "$0")" && pwd)
SVC_NAME=ui-deps
# shellcheck source=../services/common.sh
. "$here/../services/common.sh"

pkgs=()
dpkg_missing() {
	! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}
for p in chromium fonts-liberation; do
	dpkg_missing "$p" && pkgs+=("$p")
done
command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)
if [ ${#pkgs[@]} -gt 0 ]; then
	sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	log "installing ${pkgs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2; then
		"${sudo[@]}" apt-get update -q >&2
		"${sudo[@]}" apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2
	fi
fi
[ -x /usr/bin/chromium ] || die "no /usr/bin/chromium after installing the chromium package"

lock_hash=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
cache=$CACHE_ROOT/npm-ui-$lock_hash
mkdir -p "$ui_dir" "$cache"
(
	flock 9
	if [ "$(cat "$ui_dir/.complete" 2>/dev/null)" = "$lock_hash" ] &&
		[ -f "$ui_dir/node_modules/puppeteer-core/package.json" ] &&
		[ -f "$ui_dir/node_modules/axe-core/axe.min.js" ]; then
		exit 0
	fi
	rm -rf "$ui_dir/node_modules" "$ui_dir/.complete"
	cp "$here/package.json" "$here/package-lock.json" "$ui_dir/"
	log "npm ci (puppeteer-core, axe-core) into $ui_dir, cache $cache"
	# --ignore-scripts: no install scripts run (puppeteer-core has none
	# that fetch a browser, and none may); --prefer-offline: the cache first.
	npm ci --prefix "$ui_dir" --ignore-scripts --no-audit --no-fund --prefer-offline \
		--cache "$cache" --loglevel=error >&2 || die "npm ci failed"
	echo "$lock_hash" >"$ui_dir/.complete"
) 9>"$ui_dir.lock"
