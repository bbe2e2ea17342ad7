# Helpers shared by the fault suite (sourced, not a test). The database is a
# parameter: every fault test takes the driver as $1 and reaches it only
# through the fdb_* functions below, so a new driver is one more case here
# (and one more line in faults.cmake):
#
#   fdb_init DRIVER    prepares the database with data; sets FDB_ENV (the
#                      daemon's settings, for e2e_start "${FDB_ENV[@]}")
#   fdb_sum            prints a checksum of the database's logical content
#   fdb_change         changes the content (one more row somewhere)
#   fdb_grow           makes it big enough that a dump/restore takes seconds
#   FDB_ATOMIC         1 if the driver restores in one transaction (the
#                      database can never be seen half restored), else 0
#   FDB_TOOLS          the child tools the driver runs (fault_child_hang.sh)
#   fdb_loading        true once a running restore is loading the database
#                      (past the safety backup and the clean)

FDB=""
FDB_ENV=()
FDB_ATOMIC=1
FDB_TOOLS=()

fdb_init() {
	FDB=$1
	case "$FDB" in
	sqlite)
		e2e_sqlite_demo 200
		FDB_ENV=(DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB")
		;;
	postgresql)
		e2e_use_service postgresql
		# shellcheck source=postgresql_lib.sh
		. "$DBB_SOURCE_DIR/tests/e2e/postgresql_lib.sh"
		pg_reset
		pg_load_fixture
		FDB_ENV=(DB_TYPE=postgresql)
		FDB_TOOLS=(pg_dump psql)
		;;
	mysql)
		e2e_use_service mysql
		# shellcheck source=mysql_lib.sh
		. "$DBB_SOURCE_DIR/tests/e2e/mysql_lib.sh"
		my_load_fixture
		FDB_ENV=(DB_TYPE=mysql)
		FDB_ATOMIC=0
		FDB_TOOLS=(mariadb-dump mariadb)
		;;
	neo4j)
		# every property type and graph shape of the round-trip test, over
		# the Query API (no child tool); a failed restore is rolled back from
		# the safety backup, not by the database (docs/driver-neo4j.md)
		e2e_use_service neo4j
		# shellcheck source=neo4j_lib.sh
		. "$DBB_SOURCE_DIR/tests/e2e/neo4j_lib.sh"
		n4j_wipe && n4j_seed full || {
			echo "fault: cannot seed Neo4j" >&2
			exit 1
		}
		FDB_ENV=(DB_TYPE=neo4j)
		FDB_ATOMIC=0
		;;
	*)
		echo "fault: unknown driver $FDB" >&2
		exit 1
		;;
	esac
}

fdb_sum() {
	case "$FDB" in
	sqlite) sqlite_sum ;;
	postgresql)
		pg_snapshot "$WORK/snapshot.sql"
		sha256sum "$WORK/snapshot.sql" | cut -d' ' -f1
		;;
	mysql)
		my_dump "$WORK/snapshot.sql"
		sha256sum "$WORK/snapshot.sql" | cut -d' ' -f1
		;;
	neo4j)
		# nodes (labels, properties), relationships (type, properties, each
		# end by its labels and properties: element ids change on restore),
		# constraints and indexes, as sorted typed JSON (n4j_canon)
		n4j_canon "$WORK/snapshot.json" && sha256sum "$WORK/snapshot.json" | cut -d' ' -f1
		;;
	esac
}

fdb_change() {
	case "$FDB" in
	sqlite)
		sqlite3 "$SQLITE_DB" "CREATE TABLE IF NOT EXISTS fault_marks(id INTEGER PRIMARY KEY, note TEXT);
			INSERT INTO fault_marks(note) VALUES ('mark $RANDOM');"
		;;
	postgresql)
		pgq -c "CREATE TABLE IF NOT EXISTS public.fault_marks(id serial PRIMARY KEY, note text);
			INSERT INTO public.fault_marks(note) VALUES ('mark $RANDOM');" >/dev/null
		;;
	mysql)
		my_sql "CREATE TABLE IF NOT EXISTS fault_marks(id int AUTO_INCREMENT PRIMARY KEY, note text);
			INSERT INTO fault_marks(note) VALUES ('mark $RANDOM');"
		;;
	neo4j)
		n4j_q "CREATE (:FaultMark {note: 'mark $RANDOM'})" >/dev/null
		;;
	esac
}

# fdb_grow [SIZE]: SIZE in units of about 20 MB of table data (default 4);
# Neo4j: 5,000 nodes of ~200 bytes a unit (a dump of 20,000 takes ~2 s,
# their restore ~7 s on this 2-core machine).
fdb_grow() {
	local n=$((${1:-4} * 10000))
	case "$FDB" in
	sqlite)
		sqlite3 "$SQLITE_DB" "CREATE TABLE IF NOT EXISTS bulk(b BLOB);
			WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < $n)
			INSERT INTO bulk SELECT randomblob(2000) FROM n;"
		;;
	postgresql)
		pgq -c "CREATE TABLE IF NOT EXISTS public.bulk(i int, t text);
			INSERT INTO public.bulk SELECT g, (SELECT string_agg(md5((g * 100 + k)::text), '')
				FROM generate_series(1, 60) k) FROM generate_series(1, $n) g;" >/dev/null
		;;
	mysql)
		my_sql "SET SESSION max_recursive_iterations = 10000000;
			CREATE TABLE IF NOT EXISTS bulk(i int, t mediumtext);
			INSERT INTO bulk WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n)
				SELECT i, REPEAT(MD5(i), 60) FROM n;"
		;;
	neo4j)
		n4j_q "UNWIND range(1, $((n / 2))) AS i CREATE (:Grow {i: i,
			t: reduce(s = '', k IN range(1, 6) | s + toString(i * 1000 + k) + '-abcdefghijklmnopqrstuvwxyz')})" >/dev/null
		;;
	esac
}

# fdb_loading: a restore of the running daemon is loading the database:
# PostgreSQL: the daemon's psql (application_name dbbackupd) is copying
# table data (the driver starts psql before it lists what to clean, so psql
# running is not enough); MySQL: the load tool,
# mariadb, runs (a child of the daemon, started after the clean); Neo4j: the
# restore's temporary key constraint exists (created by the script after the
# clean, dropped at its end: docs/driver-neo4j.md). SQLite: no such moment
# to see from outside, true.
fdb_loading() {
	case "$FDB" in
	postgresql)
		[ "$(pg_value "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()
			AND application_name = 'dbbackupd' AND state = 'active' AND query ILIKE 'COPY %FROM stdin%'" 2>/dev/null)" -gt 0 ] 2>/dev/null
		;;
	neo4j)
		n4j_q "SHOW CONSTRAINTS YIELD name WHERE name = '__dbb_import_id' RETURN name" 2>/dev/null |
			jq -e '.data.values | length > 0' >/dev/null
		;;
	sqlite) true ;;
	*) pgrep -P "$DAEMON_PID" >/dev/null ;;
	esac
}

# Starts the daemon on the driver; the logs of earlier runs of this test are
# kept in $WORK/daemon.earlier.log.
fault_start() {
	if [ -s "$WORK/daemon.log" ]; then
		cat "$WORK/daemon.log" >>"$WORK/daemon.earlier.log"
	fi
	e2e_start "${FDB_ENV[@]}" "$@"
}

# The daemon is killed with SIGKILL and forgotten (e2e_stop would expect a
# clean exit).
fault_kill9() {
	kill -9 "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=""
}

# wait_for CONDITION_COMMAND [TIMEOUT_S]: polls every 10 ms.
wait_for() {
	local i limit=$((${2:-60} * 100))
	for ((i = 0; i < limit; i++)); do
		if eval "$1"; then return 0; fi
		sleep 0.01
	done
	return 1
}

# A temporary with at least one byte exists in the backups directory.
tmp_growing() {
	find "$WORK/backups" -maxdepth 1 -name '.tmp-*' -size +0 2>/dev/null | grep -q .
}

no_temporaries() {
	! find "$WORK/backups" -maxdepth 1 -name '.tmp-*' | grep -q .
}

# The promise every fault test ends with: no temporary is left, what the
# list shows is exactly the backups on disk, and every listed backup verifies
# against the SHA-256 recorded when it was written (and gzip ones are whole).
check_backups_sound() {
	local what=${1:-}
	check "no temporary left in the backups directory$what" no_temporaries
	api GET /backup/list viewer
	if [ "$STATUS" != 200 ]; then
		fail "list answers$what (got $STATUS)"
		return
	fi
	local listed ondisk bad=0 f
	listed=$(jq -r '.backups[].filename' "$BODY" | sort)
	ondisk=$(cd "$WORK/backups" && ls -A | grep -E '^(safety_)?backup_.*\.(db|sql|cypher)(\.gz|\.zst)?$' | sort)
	check "the list shows exactly the backups on disk$what" test "$listed" = "$ondisk"
	for f in $listed; do
		if ! (cd "$WORK/backups" && [ -s "$f.sha256" ] && sha256sum -c --quiet "$f.sha256" >/dev/null 2>&1); then
			bad=$((bad + 1))
			echo "  $f does not verify against its sidecar" >&2
		elif [ "${f%.gz}" != "$f" ] && ! gzip -t "$WORK/backups/$f" 2>/dev/null; then
			bad=$((bad + 1))
			echo "  $f is not a whole gzip file" >&2
		elif [ "${f%.zst}" != "$f" ] && ! zstd -q -t "$WORK/backups/$f" 2>/dev/null; then
			bad=$((bad + 1))
			echo "  $f is not a whole zstd file" >&2
		fi
	done
	check "every listed backup verifies against its sha256 sidecar$what" test $bad -eq 0
	if [ -n "$listed" ]; then
		local mism
		mism=$(jq -r '.backups[] | select(.sha256 == null) | .filename' "$BODY")
		check "every listed backup has its sha256 in the list$what" test -z "$mism"
	fi
}

# Number of open file descriptors and RSS (KiB) of the daemon.
daemon_fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }
daemon_rss() { awk '/^VmRSS/ { print $2 }' "/proc/$DAEMON_PID/status"; }
