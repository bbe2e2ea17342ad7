#!/usr/bin/env bash
# The command line: --help, --version, --check-config, dev-keys, token, and
# configuration errors that name the variable and start nothing.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo 10
cd "$WORK" || exit 1

check "--help exits 0 and shows usage" bash -c "'$DBBACKUPD' --help | grep -q '^Usage'"
check "--version prints the version" bash -c "'$DBBACKUPD' --version | grep -Eq '^dbbackupd [0-9]+\\.[0-9]+\\.[0-9]+'"
check "dev-keys writes a 0600 private key" test "$(stat -c %a keys/private.pem)" = 600
check "dev-keys writes a JWKS with one signing key" bash -c "jq -e '.keys | length == 1 and .[0].use == \"sig\" and .[0].kty == \"RSA\"' keys/jwks.json >/dev/null"

good=(env -i PATH="$PATH" SQLITE_PATH="$SQLITE_DB" BACKUP_DIR="$WORK/backups" AUTH_JWKS_FILE="$WORK/keys/jwks.json" DB_PASSWORD=hunter2secret)
out=$("${good[@]}" "$DBBACKUPD" --check-config 2>&1)
check "--check-config accepts a good configuration" bash -c "grep -q 'configuration OK' <<<'$out'"
check "--check-config masks passwords" bash -c "! grep -q hunter2secret <<<'$out' && grep -q 'DB_PASSWORD=\\*' <<<'$out'"

# each bad setting: non-zero exit, one line naming the variable
bad() {
	local var=$1
	shift
	local out rc
	out=$("${good[@]}" "$@" "$DBBACKUPD" --check-config 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && grep -q "$var" <<<"$out" && [ "$(wc -l <<<"$out")" -eq 1 ]; then
		ok "bad $var is refused with one line naming it"
	else
		fail "bad $var: rc=$rc out=$out"
	fi
}
bad PORT PORT=99999
bad PORT PORT=http
bad DB_TYPE DB_TYPE=oracle
bad GZIP_LEVEL GZIP_LEVEL=11
bad MAX_UPLOAD_BYTES MAX_UPLOAD_BYTES=lots
bad SQLITE_PATH SQLITE_PATH="$WORK/missing.db"
bad AUTH_JWKS_FILE AUTH_JWKS_FILE="$WORK/nothing.json"
bad AUTH_JWKS_FILE AUTH_JWKS_FILE=
bad BIND_ADDRESS BIND_ADDRESS=not-an-address
bad LOG_LEVEL LOG_LEVEL=loud
bad BACKUP_DIR BACKUP_DIR=/proc/nonexistent/dir

# nothing half-starts: the daemon with a bad setting exits and listens nowhere
"${good[@]}" PORT=0 AUTH_JWKS_FILE= "$DBBACKUPD" >"$WORK/bad.log" 2>&1 &
pid=$!
sleep 1
if kill -0 $pid 2>/dev/null; then
	kill $pid
	fail "the daemon started without a key source"
else
	wait $pid
	rc=$?
	check "the daemon exits non-zero on a bad setting" test $rc -ne 0
	check "and says which setting" grep -q 'AUTH_JWKS_FILE' "$WORK/bad.log"
fi

# .env in the working directory is read; the environment wins over it
printf 'PORT=http\n' >"$WORK/.env"
check ".env is read" bash -c "! env -i PATH='$PATH' SQLITE_PATH='$SQLITE_DB' BACKUP_DIR='$WORK/backups' AUTH_JWKS_FILE='$WORK/keys/jwks.json' '$DBBACKUPD' --check-config >/dev/null 2>&1"
check "the environment wins over .env" bash -c "env -i PATH='$PATH' PORT=9 SQLITE_PATH='$SQLITE_DB' BACKUP_DIR='$WORK/backups' AUTH_JWKS_FILE='$WORK/keys/jwks.json' '$DBBACKUPD' --check-config >/dev/null 2>&1"
rm -f "$WORK/.env"

# The printed settings without the log lines (their timestamps differ
# between two runs that straddle a second).
no_log_lines() { grep -Ev '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z ' || true; }

# setup/.env.template documents every variable, each with its default:
# used as .env, it gives exactly the defaults
cp "$DBB_SOURCE_DIR/setup/.env.template" "$WORK/.env"
tmpl=$(env -i PATH="$PATH" SQLITE_PATH="$SQLITE_DB" AUTH_JWKS_FILE="$WORK/keys/jwks.json" "$DBBACKUPD" --check-config 2>&1 | no_log_lines | sort)
rm -f "$WORK/.env"
defaults=$(env -i PATH="$PATH" SQLITE_PATH="$SQLITE_DB" AUTH_JWKS_FILE="$WORK/keys/jwks.json" "$DBBACKUPD" --check-config 2>&1 | no_log_lines | sort)
check "the template as .env gives the built-in defaults" test "$tmpl" = "$defaults"
names=$(grep -o '^[A-Z_0-9]*=' <<<"$defaults" | sort)
documented=$(grep -o '^[A-Z_0-9]*=' "$DBB_SOURCE_DIR/setup/.env.template" | sort)
# a driver left out of the build (DBB_WITH_NEO4J=OFF) takes its variables along
built_driver neo4j || documented=$(grep -v '^NEO4J_' <<<"$documented")
check "the template documents every variable, and only those" test "$names" = "$documented"

# token: each role; unknown role refused
for r in admin operator viewer; do
	check "token for $r" bash -c "'$DBBACKUPD' token --key keys/private.pem --role $r | grep -Eq '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$'"
done
check "token refuses an unknown role" bash -c "! '$DBBACKUPD' token --key keys/private.pem --role root >/dev/null 2>&1"
e2e_done
