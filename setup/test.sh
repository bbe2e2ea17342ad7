#!/usr/bin/env bash
# The README's second command, and what CI runs (.ci/run): installs what is
# missing, builds dbbackupd twice (optimised, and with AddressSanitizer +
# UndefinedBehaviorSanitizer), and runs every test with CTest. The real
# PostgreSQL, MariaDB, Neo4j and Keycloak are installed and started by the
# CTest fixtures (tests/services/*.sh). Extra arguments go to ctest, e.g.
#   setup/test.sh -L postgresql
set -euo pipefail
cd "$(dirname "$0")/.."
# The tests write key files and settings the daemon must trust: none that
# the group or others may change (docs/operations.md, "Files the daemon
# trusts"), whatever umask the caller has.
umask 022

bash setup/install-deps.sh --test
jobs=$(nproc)

# SeaweedFS (the S3 store of the offsite tests) builds from Go source, 8 to
# 10 minutes cold: a full run starts that build now, in the background, so it
# overlaps the compiles, unit and fuzz tests; the s3 fixture waits for it
# (tests/services/s3.sh build/start share a lock). Its failure is reported
# before the tests that need it, which then try the build once more.
s3_warmup_pid=""
s3_warmup_log=""
if [ $# -eq 0 ]; then
	s3_warmup_log=$(mktemp -t dbb-s3-warmup.XXXXXX)
	# its own process group (setsid), so that an early exit stops go too
	setsid bash tests/services/s3.sh build >"$s3_warmup_log" 2>&1 &
	s3_warmup_pid=$!
	trap '[ -z "$s3_warmup_pid" ] || kill -- "-$s3_warmup_pid" 2>/dev/null || true' EXIT
fi
s3_warmup_wait() {
	[ -n "$s3_warmup_pid" ] || return 0
	if wait "$s3_warmup_pid"; then
		echo "test.sh: SeaweedFS warm-up build done" >&2
	else
		echo "test.sh: the SeaweedFS warm-up build FAILED (exit $?); its log:" >&2
		tail -n 50 "$s3_warmup_log" >&2
	fi
	s3_warmup_pid=""
	rm -f "$s3_warmup_log"
}

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDBB_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"

if [ $# -gt 0 ]; then
	cd build-asan
	exec ctest --output-on-failure "$@"
fi

# The fast, service-free tests on the optimised build; the libFuzzer targets
# for a bounded time each (DBB_FUZZ_SECONDS, default 60); then everything on
# the sanitizer build (any sanitizer report fails the test that caused it).
(cd build && ctest --output-on-failure -L 'unit|sqlite')
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DDBB_FUZZ=ON \
	-DDBB_FUZZ_SECONDS="${DBB_FUZZ_SECONDS:-60}" >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_name fuzz_range fuzz_gzip fuzz_zstd fuzz_auth fuzz_neo4j_script \
	fuzz_multipart fuzz_age fuzz_mysql_script fuzz_pg_script
(cd build-fuzz && ctest --output-on-failure -L fuzz)
s3_warmup_wait
cd build-asan
ctest --output-on-failure
