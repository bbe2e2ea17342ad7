#!/usr/bin/env bash
# Issue 14 item 1, the client: even if a client command got past the
# validation, the mariadb client the daemon runs would not obey it. A
# wrapper named `mariadb`, first in the daemon's PATH, records the command
# line and feeds the real client an extra script before the (valid) dump, as
# a validator bug would: `\!`, `system`, `source`, `tee`, `pager` and LOAD
# DATA LOCAL must all fail there, nothing runs, nothing is read, and the
# restore is rolled back. Also: the client reads no option file but the
# daemon's, runs in binary mode, sandboxed where it can be; a server whose
# default sql_mode has NO_BACKSLASH_ESCAPES does not make the client read a
# string's end elsewhere than the checker did; a client without --sandbox
# (older MariaDB, Oracle's mysql) still restores, with the same guarantees.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service mysql
. "$DBB_SOURCE_DIR/tests/e2e/mysql_lib.sh"

real=$(my_client)
M="$WORK/markers"
SHIM="$WORK/shim"
mkdir -p "$M" "$SHIM"
echo "SECRET-$RANDOM-$RANDOM-local-file" >"$WORK/secret.txt"
secret=$(cat "$WORK/secret.txt")
printf '\\! touch %s/sourced\n' "$M" >"$WORK/evil.sql"

# The wrapper: argv to $SHIM/argv.<pid>; $SHIM/inject (if any, once) before
# stdin;
# $SHIM/no_sandbox makes it refuse --sandbox like a client that lacks it.
# (The wrapper names every program by its path: it must not depend on the
# environment the daemon gives its children.)
cat >"$SHIM/$(basename "$real")" <<EOF
#!$(command -v bash)
PATH=$(dirname "$(command -v cat)"):/usr/bin:/bin
for a in "\$@"; do
	if [ "\$a" = --sandbox ] && [ -e "$SHIM/no_sandbox" ]; then
		echo "\$0: unknown option '--sandbox'" >&2
		exit 7
	fi
done
case " \$* " in *" --version "*) exec "$real" "\$@" ;; esac
printf '%s\n' "\$@" >"$SHIM/argv.\$\$"
if [ -s "$SHIM/inject" ]; then
	mv "$SHIM/inject" "$SHIM/inject.used" # once: not into the rollback
	cat "$SHIM/inject.used" - | "$real" "\$@"
	exit \$?
fi
exec "$real" "\$@"
EOF
chmod +x "$SHIM/$(basename "$real")"

check "fixture loads" my_load_fixture
my_dump "$WORK/original.sql"
gzip -c "$WORK/original.sql" >"$WORK/original.sql.gz"
my_sql "INSERT INTO audit (what) VALUES ('the state before the request')"
my_dump "$WORK/before.sql"

PATH="$SHIM:$PATH" e2e_start DB_TYPE=mysql

# inject NAME: restores the valid dump with stdin injected in front of it.
inject() {
	local name=$1
	cat >"$SHIM/inject"
	rm -f "$SHIM"/argv.*
	api POST "/backup/restore-upload?create_safety_backup=true" operator \
		-F "file=@$WORK/original.sql.gz"
	expect_error 500 restore_failed "$name: the client refused it, the restore failed"
	expect_json '.rollback_performed == true and .rollback_succeeded == true' \
		"$name: rolled back from the safety backup"
	check "$name: database as before the request" my_same_as "$WORK/before.sql"
	check "$name: the local file is not in the database" bash -c "! grep -q '$secret' '$WORK/now.sql'"
	check "$name: no command ran" test -z "$(ls -A "$M")"
}

inject shell <<EOF
\\! touch $M/shell
EOF
inject system <<EOF
system touch $M/system
EOF
inject system_statement <<EOF
SELECT 1; system touch $M/system_statement;
EOF
inject source <<EOF
source $WORK/evil.sql
EOF
inject source_short <<EOF
\\. $WORK/evil.sql
EOF
inject tee <<EOF
\\T $M/tee
SELECT 1;
EOF
inject pager <<EOF
pager touch $M/pager
SELECT 1;
EOF
inject load_local <<EOF
CREATE TABLE leak (l TEXT);
LOAD DATA LOCAL INFILE '$WORK/secret.txt' INTO TABLE leak;
EOF
check "load_local: the client refused the local file" grep -qi 'local infile\|not allowed' "$BODY"
rm -f "$SHIM/inject"

# The command line of the restore client (not the --version probe).
api POST "/backup/restore-upload?create_safety_backup=false" operator -F "file=@$WORK/original.sql.gz"
expect_status 200 "a valid dump restores through the wrapper"
check "database equals the dump" my_same_as "$WORK/original.sql"
argv=$(cat "$SHIM"/argv.* 2>/dev/null)
first=$(sed -n 1p <<<"$argv")
check "argv: the daemon's option file first, and no other (--defaults-file)" \
	grep -q '^--defaults-file=' <<<"$first"
for opt in --binary-mode --local-infile=0 --sandbox --batch --skip-comments --skip-named-commands; do
	check "argv: $opt" grep -qx -- "$opt" <<<"$argv"
done
check "argv: --init-command clears NO_BACKSLASH_ESCAPES and ANSI_QUOTES" \
	grep -q -- '^--init-command=SET SESSION sql_mode = .*NO_BACKSLASH_ESCAPES.*ANSI_QUOTES' <<<"$argv"
check "argv: no password" bash -c '! grep -qF -- "$1" <<<"$2"' _ "$DB_PASSWORD" "$argv"

# A server whose default sql_mode has NO_BACKSLASH_ESCAPES: the checker
# reads 'a\'...' as one string (as mariadb-dump writes it), and so must
# the client, or what follows the backslash would be a command.
admin() {
	"$real" --no-defaults --socket="$MYSQL_SOCKET" --user="${MYSQL_ADMIN_USER:-root}" --batch \
		--skip-column-names -e "$1"
}
old_mode=$(admin "SELECT @@GLOBAL.sql_mode")
restore_mode() { admin "SET GLOBAL sql_mode = '$old_mode'"; }
trap 'restore_mode; e2e_cleanup' EXIT
if admin "SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES')"; then
	{
		tail -n +2 "$WORK/original.sql"
		printf "INSERT INTO audit (what) VALUES ('a\\\\'); \\\\! touch %s/nbe #');\n" "$M"
	} >"$WORK/nbe.sql"
	api POST "/backup/restore-upload?create_safety_backup=false" operator -F "file=@$WORK/nbe.sql"
	expect_status 200 "NO_BACKSLASH_ESCAPES server: the dump restores"
	check "NO_BACKSLASH_ESCAPES server: the backslash was read as an escape" \
		test "$(my_sql "SELECT COUNT(*) FROM audit WHERE what LIKE 'a''); %touch%'")" = 1
	check "NO_BACKSLASH_ESCAPES server: no command ran" test -z "$(ls -A "$M")"
	restore_mode
else
	fail "cannot set the server's sql_mode (admin access through $MYSQL_SOCKET)"
fi

# A client without --sandbox: the restore works, without it, and the other
# guarantees hold.
touch "$SHIM/no_sandbox"
rm -f "$SHIM"/argv.*
api POST "/backup/restore-upload?create_safety_backup=false" operator -F "file=@$WORK/original.sql.gz"
expect_status 200 "client without --sandbox: the dump restores"
argv=$(cat "$SHIM"/argv.* 2>/dev/null)
check "client without --sandbox: not passed" bash -c '! grep -qx -- --sandbox <<<"$1"' _ "$argv"
check "client without --sandbox: still binary mode" grep -qx -- --binary-mode <<<"$argv"
my_sql "INSERT INTO audit (what) VALUES ('the state before the request')"
my_dump "$WORK/before.sql"
inject shell_no_sandbox <<EOF
\\! touch $M/shell_no_sandbox
EOF
inject load_local_no_sandbox <<EOF
CREATE TABLE leak (l TEXT);
LOAD DATA LOCAL INFILE '$WORK/secret.txt' INTO TABLE leak;
EOF

e2e_done
