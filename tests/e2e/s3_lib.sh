# shellcheck shell=bash
# Helpers for the S3 client tests (sourced after lib.sh, e2e_init and
# e2e_use_service s3): the independent client (the AWS CLI and boto3 from
# tests/s3/pyenv.sh, never our code) and our driver dbb-s3 ($DBB_S3_TOOL).
#
#   awsi ARGS...          the AWS CLI against the test store (JSON output)
#   dbbs3 ARGS...         our client; its key=value lines in $WORK/out, the
#                         message of a failure in $WORK/err; sets $RC
#   field NAME            a value from $WORK/out (e.g. field sha256)
#   s3_prefix             a fresh key prefix for this test run
#   make_file PATH BYTES  random content
#   sha FILE              lower-case hex SHA-256
#   uploads_of KEY        the incomplete multipart uploads of KEY (AWS CLI)
#   no_uploads_left KEY [COMPLETED_ID]
#                         none of them, within 20 s (but COMPLETED_ID)
#   absent KEY            no object under KEY (AWS CLI)

S3_PY_BIN=$(bash "$DBB_SOURCE_DIR/tests/s3/pyenv.sh") || {
	echo "s3: the AWS CLI could not be installed" >&2
	exit 1
}
: "${DBB_S3_TOOL:?DBB_S3_TOOL must name the dbb-s3 driver}"
# the independent client reads no file of this machine's user
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY \
	AWS_DEFAULT_REGION=$S3_REGION AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
S3_STATE=${DBB_SERVICE_STATE:-/tmp/dbbackupd-services}/s3

awsi() {
	"$S3_PY_BIN/aws" --endpoint-url "$S3_ENDPOINT" --output json "$@"
}

dbbs3() {
	"$DBB_S3_TOOL" "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	return 0
}

field() {
	sed -n "s/^$1=//p" "$WORK/out" | head -n 1
}

s3_prefix() {
	echo "test/$(basename "$0" .sh)-$$-$RANDOM/"
}

make_file() {
	head -c "$2" /dev/urandom >"$1"
}

sha() {
	sha256sum "$1" | cut -d' ' -f1
}

uploads_of() {
	awsi s3api list-multipart-uploads --bucket "$S3_BUCKET" --prefix "$1" |
		jq -r --arg k "$1" '(.Uploads // [])[] | select(.Key == $k) | .UploadId'
}

# no_uploads_left KEY [COMPLETED_ID]: no incomplete multipart upload of KEY,
# within 20 s. The store may list an upload it has just completed for a
# moment (SeaweedFS removes its upload folder after answering, and leaves it
# when that clean-up fails); an orphan stays for good, so waiting does not
# hide one. COMPLETED_ID, the upload the daemon completed, is the store's to
# clean up (no client may abort it): if it alone stays, that is said, not
# failed; any other upload fails.
no_uploads_left() {
	local left
	for _ in $(seq 1 40); do
		left=$(uploads_of "$1" | grep -vxF -- "${2:-none}" || true)
		[ -z "$left" ] && break
		sleep 0.5
	done
	if [ -n "$left" ]; then
		echo "  incomplete uploads of $1: $(echo "$left" | tr '\n' ' ')"
		return 1
	fi
	if [ -n "${2:-}" ] && uploads_of "$1" | grep -qxF -- "$2"; then
		echo "# the store still lists the upload it completed ($2): its own clean-up"
	fi
	return 0
}

absent() {
	! awsi s3api head-object --bucket "$S3_BUCKET" --key "$1" >/dev/null 2>&1
}

# expect_fail FAULT HTTP CODE: the last dbbs3 failed that way.
expect_fail() {
	local line
	line=$(grep '^error ' "$WORK/out")
	if [ "$RC" = 1 ] && [ "$line" = "error fault=$1 http=$2 code=$3 dbb=${4:-internal_error}" ]; then
		ok "fails: $1 $2 $3"
	else
		fail "expected error fault=$1 http=$2 code=$3, got rc=$RC '$line' ($(cat "$WORK/err"))"
	fi
}
