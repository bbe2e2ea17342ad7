# The canonical content of the test database, for "byte-for-byte unchanged"
# checks (sourced after postgresql_lib.sh, not a test): the schema as
# pg_dump --schema-only --no-owner --no-acl writes it (without its random
# \restrict keys), every table's rows sorted, every sequence's state and
# every large object (oid, owner, md5 of its bytes).

# pg_canon FILE
pg_canon() {
	{
		PGPASSWORD="$DB_PASSWORD" pg_dump --schema-only --no-owner --no-acl \
			-h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$DB_NAME" |
			grep -vE '^\\(un)?restrict '
		pgq -At <<'SQL'
SELECT pg_catalog.format('SELECT %L || '': '' || x::text FROM %s x ORDER BY x::text COLLATE "C"',
	c.oid::regclass, c.oid::regclass)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
	AND n.nspname !~ '^pg_'
ORDER BY c.oid::regclass::text COLLATE "C" \gexec
SELECT 'large object ' || oid || ' ' || lomowner::regrole || ' ' || pg_catalog.md5(pg_catalog.lo_get(oid))
FROM pg_catalog.pg_largeobject_metadata ORDER BY oid;
SQL
	} >"$1"
}

# pg_with_before_trailer FILE TEXT: FILE with TEXT (lines) inserted just
# before pg_dump's trailer block ("--", "-- PostgreSQL database dump complete").
pg_with_before_trailer() {
	TEXT="$2" awk '
		{ lines[NR] = $0 }
		END {
			for (i = 1; i <= NR; i++) {
				if (!done && lines[i] == "--" && lines[i + 1] ~ /^-- PostgreSQL database dump complete/) {
					print ENVIRON["TEXT"]
					done = 1
				}
				print lines[i]
			}
		}' "$1"
}
