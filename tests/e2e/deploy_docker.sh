#!/usr/bin/env bash
# docker/ without a Docker engine (issue 16; `docker compose config` is not
# available on the CI machines either): the compose file has one daemon per
# database, each in that database's profile, waiting for that database and
# Keycloak only, with DB_HOST set; the image's health check reads PORT,
# BIND_ADDRESS and TLS from the environment: docker/healthcheck.sh, run here
# against a real daemon on a port that is not 8081.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operability_lib.sh"
e2e_init
op_venv
S="$DBB_SOURCE_DIR"

compose_layout() {
	"$OP_PY" - "$S/docker/docker-compose.yml" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))  # anchors and merge keys resolved
svcs = c["services"]
bad = []
want = {"postgresql": ("postgres", "postgres"), "mysql": ("mariadb", "mariadb"),
        "neo4j": ("neo4j", None)}
ports = set()
for db, (dbsvc, host) in want.items():
    name = "dbbackupd-" + db
    s = svcs.get(name)
    if not s:
        bad.append(f"no service {name}")
        continue
    env = s.get("environment", {})
    if env.get("DB_TYPE") != db:
        bad.append(f"{name}: DB_TYPE {env.get('DB_TYPE')}")
    if host and env.get("DB_HOST") != host:
        bad.append(f"{name}: DB_HOST {env.get('DB_HOST')} (want {host})")
    if s.get("profiles") != [db] or svcs[dbsvc].get("profiles") != [db]:
        bad.append(f"{name} and {dbsvc} are not both in profile {db}")
    if set(s.get("depends_on", {})) != {dbsvc, "keycloak"}:
        bad.append(f"{name} waits for {sorted(s.get('depends_on', {}))}")
    if f"../backups/{db}:/app/backups" not in s.get("volumes", []):
        bad.append(f"{name}: no ../backups/{db} mount")
    if "build" not in s or not env.get("KEYCLOAK_URL"):
        bad.append(f"{name}: the shared part (x-dbbackupd) is missing")
    ports.update(p.rsplit(":", 1)[0] for p in s.get("ports", []))
if len(ports) != 3:
    bad.append(f"the daemons' host ports are not distinct: {sorted(ports)}")
if svcs.get("keycloak", {}).get("profiles"):
    bad.append("keycloak must start with every profile")
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}
check "compose: one daemon per database, each in its database's profile, waiting for it and Keycloak only, DB_HOST set" compose_layout
check "Dockerfile: the health check is docker/healthcheck.sh" \
	grep -q 'CMD \["/usr/local/bin/dbbackupd-healthcheck"\]' "$S/docker/Dockerfile"
check "Dockerfile: no port 8081 in the health check" sh -c "! grep -A2 '^HEALTHCHECK' '$S/docker/Dockerfile' | grep -q 8081"
check "the build context lets healthcheck.sh in" grep -qx '!docker/healthcheck.sh' "$S/docker/Dockerfile.dockerignore"

# the health check against a real daemon, on whatever port it got
e2e_sqlite_demo 10
e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB"
port=${BASE##*:}
check "healthcheck.sh: ready on PORT=$port" env PORT="$port" BIND_ADDRESS=0.0.0.0 sh "$S/docker/healthcheck.sh"
check "healthcheck.sh: fails on another port" sh -c "! PORT=1 sh '$S/docker/healthcheck.sh' 2>/dev/null"
check "healthcheck.sh: https with TLS_CERT_FILE (the plain-HTTP daemon fails it)" \
	sh -c "! PORT=$port TLS_CERT_FILE=/x sh '$S/docker/healthcheck.sh' 2>/dev/null"
rm -f "$SQLITE_DB" # not ready (once /ready's short cache expires): the check says so
for _ in $(seq 1 100); do
	PORT=$port sh "$S/docker/healthcheck.sh" 2>/dev/null || break
	sleep 0.1
done
check "healthcheck.sh: fails when /ready is not ready" sh -c "! PORT=$port sh '$S/docker/healthcheck.sh' 2>/dev/null"
e2e_done
