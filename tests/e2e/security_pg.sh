#!/usr/bin/env bash
# Security (issue 14 item 2): an uploaded PostgreSQL dump cannot run psql
# client commands - not in the middle of a line, not after a COPY that is
# no COPY (hidden in a dollar quote) nor in any other place psql's lexer
# would run one - and the daemon does not feed a restore script to a psql
# that lacks \restrict. Each file is refused with 422 before anything is
# touched, with the real psql and with a psql that says it is 15.13 (no
# \restrict; it runs the real one otherwise), and the shell command never
# runs.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_canon.sh"
e2e_init
e2e_use_service postgresql
pg_reset
pgq >/dev/null <<'SQL'
CREATE TABLE public.t (id int PRIMARY KEY, note text);
INSERT INTO public.t VALUES (1, 'one'), (2, E'two\\with\\backslashes');
SQL
# without pg_dump's own \restrict lines, as an older pg_dump writes it (or
# an attacker): the dump itself must not be what blocks the commands
PGPASSWORD="$DB_PASSWORD" pg_dump --no-owner --no-acl -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" \
	-d "$DB_NAME" | grep -vE '^\\(un)?restrict ' >"$WORK/good.sql"
pgq -c "INSERT INTO public.t VALUES (3, 'changed since')" >/dev/null
pg_canon "$WORK/canon_before"

# A psql without \restrict: reports 15.13, runs the real psql for the rest,
# and logs how it was called.
real_psql=$(command -v psql)
mkdir -p "$WORK/oldbin"
cat >"$WORK/oldbin/psql" <<SH
#!/bin/sh
echo "\$*" >>"$WORK/oldpsql.log"
if [ "\$1" = --version ]; then echo "psql (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)"; exit 0; fi
exec "$real_psql" "\$@"
SH
chmod +x "$WORK/oldbin/psql"

# payloads: each runs "touch $WORK/pwned_N" under psql if it reaches it
payload() {
	local mark="$WORK/pwned_$1"
	case "$1" in
	midline) printf 'SELECT 1; \\! touch %s\n' "$mark" ;;
	dollar_copy) printf 'SELECT $$\nCOPY public.t FROM stdin;\n$$;\n\\! touch %s\n\\.\n' "$mark" ;;
	split_copy) printf 'SELECT $x$ COPY public.t FROM stdin; $x$; \\! touch %s\n' "$mark" ;;
	cr_comment) printf 'SELECT 1; -- comment\r\\! touch %s\n' "$mark" ;;
	number) printf 'SELECT 1e--\\! touch %s\n;\n' "$mark" ;;
	std_string) printf "SELECT 'a\\\\'; \\\\! touch %s #';\n" "$mark" ;;
	not_estring) printf "SELECT 1e'\\\\'; \\\\! touch %s #';\n" "$mark" ;;
	no_continuation) printf "SELECT E'a'\n'\\\\'; \\\\! touch %s #';\n" "$mark" ;;
	std_same_line) printf "SET standard_conforming_strings = off; SELECT 'a\\\\'; \\\\! touch %s #';\n" "$mark" ;;
	separator) printf '\\restrict abc \\\\ \\! touch %s\n' "$mark" ;;
	esac
}
cases="midline dollar_copy split_copy cr_comment number std_string not_estring no_continuation std_same_line separator"

run_cases() {
	local label=$1 c
	for c in $cases; do
		pg_with_before_trailer "$WORK/good.sql" "$(payload "$c")" >"$WORK/evil_$c.sql"
		api POST /backup/restore-upload operator -F "file=@$WORK/evil_$c.sql" -F create_safety_backup=true
		expect_error 422 invalid_backup "$label: $c → 422"
		expect_json '.message | test("meta-command|psql.s")' "$label: $c: the message names the psql command"
		check "$label: $c: the command did not run" test ! -e "$WORK/pwned_$c"
		pg_canon "$WORK/canon_after"
		check "$label: $c: database untouched" diff -u "$WORK/canon_before" "$WORK/canon_after"
	done
	check "$label: no safety backup made for refused files" \
		test "$(ls "$WORK/backups" | grep -c '^safety_backup_')" = 0
}

e2e_start DB_TYPE=postgresql
run_cases "psql $(psql --version | awk '{print $3}')"
e2e_stop

e2e_start DB_TYPE=postgresql PATH="$WORK/oldbin:$PATH"
run_cases "psql without \\restrict"
# A clean dump is not fed to that psql either: refused before psql starts.
api POST /backup/restore-upload operator -F "file=@$WORK/good.sql" -F create_safety_backup=false
expect_error 500 restore_failed "a clean dump with a psql lacking \\restrict → 500"
expect_json '.message | test("restrict") and test("15.13")' "the message says why and which psql"
pg_canon "$WORK/canon_after"
check "database untouched" diff -u "$WORK/canon_before" "$WORK/canon_after"
check "that psql was only asked for its version" \
	bash -c "! grep -v -- '^--version\$' '$WORK/oldpsql.log'"
e2e_done
