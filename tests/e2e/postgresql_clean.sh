#!/usr/bin/env bash
# The in-place restore's clean, one kind of object at a time: each kind that
# broke the old clean (issue 13 §2) gets create → change → restore → the
# canon (pg_dump schema, sorted data, large objects) identical to the one
# taken before the change. As the service's non-superuser owner role:
# zero-argument aggregate, overloaded procedures with OUT parameters, domain
# over an array type, partitioned tables, publication; as a superuser (only
# a superuser can make these): transform, shell type, operator family and
# class, event trigger, publication FOR ALL TABLES, subscription,
# foreign-data wrapper, cast between built-in types, access method, text
# search template. Then the refusal up front: objects the
# role does not own → 409 restore_conflict naming them, nothing touched, no
# safety backup made.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_clean_lib.sh"
e2e_init
e2e_use_service postgresql

SU=dbbackupd_clean_su
SU_PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
OTHER=dbbackupd_clean_other
DB=dbbackupd_clean

# Drops $DB (its subscriptions first: they hold it).
drop_db() {
	pg_admin -d "$DB" >/dev/null 2>&1 <<'SQL'
DO $$
DECLARE s text;
BEGIN
	FOR s IN SELECT subname FROM pg_subscription
		WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
	LOOP
		EXECUTE format('ALTER SUBSCRIPTION %I DISABLE', s);
		EXECUTE format('ALTER SUBSCRIPTION %I SET (slot_name = NONE)', s);
		EXECUTE format('DROP SUBSCRIPTION %I', s);
	END LOOP;
END $$;
SQL
	pg_admin -d postgres -c "SET client_min_messages = warning" \
		-c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
}

clean_cleanup() {
	drop_db
	pg_admin -d postgres >/dev/null 2>&1 <<SQL
DROP ROLE IF EXISTS $SU;
DROP ROLE IF EXISTS $OTHER;
SQL
}
trap 'clean_cleanup; e2e_cleanup' EXIT
clean_cleanup
pg_admin -d postgres >/dev/null <<SQL
CREATE ROLE $SU LOGIN SUPERUSER PASSWORD '$SU_PW';
CREATE ROLE $OTHER NOLOGIN;
SQL

# A fresh database $DB owned by USER, with a daemon on it as USER.
fresh() {
	local user=$1 pw=$2
	e2e_stop
	drop_db
	pg_admin -d postgres -c "CREATE DATABASE $DB OWNER \"$user\"" >/dev/null
	rm -f "$WORK"/backups/*
	e2e_start DB_TYPE=postgresql DB_NAME="$DB" DB_USER="$user" DB_PASSWORD="$pw"
}

# roundtrip NAME USER PASSWORD SETUP CHANGE: in a fresh database, SETUP,
# canon, create, CHANGE (which always adds a table and deletes rows too),
# restore: 200 and the canon is the one taken before the change.
roundtrip() {
	local name=$1 user=$2 pw=$3 setup=$4 change=$5 b
	fresh "$user" "$pw"
	if ! pg_as "$user" "$pw" "$DB" -c "$setup" >/dev/null 2>"$WORK/setup.err"; then
		fail "$name: setting up ($(head -c 300 "$WORK/setup.err"))"
		return
	fi
	pg_as "$user" "$pw" "$DB" >/dev/null <<'SQL'
CREATE TABLE public.rows_here (id int PRIMARY KEY, v text);
INSERT INTO public.rows_here SELECT g, md5(g::text) FROM generate_series(1, 500) g;
SELECT lo_from_bytea(0, 'a large object');
SQL
	pg_canon "$DB" "$WORK/before" "$user" "$pw"
	api POST "/backup/create?compress=true" operator
	expect_status 200 "$name: create"
	b=$(jq -r .filename "$BODY")
	if ! pg_as "$user" "$pw" "$DB" -c "$change" \
		-c "CREATE TABLE public.added_later (x int)" \
		-c "DELETE FROM public.rows_here WHERE id % 2 = 0" >/dev/null 2>"$WORK/change.err"; then
		fail "$name: changing ($(head -c 300 "$WORK/change.err"))"
		return
	fi
	api POST "/backup/restore/$b" operator
	expect_status 200 "$name: in-place restore"
	pg_canon "$DB" "$WORK/after" "$user" "$pw"
	same_canon "$name: the canon after the restore is the one before the change" \
		"$WORK/before" "$WORK/after"
}

# ---- as the service's owner role (not a superuser) ----
U=$DB_USER
P=$DB_PASSWORD

roundtrip "zero-argument aggregate" "$U" "$P" "
CREATE AGGREGATE public.cnt0(*) (sfunc = int8inc, stype = int8, initcond = '0');
CREATE AGGREGATE public.cnt1(int) (sfunc = int8inc_any, stype = int8, initcond = '0');
CREATE VIEW public.counted AS SELECT public.cnt0(*) AS n FROM pg_class;" "
DROP VIEW public.counted;
DROP AGGREGATE public.cnt1(int);
CREATE AGGREGATE public.cnt2(*) (sfunc = int8inc, stype = int8, initcond = '2');"

roundtrip "overloaded procedures with OUT parameters" "$U" "$P" "
CREATE PROCEDURE public.p(IN a int, IN b int) LANGUAGE sql AS 'SELECT 1';
CREATE PROCEDURE public.p(IN a int, OUT b int) LANGUAGE plpgsql AS 'BEGIN b := a; END';
CREATE PROCEDURE public.p(INOUT a text) LANGUAGE plpgsql AS 'BEGIN a := a || a; END';
CREATE PROCEDURE public.p(IN a text, IN b text, OUT c text) LANGUAGE plpgsql AS 'BEGIN c := a || b; END';
CREATE PROCEDURE public.p(IN a text, IN b int, OUT c text, OUT d int) LANGUAGE plpgsql AS 'BEGIN c := a; d := b; END';
DO \$\$ BEGIN FOR i IN 1..8 LOOP
	-- pairs whose regprocedure names are ambiguous (q(integer, integer) is
	-- also q(IN integer, OUT integer) with all arguments counted), made in
	-- both orders
	IF i % 2 = 0 THEN
		EXECUTE format('CREATE PROCEDURE public.q%s(IN a int, OUT b int) LANGUAGE plpgsql AS ''BEGIN b := a; END''', i);
	END IF;
	EXECUTE format('CREATE PROCEDURE public.q%s(IN a int, IN b int) LANGUAGE sql AS ''SELECT 1''', i);
	IF i % 2 = 1 THEN
		EXECUTE format('CREATE PROCEDURE public.q%s(IN a int, OUT b int) LANGUAGE plpgsql AS ''BEGIN b := a; END''', i);
	END IF;
END LOOP; END \$\$;
CREATE FUNCTION public.f(int, OUT r int, OUT s int) LANGUAGE sql AS 'SELECT \$1, \$1';
CREATE FUNCTION public.f(text) RETURNS text LANGUAGE sql AS 'SELECT \$1';" "
DROP PROCEDURE public.p(IN a int, OUT b int);
CREATE PROCEDURE public.p(IN a bigint, OUT b int) LANGUAGE plpgsql AS 'BEGIN b := 2; END';"

roundtrip "domain over an array type" "$U" "$P" "
CREATE DOMAIN public.intarr AS int[] CHECK (cardinality(VALUE) < 10);
CREATE DOMAIN public.textarr2 AS text[][] NOT NULL;
CREATE DOMAIN public.over_domain_arr AS public.intarr;
CREATE TABLE public.uses_arrays (a public.intarr, b public.textarr2, c public.over_domain_arr);
INSERT INTO public.uses_arrays VALUES ('{1,2}', '{{a,b},{c,d}}', '{3}');" "
DELETE FROM public.uses_arrays;
ALTER DOMAIN public.intarr ADD CONSTRAINT more CHECK (cardinality(VALUE) > 0);"

roundtrip "partitioned tables" "$U" "$P" "
CREATE TABLE public.meas (id int, at date NOT NULL, v text) PARTITION BY RANGE (at);
CREATE TABLE public.meas_2023 PARTITION OF public.meas FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE public.meas_2024 PARTITION OF public.meas FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')
	PARTITION BY LIST (id);
CREATE TABLE public.meas_2024_a PARTITION OF public.meas_2024 FOR VALUES IN (1, 2, 3);
CREATE TABLE public.meas_2024_rest PARTITION OF public.meas_2024 DEFAULT;
CREATE TABLE public.meas_other PARTITION OF public.meas DEFAULT;
CREATE INDEX ON public.meas (id);
ALTER TABLE public.meas ADD PRIMARY KEY (id, at);
CREATE TABLE public.hashed (k int PRIMARY KEY) PARTITION BY HASH (k);
CREATE TABLE public.hashed_0 PARTITION OF public.hashed FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE public.hashed_1 PARTITION OF public.hashed FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE SCHEMA parts;
CREATE TABLE parts.p (k int) PARTITION BY LIST (k);
CREATE TABLE public.p_in_public PARTITION OF parts.p FOR VALUES IN (1);
INSERT INTO public.meas SELECT g, date '2023-06-01' + g, 'v' || g FROM generate_series(1, 600) g;
INSERT INTO public.hashed SELECT generate_series(1, 100);" "
DELETE FROM public.meas WHERE id > 300;
ALTER TABLE public.meas DETACH PARTITION public.meas_other;
CREATE TABLE public.meas_new PARTITION OF public.meas FOR VALUES FROM ('2030-01-01') TO ('2031-01-01');"

roundtrip "publication" "$U" "$P" "
CREATE TABLE public.pubbed (id int PRIMARY KEY, v text);
CREATE TABLE public.pubbed2 (id int PRIMARY KEY);
CREATE PUBLICATION pub_some FOR TABLE public.pubbed, public.pubbed2 WITH (publish = 'insert');
CREATE PUBLICATION pub_empty;" "
ALTER PUBLICATION pub_some DROP TABLE public.pubbed2;
CREATE PUBLICATION pub_later;"

roundtrip "everything above at once, large objects and other schemas" "$U" "$P" "
CREATE SCHEMA app;
CREATE TABLE app.t (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
CREATE AGGREGATE app.cnt0(*) (sfunc = int8inc, stype = int8, initcond = '0');
CREATE AGGREGATE public.cnt0(*) (sfunc = int8inc, stype = int8, initcond = '0');
CREATE PROCEDURE public.p(IN a int, IN b int) LANGUAGE sql AS 'SELECT 1';
CREATE PROCEDURE public.p(IN a int, OUT b int) LANGUAGE plpgsql AS 'BEGIN b := a; END';
CREATE DOMAIN public.intarr AS int[];
CREATE TABLE public.meas (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE public.meas_all PARTITION OF public.meas DEFAULT;
CREATE PUBLICATION pub FOR TABLE public.meas;
CREATE TYPE public.floatrange AS RANGE (subtype = float8);
CREATE TABLE public.ranges (r public.floatrange, m public.floatmultirange);
CREATE OPERATOR public.=== (leftarg = int, rightarg = int, function = int4eq);
CREATE OPERATOR public.!!! (rightarg = int, function = int4abs);
CREATE COLLATION public.c2 (locale = 'C');
CREATE TEXT SEARCH CONFIGURATION public.cfg (COPY = pg_catalog.simple);
CREATE STATISTICS public.st ON id, at FROM public.meas_all;
CREATE TABLE public.parent (a int);
CREATE TABLE app.child () INHERITS (public.parent);
CREATE VIEW public.v AS SELECT * FROM app.t;
CREATE RULE r AS ON INSERT TO public.v DO INSTEAD INSERT INTO app.t (v) VALUES (NEW.v);
ALTER TABLE app.t ENABLE ROW LEVEL SECURITY;
CREATE POLICY pol ON app.t USING (v <> 'hidden');
SELECT lo_from_bytea(0, 'one'), lo_from_bytea(0, 'two');" "
SELECT lo_unlink(min(oid)) FROM pg_largeobject_metadata;
DROP SCHEMA app CASCADE;
CREATE SCHEMA later;
CREATE AGGREGATE later.cnt0(*) (sfunc = int8inc, stype = int8, initcond = '0');"

# ---- as a superuser ----
roundtrip "transform (superuser: its function must take internal)" "$SU" "$SU_PW" "
CREATE TYPE public.mood AS ENUM ('sad', 'ok');
CREATE TRANSFORM FOR public.mood LANGUAGE plpgsql (FROM SQL WITH FUNCTION pg_catalog.prsd_lextype(internal));
CREATE TRANSFORM FOR public.mood LANGUAGE sql (FROM SQL WITH FUNCTION pg_catalog.prsd_lextype(internal));
CREATE TRANSFORM FOR integer LANGUAGE sql (FROM SQL WITH FUNCTION pg_catalog.prsd_lextype(internal));" "
DROP TRANSFORM FOR public.mood LANGUAGE sql;"

roundtrip "shell type (superuser, like any base type)" "$SU" "$SU_PW" "
CREATE TYPE public.shell_only;
CREATE SCHEMA s;
CREATE TYPE s.shell_too;" "
CREATE TYPE public.shell_later;"

roundtrip "operator family and class (superuser)" "$SU" "$SU_PW" "
CREATE OPERATOR FAMILY public.fam USING btree;
CREATE OPERATOR CLASS public.cls FOR TYPE int USING hash AS OPERATOR 1 =;
CREATE SCHEMA ops;
CREATE OPERATOR CLASS ops.cls2 FOR TYPE text USING btree FAMILY public.fam AS OPERATOR 1 <;" "
DROP OPERATOR CLASS public.cls USING hash;
CREATE OPERATOR FAMILY public.fam_later USING hash;"

roundtrip "what only a superuser can make" "$SU" "$SU_PW" "
CREATE FUNCTION public.evt() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
CREATE EVENT TRIGGER evt_start ON ddl_command_start EXECUTE FUNCTION public.evt();
CREATE EVENT TRIGGER evt_in_schema ON sql_drop EXECUTE FUNCTION public.evt();
CREATE PUBLICATION pub_all FOR ALL TABLES;
CREATE SUBSCRIPTION sub CONNECTION 'host=127.0.0.1 dbname=nowhere' PUBLICATION pub_all
	WITH (connect = false, slot_name = 'sub_slot');
CREATE FOREIGN DATA WRAPPER fdw;
CREATE SERVER srv FOREIGN DATA WRAPPER fdw OPTIONS (x '1');
CREATE USER MAPPING FOR PUBLIC SERVER srv;
CREATE CAST (macaddr AS box) WITH INOUT;
CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;
CREATE TABLE public.in_heap2 (id int) USING heap2;
CREATE TEXT SEARCH TEMPLATE public.tmpl (LEXIZE = dsimple_lexize);" "
DROP EVENT TRIGGER evt_in_schema;
CREATE CAST (macaddr8 AS box) WITH INOUT;
CREATE FOREIGN DATA WRAPPER fdw_later;"

# ---- the refusal up front ----
fresh "$U" "$P"
pg_as "$U" "$P" "$DB" >/dev/null <<'SQL'
CREATE SCHEMA app;
CREATE TABLE public.mine (id int);
INSERT INTO public.mine VALUES (1), (2);
SQL
pg_admin -d "$DB" >/dev/null <<SQL
CREATE TABLE public.alien (id int);
ALTER TABLE public.alien OWNER TO $OTHER;
CREATE TABLE app.alien_in_my_schema (id int);
ALTER TABLE app.alien_in_my_schema OWNER TO $OTHER;
SELECT lo_from_bytea(0, 'not mine');
-- readable by the role, so that it can back the database up
GRANT SELECT ON public.alien, app.alien_in_my_schema TO "$U";
DO \$\$ BEGIN EXECUTE format('GRANT SELECT ON LARGE OBJECT %s TO "$U"',
	(SELECT max(oid) FROM pg_largeobject_metadata)); END \$\$;
SQL
api POST "/backup/create?compress=true" operator
expect_status 200 "create (objects owned by others are dumped)"
b=$(jq -r .filename "$BODY")
# and what only a superuser may drop
pg_admin -d "$DB" >/dev/null <<'SQL'
CREATE SCHEMA alien_schema;
CREATE FUNCTION alien_schema.evt() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
CREATE EVENT TRIGGER alien_evt ON ddl_command_end EXECUTE FUNCTION alien_schema.evt();
SQL
pg_as "$U" "$P" "$DB" -c "DELETE FROM public.mine WHERE id = 1" -c "CREATE TABLE public.later (x int)"
pg_canon "$DB" "$WORK/before" "$SU" "$SU_PW"
api POST "/backup/restore/$b" operator
expect_error 409 restore_conflict "objects owned by others → 409 restore_conflict"
for what in "table public.alien (owner $OTHER)" "table app.alien_in_my_schema (owner $OTHER)" \
	"large object" "event trigger alien_evt (owner postgres)" "schema alien_schema (owner postgres)"; do
	expect_json ".message | contains(\"$what\")" "the refusal names $what"
done
expect_json '.message | test("not touched")' "the refusal says nothing was touched"
expect_json '.safety_backup_created != true' "no safety backup was made"
check "no safety backup on disk" bash -c "! ls '$WORK/backups' | grep -q '^safety_backup_'"
pg_canon "$DB" "$WORK/after" "$SU" "$SU_PW"
same_canon "the database is untouched after the refusal" "$WORK/before" "$WORK/after"
api POST /backup/restore-upload operator -F "file=@$WORK/backups/$b"
expect_error 409 restore_conflict "restore-upload is refused the same way"

# Once they belong to the role, the restore goes through.
pg_admin -d "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
DROP EVENT TRIGGER alien_evt;
DROP SCHEMA alien_schema CASCADE;
ALTER TABLE public.alien OWNER TO "$U";
ALTER TABLE app.alien_in_my_schema OWNER TO "$U";
DO \$\$ BEGIN EXECUTE format('ALTER LARGE OBJECT %s OWNER TO "$U"',
	(SELECT max(oid) FROM pg_largeobject_metadata)); END \$\$;
SQL
api POST "/backup/restore/$b" operator
expect_status 200 "the same restore once the role owns everything"
check "the alien table is back, now the role's" \
	test "$(pg_as "$U" "$P" "$DB" -Atc "SELECT tableowner FROM pg_tables WHERE tablename = 'alien'")" = "$U"

e2e_done
