#!/usr/bin/env bash
# The test store answers S3 as the independent client (the AWS CLI) speaks
# it: put, head, get, list, a multipart upload (create, two parts, list its
# upload, complete) and an aborted one (ListMultipartUploads empty after);
# it refuses a body whose Content-MD5 or x-amz-checksum-sha256 does not
# match (what our client's checksums rely on).
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service s3
. "$DBB_SOURCE_DIR/tests/e2e/s3_lib.sh"

P=$(s3_prefix)
make_file "$WORK/small" 70000
check "put-object" awsi s3api put-object --bucket "$S3_BUCKET" --key "${P}small" --body "$WORK/small"
awsi s3api head-object --bucket "$S3_BUCKET" --key "${P}small" >"$WORK/head.json"
check "head-object: the size" jq -e '.ContentLength == 70000' "$WORK/head.json"
awsi s3api get-object --bucket "$S3_BUCKET" --key "${P}small" "$WORK/small.back" >/dev/null
check "get-object: the same bytes" cmp "$WORK/small" "$WORK/small.back"
awsi s3api list-objects-v2 --bucket "$S3_BUCKET" --prefix "$P" >"$WORK/list.json"
check "list-objects-v2 lists it" jq -e --arg k "${P}small" '[.Contents[].Key] == [$k]' "$WORK/list.json"

# multipart: 5 MiB + 1000 bytes
make_file "$WORK/p1" $((5 * 1024 * 1024))
make_file "$WORK/p2" 1000
cat "$WORK/p1" "$WORK/p2" >"$WORK/big"
up=$(awsi s3api create-multipart-upload --bucket "$S3_BUCKET" --key "${P}big" | jq -r .UploadId)
check "create-multipart-upload gives an id" test -n "$up"
e1=$(awsi s3api upload-part --bucket "$S3_BUCKET" --key "${P}big" --upload-id "$up" --part-number 1 --body "$WORK/p1" | jq -r .ETag)
e2=$(awsi s3api upload-part --bucket "$S3_BUCKET" --key "${P}big" --upload-id "$up" --part-number 2 --body "$WORK/p2" | jq -r .ETag)
check "upload-part gives ETags" test -n "$e1" -a -n "$e2"
check "list-multipart-uploads shows it" test "$(uploads_of "${P}big")" = "$up"
jq -n --arg a "$e1" --arg b "$e2" '{Parts: [{PartNumber: 1, ETag: $a}, {PartNumber: 2, ETag: $b}]}' >"$WORK/parts.json"
check "complete-multipart-upload" awsi s3api complete-multipart-upload --bucket "$S3_BUCKET" \
	--key "${P}big" --upload-id "$up" --multipart-upload "file://$WORK/parts.json"
awsi s3api get-object --bucket "$S3_BUCKET" --key "${P}big" "$WORK/big.back" >/dev/null
check "the completed object is the parts" cmp "$WORK/big" "$WORK/big.back"
check "no upload left" test -z "$(uploads_of "${P}big")"

up=$(awsi s3api create-multipart-upload --bucket "$S3_BUCKET" --key "${P}aborted" | jq -r .UploadId)
awsi s3api upload-part --bucket "$S3_BUCKET" --key "${P}aborted" --upload-id "$up" --part-number 1 --body "$WORK/p2" >/dev/null
check "an upload under way is listed" test -n "$(uploads_of "${P}aborted")"
check "abort-multipart-upload" awsi s3api abort-multipart-upload --bucket "$S3_BUCKET" --key "${P}aborted" --upload-id "$up"
check "ListMultipartUploads is empty after the abort" test -z "$(uploads_of "${P}aborted")"
check "no object under the aborted key" absent "${P}aborted"

# the store checks the body against the checksums our client sends
wrong_md5=$(printf 'other' | openssl dgst -md5 -binary | base64)
wrong_sha=$(printf 'other' | openssl dgst -sha256 -binary | base64)
awsi s3api put-object --bucket "$S3_BUCKET" --key "${P}bad-md5" --body "$WORK/small" \
	--content-md5 "$wrong_md5" >/dev/null 2>"$WORK/err"
check "a wrong Content-MD5 is refused (BadDigest)" grep -q BadDigest "$WORK/err"
awsi s3api put-object --bucket "$S3_BUCKET" --key "${P}bad-sha" --body "$WORK/small" \
	--checksum-sha256 "$wrong_sha" >/dev/null 2>"$WORK/err"
check "a wrong x-amz-checksum-sha256 is refused" grep -qE "BadDigest|InvalidRequest|mismatch" "$WORK/err"
check "the first was not stored" absent "${P}bad-md5"
check "the second was not stored" absent "${P}bad-sha"

awsi s3 rm --recursive "s3://$S3_BUCKET/$P" >/dev/null
e2e_done
