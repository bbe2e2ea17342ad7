# Helpers shared by the PostgreSQL end-to-end tests (sourced, not a test).
# Needs the fixture's exports (e2e_use_service postgresql): DB_HOST, DB_PORT,
# DB_NAME, DB_USER, DB_PASSWORD, PG_BIN.

# pgq ARGS...: psql as the test role (the daemon's role), quiet, stop on error.
pgq() {
	PGPASSWORD="$DB_PASSWORD" psql -X -q -v ON_ERROR_STOP=1 -h "$DB_HOST" -p "$DB_PORT" \
		-U "$DB_USER" -d "$DB_NAME" "$@"
}

# pg_value SQL: one value, unaligned.
pg_value() {
	pgq -At -c "$1"
}

# pg_snapshot FILE: the database as pg_dump sees it (schema + data), without
# the random \restrict keys, for before/after comparisons.
pg_snapshot() {
	PGPASSWORD="$DB_PASSWORD" pg_dump --no-owner --no-acl -h "$DB_HOST" -p "$DB_PORT" \
		-U "$DB_USER" -d "$DB_NAME" | grep -vE '^\\(un)?restrict ' >"$1"
}

# pg_reset: removes every user schema and every object in public.
pg_reset() {
	pgq >/dev/null <<'SQL'
SET client_min_messages = warning;
DO $$
DECLARE r record;
BEGIN
	FOR r IN SELECT nspname FROM pg_namespace
		WHERE nspname NOT IN ('public', 'pg_catalog', 'information_schema') AND nspname !~ '^pg_'
	LOOP
		EXECUTE format('DROP SCHEMA %I CASCADE', r.nspname);
	END LOOP;
END $$;
DROP SCHEMA public CASCADE;
CREATE SCHEMA public;
SQL
}

# pg_load_fixture: several schemas, FKs, indexes, views, a materialized view,
# sequences with current values, enums, a domain, a composite type, functions,
# a trigger, unicode text, bytea with every byte value, NULLs, large rows.
pg_load_fixture() {
	pgq >/dev/null <<'SQL'
CREATE SCHEMA app;
CREATE SCHEMA audit;
COMMENT ON SCHEMA app IS 'application schema';
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE public.pair AS (a int, b text);
CREATE DOMAIN public.posint AS int CHECK (VALUE > 0);
CREATE TYPE public.floatrange AS RANGE (subtype = float8);
CREATE TABLE public.aaa_identity (
	id int GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME public.aaa_first_seq) PRIMARY KEY,
	r floatrange
);
INSERT INTO public.aaa_identity (r) VALUES ('[1.5,2.5)'), (NULL);
CREATE TABLE public.serials (id serial PRIMARY KEY, v text);
INSERT INTO public.serials (v) VALUES ('one'), ('two');
CREATE TABLE app.customers (
	id serial PRIMARY KEY,
	name text NOT NULL,
	email text UNIQUE,
	mood app.mood,
	born date,
	note text
);
COMMENT ON TABLE app.customers IS 'people who buy';
CREATE TABLE app.orders (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	customer_id int NOT NULL REFERENCES app.customers (id) ON DELETE CASCADE,
	amount numeric(12, 2),
	data bytea,
	tags text[],
	meta jsonb,
	created_at timestamptz DEFAULT '2024-01-01 00:00:00+00'
);
CREATE INDEX orders_customer_idx ON app.orders (customer_id);
CREATE INDEX orders_meta_idx ON app.orders USING gin (meta);
CREATE SEQUENCE public.ticket_seq START 100 INCREMENT 7;
SELECT setval('public.ticket_seq', 555);
CREATE TABLE public.items (
	id int PRIMARY KEY,
	qty posint,
	p pair,
	label text DEFAULT 'x',
	big text,
	raw bytea
);
CREATE VIEW app.customer_totals AS
	SELECT c.id, c.name, sum(o.amount) AS total
	FROM app.customers c LEFT JOIN app.orders o ON o.customer_id = c.id
	GROUP BY c.id, c.name;
CREATE FUNCTION public.add_one(i int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT i + 1';
CREATE FUNCTION audit.stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.note := coalesce(NEW.note, '') || '!';
	RETURN NEW;
END $$;
CREATE TRIGGER stamp BEFORE INSERT ON app.customers FOR EACH ROW EXECUTE FUNCTION audit.stamp();
CREATE TABLE audit.log (id bigserial PRIMARY KEY, msg text, at timestamptz);
INSERT INTO app.customers (name, email, mood, born, note) VALUES
	('Zoë Ünïcödé 😀 日本語', 'z@example.org', 'happy', '1990-01-02', NULL),
	('Bob "quoted" \ backslash', 'b@example.org', NULL, NULL, E'tab\there\nnew line'),
	('Null Person', NULL, 'sad', NULL, NULL);
INSERT INTO app.orders (customer_id, amount, data, tags, meta)
	SELECT 1 + (g % 3), g * 1.5, decode(md5(g::text), 'hex'),
	       ARRAY['t' || g, NULL, 'ü'], jsonb_build_object('g', g, 'even', g % 2 = 0)
	FROM generate_series(1, 3000) g;
INSERT INTO public.items VALUES
	(1, 5, ROW(1, 'a'), DEFAULT, repeat('large row ', 300000),
	 (SELECT string_agg(lpad(to_hex(b), 2, '0'), '') FROM generate_series(0, 255) b)::text::bytea),
	(2, NULL, NULL, NULL, NULL, NULL),
	(3, 7, ROW(NULL, 'only b'), E'multi\nline\\text', '', '\x00ff'::bytea);
UPDATE public.items SET raw = decode((SELECT string_agg(lpad(to_hex(b), 2, '0'), '') FROM generate_series(0, 255) b), 'hex') WHERE id = 1;
INSERT INTO audit.log (msg, at) SELECT 'event ' || g, '2024-02-03 04:05:06+00' FROM generate_series(1, 500) g;
SELECT nextval('audit.log_id_seq');
CREATE MATERIALIZED VIEW public.item_counts AS SELECT count(*) AS n FROM public.items;
ANALYZE app.customers, app.orders, audit.log, public.items;
SQL
}
