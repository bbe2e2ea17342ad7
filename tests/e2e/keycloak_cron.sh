#!/usr/bin/env bash
# setup/cron-backup.sh against the running Keycloak and daemon: a fresh
# client-credentials token each run, a backup made; every failure is a
# non-zero exit with the error on stderr (so cron mails it).
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/keycloak_lib.sh"
kc_init
kc_start
CRON="$DBB_SOURCE_DIR/setup/cron-backup.sh"
cron() {
	env -i PATH="$PATH" HOME="$WORK" BACKUP_API_URL="$BASE" KEYCLOAK_URL="$KEYCLOAK_URL" \
		KEYCLOAK_REALM="$KEYCLOAK_REALM" "$@" bash "$CRON" -v >"$WORK/cron.out" 2>"$WORK/cron.err"
}

check "the service-account secret file is 0600" test "$(stat -c %a "$KEYCLOAK_CRON_SECRET_FILE")" = 600
for night in 1 2; do
	if cron CRON_CLIENT_SECRET_FILE="$KEYCLOAK_CRON_SECRET_FILE"; then
		ok "night $night: cron-backup.sh exits 0"
	else
		fail "night $night: cron-backup.sh failed: $(cat "$WORK/cron.err")"
	fi
	name=$(sed -nE 's/^created ([^ ]+).*/\1/p' "$WORK/cron.out")
	check "night $night: it names the backup it made ($name)" test -n "$name"
	check "night $night: the backup is in the backups directory" test -s "$WORK/backups/$name"
	sleep 1
done
kc_api GET /backup/list viewer
expect_json '.total_count == 2' "two nightly backups listed"
check "the daemon logged the service account as the subject" grep -q 'POST /backup/create 200 .*sub=[0-9a-f-]\{36\}' "$DAEMON_LOG"
secret=$(cat "$KEYCLOAK_CRON_SECRET_FILE")
check "the secret appears in no output or log" bash -c "! grep -qF '$secret' '$WORK/cron.out' '$WORK/cron.err' '$DAEMON_LOG'"

files_snapshot
cp "$KEYCLOAK_CRON_SECRET_FILE" "$WORK/open.secret"
chmod 644 "$WORK/open.secret"
if cron CRON_CLIENT_SECRET_FILE="$WORK/open.secret"; then
	fail "a world-readable secret file is refused"
else
	check "a world-readable secret file is refused, saying why" grep -q 'mode 644' "$WORK/cron.err"
fi
(umask 077 && echo wrong-secret >"$WORK/wrong.secret")
if cron CRON_CLIENT_SECRET_FILE="$WORK/wrong.secret"; then
	fail "a wrong secret fails"
else
	check "a wrong secret fails with Keycloak's error" grep -qE 'unauthorized_client|invalid_client' "$WORK/cron.err"
fi
if cron CRON_CLIENT_SECRET_FILE="$WORK/missing.secret"; then
	fail "a missing secret file fails"
else
	check "a missing secret file fails, naming it" grep -q 'missing.secret' "$WORK/cron.err"
fi
if cron; then
	fail "no secret file configured fails"
else
	check "no secret file configured fails, naming the variable" grep -q CRON_CLIENT_SECRET_FILE "$WORK/cron.err"
fi
e2e_stop
if cron CRON_CLIENT_SECRET_FILE="$KEYCLOAK_CRON_SECRET_FILE"; then
	fail "daemon down: cron-backup.sh fails"
else
	check "daemon down: non-zero exit with the error" grep -q 'backup/create failed' "$WORK/cron.err"
fi
files_unchanged "failed cron runs"

e2e_done
