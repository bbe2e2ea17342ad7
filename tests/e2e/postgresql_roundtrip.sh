#!/usr/bin/env bash
# PostgreSQL: create → change → restore gives back exactly the original
# database (pg_dump before/after compared), objects created after the backup
# are gone, and both compressed and plain backups work.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_lib.sh"
e2e_init
e2e_use_service postgresql
pg_reset
pg_load_fixture
pg_snapshot "$WORK/original.sql"
e2e_start DB_TYPE=postgresql

api POST "/backup/create?compress=true" operator
expect_status 200 "create (gzip)"
expect_json '.success == true and (.filename | test("^backup_postgresql_[0-9]{8}_[0-9]{6}(_[0-9]+)?\\.sql\\.gz$"))' \
	"file name backup_postgresql_<ts>.sql.gz"
gz=$(jq -r .filename "$BODY")
check "gzip file is valid" gzip -t "$WORK/backups/$gz"
check "the dump is plain SQL without owners or ACLs" \
	bash -c "gunzip -c '$WORK/backups/$gz' | grep -q '^-- PostgreSQL database dump complete' &&
		! gunzip -c '$WORK/backups/$gz' | grep -qE '^(ALTER .* OWNER TO|GRANT |REVOKE )'"
check "no password on any command line or in the log" bash -c "! grep -qF -- '$DB_PASSWORD' '$DAEMON_LOG'"

api POST "/backup/create?compress=false" operator
expect_status 200 "create (plain)"
plain=$(jq -r .filename "$BODY")
check "plain file name ends in .sql" bash -c "[[ '$plain' =~ ^backup_postgresql_.*\\.sql$ ]]"
check "plain file is SQL text" grep -q '^-- PostgreSQL database dump complete' "$WORK/backups/$plain"

api GET /backup/download/"$gz" viewer -D "$WORK/headers"
expect_status 200 "download"
check "downloaded bytes are the file" cmp -s "$BODY" "$WORK/backups/$gz"

# Change everything: data, schema, sequences, objects created after the backup.
pgq >/dev/null <<'SQL'
DELETE FROM app.orders WHERE id % 2 = 0;
UPDATE app.customers SET name = 'changed' WHERE id = 1;
ALTER TABLE public.items ADD COLUMN extra int;
SELECT setval('public.ticket_seq', 9999);
DROP VIEW app.customer_totals;
CREATE TABLE public.created_later (x int);
CREATE TABLE app.created_later2 (y int);
CREATE TYPE public.later_enum AS ENUM ('a');
CREATE FUNCTION public.later_fn() RETURNS int LANGUAGE sql AS 'SELECT 2';
CREATE VIEW public.later_view AS SELECT 1 AS one;
CREATE SEQUENCE public.later_seq;
CREATE SCHEMA later_schema;
CREATE TABLE later_schema.t (z int);
SQL
public_before=$(pg_value "SELECT oid || '|' || nspowner::regrole FROM pg_namespace WHERE nspname = 'public'")

api POST "/backup/restore/$gz?create_safety_backup=true" operator
expect_status 200 "restore"
expect_json '.success == true and .safety_backup_created == true and (.safety_backup_filename | test("^safety_backup_postgresql_"))' \
	"safety backup named"
safety=$(jq -r .safety_backup_filename "$BODY")
check "safety backup is listed on disk" test -s "$WORK/backups/$safety"
pg_snapshot "$WORK/restored.sql"
check "restored database equals the original (pg_dump compared)" diff -q "$WORK/original.sql" "$WORK/restored.sql"
check "objects created after the backup are gone" \
	test "$(pg_value "SELECT count(*) FROM pg_class WHERE relname IN ('created_later','created_later2','later_view','later_seq')")" = 0
check "types, functions and schemas created later are gone" \
	test "$(pg_value "SELECT (SELECT count(*) FROM pg_type WHERE typname = 'later_enum') + (SELECT count(*) FROM pg_proc WHERE proname = 'later_fn') + (SELECT count(*) FROM pg_namespace WHERE nspname = 'later_schema')")" = 0
check "sequence current value restored" test "$(pg_value "SELECT last_value FROM public.ticket_seq")" = 555
check "bytea with every byte value restored" \
	test "$(pg_value "SELECT md5(raw) FROM public.items WHERE id = 1")" = "$(pg_value "SELECT md5(decode(string_agg(lpad(to_hex(b), 2, '0'), ''), 'hex')) FROM generate_series(0, 255) b")"
check "unicode text restored" test "$(pg_value "SELECT name FROM app.customers WHERE id = 1")" = 'Zoë Ünïcödé 😀 日本語'
check "schema public kept, not dropped and re-created (same oid and owner)" \
	test "$(pg_value "SELECT oid || '|' || nspowner::regrole FROM pg_namespace WHERE nspname = 'public'")" = "$public_before"

# The plain backup restores too, without a safety backup.
pgq -c "CREATE TABLE public.created_later (x int)"
api POST "/backup/restore/$plain?create_safety_backup=false" operator
expect_status 200 "restore plain backup"
expect_json '.safety_backup_created == false' "no safety backup when not asked"
pg_snapshot "$WORK/restored2.sql"
check "plain restore equals the original" diff -q "$WORK/original.sql" "$WORK/restored2.sql"

# The safety backup holds the changed state: restoring it brings it back.
api POST "/backup/restore/$safety?create_safety_backup=false" operator
expect_status 200 "restore the safety backup"
check "safety backup restored the changed state" \
	test "$(pg_value "SELECT count(*) FROM pg_class WHERE relname IN ('created_later','created_later2','later_view')")" = 3

api GET /backup/stats viewer
expect_status 200 "stats"
expect_json '.success == true' "stats success"
jq . "$BODY" >"$WORK/stats.json"
check "stats: size, table count and row estimates" jq -e '
	(.. | objects | select(has("table_count")) | .table_count >= 5) and
	(.. | objects | select(has("database_size_bytes")) | .database_size_bytes > 0) and
	([.. | objects | select(.name? == "orders") | .row_estimate] | length == 1)' "$WORK/stats.json"

api GET /backup/list viewer
expect_status 200 "list"
expect_json '[.backups[] | select(.filename | test("^(safety_)?backup_postgresql_"))] | length >= 3' "list shows the backups"

api DELETE "/backup/delete/$plain" admin
expect_status 200 "delete"
check "deleted file is gone" test ! -e "$WORK/backups/$plain"
e2e_done
