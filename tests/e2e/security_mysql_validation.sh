#!/usr/bin/env bash
# Issue 14 item 1, validation: an uploaded MySQL dump that carries a client
# command (`\!`, `system`, `source`, `tee`, `pager`, ...), LOAD DATA LOCAL
# or a server file access is refused with 422 before anything is touched:
# no command runs, no local file lands in the database, no safety backup is
# written. The commands are hidden every way the mysql client still reads
# them: mid-line, after a statement on the same line, in upper case, in an
# executable comment, after a DELIMITER change, behind an sql_mode switch.
# The dumps have no sandbox line (mariadb-dump's first line), as an
# attacker's would not.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service mysql
. "$DBB_SOURCE_DIR/tests/e2e/mysql_lib.sh"

check "fixture loads" my_load_fixture
my_dump "$WORK/original.sql"
check "the dump starts with mariadb-dump's sandbox line" \
	grep -q '^/\*M!999999\\- enable the sandbox mode \*/' "$WORK/original.sql"
M="$WORK/markers"
mkdir -p "$M"
echo "SECRET-$RANDOM-$RANDOM-local-file" >"$WORK/secret.txt"
secret=$(cat "$WORK/secret.txt")
# What `source` would run.
printf '\\! touch %s/sourced\nsystem touch %s/sourced2\n' "$M" "$M" >"$WORK/evil.sql"

# attack NAME: the dump without its sandbox line, with stdin inserted just
# before the data of table `customers` (after tables, SETs and comments).
attack() {
	local body
	body=$(cat)
	tail -n +2 "$WORK/original.sql" |
		BODY_TEXT="$body" awk '/^-- Dumping data for table `customers`/ { print ENVIRON["BODY_TEXT"] } { print }' \
			>"$WORK/attack_$1.sql"
	grep -qF -- "$body" "$WORK/attack_$1.sql" || echo "attack $1 not inserted" >&2
}

attack shell <<EOF
\\! id > $M/shell
EOF
attack system <<EOF
system touch $M/system
EOF
attack load_local <<EOF
CREATE TABLE leak (l TEXT);
LOAD DATA LOCAL INFILE '$WORK/secret.txt' INTO TABLE leak;
EOF
attack midline <<EOF
SELECT 1; \\! touch $M/midline
EOF
attack after_statement <<EOF
INSERT INTO audit (what) VALUES ('x'); system touch $M/after_statement;
EOF
attack upper <<EOF
SYSTEM touch $M/upper;
EOF
attack upper_short <<EOF
SELECT 2;\\! touch $M/upper_short
EOF
attack exec_comment <<EOF
/*!40101 \\! touch $M/exec_comment */;
EOF
attack delimiter <<EOF
DELIMITER ;;
system touch $M/delimiter;;
DELIMITER ;
EOF
attack delimiter_other <<EOF
DELIMITER \$\$
SELECT 1\$\$
DELIMITER ;
EOF
attack delimiter_midline <<EOF
SELECT 1; DELIMITER //
EOF
attack source <<EOF
source $WORK/evil.sql
EOF
attack source_short <<EOF
\\. $WORK/evil.sql
EOF
attack tee <<EOF
tee $M/tee
EOF
attack pager <<EOF
\\P touch $M/pager
SELECT 1;
EOF
attack charset <<EOF
\\C gbk
EOF
attack after_comment <<EOF
/* looks like a comment */ system touch $M/after_comment;
EOF
# The client follows the server's sql_mode: with NO_BACKSLASH_ESCAPES the
# string ends at the backslash and what follows is read as a command.
attack sql_mode <<EOF
SET sql_mode = 'NO_BACKSLASH_ESCAPES';
SELECT 'a\\'; \\! touch $M/sql_mode #';
EOF
attack sql_mode_hidden <<EOF
SET @m = CONCAT('NO_BACKSLASH', '_ESCAPES'); SET sql_mode = @m;
SELECT 'a\\'; \\! touch $M/sql_mode_hidden #';
EOF
attack into_outfile <<EOF
SELECT * FROM customers INTO OUTFILE '/tmp/dbbackupd-security-outfile-$$';
EOF
attack load_file <<EOF
INSERT INTO audit (what) VALUES (LOAD_FILE('/etc/hostname'));
EOF
attack load_data_server <<EOF
CREATE TABLE leak (l TEXT);
LOAD DATA INFILE '/etc/hostname' INTO TABLE leak;
EOF
attack prepare <<EOF
PREPARE s FROM CONCAT('SELECT LOAD', '_FILE(''/etc/hostname'')'); EXECUTE s;
EOF
attack use_other <<EOF
SELECT 1; USE mysql;
EOF
gzip -c "$WORK/attack_shell.sql" >"$WORK/attack_shell_gz.sql"
gzip -c "$WORK/attack_system.sql" >"$WORK/attack_system_gz.sql"

[ -n "${KEEP_ATTACKS:-}" ] && cp "$WORK"/attack_*.sql "$WORK/original.sql" "$KEEP_ATTACKS"/
e2e_start DB_TYPE=mysql
before=$(backup_files)

for f in "$WORK"/attack_*.sql; do
	name=$(basename "$f" .sql)
	api POST "/backup/restore-upload?create_safety_backup=true" operator -F "file=@$f"
	expect_error 422 invalid_backup "$name: refused with 422"
	check "$name: the message names the line" grep -q 'line [0-9]' "$BODY"
	check "$name: database untouched" my_same_as "$WORK/original.sql"
	check "$name: the local file is not in the database" bash -c "! grep -q '$secret' '$WORK/now.sql'"
	check "$name: no file written (not even a safety backup)" test "$(backup_files)" = "$before"
	check "$name: no command ran" test -z "$(ls -A "$M")"
done
check "no table holds the local file" \
	test "$(my_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'leak'")" = 0
check "no outfile written" bash -c "! ls /tmp/dbbackupd-security-outfile-$$ 2>/dev/null"

# Messages say what was refused.
api POST "/backup/restore-upload" operator -F "file=@$WORK/attack_shell.sql"
check "shell: message names the command" grep -qF '\\!' "$BODY"
api POST "/backup/restore-upload" operator -F "file=@$WORK/attack_load_local.sql"
check "load_local: message names LOAD DATA" grep -q 'LOAD DATA' "$BODY"
api POST "/backup/restore-upload" operator -F "file=@$WORK/attack_delimiter_other.sql"
check "delimiter_other: message names DELIMITER" grep -q 'DELIMITER' "$BODY"

# What mariadb-dump itself writes is accepted: the real dump, with its
# sandbox line, DELIMITER ;; blocks and sql_mode switches (routines,
# trigger, event), and the same without the sandbox line.
tail -n +2 "$WORK/original.sql" >"$WORK/no_sandbox_line.sql"
check "the dump has DELIMITER blocks and sql_mode switches" \
	bash -c "grep -q '^DELIMITER ;;' '$WORK/original.sql' && grep -q 'SET sql_mode' '$WORK/original.sql'"
for f in original.sql no_sandbox_line.sql; do
	my_sql "DELETE FROM audit"
	api POST "/backup/restore-upload?create_safety_backup=false" operator -F "file=@$WORK/$f"
	expect_status 200 "$f: accepted and restored"
	check "$f: database equals the dump" my_same_as "$WORK/original.sql"
done
check "still no command ran" test -z "$(ls -A "$M")"

e2e_done
