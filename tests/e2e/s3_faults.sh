#!/usr/bin/env bash
# The offsite S3 client when the store fails under it:
# - the store is killed during a multipart upload (tests/services/s3.sh
#   pause): the upload returns a transient error and names the upload it
#   could not abort; after the store is back (resume) abort_incomplete
#   removes it (ListMultipartUploads empty), no object is visible under the
#   key, and the retried upload succeeds;
# - the store stops answering (SIGSTOP) during a part and during a HEAD: the
#   stall and request timeouts end the calls with a transient error.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service s3
. "$DBB_SOURCE_DIR/tests/e2e/s3_lib.sh"

P=$(s3_prefix)
MiB=$((1024 * 1024))
SVC="$DBB_SOURCE_DIR/tests/services/s3.sh"
make_file "$WORK/big" $((40 * MiB))
KEY="${P}killed.sql.gz"

# wait_for_upload KEY: until the independent client sees a multipart upload
# of KEY under way (at most 60 s).
wait_for_upload() {
	for _ in $(seq 1 120); do
		[ -n "$(uploads_of "$1")" ] && return 0
		kill -0 "$BG" 2>/dev/null || return 1
		sleep 0.5
	done
	return 1
}

# ---- the store is killed during a multipart upload ----
# 5 MiB parts, 4 at once at 1 MiB/s each: the upload lasts about 10 s
S3_PART_SIZE=$((5 * MiB)) S3_MAX_SEND_SPEED=$((1 * MiB)) S3_CONNECT_TIMEOUT=3 \
	"$DBB_S3_TOOL" put "$WORK/big" "$KEY" >"$WORK/bg.out" 2>"$WORK/bg.err" &
BG=$!
check "the multipart upload is under way" wait_for_upload "$KEY"
bash "$SVC" pause
wait "$BG"
RC=$?
cp "$WORK/bg.out" "$WORK/out"
cp "$WORK/bg.err" "$WORK/err"
expect_fail transient 0 -
check "the error says the store could not be reached" grep -q "request to $S3_ENDPOINT" "$WORK/err"
left=$(field leftover_upload_id)
check "it names the upload it could not abort" test -n "$left"
bash "$SVC" resume >/dev/null || fail "the store did not come back"
check "after the restart the store still has that upload" test "$(uploads_of "$KEY")" = "$left"
check "no partial object is visible under the key" absent "$KEY"
dbbs3 abort-incomplete "$KEY"
check "abort_incomplete aborts it" test "$(field aborted)" = 1
check "ListMultipartUploads is empty" test -z "$(uploads_of "$KEY")"
S3_PART_SIZE=$((5 * MiB)) dbbs3 put "$WORK/big" "$KEY"
check "the retried upload succeeds" test "$RC" = 0
awsi s3api head-object --bucket "$S3_BUCKET" --key "$KEY" >"$WORK/head.json"
check "... the independent client sees the file's SHA-256" \
	jq -e --arg s "$(sha "$WORK/big")" '.Metadata.sha256 == $s and .ContentLength == 41943040' "$WORK/head.json"
awsi s3api get-object --bucket "$S3_BUCKET" --key "$KEY" "$WORK/big.back" >/dev/null
check "... and the same bytes" cmp "$WORK/big" "$WORK/big.back"

# ---- the store stops answering (SIGSTOP: connections stay open, silent) ----
pid=$(cat "$S3_STATE/pid")
KEY2="${P}stalled.sql.gz"
S3_PART_SIZE=$((5 * MiB)) S3_MAX_SEND_SPEED=$((1 * MiB)) S3_STALL_TIMEOUT=3 S3_REQUEST_TIMEOUT=3 \
	"$DBB_S3_TOOL" put "$WORK/big" "$KEY2" >"$WORK/bg.out" 2>"$WORK/bg.err" &
BG=$!
check "a second multipart upload is under way" wait_for_upload "$KEY2"
kill -STOP "$pid"
wait "$BG"
RC=$?
kill -CONT "$pid"
cp "$WORK/bg.out" "$WORK/out"
cp "$WORK/bg.err" "$WORK/err"
expect_fail transient 0 -
check "the stalled transfer timed out" grep -q "timed out" "$WORK/err"
dbbs3 abort-incomplete "$KEY2"
check "its upload is aborted once the store answers" test -z "$(uploads_of "$KEY2")"
check "no object under that key" absent "$KEY2"

kill -STOP "$pid"
S3_REQUEST_TIMEOUT=2 dbbs3 head "$KEY"
kill -CONT "$pid"
expect_fail transient 0 -
check "a silent store times a HEAD out" grep -q "timed out" "$WORK/err"

awsi s3 rm --recursive "s3://$S3_BUCKET/$P" >/dev/null
e2e_done
