#!/usr/bin/env bash
# Remakes the real-backup seeds of fuzz_neo4j_script (corpus/neo4j_script/
# e2e_*) from a live Neo4j, with the e2e tests' helpers: the graph of every
# property type and shape that tests/e2e/neo4j_roundtrip.sh backs up (less
# its 2500 bulk nodes, so a seed stays under libFuzzer's -max_len of 64 KiB),
# exported with the standard export and with APOC (the APOC seed graph of
# tests/e2e/neo4j_apoc.sh), plain and gzip. Not run by CTest.
#
#   DBBACKUPD=build/dbbackupd bash tests/fuzz/neo4j_seeds.sh
#
# Starts tests/services/neo4j.sh itself (state under DBB_SERVICE_STATE,
# default build/services-seeds) and stops it at the end.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
: "${DBBACKUPD:=$src/build/dbbackupd}"
export DBBACKUPD DBB_SOURCE_DIR=$src
export DBB_SERVICE_STATE=${DBB_SERVICE_STATE:-$src/build/services-seeds}
out=$here/corpus/neo4j_script
svc=$(mktemp -d)
export DBB_SERVICES_DIR=$svc

bash "$src/tests/services/neo4j.sh" start >"$svc/neo4j.env" || exit 1
stop_service() {
	bash "$src/tests/services/neo4j.sh" stop
	rm -rf "$svc"
}
trap stop_service EXIT

# shellcheck source=tests/e2e/lib.sh
. "$src/tests/e2e/lib.sh"
e2e_init
trap 'e2e_cleanup; stop_service' EXIT
e2e_use_service neo4j
# shellcheck source=tests/e2e/neo4j_lib.sh
. "$src/tests/e2e/neo4j_lib.sh"

# seed NAME CONTROL_BYTE FILE: the corpus file is one byte choosing how the
# target hands the bytes out (0x80: whole reads; else small odd chunks),
# then the backup.
seed() {
	[ -f "$3" ] || exit 1 # the backup failed (said why above)
	{
		printf '%b' "\\x$2"
		cat "$3"
	} >"$out/$1"
	echo "seed $1: $(wc -c <"$out/$1") bytes"
}

# backup QUERY: makes a backup, prints its path
backup() {
	api POST "/backup/create?$1" operator
	[ "$STATUS" = 200 ] || {
		echo "backup $1 failed: $(cat "$BODY")" >&2
		exit 1
	}
	echo "$WORK/backups/$(jq -r .filename "$BODY")"
}

n4j_wipe && n4j_seed full && n4j_q 'MATCH (n:Bulk) DETACH DELETE n' >/dev/null || exit 1
e2e_start DB_TYPE=neo4j
seed e2e_standard 80 "$(backup compress=false)"
seed e2e_standard_chunk33 01 "$WORK/backups/$(jq -r .filename "$BODY")"
seed e2e_standard_gz 80 "$(backup compress=true)"

n4j_wipe && n4j_seed apoc && n4j_q 'MATCH (n:Bulk) DETACH DELETE n' >/dev/null || exit 1
seed e2e_apoc 80 "$(backup 'compress=false&use_apoc=true')"
seed e2e_apoc_gz_chunk97 03 "$(backup 'compress=true&use_apoc=true')"
e2e_stop
n4j_wipe
