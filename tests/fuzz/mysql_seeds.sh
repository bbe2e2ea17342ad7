#!/usr/bin/env bash
# Remakes the seeds of fuzz_mysql_script (corpus/mysql_script/): real
# mariadb-dump output of the e2e fixture (tests/e2e/mysql_fixture.sql, less
# its 100 KB blob row so a seed stays under libFuzzer's -max_len of 64 KiB),
# plain and gzip, and the attacks of tests/e2e/security_mysql_validation.sh
# inserted into it. Not run by CTest.
#
#   bash tests/fuzz/mysql_seeds.sh
#
# Starts tests/services/mysql.sh itself (state under DBB_SERVICE_STATE,
# default build/services-seeds) and stops it at the end.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
export DBB_SERVICE_STATE=${DBB_SERVICE_STATE:-$src/build/services-seeds}
out=$here/corpus/mysql_script
tmp=$(mktemp -d)
bash "$src/tests/services/mysql.sh" start >"$tmp/mysql.env" || exit 1
trap 'bash "$src/tests/services/mysql.sh" stop; rm -rf "$tmp"' EXIT
# shellcheck disable=SC1091
. "$tmp/mysql.env"
export DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD
WORK=$tmp
DBB_SOURCE_DIR=$src
# shellcheck source=tests/e2e/mysql_lib.sh
. "$src/tests/e2e/mysql_lib.sh"

my_reset && sed 's/(3, REPEAT(UNHEX(.00010203FF.), 20000), NULL)/(3, UNHEX(REPEAT("00010203FF", 20)), NULL)/' \
	"$MY_FIXTURE" >"$tmp/fixture.sql" && my_sql_file "$tmp/fixture.sql" || exit 1
my_dump "$tmp/dump.sql" || exit 1

# seed NAME CONTROL_BYTE FILE: one byte choosing how the target hands the
# bytes out (0x80: whole; else chunks of (byte & 0x7f) + 1), then the file.
seed() {
	{
		printf '%b' "\\x$2"
		cat "$3"
	} >"$out/$1"
	echo "seed $1: $(wc -c <"$out/$1") bytes"
}
seed dump 80 "$tmp/dump.sql"
seed dump_chunk3 02 "$tmp/dump.sql"
gzip -c "$tmp/dump.sql" >"$tmp/dump.sql.gz"
seed dump_gz 80 "$tmp/dump.sql.gz"
sed 's|/\*M!999999|/*!999999|' "$tmp/dump.sql" >"$tmp/dump_old.sql"
seed dump_old_sandbox_line 80 "$tmp/dump_old.sql" # as 10.11.8 wrote it
sed 's/$/\r/' "$tmp/dump.sql" >"$tmp/dump_crlf.sql"
seed dump_crlf_chunk2 01 "$tmp/dump_crlf.sql"

# attack NAME: the dump without its sandbox line, stdin inserted before the
# data of `customers`.
attack() {
	local body
	body=$(cat)
	tail -n +2 "$tmp/dump.sql" |
		BODY_TEXT="$body" awk '/^-- Dumping data for table `customers`/ { print ENVIRON["BODY_TEXT"] } { print }' \
			>"$tmp/attack.sql"
	seed "attack_$1" 06 "$tmp/attack.sql"
}
attack shell <<<'\! id > /tmp/x'
attack system <<<'system touch /tmp/y'
attack load_local <<<"CREATE TABLE leak (l TEXT);
LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE leak;"
attack midline <<<'SELECT 1; \! touch /tmp/x'
attack upper <<<'SYSTEM touch /tmp/y;'
attack exec_comment <<<'/*!40101 \! touch /tmp/x */;'
attack delimiter <<<'DELIMITER ;;
system touch /tmp/y;;
DELIMITER ;'
attack source <<<'\. /tmp/evil.sql'
attack sql_mode <<<"SET sql_mode = 'NO_BACKSLASH_ESCAPES';
SELECT 'a\\'; \\! touch /tmp/x #';"
attack ansi <<<"SET sql_mode = 'ORACLE';
SELECT \"a\\\"; \\! touch /tmp/x #\";"
attack into_outfile <<<"SELECT * FROM customers INTO OUTFILE '/tmp/o';"
attack use_other <<<'SELECT 1; USE mysql;'
attack names_gbk <<<'SET NAMES gbk;'
