#!/usr/bin/env bash
# zstd backups (issue 15, section 4) on one database, named by ZSTD_DB
# (sqlite, postgresql, mysql, neo4j): with COMPRESSION=zstd, compress=true
# writes <name>.<ext>.zst, a standard frame with its content checksum that
# zstd(1) reads; compress=gzip|zstd|false choose explicitly; the list says
# which; a .zst backup restores (the safety backup is zstd too) and the
# database comes back exactly; an upload is recognised by its magic bytes
# whatever its name; a truncated or corrupt frame is refused before the
# database is touched.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
: "${ZSTD_DB:?ZSTD_DB must name the database (sqlite, postgresql, mysql, neo4j)}"
e2e_init

case "$ZSTD_DB" in
sqlite)
	ext=db
	e2e_sqlite_demo
	snapshot() { sqlite_sum >"$1"; }
	change() { sqlite3 "$SQLITE_DB" "DELETE FROM orders WHERE id % 2 = 0; CREATE TABLE added_later (x);"; }
	start_args=(DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB")
	;;
postgresql)
	ext=sql
	e2e_use_service postgresql
	. "$DBB_SOURCE_DIR/tests/e2e/postgresql_lib.sh"
	pg_reset
	pg_load_fixture
	snapshot() { pg_snapshot "$1"; }
	change() { pgq -c "DELETE FROM app.orders WHERE id % 2 = 0; CREATE TABLE public.created_later (x int);" >/dev/null; }
	start_args=(DB_TYPE=postgresql)
	;;
mysql)
	ext=sql
	e2e_use_service mysql
	. "$DBB_SOURCE_DIR/tests/e2e/mysql_lib.sh"
	my_load_fixture
	snapshot() { my_dump "$1"; }
	change() { my_sql "DELETE FROM orders WHERE id % 2 = 0; CREATE TABLE created_later (x int);"; }
	start_args=(DB_TYPE=mysql)
	;;
neo4j)
	ext=cypher
	e2e_use_service neo4j
	. "$DBB_SOURCE_DIR/tests/e2e/neo4j_lib.sh"
	n4j_wipe || exit 1
	n4j_seed full || exit 1
	snapshot() { n4j_canon "$1"; }
	change() { n4j_q 'MATCH (n:Bulk) WHERE n.i % 3 = 0 DETACH DELETE n' >/dev/null && n4j_q 'CREATE (:AddedLater {x: 1})' >/dev/null; }
	start_args=(DB_TYPE=neo4j)
	;;
*)
	echo "zstd_roundtrip: unknown ZSTD_DB=$ZSTD_DB" >&2
	exit 1
	;;
esac

snapshot "$WORK/original" || exit 1
e2e_start "${start_args[@]}" COMPRESSION=zstd ZSTD_LEVEL=5 COMPRESS_THREADS=2

re_ts="[0-9]{8}_[0-9]{6}(_[0-9]+)?"
api POST "/backup/create?compress=true" operator
expect_status 200 "create compress=true with COMPRESSION=zstd"
expect_json ".success == true and (.filename | test(\"^backup_${ZSTD_DB}_${re_ts}\\\\.${ext}\\\\.zst\$\"))" \
	"file name backup_${ZSTD_DB}_<ts>.${ext}.zst"
zst=$(jq -r .filename "$BODY")
sha=$(jq -r .sha256 "$BODY")
check "zstd -t accepts the file" zstd -q -t "$WORK/backups/$zst"
check "the frame carries its content checksum (zstd -lv: XXH64)" \
	bash -c "zstd -lv '$WORK/backups/$zst' 2>&1 | grep -q 'Check: XXH64'"
check "the sha256 answered is the file's" test "$(sha256sum "$WORK/backups/$zst" | cut -d' ' -f1)" = "$sha"
check "zstd -dc gives the dump" bash -c "zstd -q -dc '$WORK/backups/$zst' | head -c 64 | grep -qa ."

api POST "/backup/create?compress=zstd" operator
expect_status 200 "create compress=zstd"
expect_json ".filename | test(\"\\\\.${ext}\\\\.zst\$\")" "compress=zstd ends in .zst"
api POST "/backup/create?compress=gzip" operator
expect_status 200 "create compress=gzip"
expect_json ".filename | test(\"\\\\.${ext}\\\\.gz\$\")" "compress=gzip ends in .gz"
gz=$(jq -r .filename "$BODY")
check "gzip -t accepts the gzip one" gzip -t "$WORK/backups/$gz"
api POST "/backup/create?compress=false" operator
expect_status 200 "create compress=false"
expect_json ".filename | test(\"\\\\.${ext}\$\")" "compress=false is plain"
plain=$(jq -r .filename "$BODY")
api POST "/backup/create?compress=xz" operator
expect_error 400 invalid_parameter "compress=xz is refused"

api GET /backup/list viewer
expect_status 200 "list"
expect_json "[.backups[] | select(.filename == \"$zst\") | [.compressed, .compression]] == [[true, \"zstd\"]]" \
	"list: the .zst one is compressed, zstd"
expect_json "[.backups[] | select(.filename == \"$gz\") | [.compressed, .compression]] == [[true, \"gzip\"]]" \
	"list: the .gz one is compressed, gzip"
expect_json "[.backups[] | select(.filename == \"$plain\") | [.compressed, .compression]] == [[false, \"none\"]]" \
	"list: the plain one is none"

# restore from the listed .zst backup, with a safety backup (zstd as well)
change || exit 1
snapshot "$WORK/changed"
api POST "/backup/restore/$zst?create_safety_backup=true" operator
expect_status 200 "restore from the .zst backup"
expect_json ".safety_backup_created == true and (.safety_backup_filename | test(\"^safety_backup_${ZSTD_DB}_${re_ts}\\\\.${ext}\\\\.zst\$\"))" \
	"the safety backup is zstd (COMPRESSION=zstd)"
safety=$(jq -r .safety_backup_filename "$BODY")
snapshot "$WORK/restored"
check "the database equals the original" cmp -s "$WORK/original" "$WORK/restored"
check "zstd -t accepts the safety backup" zstd -q -t "$WORK/backups/$safety"

# the safety backup restores the changed state
api POST "/backup/restore/$safety?create_safety_backup=false" operator
expect_status 200 "restore the .zst safety backup"
snapshot "$WORK/back"
check "the safety backup held the changed state" cmp -s "$WORK/changed" "$WORK/back"

# upload: recognised by the magic bytes, not by the name it is given
cp "$WORK/backups/$zst" "$WORK/upload.bin"
api POST /backup/restore-upload operator -F "file=@$WORK/upload.bin;filename=backup.$ext.gz" \
	-F create_safety_backup=false
expect_status 200 "upload of a zstd file named .gz"
snapshot "$WORK/uploaded"
check "the upload restored the original" cmp -s "$WORK/original" "$WORK/uploaded"

# broken frames are refused before the database is touched
change || exit 1
snapshot "$WORK/before_bad"
size=$(stat -c %s "$WORK/backups/$zst")
head -c $((size - 7)) "$WORK/backups/$zst" >"$WORK/truncated.zst"
api POST /backup/restore-upload operator -F "file=@$WORK/truncated.zst" -F create_safety_backup=false
expect_error 422 invalid_backup "a truncated zstd upload is an invalid backup"
bad="backup_${ZSTD_DB}_20200101_000000.${ext}.zst"
cp "$WORK/backups/$zst" "$WORK/backups/$bad"
flip_byte "$WORK/backups/$bad" $((size / 2))
api POST "/backup/restore/$bad?create_safety_backup=false" operator
expect_error 422 invalid_backup "a corrupt listed .zst backup is an invalid backup"
snapshot "$WORK/after_bad"
check "the database was not touched by either" cmp -s "$WORK/before_bad" "$WORK/after_bad"

e2e_done
