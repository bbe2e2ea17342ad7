#!/usr/bin/env bash
# Remakes the real-dump seeds of fuzz_pg_script (corpus/pg_script/dump_*)
# from a live PostgreSQL: pg_dump output (plain, as the daemon writes it, and
# with --inserts and --clean --if-exists) of a small database holding what
# the lexer has to get right - large objects (pg_dump's BEGIN;/COMMIT;),
# plpgsql and BEGIN ATOMIC bodies, quotes and backslashes in names, comments
# and data, COPY data that looks like SQL and meta-commands. Each seed is one
# byte (how the fuzz target cuts the input) and the dump, under libFuzzer's
# -max_len of 64 KiB. Not run by CTest.
#
#   bash tests/fuzz/pg_script_seeds.sh
#
# Starts tests/services/postgresql.sh itself (state under DBB_SERVICE_STATE,
# default build/services-seeds) and stops it at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
export DBB_SERVICE_STATE=${DBB_SERVICE_STATE:-$src/build/services-seeds}
out=$here/corpus/pg_script
mkdir -p "$out"
eval "$(bash "$src/tests/services/postgresql.sh" start)"
trap 'bash "$src/tests/services/postgresql.sh" stop >/dev/null 2>&1 || true' EXIT
export PGPASSWORD=$DB_PASSWORD
conn=(-h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$DB_NAME")
psql -X -q -v ON_ERROR_STOP=1 "${conn[@]}" >/dev/null <<'SQL'
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS seed CASCADE;
SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata;
CREATE SCHEMA seed;
CREATE TABLE seed."Odd ""name"" \ here" (id int PRIMARY KEY, "x;y" text DEFAULT 'a''b\c;');
INSERT INTO seed."Odd ""name"" \ here" VALUES
	(1, E'\\! not a command\n\\.\nCOMMIT;'), (2, '$$ -- /* '''), (3, E'tab\there\r\n'), (4, NULL);
COMMENT ON TABLE seed."Odd ""name"" \ here" IS 'BEGIN; COMMIT; \connect x';
CREATE FUNCTION seed.plpg(i int) RETURNS int LANGUAGE plpgsql AS $f$
BEGIN
	IF i > 0 THEN RETURN i; END IF; -- $$ '
	RETURN 0;
END $f$;
CREATE FUNCTION seed.atomic(i int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
	SELECT CASE WHEN i > 1 THEN i ELSE 0 END;
	SELECT CASE i WHEN 1 THEN 10 END + 1;
END;
CREATE PROCEDURE seed.proc() LANGUAGE sql BEGIN ATOMIC INSERT INTO seed."Odd ""name"" \ here" VALUES (9, 'p'); END;
CREATE VIEW seed.v AS SELECT id, (ARRAY[1,2,3])[1:2] AS s, 1e-5 AS r FROM seed."Odd ""name"" \ here";
SELECT pg_catalog.lo_from_bytea(0, 'hello'), pg_catalog.lo_from_bytea(0, E'\\x00ff5c27'::bytea);
SQL
dump() { pg_dump --no-owner --no-acl --encoding=UTF8 "$@" "${conn[@]}"; }
{ printf '\001'; dump; } >"$out/dump_plain"
{ printf '\007'; dump --inserts; } >"$out/dump_inserts"
{ printf '\000'; dump --clean --if-exists; } >"$out/dump_clean"
psql -X -q "${conn[@]}" -c "SET client_min_messages = warning; DROP SCHEMA seed CASCADE" \
	-c "SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata" >/dev/null
wc -c "$out"/dump_*
