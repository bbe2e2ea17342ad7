#!/usr/bin/env bash
# The independent S3 client of the tests: the AWS CLI v1 and boto3 from PyPI
# in a virtualenv cached under ${DBB_CACHE_DIR:-$HOME/.cache/dbbackupd} keyed
# by their versions.
#   pyenv.sh          prints the venv's bin directory (aws, python)
#   pyenv.sh suite    prints the directory of AWS's SigV4 test suite
#                     (aws4_testsuite) as botocore's source distribution of
#                     the same version ships it, unpacked in the cache
set -euo pipefail

SVC_NAME=s3-client
# shellcheck source=../services/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../services/common.sh"

AWSCLI_VERSION=1.46.3
BOTO3_VERSION=1.44.8
BOTOCORE_VERSION=1.44.8
VENV=$CACHE_ROOT/s3-client-awscli-$AWSCLI_VERSION-boto3-$BOTO3_VERSION
SUITE=$CACHE_ROOT/aws4-testsuite-botocore-$BOTOCORE_VERSION

ensure_venv() {
	[ -x "$VENV/bin/aws" ] && [ -f "$VENV/.complete" ] && return 0
	python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
	log "installing awscli $AWSCLI_VERSION and boto3 $BOTO3_VERSION into $VENV"
	rm -rf "$VENV"
	python3 -m venv "$VENV" >&2
	"$VENV/bin/pip" install -q --disable-pip-version-check "awscli==$AWSCLI_VERSION" \
		"boto3==$BOTO3_VERSION" "botocore==$BOTOCORE_VERSION" >&2 || {
		rm -rf "$VENV"
		die "pip could not install awscli/boto3"
	}
	touch "$VENV/.complete"
}

ensure_suite() {
	[ -f "$SUITE/.complete" ] && return 0
	ensure_venv
	local tmp
	tmp=$(mktemp -d "$CACHE_ROOT/.botocore-sdist.XXXXXX")
	log "fetching botocore $BOTOCORE_VERSION's source distribution for the SigV4 test suite"
	if ! "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary :all: \
		-d "$tmp" "botocore==$BOTOCORE_VERSION" >&2; then
		rm -rf "$tmp"
		die "pip could not download botocore's sdist"
	fi
	tar -xzf "$tmp/botocore-$BOTOCORE_VERSION.tar.gz" -C "$tmp" \
		"botocore-$BOTOCORE_VERSION/tests/unit/auth/aws4_testsuite"
	rm -rf "$SUITE"
	mv "$tmp/botocore-$BOTOCORE_VERSION/tests/unit/auth/aws4_testsuite" "$SUITE"
	rm -rf "$tmp"
	touch "$SUITE/.complete"
}

mkdir -p "$CACHE_ROOT"
case "${1:-}" in
"")
	ensure_venv
	echo "$VENV/bin"
	;;
suite)
	ensure_suite
	echo "$SUITE"
	;;
*)
	echo "usage: $0 [suite]" >&2
	exit 2
	;;
esac
