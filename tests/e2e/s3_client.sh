#!/usr/bin/env bash
# The offsite S3 client (dbb-s3 over src/offsite/s3*.c) against a real
# SeaweedFS, every result checked by the independent client (the AWS CLI and
# boto3): small and multipart uploads (SHA-256 and MD5 checksums) land with
# the right bytes and x-amz-meta-sha256; a file that is not what its recorded
# SHA-256 says leaves nothing behind; objects the independent client put are
# listed (across pages) and downloaded; a download whose bytes do not match
# the stored SHA-256 fails; odd keys round-trip; a wrong secret, a wrong
# access key, a skewed clock and a missing bucket fail clearly;
# virtual-hosted addressing.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service s3
. "$DBB_SOURCE_DIR/tests/e2e/s3_lib.sh"

P=$(s3_prefix)
MiB=$((1024 * 1024))

# verify_remote KEY FILE: the independent client finds FILE's bytes under KEY
# and its SHA-256 in the object's metadata.
verify_remote() {
	local key=$1 file=$2
	awsi s3api head-object --bucket "$S3_BUCKET" --key "$key" >"$WORK/head.json" || return 1
	jq -e --arg s "$(sha "$file")" --argjson n "$(stat -c %s "$file")" \
		'.ContentLength == $n and .Metadata.sha256 == $s' "$WORK/head.json" >/dev/null || return 1
	awsi s3api get-object --bucket "$S3_BUCKET" --key "$key" "$WORK/verify.back" >/dev/null || return 1
	[ "$(sha "$WORK/verify.back")" = "$(sha "$file")" ]
}

# ---- uploads ----
make_file "$WORK/small" 100000
dbbs3 put "$WORK/small" "${P}small.sql.gz"
check "small upload succeeds" test "$RC" = 0
check "a single PutObject" test "$(field parts)" = 0
check "its SHA-256 is the file's" test "$(field sha256)" = "$(sha "$WORK/small")"
check "the independent client reads the same bytes and metadata" verify_remote "${P}small.sql.gz" "$WORK/small"

make_file "$WORK/big" $((12 * MiB + 123))
S3_PART_SIZE=$((5 * MiB)) dbbs3 put "$WORK/big" "${P}big.sql.gz"
check "multipart upload succeeds" test "$RC" = 0
check "in three parts" test "$(field parts)" = 3
check "the independent client reads the same multipart object" verify_remote "${P}big.sql.gz" "$WORK/big"
check "no multipart upload left" test -z "$(uploads_of "${P}big.sql.gz")"

S3_PART_SIZE=$((5 * MiB)) dbbs3 put "$WORK/big" "${P}big-known.sql.gz" "$(sha "$WORK/big")"
check "multipart upload with the recorded SHA-256" test "$RC" = 0
check "... stored right" verify_remote "${P}big-known.sql.gz" "$WORK/big"

wrong=0000000000000000000000000000000000000000000000000000000000000000
S3_PART_SIZE=$((5 * MiB)) dbbs3 put "$WORK/big" "${P}big-wrong.sql.gz" "$wrong"
expect_fail integrity 0 - invalid_backup
check "the message says the file is not what was recorded" grep -q "not the recorded one" "$WORK/err"
check "the multipart upload was aborted (ListMultipartUploads empty)" test -z "$(uploads_of "${P}big-wrong.sql.gz")"
check "nothing under the key" absent "${P}big-wrong.sql.gz"
dbbs3 put "$WORK/small" "${P}small-wrong.sql.gz" "$wrong"
expect_fail integrity 0 - invalid_backup
check "a small file with a wrong SHA-256 is not uploaded" absent "${P}small-wrong.sql.gz"

S3_CHECKSUM=md5 dbbs3 put "$WORK/small" "${P}small-md5.sql.gz"
check "Content-MD5 upload" test "$RC" = 0
check "... stored right" verify_remote "${P}small-md5.sql.gz" "$WORK/small"
S3_CHECKSUM=md5 S3_PART_SIZE=$((5 * MiB)) dbbs3 put "$WORK/big" "${P}big-md5.sql.gz"
check "Content-MD5 multipart upload" test "$RC" = 0
check "... stored right" verify_remote "${P}big-md5.sql.gz" "$WORK/big"

: >"$WORK/empty"
dbbs3 put "$WORK/empty" "${P}empty"
check "an empty file uploads" test "$RC" = 0
check "... as an empty object" verify_remote "${P}empty" "$WORK/empty"

# ---- downloads ----
dbbs3 get "${P}big.sql.gz" "$WORK/big.back"
check "download succeeds" test "$RC" = 0
check "... verified against x-amz-meta-sha256" test "$(field verified)" = 1
check "... the same bytes" cmp "$WORK/big" "$WORK/big.back"

make_file "$WORK/theirs" 300000
awsi s3 cp "$WORK/theirs" "s3://$S3_BUCKET/${P}theirs.sql" >/dev/null
dbbs3 list "$P"
check "an object the independent client put is listed with its size" \
	grep -qx "${P}theirs.sql 300000 .*" "$WORK/out"
dbbs3 get "${P}theirs.sql" "$WORK/theirs.back"
check "... and downloaded" cmp "$WORK/theirs" "$WORK/theirs.back"
check "... unverified: it has no x-amz-meta-sha256" test "$(field verified)" = 0

awsi s3api put-object --bucket "$S3_BUCKET" --key "${P}lying" --body "$WORK/theirs" \
	--metadata "sha256=$(sha "$WORK/small")" >/dev/null
dbbs3 get "${P}lying" "$WORK/lying.back"
expect_fail integrity 0 - invalid_backup
check "the message names both digests" grep -q "is not the one stored with the object" "$WORK/err"

dbbs3 get "${P}no-such-key" "$WORK/none"
expect_fail not_found 404 NoSuchKey not_found
dbbs3 head "${P}no-such-key"
expect_fail not_found 404 NotFound not_found

# ---- listing across pages ----
"$S3_PY_BIN/python" - "$S3_ENDPOINT" "$S3_BUCKET" "${P}many/" <<'PY' || fail "putting 1005 objects"
import sys, boto3
endpoint, bucket, prefix = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=endpoint)
for i in range(1005):
    s3.put_object(Bucket=bucket, Key=f"{prefix}{i:05d}", Body=b"x" * (i % 7))
PY
dbbs3 list "${P}many/"
check "1005 objects listed across two pages" test "$(grep -c "^${P}many/" "$WORK/out")" = 1005
check "... in key order, none twice" bash -c "grep '^${P}many/' '$WORK/out' | cut -d' ' -f1 | sort -c -u"
check "... not truncated" test "$(field truncated)" = 0
awsi s3api list-objects-v2 --bucket "$S3_BUCKET" --prefix "${P}many/" | jq -r '.Contents[].Key' >"$WORK/theirs.list"
check "... the same keys as the independent client lists" \
	diff <(grep "^${P}many/" "$WORK/out" | cut -d' ' -f1) "$WORK/theirs.list"
dbbs3 list "${P}many/" 10
check "a bounded listing stops at its bound" test "$(grep -c "^${P}many/" "$WORK/out")" = 10
check "... and says it is truncated" test "$(field truncated)" = 1

# ---- keys ----
odd="${P}dir with space/ünï+cødé&a=b;c%41(1)~.sql.gz"
dbbs3 put "$WORK/small" "$odd"
check "a key with spaces, UTF-8 and reserved characters uploads" test "$RC" = 0
check "... the independent client finds it under that exact key" verify_remote "$odd" "$WORK/small"
dbbs3 list "${P}dir with space/"
check "... our listing gives the exact key back" grep -qF "$odd 100000 " "$WORK/out"
dbbs3 delete "$odd"
check "delete succeeds" test "$RC" = 0
check "... the object is gone" absent "$odd"

# ---- failures ----
S3_SECRET_ACCESS_KEY=wrong-secret-0123456789 dbbs3 put "$WORK/small" "${P}denied"
expect_fail auth 403 SignatureDoesNotMatch
check "the message says what to check" grep -q "S3_SECRET_ACCESS_KEY" "$WORK/err"
check "no secret in what it printed" bash -c "! grep -qe 'wrong-secret-0123456789' -e '$S3_SECRET_ACCESS_KEY' '$WORK/out' '$WORK/err'"
check "nothing was stored" absent "${P}denied"
S3_ACCESS_KEY_ID=NOSUCHKEY0123456789 dbbs3 list "$P"
expect_fail auth 403 InvalidAccessKeyId

S3_BUCKET=dbbackupd-no-such-bucket dbbs3 put "$WORK/small" "${P}x"
expect_fail config 404 NoSuchBucket
check "the message says to check S3_BUCKET" grep -q "S3_BUCKET" "$WORK/err"
S3_BUCKET=dbbackupd-no-such-bucket dbbs3 check-bucket
expect_fail config 404 NoSuchBucket
check "HeadBucket's message names the bucket" grep -q "bucket dbbackupd-no-such-bucket does not exist" "$WORK/err"
dbbs3 check-bucket
check "HeadBucket of the test bucket succeeds" test "$RC" = 0

# this host's clock two hours behind (libfaketime): the store refuses the
# signature's date and the message says so
if ! command -v faketime >/dev/null; then
	(SVC_NAME=s3-client . "$DBB_SOURCE_DIR/tests/services/common.sh" && ensure_commands faketime:faketime)
fi
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 faketime -f -2h \
	"$DBB_S3_TOOL" list "$P" >"$WORK/out" 2>"$WORK/err"
RC=$?
expect_fail clock 403 RequestTimeTooSkewed
check "the message says to synchronise the clock" grep -q "synchronise it" "$WORK/err"

# ---- virtual-hosted addressing (the store serves {bucket}.localhost) ----
port=${S3_ENDPOINT##*:}
S3_ENDPOINT=http://localhost:$port S3_ADDRESSING=virtual dbbs3 put "$WORK/small" "${P}virtual.sql.gz"
check "virtual-hosted upload succeeds" test "$RC" = 0
check "... stored right" verify_remote "${P}virtual.sql.gz" "$WORK/small"
S3_ENDPOINT=http://localhost:$port S3_ADDRESSING=virtual S3_PART_SIZE=$((5 * MiB)) dbbs3 put "$WORK/big" "${P}virtual-big.sql.gz"
check "virtual-hosted multipart upload succeeds" test "$RC" = 0
check "... stored right" verify_remote "${P}virtual-big.sql.gz" "$WORK/big"
S3_ENDPOINT=http://localhost:$port S3_ADDRESSING=virtual dbbs3 list "$P"
check "virtual-hosted listing" grep -q "^${P}virtual.sql.gz 100000 " "$WORK/out"

awsi s3 rm --recursive "s3://$S3_BUCKET/$P" >/dev/null
e2e_done
