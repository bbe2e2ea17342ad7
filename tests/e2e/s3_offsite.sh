#!/usr/bin/env bash
# Offsite copies through the daemon (issue 18), against the real SeaweedFS
# (tests/services/s3.sh), every copy checked by the AWS CLI:
# - a backup made through the API is uploaded under S3_PREFIX: the object's
#   bytes and x-amz-meta-sha256 equal the local file's SHA-256; the list
#   shows offsite.state uploaded; the gauges; no secret in the log, in
#   --check-config or on a command line;
# - the store killed (s3.sh pause) during a multipart upload: the backup
#   itself succeeded, the copy is pending with the error, and after resume it
#   completes; no multipart upload is left (ListMultipartUploads);
# - the store down when the backup is made: the backup succeeds, the copy
#   follows once the store is back;
# - a wrong secret: state failed with the store's 403 in the record, one
#   attempt and no more (no retry storm); a missing bucket: failed the same;
# - the daemon killed (kill -9) during a multipart upload: no object under
#   the final key; after a restart the upload starts again and completes,
#   and no multipart upload is left;
# - OFFSITE_MODE=move: an older local backup is deleted once its copy is
#   verified, the newest stays;
# - the settings: S3_SECRET_ACCESS_KEY_FILE must be 0600; plain http only to
#   loopback or with S3_ALLOW_HTTP=true.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service s3
. "$DBB_SOURCE_DIR/tests/e2e/s3_lib.sh"

SVC="$DBB_SOURCE_DIR/tests/services/s3.sh"
P=$(s3_prefix)
MiB=$((1024 * 1024))
SECRET=$S3_SECRET_ACCESS_KEY
# the store must be up whatever happens to this test
trap 'bash "$SVC" resume >/dev/null 2>&1; e2e_cleanup' EXIT

# 24 MiB of incompressible rows: a multipart upload in 5 MiB parts
SQLITE_DB="$WORK/app.db"
sqlite3 "$SQLITE_DB" "create table b(x blob); with recursive c(i) as (select 1 union all \
	select i + 1 from c where i < 24) insert into b select randomblob(1048576) from c;"

start() {
	e2e_start SQLITE_PATH="$SQLITE_DB" S3_PREFIX="$P" OFFSITE_RETRY_INITIAL=1 "$@"
}

# offsite_of FILE: the file's offsite record in the list (JSON, or null)
offsite_of() {
	api GET /backup/list viewer
	jq -c --arg f "$1" '.backups[] | select(.filename == $f) | .offsite' "$BODY"
}

# wait_state FILE STATE [SECONDS]: until the list shows that state.
wait_state() {
	local i
	for i in $(seq 1 $((${3:-120} * 2))); do
		[ "$(offsite_of "$1" | jq -r '.state // empty')" = "$2" ] && return 0
		sleep 0.5
	done
	echo "offsite of $1: $(offsite_of "$1")" >&2
	return 1
}

# wait_upload KEY: until the AWS CLI sees a multipart upload of KEY (3 min).
wait_upload() {
	local i
	for i in $(seq 1 360); do
		[ -n "$(uploads_of "$1")" ] && return 0
		sleep 0.5
	done
	return 1
}

# create: a backup through the API (uncompressed); its name in $FILE.
create() {
	api POST "/backup/create?compress=false" operator
	FILE=$(jq -r '.filename // empty' "$BODY")
	[ "$STATUS" = 200 ] && [ -n "$FILE" ]
}

# same_copy FILE: the object under the prefix holds the local file's bytes,
# and its stored SHA-256 is theirs (the AWS CLI's word).
same_copy() {
	local want got meta
	want=$(sha "$WORK/backups/$1")
	meta=$(awsi s3api head-object --bucket "$S3_BUCKET" --key "$P$1" | jq -r '.Metadata.sha256 // empty')
	rm -f "$WORK/got"
	awsi s3 cp --quiet "s3://$S3_BUCKET/$P$1" "$WORK/got" >/dev/null || return 1
	got=$(sha "$WORK/got")
	[ "$want" = "$got" ] && [ "$want" = "$meta" ]
}

no_secret_in() {
	! grep -qF -- "$SECRET" "$@" && ! grep -qF -- "wrong${SECRET:5}" "$@"
}

# completed_upload NAME: the multipart upload id the daemon's log gives for
# NAME's uploaded copy ("" for a single PutObject)
completed_upload() {
	grep -F "offsite copy of $1 uploaded and verified" "$DAEMON_LOG" | tail -n 1 |
		sed -n 's/.*upload id \([^,]*\),.*/\1/p' | grep -vx -- - || true
}

# uploads_clean NAME: no_uploads_left for NAME's key; on failure the daemon's
# offsite lines for NAME, to tell what left the upload
uploads_clean() {
	no_uploads_left "$P$1" "$(completed_upload "$1")" && return 0
	grep -F "offsite copy of $1" "$DAEMON_LOG" | sed 's/^/  log: /'
	return 1
}

# ---- a backup is copied ----
start
check "create succeeds" create
check "the copy is uploaded" wait_state "$FILE" uploaded
check "the AWS CLI reads the same bytes and SHA-256" same_copy "$FILE"
check "the record names its key, one attempt, an etag and a time" test "$(offsite_of "$FILE" |
	jq -r --arg k "$P$FILE" '.key == $k and .attempts == 1 and (.etag | length > 0) and (.uploaded_at | test("Z$"))')" = true
check "the local sidecar .offsite says uploaded" grep -q '"state":"uploaded"' "$WORK/backups/$FILE.offsite"
curl -s -H "Authorization: Bearer $(token viewer)" "$BASE/metrics" >"$WORK/metrics"
check "dbbackupd_offsite_pending is 0" grep -qE '^dbbackupd_offsite_pending\{database="sqlite"\} 0$' "$WORK/metrics"
check "dbbackupd_offsite_last_success_timestamp_seconds is set" \
	grep -qE '^dbbackupd_offsite_last_success_timestamp_seconds\{database="sqlite"\} [1-9][0-9]+$' "$WORK/metrics"
check "no secret on the daemon's command line" no_secret_in "/proc/$DAEMON_PID/cmdline"
env SQLITE_PATH="$SQLITE_DB" BACKUP_DIR="$WORK/backups" AUTH_JWKS_FILE="$WORK/keys/jwks.json" \
	"$DBBACKUPD" --check-config >"$WORK/check" 2>&1
check "--check-config lists the S3 settings, the secret masked" \
	grep -qx 'S3_SECRET_ACCESS_KEY=\*\*\*\*\*\*\*\*' "$WORK/check"
check "--check-config prints no secret" no_secret_in "$WORK/check"

# ---- the store is killed during a multipart upload ----
e2e_stop
start S3_PART_SIZE=5M S3_MAX_SEND_SPEED=$MiB
check "create succeeds" create
check "a multipart upload is under way" wait_upload "$P$FILE"
bash "$SVC" pause
check "the local backup is there" test -s "$WORK/backups/$FILE"
check "the copy is pending, with the error" wait_state "$FILE" pending 30
for _ in $(seq 1 60); do
	[ "$(offsite_of "$FILE" | jq -r '.error // empty')" != "" ] && break
	sleep 0.5
done
check "the record holds the failure" test "$(offsite_of "$FILE" | jq -r '.error | length > 0')" = true
bash "$SVC" resume >/dev/null
check "after resume the copy is uploaded" wait_state "$FILE" uploaded 240
check "no multipart upload is left" uploads_clean "$FILE"
check "the AWS CLI reads the same bytes and SHA-256" same_copy "$FILE"

# ---- the store is down when the backup is made ----
bash "$SVC" pause
check "create succeeds with the store down" create
check "the copy is pending" wait_state "$FILE" pending 30
bash "$SVC" resume >/dev/null
check "after resume the copy is uploaded" wait_state "$FILE" uploaded 240
check "the AWS CLI reads the same bytes and SHA-256" same_copy "$FILE"

# ---- a wrong secret ----
e2e_stop
start S3_SECRET_ACCESS_KEY="wrong${SECRET:5}"
check "create succeeds" create
check "the copy fails" wait_state "$FILE" failed 60
check "the record holds the store's 403" test "$(offsite_of "$FILE" |
	jq -r '.error | test("403") and test("SignatureDoesNotMatch")')" = true
sleep 3
check "one attempt, no more" test "$(offsite_of "$FILE" | jq -r '.attempts')" = 1
check "one failure logged" test "$(grep -c "offsite copy of $FILE FAILED" "$DAEMON_LOG")" = 1
check "no object under the key" absent "$P$FILE"
check "no secret in the log" no_secret_in "$DAEMON_LOG"
WRONG=$FILE

# ---- a missing bucket ----
e2e_stop
start S3_BUCKET=dbbackupd-no-such-bucket
check "create succeeds" create
check "the copy fails" wait_state "$FILE" failed 60
check "the record says NoSuchBucket" test "$(offsite_of "$FILE" | jq -r '.error | test("NoSuchBucket")')" = true
check "one attempt, no more" test "$(offsite_of "$FILE" | jq -r '.attempts')" = 1

# ---- the daemon killed during a multipart upload ----
e2e_stop
start S3_PART_SIZE=5M S3_MAX_SEND_SPEED=$MiB
check "the failed copy is tried again at start-up, with the right secret" wait_state "$WRONG" uploaded 120
check "create succeeds" create
check "a multipart upload is under way" wait_upload "$P$FILE"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=""
check "no object under the final key" absent "$P$FILE"
check "the record says pending, one attempt" test "$(jq -r '.state + " " + (.attempts | tostring)' \
	"$WORK/backups/$FILE.offsite")" = "pending 1"
start
check "after the restart the copy is uploaded" wait_state "$FILE" uploaded 120
check "no multipart upload is left" uploads_clean "$FILE"
check "the AWS CLI reads the same bytes and SHA-256" same_copy "$FILE"
check "no secret in the log" no_secret_in "$DAEMON_LOG"

# ---- OFFSITE_MODE=move ----
e2e_stop
start OFFSITE_MODE=move
check "create succeeds" create
FIRST=$FILE
check "its copy is uploaded" wait_state "$FIRST" uploaded
sleep 1 # a new name (the names have one-second resolution)
check "create succeeds" create
check "the second copy is uploaded" wait_state "$FILE" uploaded
gone() {
	local i
	for i in $(seq 1 60); do
		[ ! -e "$WORK/backups/$1" ] && return 0
		sleep 0.5
	done
	return 1
}
check "the older local backup is deleted" gone "$FIRST"
check "its record went with it" test ! -e "$WORK/backups/$FIRST.offsite"
check "its copy stays in the store" test "$(awsi s3api head-object --bucket "$S3_BUCKET" --key "$P$FIRST" |
	jq -r .ContentLength)" -gt 0
check "the newest stays" test -s "$WORK/backups/$FILE"
e2e_stop

# ---- settings ----
cfg() {
	env "$@" SQLITE_PATH="$SQLITE_DB" BACKUP_DIR="$WORK/backups" \
		AUTH_JWKS_FILE="$WORK/keys/jwks.json" "$DBBACKUPD" --check-config >"$WORK/check" 2>&1
}
printf '%s\n' "$SECRET" >"$WORK/secret"
chmod 640 "$WORK/secret"
cfg -u S3_SECRET_ACCESS_KEY S3_SECRET_ACCESS_KEY_FILE="$WORK/secret"
check "a secret key file its group can read is refused" grep -q 'S3_SECRET_ACCESS_KEY_FILE.*chmod 600' "$WORK/check"
chmod 600 "$WORK/secret"
cfg -u S3_SECRET_ACCESS_KEY S3_SECRET_ACCESS_KEY_FILE="$WORK/secret"
check "a 0600 secret key file is accepted" grep -qx 'configuration OK' "$WORK/check"
check "... and its content is not printed" no_secret_in "$WORK/check"
cfg S3_ENDPOINT=http://s3.example.com
check "plain http to a host that is not loopback is refused" grep -q 'S3_ALLOW_HTTP' "$WORK/check"
cfg S3_ENDPOINT=http://s3.example.com S3_ALLOW_HTTP=true
check "... unless S3_ALLOW_HTTP=true" grep -qx 'configuration OK' "$WORK/check"
cfg S3_ENDPOINT=ftp://s3.example.com
check "an endpoint that is not http(s) is refused" grep -q 'S3_ENDPOINT must be an https' "$WORK/check"
e2e_done
