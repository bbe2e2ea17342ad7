# Helpers for the tests of the in-place restore's clean (sourced, not a
# test). Needs the fixture's exports (e2e_use_service postgresql) and
# postgresql_lib.sh.

# pg_admin ARGS...: psql as the cluster's superuser (local socket).
pg_admin() {
	bash "$DBB_SOURCE_DIR/tests/services/postgresql.sh" psql-admin "$@"
}

# pg_as USER PASSWORD DB ARGS...: psql as USER on DB, stop on error.
pg_as() {
	local user=$1 pw=$2 db=$3
	shift 3
	PGPASSWORD="$pw" psql -X -q -v ON_ERROR_STOP=1 -h "$DB_HOST" -p "$DB_PORT" -U "$user" \
		-d "$db" "$@"
}

# pg_canon DB FILE [USER PASSWORD]: the database as text, for comparisons:
# pg_dump --no-owner --no-acl (schema, data, sequence values, large
# objects), the rows of each COPY block sorted (a restore may store rows in
# another order), without psql's random \restrict keys.
pg_canon() {
	local db=$1 out=$2 user=${3:-$DB_USER} pw=${4:-$DB_PASSWORD}
	PGPASSWORD="$pw" pg_dump --no-owner --no-acl -h "$DB_HOST" -p "$DB_PORT" -U "$user" \
		-d "$db" | LC_ALL=C awk '
		/^\\(un)?restrict / { next }
		copy && $0 == "\\." { fflush(); close("sort"); copy = 0; print; next }
		copy { print | "sort"; next }
		/^COPY .* FROM stdin;$/ { print; fflush(); copy = 1; next }
		{ print }' >"$out"
	[ "${PIPESTATUS[0]}" -eq 0 ] && [ -s "$out" ]
}

# same_canon DESCRIPTION A B: ok when the two canons are equal, else the
# start of their diff.
same_canon() {
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		fail "$1"
		diff "$2" "$3" | head -n 30 >&2
	fi
}

# now: seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }

# secs START END: END - START with two decimals.
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
