#!/usr/bin/env bash
# PostgreSQL's own regression suite as a database nobody here wrote
# (issue 13 §2): hundreds of tables, partitioned tables, aggregates,
# procedures, domains, rules, policies, publications, large objects. Built
# by tests/e2e/pg_regress_db.sh twice, once as the service's non-superuser
# owner role and once as a superuser, each in its own database; for each:
#
#   A. create → change → in-place restore → 200, and the database is what
#      the backup holds (its canon equals that of a native restore of the
#      same file into an empty database: a database built by the suite is
#      not what pg_dump writes back, e.g. inherited columns change order);
#   B. again, now that the database is what pg_dump writes: create → change
#      → in-place restore → 200, canon identical to the one taken before the
#      change;
#   C. restore-upload of that file into an empty database → canon identical
#      to a native `gunzip -c | psql --single-transaction` of it.
#
# Timings of B (with and without the safety backup) and C against the
# native pipeline are printed (not asserted; docs/driver-postgresql.md).
# Whatever the suite leaves on the shared server (roles, databases,
# tablespaces) is removed at the end.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_clean_lib.sh"
e2e_init
e2e_use_service postgresql

REGRESS="$DBB_SOURCE_DIR/tests/e2e/pg_regress_db.sh"
SU=dbbackupd_regress_su
SU_PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
PFX=dbbackupd_regress

admin_list() { pg_admin -d postgres -Atc "$1" | sort; }
ROLES_BEFORE=$(admin_list "SELECT rolname FROM pg_roles")
DBS_BEFORE=$(admin_list "SELECT datname FROM pg_database")
SPC_BEFORE=$(admin_list "SELECT spcname FROM pg_tablespace")

# Leaves the server as it was: our databases, the superuser role, and
# whatever roles, databases and tablespaces the suite left behind.
regress_cleanup() {
	local d r s extra
	for d in $(comm -13 <(echo "$DBS_BEFORE") <(admin_list "SELECT datname FROM pg_database")); do
		pg_admin -d postgres -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1
	done
	for s in $(comm -13 <(echo "$SPC_BEFORE") <(admin_list "SELECT spcname FROM pg_tablespace")); do
		pg_admin -d postgres -c "DROP TABLESPACE IF EXISTS \"$s\"" >/dev/null 2>&1
	done
	extra=$(comm -13 <(echo "$ROLES_BEFORE") <(admin_list "SELECT rolname FROM pg_roles"))
	if [ -n "$extra" ]; then
		for d in $(admin_list "SELECT datname FROM pg_database WHERE datallowconn"); do
			for r in $extra; do
				pg_admin -d "$d" -c "DROP OWNED BY \"$r\" CASCADE" >/dev/null 2>&1
			done
		done
		for r in $extra; do
			pg_admin -d postgres -c "DROP ROLE IF EXISTS \"$r\"" >/dev/null 2>&1
		done
	fi
}
trap 'regress_cleanup; e2e_cleanup' EXIT

pg_admin -d postgres >/dev/null <<SQL
CREATE ROLE $SU LOGIN SUPERUSER PASSWORD '$SU_PW';
CREATE DATABASE ${PFX}_owner OWNER "$DB_USER";
CREATE DATABASE ${PFX}_super OWNER $SU;
SQL

# Both databases at once (two psql sessions; the machine has 2 cores),
# from one download.
check "PostgreSQL's regression suite fetched (or cached)" bash -c "bash '$REGRESS' fetch >/dev/null"
t0=$(now)
PGHOST=$DB_HOST PGPORT=$DB_PORT PGUSER=$DB_USER PGPASSWORD=$DB_PASSWORD \
	REGRESS_LOG="$WORK/regress_owner.log" bash "$REGRESS" build ${PFX}_owner &
owner_job=$!
PGHOST=$DB_HOST PGPORT=$DB_PORT PGUSER=$SU PGPASSWORD=$SU_PW \
	REGRESS_LOG="$WORK/regress_super.log" bash "$REGRESS" build ${PFX}_super &
super_job=$!
wait $owner_job
check "regression suite ran as the owner role" test $? -eq 0
wait $super_job
check "regression suite ran as a superuser" test $? -eq 0
echo "# both regression databases built in $(secs "$t0" "$(now)") s"

# change DB USER PASSWORD: add a table, a schema, a large object; delete rows.
change() {
	pg_as "$2" "$3" "$1" >/dev/null <<'SQL'
CREATE TABLE public.dbb_added_later (id int PRIMARY KEY, note text);
INSERT INTO public.dbb_added_later SELECT g, 'later' FROM generate_series(1, 100) g;
CREATE SCHEMA dbb_added_schema;
CREATE AGGREGATE dbb_added_schema.cnt(*) (sfunc = int8inc, stype = int8, initcond = '0');
SELECT lo_from_bytea(0, 'added later');
DELETE FROM public.tenk1 WHERE unique1 % 3 = 0;
DELETE FROM public.onek WHERE unique1 < 300;
SQL
}

# native DB USER PASSWORD FILE: the native pipeline into an empty database.
native() {
	gunzip -c "$4" | pg_as "$2" "$3" "$1" --single-transaction >/dev/null 2>"$WORK/native.err"
}

# ratio A B: "A/B×".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }

# run_as MODE USER PASSWORD: the scenarios A, B, C on ${PFX}_MODE.
run_as() {
	local mode=$1 user=$2 pw=$3 db=${PFX}_$1 b1 b2 t_in t_nosafety t_up t_nat rows
	e2e_start DB_TYPE=postgresql DB_NAME="$db" DB_USER="$user" DB_PASSWORD="$pw"
	check "$mode: the suite built hundreds of tables" \
		test "$(pg_as "$user" "$pw" "$db" -Atc "SELECT count(*) FROM pg_class WHERE relkind IN ('r','p') AND oid >= 16384")" -ge 300

	# A: the database as the suite built it.
	api POST "/backup/create?compress=true" operator
	expect_status 200 "$mode: create of the suite's database"
	b1=$(jq -r .filename "$BODY")
	change "$db" "$user" "$pw"
	rows=$(pg_as "$user" "$pw" "$db" -Atc "SELECT count(*) FROM public.tenk1")
	check "$mode: the change deleted rows" test "$rows" -lt 10000
	api POST "/backup/restore/$b1" operator
	expect_status 200 "$mode: in-place restore over the suite's database"
	pg_admin -d postgres -c "CREATE DATABASE ${db}_n1 OWNER \"$user\"" >/dev/null
	native "${db}_n1" "$user" "$pw" "$WORK/backups/$b1"
	check "$mode: native restore of the first backup" test $? -eq 0
	pg_canon "$db" "$WORK/$mode.a.restored" "$user" "$pw"
	pg_canon "${db}_n1" "$WORK/$mode.a.native" "$user" "$pw"
	same_canon "$mode: A: database after the in-place restore = native restore of the backup" \
		"$WORK/$mode.a.native" "$WORK/$mode.a.restored"

	# B: create → change → restore gives back the canon taken before.
	pg_canon "$db" "$WORK/$mode.b.before" "$user" "$pw"
	api POST "/backup/create?compress=true" operator
	expect_status 200 "$mode: create"
	b2=$(jq -r .filename "$BODY")
	change "$db" "$user" "$pw"
	t0=$(now)
	api POST "/backup/restore/$b2" operator
	t_in=$(secs "$t0" "$(now)")
	expect_status 200 "$mode: in-place restore"
	expect_json '.safety_backup_created == true' "$mode: with a safety backup"
	pg_canon "$db" "$WORK/$mode.b.after" "$user" "$pw"
	same_canon "$mode: B: create → change → restore gives back the canon taken before the change" \
		"$WORK/$mode.b.before" "$WORK/$mode.b.after"
	# the same again without the safety backup: validation, check, clean, load
	change "$db" "$user" "$pw"
	t0=$(now)
	api POST "/backup/restore/$b2?create_safety_backup=false" operator
	t_nosafety=$(secs "$t0" "$(now)")
	expect_status 200 "$mode: in-place restore without a safety backup"
	pg_canon "$db" "$WORK/$mode.b.after2" "$user" "$pw"
	same_canon "$mode: B: and again without a safety backup" "$WORK/$mode.b.before" "$WORK/$mode.b.after2"
	e2e_stop

	# C: restore-upload into an empty database = the native pipeline.
	pg_admin -d postgres -c "CREATE DATABASE ${db}_up OWNER \"$user\"" \
		-c "CREATE DATABASE ${db}_n2 OWNER \"$user\"" >/dev/null
	e2e_start DB_TYPE=postgresql DB_NAME="${db}_up" DB_USER="$user" DB_PASSWORD="$pw"
	t0=$(now)
	api POST /backup/restore-upload operator -F "file=@$WORK/backups/$b2"
	t_up=$(secs "$t0" "$(now)")
	expect_status 200 "$mode: restore-upload into an empty database"
	e2e_stop
	t0=$(now)
	native "${db}_n2" "$user" "$pw" "$WORK/backups/$b2"
	check "$mode: native gunzip -c | psql --single-transaction" test $? -eq 0
	t_nat=$(secs "$t0" "$(now)")
	pg_canon "${db}_up" "$WORK/$mode.c.upload" "$user" "$pw"
	pg_canon "${db}_n2" "$WORK/$mode.c.native" "$user" "$pw"
	same_canon "$mode: C: restore-upload = native restore" "$WORK/$mode.c.native" "$WORK/$mode.c.upload"
	same_canon "$mode: C: and both = the database the backup was made of" \
		"$WORK/$mode.b.before" "$WORK/$mode.c.native"
	echo "# $mode: $(stat -c %s "$WORK/backups/$b2") B gzip;" \
		"native gunzip -c | psql -1 into an empty database ${t_nat} s;" \
		"in-place restore ${t_in} s ($(ratio "$t_in" "$t_nat")), without safety backup ${t_nosafety} s" \
		"($(ratio "$t_nosafety" "$t_nat")); restore-upload into an empty database ${t_up} s ($(ratio "$t_up" "$t_nat"));" \
		"load average $(cut -d' ' -f1-3 /proc/loadavg)"
	rm -f "$WORK"/backups/*
}

run_as owner "$DB_USER" "$DB_PASSWORD"
run_as super "$SU" "$SU_PW"
e2e_done
