#!/usr/bin/env bash
# Offsite copies per target (issues 16, 18; docs/targets.md) against the
# real SeaweedFS, every copy checked by the AWS CLI. Three SQLite targets:
# the default one with the environment's S3 settings and S3_PREFIX, "two"
# with its own S3 settings in its NAME.env and no S3_PREFIX (keys under
# dbbackupd/<its name>/), "local" without any (no copies). Each target's
# backups go to its own keys only; the offsite gauges carry target="NAME"
# for the targets with copies only.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service s3
. "$DBB_SOURCE_DIR/tests/e2e/s3_lib.sh"

P=$(s3_prefix)
TWO=two-$$
TWO_PREFIX=dbbackupd/$TWO/
trap 'awsi s3 rm --quiet --recursive "s3://$S3_BUCKET/$TWO_PREFIX" >/dev/null 2>&1; e2e_cleanup' EXIT
e2e_sqlite_demo
cp "$SQLITE_DB" "$WORK/two.db"
cp "$SQLITE_DB" "$WORK/local.db"
mkdir -p "$WORK/targets"
# two: its own S3 settings (the store's), no S3_PREFIX
cat >"$WORK/targets/$TWO.env" <<EOT
DB_TYPE=sqlite
SQLITE_PATH=$WORK/two.db
S3_ENDPOINT=$S3_ENDPOINT
S3_REGION=$S3_REGION
S3_BUCKET=$S3_BUCKET
S3_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID
S3_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
OFFSITE_RETRY_INITIAL=1
EOT
printf 'DB_TYPE=sqlite\nSQLITE_PATH=%s\n' "$WORK/local.db" >"$WORK/targets/local.env"

# the default target: the environment's S3 settings (the service's exports)
e2e_start SQLITE_PATH="$SQLITE_DB" S3_PREFIX="$P" OFFSITE_RETRY_INITIAL=1 \
	TARGETS_DIR="$WORK/targets"

# offsite_of TARGET FILE: the file's offsite record in the target's list
offsite_of() {
	api GET "/targets/$1/backup/list" viewer
	jq -c --arg f "$2" '.backups[] | select(.filename == $f) | .offsite' "$BODY"
}
# wait_uploaded TARGET FILE: until the list shows uploaded (2 min)
wait_uploaded() {
	local i
	for i in $(seq 1 240); do
		[ "$(offsite_of "$1" "$2" | jq -r '.state // empty')" = uploaded ] && return 0
		sleep 0.5
	done
	echo "offsite of $1 $2: $(offsite_of "$1" "$2")" >&2
	return 1
}
# create TARGET: a backup of that target (uncompressed); its name in $FILE
create() {
	api POST "/targets/$1/backup/create?compress=false" operator
	FILE=$(jq -r '.filename // empty' "$BODY")
	[ "$STATUS" = 200 ] && [ -n "$FILE" ]
}
# same_copy DIR KEY: the object holds the local file's bytes (AWS CLI)
same_copy() {
	rm -f "$WORK/got"
	awsi s3 cp --quiet "s3://$S3_BUCKET/$2" "$WORK/got" >/dev/null || return 1
	[ "$(sha "$1")" = "$(sha "$WORK/got")" ]
}

check "the log names two's key prefix" grep -q "offsite copies: bucket $S3_BUCKET .* keys $TWO_PREFIX<file>" "$DAEMON_LOG"
check "a backup of the default target" create sqlite
F1=$FILE
check "a backup of two" create "$TWO"
F2=$FILE
check "a backup of local" create local
F3=$FILE
check "the default target's copy is uploaded" wait_uploaded sqlite "$F1"
check "two's copy is uploaded" wait_uploaded "$TWO" "$F2"
check "the default target's copy under its S3_PREFIX" same_copy "$WORK/backups/$F1" "$P$F1"
check "two's copy under dbbackupd/$TWO/" same_copy "$WORK/backups/$TWO/$F2" "$TWO_PREFIX$F2"
check "two's file is not under the default target's prefix" absent "$P$F2"
check "the default target's file is not under two's prefix" absent "$TWO_PREFIX$F1"
check "local has no copy: no offsite record" test "$(offsite_of local "$F3")" = null
check "local's file is nowhere in the bucket" absent "$P$F3"
check "... nor under dbbackupd/local/" absent "dbbackupd/local/$F3"

curl -s -H "Authorization: Bearer $(token viewer)" "$BASE/metrics" >"$WORK/metrics"
check "offsite pending of the default target" grep -qE '^dbbackupd_offsite_pending\{database="sqlite",target="sqlite"\} 0$' "$WORK/metrics"
check "offsite pending of two" grep -qE "^dbbackupd_offsite_pending\\{database=\"sqlite\",target=\"$TWO\"\\} 0\$" "$WORK/metrics"
check "two's last offsite success is set" grep -qE "^dbbackupd_offsite_last_success_timestamp_seconds\\{database=\"sqlite\",target=\"$TWO\"\\} [1-9][0-9]+\$" "$WORK/metrics"
check "no offsite gauge for local" bash -c '! grep -q "^dbbackupd_offsite_[a-z_]*{.*target=\"local\"" "$1"' _ "$WORK/metrics"
check "no secret in the log" bash -c '! grep -qF -- "$1" "$2"' _ "$S3_SECRET_ACCESS_KEY" "$DAEMON_LOG"
e2e_done
