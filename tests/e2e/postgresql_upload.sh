#!/usr/bin/env bash
# PostgreSQL: restore-upload of dumps made by the pg_dump command outside the
# daemon, gzipped and plain; a custom-format archive is refused.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_lib.sh"
e2e_init
e2e_use_service postgresql
pg_reset
pg_load_fixture
pg_snapshot "$WORK/original.sql"
PGPASSWORD="$DB_PASSWORD" pg_dump -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$DB_NAME" \
	>"$WORK/external.sql"
gzip -9 -c "$WORK/external.sql" >"$WORK/external.sql.gz"
PGPASSWORD="$DB_PASSWORD" pg_dump -Fc -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$DB_NAME" \
	>"$WORK/external.dump"
e2e_start DB_TYPE=postgresql

change_db() {
	pgq -q >/dev/null <<'SQL'
TRUNCATE app.orders CASCADE;
CREATE TABLE public.created_later (x int);
DROP SCHEMA audit CASCADE;
SQL
}

change_db
api POST /backup/restore-upload operator -F "file=@$WORK/external.sql.gz" -F create_safety_backup=true
expect_status 200 "upload-restore of an external pg_dump, gzipped"
expect_json '.safety_backup_created == true and (.safety_backup_filename | test("^safety_backup_postgresql_"))' "safety backup named"
pg_snapshot "$WORK/after_gz.sql"
check "database equals the dumped one (gzip upload)" diff -q "$WORK/original.sql" "$WORK/after_gz.sql"

change_db
api POST /backup/restore-upload operator -F "file=@$WORK/external.sql" -F create_safety_backup=false
expect_status 200 "upload-restore of an external pg_dump, plain"
pg_snapshot "$WORK/after_plain.sql"
check "database equals the dumped one (plain upload)" diff -q "$WORK/original.sql" "$WORK/after_plain.sql"

pg_snapshot "$WORK/before_custom.sql"
safety_before=$(ls "$WORK/backups" | grep -c '^safety_backup_')
api POST /backup/restore-upload operator -F "file=@$WORK/external.dump" -F create_safety_backup=true
expect_error 422 invalid_backup "custom-format archive refused"
expect_json '.message | test("custom-format")' "the message says it is a custom-format archive"
pg_snapshot "$WORK/after_custom.sql"
check "database untouched by the refused archive" diff -q "$WORK/before_custom.sql" "$WORK/after_custom.sql"
check "no safety backup made for a refused file" \
	test "$(ls "$WORK/backups" | grep -c '^safety_backup_')" = "$safety_before"
e2e_done
