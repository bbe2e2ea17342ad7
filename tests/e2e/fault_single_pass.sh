#!/usr/bin/env bash
# Issue 22: a PostgreSQL restore without a safety backup checks the file as
# it restores it, in one transaction committed only once the whole file
# checked out. Listed backups that are bad only at their end, or in their
# middle, are refused (422) and the database is exactly as before; a good
# one restores; with a safety backup (the default) a bad file is refused
# before anything is touched and no safety backup is left listed.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/postgresql_lib.sh"
e2e_init
e2e_use_service postgresql
pg_reset
pg_load_fixture
e2e_start DB_TYPE=postgresql
api POST "/backup/create?compress=gzip" operator
expect_status 200 "a gzip backup of the fixture"
gz=$(jq -r .filename "$BODY")
api POST "/backup/create?compress=zstd" operator
expect_status 200 "a zstd backup of the fixture"
zst=$(jq -r .filename "$BODY")

# A different current state, so "unchanged" is not "restored".
pgq >/dev/null <<'SQL'
DELETE FROM app.orders WHERE id > 10;
CREATE TABLE public.created_later (x int);
SQL
pg_snapshot "$WORK/before.sql"

# Bad files placed among the listed backups (the daemon wrote none of them:
# a damaged disk, an operator's copy). Each is named like a backup.
b="$WORK/backups"
n=0
put() { # put NAME: the file on stdin becomes a listed backup
	cat >"$b/$1"
	(cd "$b" && sha256sum "$1" >"$1.sha256")
}
# 1. the gzip CRC broken in the trailer: only the very end says so
cp "$b/$gz" "$WORK/crc.gz"
size=$(stat -c %s "$WORK/crc.gz")
flip_byte "$WORK/crc.gz" $((size - 8))
check "the CRC was changed" bash -c "! cmp -s '$WORK/crc.gz' '$b/$gz'"
put backup_postgresql_20000101_000001.sql.gz <"$WORK/crc.gz"
# 2. a zstd file cut short: no end of frame
head -c $(($(stat -c %s "$b/$zst") - 100)) "$b/$zst" | put backup_postgresql_20000101_000002.sql.zst
# 3. a dump without its trailer (a dump cut at a line boundary)
zstd -q -dc "$b/$zst" | grep -v '^-- PostgreSQL database dump complete' | gzip -c |
	put backup_postgresql_20000101_000003.sql.gz
# 4. a client command in the middle, after data was sent
zstd -q -dc "$b/$zst" | awk '/^CREATE TABLE/ && !d { print "\\! touch /tmp/dbb-single-pass-pwned"; d = 1 } { print }' |
	gzip -c | put backup_postgresql_20000101_000004.sql.gz
rm -f /tmp/dbb-single-pass-pwned

for f in backup_postgresql_20000101_000001.sql.gz backup_postgresql_20000101_000002.sql.zst \
	backup_postgresql_20000101_000003.sql.gz backup_postgresql_20000101_000004.sql.gz; do
	n=$((n + 1))
	api POST "/backup/restore/$f?create_safety_backup=false" operator
	expect_error 422 invalid_backup "bad file $n ($f), no safety backup → 422"
	expect_json '.message | test("not a valid postgresql backup")' "... says the file is not valid"
	expect_json '.message | test("as it was before the request")' "... says the database is as before"
	pg_snapshot "$WORK/after$n.sql"
	check "... and the database is unchanged" diff -q "$WORK/before.sql" "$WORK/after$n.sql"
done
check "the client command never ran" test ! -e /tmp/dbb-single-pass-pwned
check "no safety backup was made" bash -c "! ls '$b' | grep -q '^safety_backup_'"
check "no temporary left" bash -c "! ls -A '$b' | grep -q '^\\.tmp-'"
api GET /backup/list viewer
expect_json '.interrupted_restore == null' "no interrupted restore reported"

# With the safety backup (the default): refused before anything, and the
# safety backup begun beside the validation is not left listed.
api POST "/backup/restore/backup_postgresql_20000101_000001.sql.gz" operator
expect_error 422 invalid_backup "bad file with a safety backup → 422"
expect_json '.message | test("the database was not touched")' "... before anything was touched"
check "no safety backup is listed" bash -c "! ls '$b' | grep -q '^safety_backup_'"
check "no temporary left" bash -c "! ls -A '$b' | grep -q '^\\.tmp-'"

# Good files restore in one pass, gzip and zstd.
for f in "$gz" "$zst"; do
	api POST "/backup/restore/$f?create_safety_backup=false" operator
	expect_status 200 "the good $f restores without a safety backup"
	check "... and the log says one pass" grep -q "$f: clean and restore took .*one pass" "$DAEMON_LOG"
done
later=$(pgq -Atc "SELECT count(*) FROM pg_tables WHERE tablename = 'created_later'")
check "the table made later is gone" test "$later" = 0

# And the default restore: safety backup beside the validation, listed, then the restore.
api POST "/backup/restore/$gz" operator
expect_status 200 "the default restore"
expect_json '.safety_backup_created == true' "... made a safety backup"
safety=$(jq -r .safety_backup_filename "$BODY")
check "... which is listed and whole" bash -c "cd '$b' && sha256sum -c --quiet '$safety.sha256'"
e2e_done
