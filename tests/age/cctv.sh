#!/usr/bin/env bash
# The community test vectors for age (C2SP CCTV, age/testdata): every vector
# that uses X25519 or scrypt identities (armored or not) must give the
# expected outcome through our decryptor (src/age/, via age_tool vector):
# success with the plaintext's SHA-256, or the failure kind it names (header,
# HMAC, armor, payload failure, no match), and for a payload failure the
# plaintext given out before it must hash as the vector says. Each is run
# with reads of 1 byte, 4093 bytes and whole, so every boundary is met.
#
# The vectors are the Go module c2sp.org/CCTV/age at the version that
# filippo.io/age v1.3.2 tests with (its go.mod), fetched with the Go module
# proxy into the download cache (DBB_CACHE_DIR, as tests/services/common.sh)
# and checked against the module's pinned hash; nothing fetched is committed.
# Skipped: the vectors of the post-quantum hybrid type (ML-KEM-768 + X25519,
# AGE-SECRET-KEY-PQ-), which we do not implement (OpenSSL 3.0 has no
# ML-KEM); X25519 stanzas beside hybrid ones are still covered by the
# other vectors.
set -euo pipefail

: "${AGE_TOOL:?set by CTest: the age_tool helper}"
CCTV_MODULE=c2sp.org/CCTV/age
CCTV_VERSION=${CCTV_VERSION:-v0.0.0-20260829155415-4448f2097b2d}
CCTV_SUM=h1:Blprhc2SbChNZtWcU+BLTM4YdoqYAS9V7cJgOwJKyAs=
MIN_PASS=128 # what this version gives; fewer means vectors went missing

if ! command -v go >/dev/null 2>&1; then
	echo "cctv: go is not installed (setup/install-deps.sh --test installs golang-go)" >&2
	exit 1
fi
CACHE_ROOT=${DBB_CACHE_DIR:-${HOME:-/root}/.cache/dbbackupd}
export GOMODCACHE=$CACHE_ROOT/gomod GOCACHE=$CACHE_ROOT/gocache GOPATH=$CACHE_ROOT/gopath
# The module's hash is pinned below and checked here, so Go's checksum
# database is not needed (one server less to reach).
export GOFLAGS=-mod=mod GOTOOLCHAIN=local GO111MODULE=on GOSUMDB=off
mkdir -p "$GOMODCACHE"

base=${DBB_TEST_TMP:-/tmp}
mkdir -p "$base"
work=$(mktemp -d "$base/age-cctv.XXXXXX")
trap 'rm -rf "$work"' EXIT

# the module cache is keyed by version: a re-run downloads nothing
info=$(cd "$work" && go mod download -json "$CCTV_MODULE@$CCTV_VERSION")
dir=$(jq -r .Dir <<<"$info")
sum=$(jq -r .Sum <<<"$info")
if [ "$sum" != "$CCTV_SUM" ]; then
	echo "cctv: $CCTV_MODULE@$CCTV_VERSION has hash $sum, expected $CCTV_SUM" >&2
	exit 1
fi
echo "cctv: $CCTV_MODULE@$CCTV_VERSION in $dir"

pass=0 fail=0 skip=0
for f in "$dir"/testdata/*; do
	set +e
	line=$("$AGE_TOOL" vector "$f")
	rc=$?
	set -e
	case $rc in
	0) pass=$((pass + 1)) ;;
	77) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)) ;;
	esac
	[ "$rc" = 0 ] || echo "$line"
done
total=$((pass + fail + skip))
echo "cctv: $total vectors: $pass passed, $fail failed, $skip skipped (post-quantum hybrid)"
if [ "$fail" -ne 0 ]; then
	exit 1
fi
if [ "$pass" -lt "$MIN_PASS" ]; then
	echo "cctv: only $pass vectors passed, expected at least $MIN_PASS" >&2
	exit 1
fi
