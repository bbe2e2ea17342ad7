#!/usr/bin/env bash
# SigV4 signer checks that need Python: `suite` runs AWS's SigV4 test suite
# (tests/s3/sigv4_suite.py), `botocore` signs random S3 requests with both
# botocore and ours and compares (tests/s3/sigv4_botocore.py).
set -euo pipefail
src=${DBB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=$(bash "$src/tests/s3/pyenv.sh")
case "${1:-}" in
suite) exec "$bin/python" "$src/tests/s3/sigv4_suite.py" "$DBB_S3_TOOL" "$(bash "$src/tests/s3/pyenv.sh" suite)" ;;
botocore) exec "$bin/python" "$src/tests/s3/sigv4_botocore.py" "$DBB_S3_TOOL" ;;
*) echo "usage: $0 suite|botocore" >&2; exit 2 ;;
esac
