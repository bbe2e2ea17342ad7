#!/usr/bin/env bash
# Copies the screenshots of the dashboard's main views that ui.views wrote
# (ARTIFACTS/<view>-<width>x<height>.png) into DEST (docs/ui/), where they
# are committed. Fails when one is missing: run `ctest -R ui.views` first.
# usage: tests/ui/copy-screenshots.sh ARTIFACTS DEST
set -euo pipefail
src=${1:?usage: copy-screenshots.sh ARTIFACTS DEST} dest=${2:?usage: copy-screenshots.sh ARTIFACTS DEST}
views=(signin overview backups job-running restore-dialog upload retention)
sizes=(1280x800 390x844)
missing=0
for v in "${views[@]}"; do
	for s in "${sizes[@]}"; do
		[ -s "$src/$v-$s.png" ] || {
			echo "copy-screenshots: no $src/$v-$s.png (run ctest -R ui.views first)" >&2
			missing=1
		}
	done
done
[ "$missing" -eq 0 ] || exit 1
mkdir -p "$dest"
for v in "${views[@]}"; do
	for s in "${sizes[@]}"; do
		cp "$src/$v-$s.png" "$dest/$v-$s.png"
	done
done
[ -s "$src/keycloak-signed-in-1280x800.png" ] && cp "$src/keycloak-signed-in-1280x800.png" "$dest/"
echo "copy-screenshots: $(ls "$dest"/*.png | wc -l) screenshots in $dest" >&2
