#!/usr/bin/env bash
# Installs, with apt, the Debian 12 packages that building (and, with --test,
# testing) dbbackupd needs and that are missing. Already-installed packages
# are left alone, so this is quick on a machine that has them.
# Database servers, Java, Neo4j and Keycloak are installed by the service
# scripts in tests/services/ when a test needs them.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config ca-certificates curl jq sqlite3
	libmicrohttpd-dev libjwt-dev libjansson-dev libcurl4-openssl-dev libssl-dev zlib1g-dev libzstd-dev
	libsqlite3-dev libpq-dev libmariadb-dev)
# restic: the oracle of the retention test (tests/retention/restic_oracle.sh)
# age: the other side of the age interoperability test (tests/age/interop.sh)
# systemd: systemd-analyze verifies setup/dbbackupd.service (tests/e2e/deploy_systemd.sh);
# nothing of it needs to run
# chromium, fonts-liberation: the browser tests of /ui (tests/ui/, puppeteer-core drives /usr/bin/chromium)
test_pkgs=(procps iproute2 psmisc gzip pigz zstd coreutils findutils clang-format cppcheck git openssl
	clang libclang-rt-14-dev restic python3 age systemd chromium fonts-liberation)
# Go fetches the age test vectors (tests/age/cctv.sh) from the Go module
# proxy; any go will do, so Debian's is only asked for when there is none.
if ! command -v go >/dev/null 2>&1; then
	test_pkgs+=(golang-go)
fi

# npm installs Swagger UI (swagger-ui-dist) for /docs and uPlot for the /ui
# dashboard at build time. Any npm will do (Debian's, or one that came with
# a Node.js install), so it is only asked of apt when there is none.
if ! command -v npm >/dev/null 2>&1; then
	build_pkgs+=(npm)
fi

pkgs=("${build_pkgs[@]}")
if [ "${1:-}" = "--test" ]; then
	pkgs+=("${test_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || {
		echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
		exit 1
	}
	as_root=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
