#!/usr/bin/env bash
# setup/dbbackupd.service and setup/.env.template as a new user installs them
# (issue 16): the template read alike by systemd's EnvironmentFile rules,
# Docker Compose's .env rules and the daemon (tests/e2e/deploy_envfile.py);
# the install commands of the unit's header run under a scratch root;
# `systemd-analyze verify` on the installed unit (no systemd running: --root
# with Debian's unit files, --man=no); the documentation Documentation=
# names installed; then the daemon started as systemd would: the working
# directory of the unit, `env -i` and the environment file parsed by
# systemd's rules (after the edits the header asks for), and it serves.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
S="$DBB_SOURCE_DIR"
PY="$S/tests/e2e/deploy_envfile.py"
UNIT="$S/setup/dbbackupd.service"

check "the parsers follow their documented rules (selftest)" python3 "$PY" selftest
mkdir -p "$WORK/tpl"
check "systemd, compose and the daemon read setup/.env.template alike" \
	python3 "$PY" template "$S/setup/.env.template" "$DBBACKUPD" "$WORK/tpl"

# a variable that looks like a setting: --check-config says so
mkdir -p "$WORK/typo/data" && touch "$WORK/typo/data/app.db"
{ cat "$S/setup/.env.template"; echo "PROT=9000"; } >"$WORK/typo/.env"
chmod 600 "$WORK/typo/.env"
(cd "$WORK/typo" && env -i PATH="$PATH" PORTT=1 AUTH_JWKS_FILE="$WORK/keys/jwks.json" \
	"$DBBACKUPD" --check-config >"$WORK/typo.out" 2>"$WORK/typo.err")
check "--check-config warns about PROT in the file (did you mean PORT)" \
	grep -q "PROT in the settings file is not a dbbackupd setting.*did you mean PORT" "$WORK/typo.err"
check "--check-config warns about PORTT in the environment" \
	grep -q "environment variable PORTT is not a dbbackupd setting.*did you mean PORT" "$WORK/typo.err"
check "and about nothing else" test "$(grep -c 'is not a dbbackupd setting' "$WORK/typo.err")" -eq 2

# ---- install as the unit's header says, under $ROOT ----
ROOT="$WORK/root"
mkdir -p "$ROOT"
grep -E '^#   install ' "$UNIT" | sed -E 's/^#   //' >"$WORK/install.txt"
check "the unit's header has install commands" test "$(wc -l <"$WORK/install.txt")" -ge 4
while read -r -a cmd; do
	args=()
	for a in "${cmd[@]}"; do
		case "$a" in
		build/dbbackupd) args+=("$DBBACKUPD") ;;
		/*) args+=("$ROOT$a") ;;
		*) args+=("$a") ;;
		esac
	done
	(cd "$S" && "${args[@]}") || fail "install step failed: ${cmd[*]}"
done <"$WORK/install.txt"
ENVFILE_PATH=$(sed -nE 's/^EnvironmentFile=-?(.*)/\1/p' "$UNIT")
WORKDIR=$(sed -nE 's/^WorkingDirectory=-?(.*)/\1/p' "$UNIT")
START=$(sed -nE 's/^ExecStart=(.*)/\1/p' "$UNIT")
PRE=$(sed -nE 's/^ExecStartPre=(.*)/\1/p' "$UNIT")
check "the environment file is installed where EnvironmentFile= says, 0600" \
	test "$(stat -c %a "$ROOT$ENVFILE_PATH" 2>/dev/null)" = 600
check "the binary is installed where ExecStart= says" test -x "$ROOT${START%% *}"
docs_ok=true
for url in $(sed -nE 's/^Documentation=(.*)/\1/p' "$UNIT"); do
	case "$url" in
	file://*) [ -s "$ROOT${url#file://}" ] || docs_ok=false ;;
	man:*) ;; # none today
	http*) ;;
	*) docs_ok=false ;;
	esac
done
check "every file Documentation= names is installed" $docs_ok

if command -v systemd-analyze >/dev/null; then
	mkdir -p "$ROOT/usr/lib/systemd"
	cp -a /lib/systemd/system "$ROOT/usr/lib/systemd/"
	check "systemd-analyze verify: the installed unit" \
		env SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no --root="$ROOT" dbbackupd.service
	check "verify fails on a unit whose ExecStart is missing (the check bites)" \
		sh -c "mv '$ROOT${START%% *}' '$ROOT${START%% *}.away' &&
			! SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no --root='$ROOT' dbbackupd.service 2>/dev/null;
			rc=\$?; mv '$ROOT${START%% *}.away' '$ROOT${START%% *}'; exit \$rc"
elif [ "${CI:-}" = true ]; then
	fail "systemd-analyze not installed (apt-get install systemd): unit not verified"
else
	part_skipped "systemd-analyze not installed: unit not verified"
fi

# ---- the user's edits, then the daemon as systemd starts it ----
EF="$ROOT$ENVFILE_PATH"
sed -i -E "s|^AUTH_JWKS_FILE=.*|AUTH_JWKS_FILE=$WORK/keys/jwks.json|; s|^PORT=.*|PORT=0|" "$EF"
WD="$ROOT$WORKDIR"
mkdir -p "$WD/data"
bash "$S/setup/demo-sqlite.sh" --force "$WD/data/app.db" 20 2>/dev/null
mapfile -t ENV_LINES < <(python3 "$PY" env-lines "$EF")
check "systemd's rules read the edited file" test "${#ENV_LINES[@]}" -ge 30
check "BIND_ADDRESS is a bare address by systemd's rules" \
	test "$(printf '%s\n' "${ENV_LINES[@]}" | sed -n 's/^BIND_ADDRESS=//p')" = 127.0.0.1
SYSENV=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin "${ENV_LINES[@]}")
(cd "$WD" && "${SYSENV[@]}" "$ROOT${PRE%% *}" ${PRE#* } >"$WORK/pre.out" 2>"$WORK/pre.err")
check "ExecStartPre (--check-config) passes with that environment" grep -q "configuration OK" "$WORK/pre.out"
check "and warns about no variable" sh -c "! grep -q 'is not a dbbackupd setting' '$WORK/pre.err'"

DAEMON_LOG="$WORK/daemon.log"
(cd "$WD" && exec "${SYSENV[@]}" "$ROOT${START%% *}") >"$DAEMON_LOG" 2>&1 &
DAEMON_PID=$!
port=""
for _ in $(seq 1 100); do
	port=$(sed -nE 's/.*listening on http:\/\/[^ ]*:([0-9]+).*/\1/p' "$DAEMON_LOG" | tail -n 1)
	[ -n "$port" ] && curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && break
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.1
done
BASE="http://127.0.0.1:$port"
check "the daemon started with systemd's environment serves /health" test -n "$port"
api GET /ready none
expect_status 200 "/ready: the SQLite database, the backups directory and the keys are fine"
api POST /backup/create operator
expect_status 200 "a backup"
check "the backup is in the state directory (BACKUP_DIR=./backups from WorkingDirectory)" \
	test -s "$WD/backups/$(jq -r .filename "$BODY")"
e2e_done
