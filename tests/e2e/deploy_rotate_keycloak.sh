#!/usr/bin/env bash
# setup/rotate-backups.sh and setup/cron-backup.sh with tokens of their own
# (issue 16): each fetches a fresh token with the client-credentials grant
# of its Keycloak service account (dbbackupd-cron: operator; dbbackupd-rotate:
# admin), the secret read from a 0600 file, never on a command line and in
# no output or log; --target adds ?target=NAME (today's daemon ignores a
# parameter it does not know); --keep-min keeps the newest of each target.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/keycloak_lib.sh"
kc_init
kc_start
CRON="$DBB_SOURCE_DIR/setup/cron-backup.sh"
ROTATE="$DBB_SOURCE_DIR/setup/rotate-backups.sh"
TARGET=sqlite # the default target's name: its database type (issue 16)
run() { # run OUT SCRIPT ARGS... in a clean environment (no ACCESS_TOKEN)
	local out=$1
	shift
	env -i PATH="$PATH" HOME="$WORK" BACKUP_API_URL="$BASE" KEYCLOAK_URL="$KEYCLOAK_URL" \
		KEYCLOAK_REALM="$KEYCLOAK_REALM" CRON_CLIENT_SECRET_FILE="$KEYCLOAK_CRON_SECRET_FILE" \
		ROTATE_CLIENT_SECRET_FILE="${ROTATE_SECRET:-$KEYCLOAK_ROTATE_SECRET_FILE}" \
		bash "$@" >"$WORK/$out.out" 2>"$WORK/$out.err"
}

check "the rotation service account's secret file is 0600" \
	test "$(stat -c %a "$KEYCLOAK_ROTATE_SECRET_FILE")" = 600
for n in 1 2 3; do
	check "cron-backup.sh --target $TARGET: backup $n" run cron$n "$CRON" -v --target "$TARGET"
	sleep 1.1
done
kc_api GET /backup/list viewer
expect_json '.total_count == 3' "three backups"
newest=$(jq -r '.backups[0].filename' "$BODY")

check "rotate-backups.sh --dry-run with its own token" run dry "$ROTATE" --keep-days 0 --keep-min 1 --dry-run
check "it would delete the two older ones" test "$(grep -c '^would delete' "$WORK/dry.out")" -eq 2
check "rotate-backups.sh --target with its own token (client credentials, admin)" \
	run rot "$ROTATE" --keep-days 0 --keep-min 1 --target "$TARGET"
check "it deleted two" test "$(grep -c '^deleted' "$WORK/rot.out")" -eq 2
kc_api GET /backup/list viewer
expect_json ".total_count == 1 and .backups[0].filename == \"$newest\"" "--keep-min 1 kept the newest"
check "the rotation's deletes are the service account's (audit log)" \
	grep -q 'audit action=delete outcome=success.*role=admin' "$DAEMON_LOG"

for f in "$KEYCLOAK_ROTATE_SECRET_FILE" "$KEYCLOAK_CRON_SECRET_FILE"; do
	secret=$(cat "$f")
	check "a secret appears in no output or log ($(basename "$f"))" \
		bash -c "! grep -qF '$secret' '$WORK'/*.out '$WORK'/*.err '$DAEMON_LOG'"
done

# refusals: a secret file others can read; no way to a token at all; the
# operator's account cannot delete
cp "$KEYCLOAK_ROTATE_SECRET_FILE" "$WORK/open.secret"
chmod 644 "$WORK/open.secret"
ROTATE_SECRET="$WORK/open.secret" run open "$ROTATE" --keep-days 0
check "a world-readable secret file is refused, saying why" grep -q 'mode 644' "$WORK/open.err"
env -i PATH="$PATH" BACKUP_API_URL="$BASE" bash "$ROTATE" --keep-days 0 >/dev/null 2>"$WORK/none.err"
check "without a secret file or ACCESS_TOKEN it says what to set" grep -q 'ROTATE_CLIENT_SECRET_FILE' "$WORK/none.err"
check "cron-backup.sh makes one more" run cron4 "$CRON"
sleep 1.1
check "cron-backup.sh and one more" run cron5 "$CRON"
if env -i PATH="$PATH" HOME="$WORK" BACKUP_API_URL="$BASE" KEYCLOAK_URL="$KEYCLOAK_URL" \
	KEYCLOAK_REALM="$KEYCLOAK_REALM" ROTATE_CLIENT_ID=dbbackupd-cron \
	ROTATE_CLIENT_SECRET_FILE="$KEYCLOAK_CRON_SECRET_FILE" \
	bash "$ROTATE" --keep-days 0 --keep-min 0 >"$WORK/op.out" 2>"$WORK/op.err"; then
	fail "the operator's service account cannot delete (exit non-zero)"
else
	check "the operator's service account cannot delete: 403 reported" grep -q 'forbidden' "$WORK/op.err"
fi
e2e_done
