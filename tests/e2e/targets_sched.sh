#!/usr/bin/env bash
# Issues 16-18: schedules, retention, notifications and offsite copies per
# target (docs/targets.md). Two SQLite targets: the default one (no
# schedule, settings from the environment) and "nightly" from TARGETS_DIR
# with its own BACKUP_SCHEDULE='* * * * *', KEEP_LAST=1 and catch-up. Only
# nightly gets scheduled backups (its start-up catch-up, then the next
# minute's), in its own directory, pruned by its own policy; each target's
# GET /backup/schedule, POST /backup/prune?dry_run=true and metrics are its
# own. --check-config lists each target's schedule and S3 settings, secrets
# masked, with the offsite key prefix dbbackupd/<target>/.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/sched_lib.sh"
e2e_init
e2e_sqlite_demo
NIGHTLY_DB=$WORK/nightly.db
cp "$SQLITE_DB" "$NIGHTLY_DB"
mkdir -p "$WORK/targets"
cat >"$WORK/targets/nightly.env" <<EOT
DB_TYPE=sqlite
SQLITE_PATH=$NIGHTLY_DB
BACKUP_SCHEDULE='* * * * *'
SCHEDULE_CATCH_UP=true
KEEP_LAST=1
EOT
cfg_env=(BACKUP_DIR="$WORK/backups" AUTH_JWKS_FILE="$WORK/keys/jwks.json"
	DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB" TARGETS_DIR="$WORK/targets")

# ---- --check-config: each target's schedule and offsite settings
S3_SECRET=e2e-$RANDOM-not-for-the-output
cp "$WORK/targets/nightly.env" "$WORK/nightly.env.keep"
printf 'S3_BUCKET=nightly-bucket\nS3_ENDPOINT=http://127.0.0.1:1\nS3_ACCESS_KEY_ID=AK\nS3_SECRET_ACCESS_KEY=%s\n' \
	"$S3_SECRET" >>"$WORK/targets/nightly.env"
env "${cfg_env[@]}" KEEP_DAILY=7 "$DBBACKUPD" --check-config >"$WORK/check.out" 2>&1
check "--check-config with a target's schedule and S3 settings exits 0" test $? -eq 0
check "the default target's schedule: from the environment (none)" grep -q '^BACKUP_SCHEDULE=$' "$WORK/check.out"
check "the default target's KEEP_DAILY from the environment" grep -q '^KEEP_DAILY=7$' "$WORK/check.out"
check "nightly's schedule: from its file" grep -qF 'nightly: BACKUP_SCHEDULE=* * * * *' "$WORK/check.out"
check "nightly's KEEP_LAST: from its file" grep -q '^nightly: KEEP_LAST=1$' "$WORK/check.out"
check "nightly's KEEP_DAILY: its default, not the environment's" grep -q '^nightly: KEEP_DAILY=0$' "$WORK/check.out"
check "nightly's bucket listed" grep -q '^nightly: S3_BUCKET=nightly-bucket$' "$WORK/check.out"
check "nightly's S3 secret masked" grep -q '^nightly: S3_SECRET_ACCESS_KEY=\*\*\*\*\*\*\*\*$' "$WORK/check.out"
check "no S3 secret in the output" bash -c '! grep -qF -- "$1" "$2"' _ "$S3_SECRET" "$WORK/check.out"
check "nightly's offsite keys under dbbackupd/nightly/" grep -q 'offsite copies: bucket nightly-bucket .* keys dbbackupd/nightly/<file>' "$WORK/check.out"
check "the default target has no offsite copies" bash -c '! grep -q "^S3_BUCKET=." "$1"' _ "$WORK/check.out"
# a target's bad S3 setting: start-up stops naming the target
printf 'S3_BUCKET=b\n' >>"$WORK/nightly.env.bad"
cat "$WORK/nightly.env.keep" "$WORK/nightly.env.bad" >"$WORK/targets/nightly.env"
env "${cfg_env[@]}" "$DBBACKUPD" --check-config >"$WORK/bad.out" 2>&1
check "a target's S3_BUCKET without a key: exit 2" test $? -eq 2
check "the error names the target" grep -q 'configuration error: target nightly: S3_ACCESS_KEY_ID must be set' "$WORK/bad.out"
printf 'SCHEDULE_TZ=Mars/Olympus\n' >"$WORK/nightly.env.bad"
cat "$WORK/nightly.env.keep" "$WORK/nightly.env.bad" >"$WORK/targets/nightly.env"
env "${cfg_env[@]}" "$DBBACKUPD" --check-config >"$WORK/bad.out" 2>&1
check "a target's unknown SCHEDULE_TZ: exit 2" test $? -eq 2
check "the error names the target and SCHEDULE_TZ" grep -q 'configuration error: target nightly: SCHEDULE_TZ' "$WORK/bad.out"
cp "$WORK/nightly.env.keep" "$WORK/targets/nightly.env"

# ---- the daemon: only nightly is scheduled
e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB" TARGETS_DIR="$WORK/targets"

api GET /targets/nightly/backup/schedule viewer
expect_status 200 "nightly's schedule"
expect_json '.scheduled == true and .expression == "* * * * *" and .timezone == "UTC"' "nightly: scheduled every minute"
api GET "/backup/schedule?target=nightly" viewer
expect_json '.scheduled == true' "the same with ?target=nightly"
api GET /backup/schedule viewer
expect_status 200 "the default target's schedule"
expect_json '.scheduled == false and .expression == null and .next_run_utc == null' "the default target: no schedule"

check "nightly's catch-up and the next minute's run, within about 70 s" wait_for 90 at_least scheduler success 2
sleep 2 # the prune after the second run
check "every scheduled backup is nightly's" test "$(grep -c 'user="scheduler"' "$DAEMON_LOG")" -eq "$(grep -c 'user="scheduler" .*file="backup_nightly_[^"]*" target=nightly$' "$DAEMON_LOG")"
check "no backup in the default target's directory" bash -c '! ls "$1"/backup_* >/dev/null 2>&1' _ "$WORK/backups"
check "KEEP_LAST=1: one backup left in nightly's directory" test "$(find "$WORK/backups/nightly" -maxdepth 1 -name 'backup_nightly_*.db*' ! -name '*.sha256' ! -name '*.offsite' | wc -l)" -eq 1
check "retention deleted nightly's older one, with target=nightly" grep -qE 'audit action=delete outcome=success .*user="retention" .*file="backup_nightly_[^"]*" target=nightly$' "$DAEMON_LOG"
api GET /targets/nightly/backup/schedule viewer
expect_json '.last_run.outcome == "success" and (.last_run.file | startswith("backup_nightly_"))' "nightly's last run: its own file"
api GET /backup/schedule viewer
expect_json '.scheduled == false and .last_run == null' "the default target: still no run"

# ---- metrics: nightly's schedule gauges carry target="nightly"; none for the default
curl -sS -H "Authorization: Bearer $(token viewer)" "$BASE/metrics" >"$WORK/metrics.txt"
check "nightly's next run gauge" grep -qE '^dbbackupd_next_run_timestamp_seconds\{database="sqlite",target="nightly"\} [1-9]' "$WORK/metrics.txt"
check "nightly's last success gauge" grep -qE '^dbbackupd_last_success_timestamp_seconds\{database="sqlite",target="nightly"\} [1-9]' "$WORK/metrics.txt"
check "no schedule gauge for the default target" bash -c '! grep -q "^dbbackupd_next_run_timestamp_seconds{.*target=\"sqlite\"" "$1"' _ "$WORK/metrics.txt"
check "notification failures per target" grep -q '^dbbackupd_notifications_failed_total{database="sqlite",target="sqlite"} 0$' "$WORK/metrics.txt"

# ---- prune per target
api POST /backup/create operator
expect_status 200 "a backup of the default target"
api POST "/targets/nightly/backup/prune?dry_run=true" operator
expect_status 200 "nightly: prune dry run"
expect_json '.dry_run == true and .policy_empty == false and (.keep | length) == 1 and (.remove | length) == 0' "nightly: its one backup kept"
expect_json '[.keep[].file] | all(startswith("backup_nightly_"))' "nightly: only its files"
expect_json '[.keep[].reasons[]] | any(test("^last 1$"))' "nightly: kept by KEEP_LAST=1"
api POST "/backup/prune?dry_run=true" operator
expect_status 200 "the default target: prune dry run"
expect_json '.policy_empty == true and (.remove | length) == 0 and ([.keep[].file] | all(startswith("backup_sqlite_")))' "the default target: no policy, only its files"
api POST "/backup/prune?target=nightly" operator
expect_error 403 forbidden "a real prune of nightly needs admin"
api POST "/targets/nightly/backup/prune" admin
expect_status 200 "admin prunes nightly"
expect_json '.dry_run == false and .removed == 0' "nothing more to delete"

kill -TERM "$DAEMON_PID"
check "SIGTERM stops both targets' schedulers" wait_for 20 grep -q "info stopped" "$DAEMON_LOG"
e2e_done
