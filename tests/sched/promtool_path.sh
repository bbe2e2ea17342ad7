#!/usr/bin/env bash
# Prints the path of a promtool: the one on PATH, else the one taken out of
# Debian's `prometheus` package without installing it (that package is a
# 19 MB download with the Prometheus server, its web assets and a
# service): `apt-get download` of the version apt offers, `dpkg-deb -x`,
# only usr/bin/promtool kept, cached under
# ${DBB_CACHE_DIR:-$HOME/.cache/dbbackupd}/promtool-<version>.
set -euo pipefail
CACHE_ROOT=${DBB_CACHE_DIR:-${HOME:-/root}/.cache/dbbackupd}
WORK=$(mktemp -d "${DBB_TEST_TMP:-/tmp}/promtool.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

promtool=$(command -v promtool || true)
if [ -z "$promtool" ]; then
	version=$(apt-cache policy prometheus 2>/dev/null | sed -n 's/^ *Candidate: //p')
	if [ -z "$version" ] || [ "$version" = "(none)" ]; then
		apt-get update -q >&2
		version=$(apt-cache policy prometheus | sed -n 's/^ *Candidate: //p')
	fi
	[ -n "$version" ] && [ "$version" != "(none)" ] || {
		echo "promtool_path: no prometheus package known to apt" >&2
		exit 1
	}
	dir=$CACHE_ROOT/promtool-$version
	if [ ! -x "$dir/promtool" ]; then
		echo "promtool_path: fetching promtool from Debian's prometheus $version (once)" >&2
		mkdir -p "$WORK/deb" "$dir.tmp"
		(cd "$WORK/deb" && apt-get download -q "prometheus=$version" >&2)
		dpkg-deb -x "$WORK"/deb/prometheus_*.deb "$WORK/x"
		cp "$WORK/x/usr/bin/promtool" "$dir.tmp/promtool"
		rm -rf "$dir"
		mv "$dir.tmp" "$dir"
	fi
	promtool=$dir/promtool
fi
echo "$promtool"

