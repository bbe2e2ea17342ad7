#!/usr/bin/env bash
# PostgreSQL: a restore is one transaction, whatever transaction control the
# dump holds (issue 13 section 1). pg_dump's own BEGIN;/COMMIT; lines around
# large objects are dropped; every other form is refused (422, nothing
# touched) or fails inside the restore's transaction (500). After each, the
# database must be byte-for-byte what it was (pg_canon: schema, sorted rows,
# sequences, large objects), with a failure placed late in the script.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_canon.sh"
e2e_init
e2e_use_service postgresql
pg_reset
pgq -c "SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata" >/dev/null

# ---- the issue's reproduction ----
pgq >/dev/null <<'SQL'
CREATE TABLE public.t (v int);
INSERT INTO public.t VALUES (1), (2), (3);
CREATE SEQUENCE public.s;
SELECT pg_catalog.setval('public.s', 42);
SELECT pg_catalog.lo_from_bytea(0, 'hello');
SQL
pg_canon "$WORK/canon_original"
e2e_start DB_TYPE=postgresql

api POST "/backup/create?compress=false" operator
expect_status 200 "uncompressed backup of t (1, 2, 3) and a large object"
file=$(jq -r .filename "$BODY")
dump="$WORK/backups/$file"
check "the dump wraps its large objects in pg_dump's own BEGIN; ... COMMIT;" \
	bash -c "grep -qx 'BEGIN;' '$dump' && grep -qx 'COMMIT;' '$dump' && grep -q 'lo_open' '$dump'"
pg_with_before_trailer "$dump" "SELECT 1/0;" >"$WORK/late_failure.sql"

pgq >/dev/null <<'SQL'
INSERT INTO public.t VALUES (100);
CREATE TABLE public.other (x int);
SQL
pg_canon "$WORK/canon_before"
api POST /backup/restore-upload operator -F "file=@$WORK/late_failure.sql" -F create_safety_backup=false
expect_error 500 restore_failed "a dump failing after its large objects → 500 restore_failed"
expect_json '.message | test("division by zero")' "the message carries psql's words"
pg_canon "$WORK/canon_after"
check "the database is exactly as after the insert (t has 100, other exists, nothing committed)" \
	diff -u "$WORK/canon_before" "$WORK/canon_after"

api POST "/backup/restore/$file?create_safety_backup=false" operator
expect_status 200 "the same backup, unmodified, restores"
pg_canon "$WORK/canon_restored"
check "restored: t (1, 2, 3), the sequence and the large object, no other table" \
	diff -u "$WORK/canon_original" "$WORK/canon_restored"

# A richer starting point for the forms below: the table and large object
# above, a schema with an enum, a serial, bytea and multi-line text, a view,
# a trigger, plpgsql and BEGIN ATOMIC functions; then a change, so that
# "unchanged" is not "restored".
pgq >/dev/null <<'SQL'
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('sad', 'happy');
CREATE TABLE app.people (id serial PRIMARY KEY, name text NOT NULL, mood app.mood, note text,
	raw bytea);
INSERT INTO app.people (name, mood, note, raw)
	SELECT 'p' || g, 'happy', E'multi\nline \\ ' || g, decode(md5(g::text), 'hex')
	FROM generate_series(1, 200) g;
CREATE VIEW app.happy AS SELECT id, name FROM app.people WHERE mood = 'happy';
CREATE FUNCTION app.stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.note := coalesce(NEW.note, '') || '!'; RETURN NEW; END $$;
CREATE TRIGGER stamp BEFORE INSERT ON app.people FOR EACH ROW EXECUTE FUNCTION app.stamp();
CREATE FUNCTION app.twice(i int) RETURNS int LANGUAGE sql
	BEGIN ATOMIC SELECT CASE WHEN i IS NULL THEN 0 ELSE i * 2 END; END;
COMMENT ON TABLE app.people IS 'BEGIN; COMMIT; \connect x';
SELECT pg_catalog.lo_from_bytea(0, 'second');
SQL
PGPASSWORD="$DB_PASSWORD" pg_dump --no-owner --no-acl -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" \
	-d "$DB_NAME" >"$WORK/good.sql"
pgq >/dev/null <<'SQL'
DELETE FROM app.people WHERE id > 100;
INSERT INTO public.t VALUES (7);
SQL
pg_canon "$WORK/canon_state"

# try NAME STATUS CODE MESSAGE_REGEX SQL: the good dump with SQL and then a
# failing statement near its end; the answer and an unchanged database.
try() {
	local name=$1 status=$2 code=$3 re=$4 sql=$5
	pg_with_before_trailer "$WORK/good.sql" "$sql
SELECT 1/0;" >"$WORK/form.sql"
	api POST /backup/restore-upload operator -F "file=@$WORK/form.sql" -F create_safety_backup=false
	expect_error "$status" "$code" "$name → $status $code"
	expect_json ".message | test(\"$re\")" "$name: the message says why ($re)"
	pg_canon "$WORK/canon_form"
	check "$name: database unchanged" diff -u "$WORK/canon_state" "$WORK/canon_form"
}

refused() { try "$1" 422 invalid_backup "$2" "$3"; }
fails() { try "$1" 500 restore_failed "$2" "$3"; }

# pg_dump's own lines: dropped, so the late failure rolls everything back
fails "a line COMMIT; (pg_dump's form) mid-dump" "division by zero" "COMMIT;"
fails "lines BEGIN; and COMMIT;" "division by zero" "BEGIN;
CREATE TABLE public.inside (x int);
COMMIT;"
# every other spelling of transaction control: refused before anything runs
refused "COMMIT after a statement on its line" "COMMIT would end" "SELECT 1; COMMIT;"
refused "commit; in lower case" "COMMIT would end" "commit;"
refused "COMMIT AND CHAIN" "COMMIT would end" "COMMIT AND CHAIN;"
refused "END" "END would end" "END;"
refused "END WORK" "END would end" "END WORK;"
refused "ROLLBACK" "ROLLBACK would end" "ROLLBACK;"
refused "ABORT" "ABORT would end" "ABORT;"
refused "START TRANSACTION" "START would end" "START TRANSACTION;"
refused "BEGIN WORK" "BEGIN would end" "BEGIN WORK;"
refused "SAVEPOINT" "SAVEPOINT would" "SAVEPOINT s;"
refused "RELEASE SAVEPOINT" "RELEASE would" "RELEASE SAVEPOINT s;"
refused "ROLLBACK TO SAVEPOINT" "ROLLBACK would" "ROLLBACK TO SAVEPOINT s;"
refused "PREPARE TRANSACTION" "PREPARE TRANSACTION" "PREPARE TRANSACTION 'x';"
refused "COMMIT PREPARED" "COMMIT would end" "COMMIT PREPARED 'x';"
refused "ROLLBACK PREPARED" "ROLLBACK would end" "ROLLBACK PREPARED 'x';"
refused "a comment before COMMIT" "COMMIT would end" "/* c */ COMMIT;"
refused "\\connect" "meta-command .connect" "\\connect $DB_NAME"
refused "\\c" "meta-command .c" "\\c $DB_NAME"
refused "\\; joining COMMIT to a statement" "psql's .;" "SELECT 1 \\; COMMIT;"
refused "END after a function named begin (psql sends both at once)" "END would end" \
	"CREATE FUNCTION public.begin() RETURNS int LANGUAGE sql RETURN 1; END;"
refused "END hidden by a column label case in a BEGIN ATOMIC body" "CASE after" \
	"CREATE FUNCTION public.f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1 AS case; END; END;"
refused "COMMIT in a BEGIN ATOMIC body" "BEGIN ATOMIC body" \
	"CREATE PROCEDURE public.p() LANGUAGE sql BEGIN ATOMIC SELECT 1; COMMIT; END;"
refused "a client encoding psql lexes differently" "client_encoding" "SET client_encoding = 'SJIS';"
# what cannot end a transaction block from inside one: fails, rolls back
fails "CALL of a procedure that commits" "invalid transaction termination" \
	"CREATE PROCEDURE public.commits() LANGUAGE plpgsql AS \$\$BEGIN COMMIT; END\$\$;
CALL public.commits();"
fails "DO block that commits" "invalid transaction termination" "DO \$\$BEGIN COMMIT; END\$\$;"
fails "VACUUM" "cannot run inside a transaction block" "VACUUM public.t;"
fails "CREATE INDEX CONCURRENTLY" "cannot run inside a transaction block" \
	"CREATE INDEX CONCURRENTLY t_v ON public.t (v);"
fails "CREATE DATABASE" "cannot run inside a transaction block" "CREATE DATABASE dbb_txn_test;"
# a COMMIT where it is not one: in a string, a dollar quote, a comment, a
# BEGIN ATOMIC body's END - accepted, then the late failure rolls back
fails "COMMIT in strings, comments and bodies" "division by zero" "SELECT 'COMMIT;', \$\$COMMIT;\$\$; -- COMMIT;
CREATE FUNCTION public.atomic() RETURNS int LANGUAGE sql
BEGIN ATOMIC
 SELECT CASE WHEN true THEN 1 END;
END;"

# pg_restore --single-transaction -f writes BEGIN; and COMMIT; around the
# whole script: dropped, the restore is still one transaction of ours
PGPASSWORD="$DB_PASSWORD" pg_dump -Fc --no-owner --no-acl -h "$DB_HOST" -p "$DB_PORT" \
	-U "$DB_USER" -d "$DB_NAME" >"$WORK/good.dump"
pg_restore --single-transaction --no-owner --no-acl -f "$WORK/single.sql" "$WORK/good.dump"
check "pg_restore -1 -f wrote BEGIN; and COMMIT;" \
	bash -c "grep -qx 'BEGIN;' '$WORK/single.sql' && grep -qx 'COMMIT;' '$WORK/single.sql'"
pg_with_before_trailer "$WORK/single.sql" "SELECT 1/0;" >"$WORK/single_bad.sql"
api POST /backup/restore-upload operator -F "file=@$WORK/single_bad.sql" -F create_safety_backup=false
expect_error 500 restore_failed "pg_restore -1 output failing at its end → 500"
pg_canon "$WORK/canon_form"
check "pg_restore -1 output: database unchanged" diff -u "$WORK/canon_state" "$WORK/canon_form"
api POST /backup/restore-upload operator -F "file=@$WORK/single.sql" -F create_safety_backup=false
expect_status 200 "pg_restore -1 output restores"
pg_canon "$WORK/canon_form"
check "pg_restore -1 output restored: the database as it was dumped" \
	diff -u "$WORK/canon_state" "$WORK/canon_form"
check "nothing left from the forms above (tables, functions, procedures)" \
	test "$(pg_value "SELECT (SELECT count(*) FROM pg_catalog.pg_class WHERE relname IN ('inside', 'other'))
		+ (SELECT count(*) FROM pg_catalog.pg_proc WHERE proname IN ('begin', 'f', 'p', 'atomic', 'commits'))")" = 0
e2e_done
