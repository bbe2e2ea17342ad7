#!/usr/bin/env bash
# The README's first command: installs what is missing, builds dbbackupd,
# creates a small demo SQLite database, makes local development keys, prints
# a token per role with a few curl lines, and runs the daemon in the
# foreground (Ctrl-C stops it). Settings in ./.env, if any, are honoured;
# the demo's own defaults are below.
set -euo pipefail
cd "$(dirname "$0")/.."

bash setup/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "built build/dbbackupd" >&2

export SQLITE_PATH=${SQLITE_PATH:-./data/app.db}
export BACKUP_DIR=${BACKUP_DIR:-./backups}
export PORT=${PORT:-8081}
bash setup/demo-sqlite.sh "$SQLITE_PATH"

if [ -z "${AUTH_JWKS_FILE:-}" ] && [ -z "${KEYCLOAK_URL:-}" ]; then
	keys=./.dev-keys
	if [ ! -f "$keys/jwks.json" ]; then
		mkdir -p -m 0700 "$keys"
		build/dbbackupd dev-keys "$keys" >/dev/null
	fi
	export AUTH_JWKS_FILE=$keys/jwks.json
	echo
	echo "Local development tokens (valid 12 hours; 'build/dbbackupd token --key $keys/private.pem --role ROLE' makes more):"
	for role in admin operator viewer; do
		t=$(build/dbbackupd token --key "$keys/private.pem" --role "$role" --ttl 43200)
		printf '  export %s_TOKEN=%s\n' "$(tr '[:lower:]' '[:upper:]' <<<"$role")" "$t"
	done
	cat <<TRY

Try (in another terminal, after the exports above):
  curl -X POST "http://localhost:$PORT/backup/create?compress=true" -H "Authorization: Bearer \$OPERATOR_TOKEN"
  curl "http://localhost:$PORT/backup/list" -H "Authorization: Bearer \$VIEWER_TOKEN"
  curl "http://localhost:$PORT/backup/stats" -H "Authorization: Bearer \$VIEWER_TOKEN"
  curl -X DELETE "http://localhost:$PORT/backup/delete/FILENAME" -H "Authorization: Bearer \$ADMIN_TOKEN"
Or open the dashboard at http://localhost:$PORT/ui and paste one of the tokens.

TRY
fi
exec build/dbbackupd
