# shellcheck shell=bash
# Helpers for the MySQL/MariaDB end-to-end tests (sourced after lib.sh and
# `e2e_use_service mysql`). Outside checks talk to the server with the
# ordinary client as the daemon's own user.

MY_FIXTURE="$DBB_SOURCE_DIR/tests/e2e/mysql_fixture.sql"

my_client() {
	command -v mariadb 2>/dev/null || command -v mysql
}

my_dumper() {
	command -v mariadb-dump 2>/dev/null || command -v mysqldump
}

# my_sql SQL...: runs SQL in the test database, tab-separated output.
my_sql() {
	MYSQL_PWD="$DB_PASSWORD" "$(my_client)" --no-defaults -h "$DB_HOST" -P "$DB_PORT" \
		-u "$DB_USER" --default-character-set=utf8mb4 --batch --skip-column-names \
		"$DB_NAME" -e "$*"
}

# my_sql_file FILE: replays an SQL file into the test database.
my_sql_file() {
	MYSQL_PWD="$DB_PASSWORD" "$(my_client)" --no-defaults -h "$DB_HOST" -P "$DB_PORT" \
		-u "$DB_USER" --default-character-set=utf8mb4 "$DB_NAME" <"$1"
}

# my_dump FILE: a dump of the test database made outside the daemon, with
# no date in it so two dumps of the same data are byte-identical.
my_dump() {
	MYSQL_PWD="$DB_PASSWORD" "$(my_dumper)" --no-defaults -h "$DB_HOST" -P "$DB_PORT" \
		-u "$DB_USER" --default-character-set=utf8mb4 --single-transaction --routines \
		--triggers --events --hex-blob --no-tablespaces --skip-dump-date "$DB_NAME" >"$1"
}

# my_reset: drops every object of the test database.
my_reset() {
	local stmts
	stmts=$(my_sql "
		SELECT CONCAT('DROP EVENT IF EXISTS \`', EVENT_NAME, '\`;') FROM information_schema.EVENTS
			WHERE EVENT_SCHEMA = DATABASE()
		UNION ALL SELECT CONCAT('DROP ', ROUTINE_TYPE, ' IF EXISTS \`', ROUTINE_NAME, '\`;')
			FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()
		UNION ALL SELECT CONCAT('DROP VIEW IF EXISTS \`', TABLE_NAME, '\`;')
			FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'VIEW'
		UNION ALL SELECT CONCAT('DROP TABLE IF EXISTS \`', TABLE_NAME, '\`;')
			FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE <> 'VIEW'")
	my_sql "SET FOREIGN_KEY_CHECKS = 0; $stmts"
}

# my_load_fixture: the test database holds exactly the fixture.
my_load_fixture() {
	my_reset && my_sql_file "$MY_FIXTURE"
}

# my_same_as FILE: the database's dump now equals FILE (a my_dump).
my_same_as() {
	my_dump "$WORK/now.sql" && cmp -s "$1" "$WORK/now.sql"
}

# Names in the backups directory (for "nothing was written" checks).
backup_files() {
	(cd "$WORK/backups" && ls -A | sort)
}
