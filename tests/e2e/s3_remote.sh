#!/usr/bin/env bash
# Backups that live only in the object store (issue 18), against the real
# SeaweedFS (tests/services/s3.sh), the AWS CLI as the independent client:
# - GET /backup/list: no location (and location=local) is today's answer,
#   byte for byte; location=remote lists the objects under S3_PREFIX that
#   have backup names (sizes and keys as the AWS CLI sees them; other keys
#   left out); location=all merges by file name (local, remote, both);
#   another location, or one given twice, is 400 invalid_parameter;
# - OFFSITE_MODE=move makes the older backup remote-only: its download is
#   the object's bytes (AWS CLI), a Range of it too, and its restore brings
#   its content back (sqlite3), with a safety backup;
# - a backup put by `aws s3 cp` (no x-amz-meta-sha256) is listed and
#   restorable;
# - an object whose bytes do not match its x-amz-meta-sha256: download and
#   restore are 422 invalid_backup, the database is untouched, no safety
#   backup is made;
# - an unknown file is 404 (download, restore), a bad name 400;
# - the store down: 503 offsite_unavailable for the remote listing, the
#   download and the restore of a remote-only file, the database untouched;
#   the local listing and a local download still work;
# - offsite copies off: location=remote is 409 offsite_not_configured, a
#   remote-only file is 404;
# - no temporary file is left in the backups directory after any of it.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service s3
. "$DBB_SOURCE_DIR/tests/e2e/s3_lib.sh"

SVC="$DBB_SOURCE_DIR/tests/services/s3.sh"
P=$(s3_prefix)
trap 'bash "$SVC" resume >/dev/null 2>&1; e2e_cleanup' EXIT

e2e_sqlite_demo 300

start() {
	e2e_start SQLITE_PATH="$SQLITE_DB" S3_PREFIX="$P" OFFSITE_RETRY_INITIAL=1 "$@"
}

create() {
	api POST "/backup/create?compress=true" operator
	FILE=$(jq -r '.filename // empty' "$BODY")
	[ "$STATUS" = 200 ] && [ -n "$FILE" ]
}

# wait_uploaded FILE: until the list says its copy is uploaded (2 min).
wait_uploaded() {
	local i
	for i in $(seq 1 240); do
		api GET /backup/list viewer
		[ "$(jq -r --arg f "$1" '.backups[] | select(.filename == $f) | .offsite.state // empty' "$BODY")" = uploaded ] && return 0
		sleep 0.5
	done
	return 1
}

gone() {
	local i
	for i in $(seq 1 60); do
		[ ! -e "$WORK/backups/$1" ] && return 0
		sleep 0.5
	done
	return 1
}

no_temporaries() {
	[ -z "$(find "$WORK/backups" -maxdepth 1 -name '.tmp-*' -print -quit)" ]
}

safety_count() {
	find "$WORK/backups" -maxdepth 1 -name 'safety_backup_*' ! -name '*.sha256' | wc -l
}

# item FILE JQ: the JSON of FILE's item in $BODY, through JQ
# jqt ARGS...: jq -e, quiet
jqt() {
	jq -e "$@" >/dev/null
}

item() {
	jq -c --arg f "$1" ".backups[] | select(.filename == \$f) | $2" "$BODY"
}

# ---- two backups; move makes the older one remote-only ----
start OFFSITE_MODE=move
SUM_A=$(sqlite_sum)
check "create A" create
A=$FILE
check "A's copy is uploaded" wait_uploaded "$A"
sleep 1 # a new name (one-second resolution)
sqlite3 "$SQLITE_DB" "delete from orders where id % 2 = 0; insert into customers(id, name) values (100000, 'after A');"
SUM_B=$(sqlite_sum)
check "create B" create
B=$FILE
check "B's copy is uploaded" wait_uploaded "$B"
check "A is deleted locally (OFFSITE_MODE=move), B stays" gone "$A"
check "B is local" test -f "$WORK/backups/$B"

# objects under the prefix that are not backups, and one in a sub-folder
echo note >"$WORK/note.txt"
awsi s3 cp --quiet "$WORK/note.txt" "s3://$S3_BUCKET/${P}notes.txt" >/dev/null
awsi s3 cp --quiet "$WORK/note.txt" "s3://$S3_BUCKET/${P}sub/backup_sqlite_20200101_000000.db" >/dev/null

# ---- the listings ----
api GET /backup/list viewer
cp "$BODY" "$WORK/list.default"
api GET "/backup/list?location=local" viewer
check "location=local is the default answer, byte for byte" cmp -s "$BODY" "$WORK/list.default"
check "the default answer has no location field" test "$(jq '[.backups[] | has("location")] | any' "$WORK/list.default")" = false

api GET "/backup/list?location=remote" viewer
expect_status 200
check "remote: A and B, both remote" test "$(jq -c '[.backups[] | [.filename, .location]]' "$BODY")" = "[[\"$B\",\"remote\"],[\"$A\",\"remote\"]]"
check "remote: total_count 2, not truncated, location remote" \
	test "$(jq -c '[.total_count, .truncated, .location]' "$BODY")" = '[2,false,"remote"]'
SIZE_A=$(awsi s3api head-object --bucket "$S3_BUCKET" --key "$P$A" | jq -r .ContentLength)
check "remote: A's size and key are the store's (AWS CLI)" \
	test "$(item "$A" '[.size_bytes, .remote.key, .remote.size_bytes, .compression, .type, .database]')" = "[$SIZE_A,\"$P$A\",$SIZE_A,\"gzip\",\"backup\",\"sqlite\"]"
check "remote: an ETag and a time; no sha256 without a HEAD" \
	test "$(item "$A" '(.remote.etag | length > 0) and (.remote.last_modified | test("Z$")) and .sha256 == null and .offsite == null')" = true

api GET "/backup/list?location=all" viewer
expect_status 200
check "all: B both, A remote" test "$(jq -c '[.backups[] | [.filename, .location]]' "$BODY")" = "[[\"$B\",\"both\"],[\"$A\",\"remote\"]]"
B_SHA=$(sha "$WORK/backups/$B") B_KEY="$P$B"
export B_SHA B_KEY
api GET "/backup/list?location=all" viewer
check "all: B's sha256 is its sidecar's, its remote key under the prefix" \
	test "$(item "$B" '.sha256 == $ENV.B_SHA and .offsite.state == "uploaded" and .remote.key == $ENV.B_KEY')" = true

api GET "/backup/list?location=nowhere" viewer
expect_error 400 invalid_parameter "location=nowhere: 400 invalid_parameter"
api GET "/backup/list?location=remote&location=all" viewer
expect_error 400 invalid_parameter "location twice: 400 invalid_parameter"

# ---- download of a remote-only file ----
rm -f "$WORK/aws.A"
awsi s3 cp --quiet "s3://$S3_BUCKET/$P$A" "$WORK/aws.A" >/dev/null
STATUS=$(curl -sS -o "$WORK/got.A" -w '%{http_code}' -H "Authorization: Bearer $(token viewer)" "$BASE/backup/download/$A")
check "download of remote-only A: 200" test "$STATUS" = 200
check "its bytes are the object's (AWS CLI)" cmp -s "$WORK/got.A" "$WORK/aws.A"
check "the log says it was verified against x-amz-meta-sha256" \
	grep -qF "$A fetched from the object store (s3://$S3_BUCKET/$P$A, $SIZE_A bytes, SHA-256 verified against x-amz-meta-sha256)" "$DAEMON_LOG"
STATUS=$(curl -sS -o "$WORK/range.A" -w '%{http_code}' -H "Range: bytes=10-99" -H "Authorization: Bearer $(token viewer)" "$BASE/backup/download/$A")
check "a Range of it: 206, the object's bytes 10..99" \
	sh -c "[ $STATUS = 206 ] && tail -c +11 '$WORK/aws.A' | head -c 90 | cmp -s - '$WORK/range.A'"
check "no temporary left after the downloads" no_temporaries
check "A is still not local" test ! -e "$WORK/backups/$A"

# ---- restore of a remote-only file ----
SAFETY_BEFORE=$(safety_count)
api POST "/backup/restore/$A" operator
expect_status 200
check "restore of remote-only A: success, a safety backup" \
	test "$(jq -c '[.success, .safety_backup_created]' "$BODY")" = '[true,true]'
check "the database holds A's content again (sqlite3)" test "$(sqlite_sum)" = "$SUM_A"
check "one more safety backup" test "$(safety_count)" = $((SAFETY_BEFORE + 1))
check "no temporary left after the restore" no_temporaries
check "A is still not local" test ! -e "$WORK/backups/$A"

# ---- a backup put by the AWS CLI ----
E2E_DB2="$WORK/other.db"
sqlite3 "$E2E_DB2" "create table t(x text); insert into t values ('put by the AWS CLI');"
gzip -c "$E2E_DB2" >"$WORK/cli.db.gz"
C=backup_sqlite_20200103_040506.db.gz
awsi s3 cp --quiet "$WORK/cli.db.gz" "s3://$S3_BUCKET/$P$C" >/dev/null
api GET "/backup/list?location=remote" viewer
check "the AWS CLI's object is listed (not the other keys)" \
	test "$(jq -c '[.backups[].filename] | sort' "$BODY")" = "$(printf '%s\n' "$A" "$B" "$C" | jq -Rsc 'split("\n")[:-1] | sort')"
check "its created_at is its name's" test "$(item "$C" '.created_at')" = '"2020-01-03T04:05:06Z"'
api POST "/backup/restore/$C?create_safety_backup=false" operator
expect_status 200
check "restored from the AWS CLI's object (sqlite3)" \
	test "$(sqlite3 "$SQLITE_DB" 'select x from t')" = "put by the AWS CLI"
check "no temporary left" no_temporaries

# put back A's content for what follows
api POST "/backup/restore/$A?create_safety_backup=false" operator
expect_status 200
SUM_NOW=$(sqlite_sum)

# ---- a tampered object: its bytes are not the SHA-256 it carries ----
T=backup_sqlite_20200104_000000.db.gz
awsi s3 cp --quiet "$WORK/cli.db.gz" "s3://$S3_BUCKET/$P$T" --metadata "sha256=$(sha "$WORK/aws.A")" >/dev/null
check "the AWS CLI sees the lying metadata" \
	test "$(awsi s3api head-object --bucket "$S3_BUCKET" --key "$P$T" | jq -r .Metadata.sha256)" = "$(sha "$WORK/aws.A")"
api GET "/backup/download/$T" viewer
expect_error 422 invalid_backup "download of a tampered object: 422"
check "the message says the SHA-256 does not match" jqt '.message | test("SHA-256")' "$BODY"
SAFETY_BEFORE=$(safety_count)
api POST "/backup/restore/$T" operator
expect_error 422 invalid_backup "restore of a tampered object: 422"
check "the database is untouched" test "$(sqlite_sum)" = "$SUM_NOW"
check "no safety backup was made" test "$(safety_count)" = "$SAFETY_BEFORE"
check "no temporary left" no_temporaries

# ---- unknown and bad names ----
U=backup_sqlite_20190101_000000.db.gz
api GET "/backup/download/$U" viewer
expect_error 404 not_found "download of an unknown file: 404"
api POST "/backup/restore/$U" operator
expect_error 404 not_found "restore of an unknown file: 404"
check "the database is untouched" test "$(sqlite_sum)" = "$SUM_NOW"
api GET "/backup/download/notes.txt" viewer
expect_error 400 invalid_filename "a key that is not a backup's name: 400"

# ---- the store down ----
bash "$SVC" pause
api GET "/backup/list?location=remote" viewer
expect_error 503 offsite_unavailable "store down: remote listing 503 offsite_unavailable"
api GET "/backup/list?location=all" viewer
expect_error 503 offsite_unavailable "store down: location=all 503 offsite_unavailable"
api GET "/backup/list" viewer
expect_status 200
check "store down: the local listing still answers" jqt '.success == true' "$BODY"
api GET "/backup/download/$A" viewer
expect_error 503 offsite_unavailable "store down: download of remote-only A 503"
api GET "/backup/download/$B" viewer
expect_status 200
api POST "/backup/restore/$A" operator
expect_error 503 offsite_unavailable "store down: restore of remote-only A 503"
check "the message names the store's address" jqt --arg e "$S3_ENDPOINT" '.message | contains($e)' "$BODY"
check "the database is untouched" test "$(sqlite_sum)" = "$SUM_NOW"
check "no temporary left" no_temporaries
bash "$SVC" resume >/dev/null
e2e_stop

# ---- retention of the store's objects (OFFSITE_RETENTION) ----
P2=$(s3_prefix)
prune_start() {
	e2e_start SQLITE_PATH="$SQLITE_DB" S3_PREFIX="$P2" OFFSITE_RETRY_INITIAL=1 KEEP_LAST=1 "$@"
}
in_store() {
	awsi s3api head-object --bucket "$S3_BUCKET" --key "$P2$1" >/dev/null 2>&1
}
prune_start OFFSITE_RETENTION="KEEP_LAST=2"
R=()
for i in 1 2 3; do
	check "create R$i" create
	R+=("$FILE")
	check "R$i's copy is uploaded" wait_uploaded "$FILE"
	sleep 1
done
O=backup_sqlite_20200101_000000.db.gz
F=backup_other_20200101_000000.db.gz
for k in "$O" "$F" notes.txt; do
	awsi s3 cp --quiet "$WORK/cli.db.gz" "s3://$S3_BUCKET/$P2$k" >/dev/null
done
api POST "/backup/prune?dry_run=true" operator
expect_status 200
check "dry run: the store would lose R1 and the AWS CLI's older object, keep R3 and R2" \
	test "$(jq -c '[[.remote.keep[].file], [.remote.remove[].file], .remote.would_remove, .remote.error]' "$BODY")" = \
	"$(jq -nc --arg a "${R[2]}" --arg b "${R[1]}" --arg c "${R[0]}" --arg o "$O" '[[$a, $b], [$c, $o], 2, null]')"
check "dry run: locally KEEP_LAST=1 (B, R1 and R2 would go)" test "$(jq -c '.would_remove' "$BODY")" = 3
check "dry run: nothing deleted in the store" in_store "${R[0]}"
api POST /backup/prune admin
expect_status 200
check "prune: 2 objects deleted from the store, none failed" \
	test "$(jq -c '[.remote.removed, .remote.failed, .remote.error]' "$BODY")" = '[2,0,null]'
check "the AWS CLI: R1 gone" absent "$P2${R[0]}"
check "  the old object gone" absent "$P2$O"
check "  R2 kept" in_store "${R[1]}"
check "  R3 kept" in_store "${R[2]}"
check "  another target's object and a non-backup key untouched" in_store "$F"
check "  notes.txt untouched" in_store notes.txt
check "an audit line per remote deletion" \
	grep -qF "audit action=delete outcome=success status=200 user=\"retention\" sub=\"\" role=- file=\"${R[0]}\" location=remote target=sqlite" "$DAEMON_LOG"
check "locally only R3 is left" test "$(ls "$WORK/backups" | grep -c '^backup_sqlite_.*\.gz$')" = 1
e2e_stop

# the guard: the newest object carrying a verified SHA-256 is kept whatever
# the policy says (here the AWS CLI's newer object takes KEEP_LAST=1)
NEWER=backup_sqlite_$(date -u -d '+1 hour' +%Y%m%d_%H%M%S).db.gz
awsi s3 cp --quiet "$WORK/cli.db.gz" "s3://$S3_BUCKET/$P2$NEWER" >/dev/null
prune_start OFFSITE_RETENTION="KEEP_LAST=1"
api POST "/backup/prune?dry_run=true" operator
check "guard: R3 (verified) kept as the newest validated backup, R2 would go" \
	test "$(jq -c --arg r "${R[2]}" '[(.remote.keep[] | select(.file == $r) | .reasons), [.remote.remove[].file]]' "$BODY")" = \
	"$(jq -nc --arg b "${R[1]}" '[["newest validated backup"], [$b]]')"
bash "$SVC" pause
api POST /backup/prune admin
expect_status 200
check "store down: the local prune answers, the store's part says why nothing was deleted" \
	jqt '.success == true and .remote.removed == 0 and (.remote.error | type == "string")' "$BODY"
bash "$SVC" resume >/dev/null
check "store down: R2 is still in the store" in_store "${R[1]}"
e2e_stop
prune_start OFFSITE_RETENTION=none
api POST /backup/prune admin
check "OFFSITE_RETENTION=none: no remote part" test "$(jq -c .remote "$BODY")" = null
check "  R2 still in the store" in_store "${R[1]}"
e2e_stop
env SQLITE_PATH="$SQLITE_DB" BACKUP_DIR="$WORK/backups" AUTH_JWKS_FILE="$WORK/keys/jwks.json" \
	OFFSITE_RETENTION="KEEP_DAILY=7,KEEP_FOREVER=1" "$DBBACKUPD" --check-config >"$WORK/check" 2>&1
check "a bad OFFSITE_RETENTION is refused by --check-config, named" grep -q "OFFSITE_RETENTION: unknown setting KEEP_FOREVER" "$WORK/check"
for k in "${R[@]}" "$O" "$F" "$NEWER" notes.txt; do
	awsi s3 rm --quiet "s3://$S3_BUCKET/$P2$k" >/dev/null 2>&1 || true
done

# ---- offsite copies off ----
start S3_BUCKET= S3_ENDPOINT= S3_ACCESS_KEY_ID= S3_SECRET_ACCESS_KEY=
api GET "/backup/list?location=remote" viewer
expect_error 409 offsite_not_configured "offsite off: location=remote 409 offsite_not_configured"
api GET "/backup/download/$A" viewer
expect_error 404 not_found "offsite off: a remote-only file is 404"
api POST "/backup/restore/$A" operator
expect_error 404 not_found "offsite off: its restore is 404"
check "no secret in the daemon's log" sh -c "! grep -qF -- '$S3_SECRET_ACCESS_KEY' '$DAEMON_LOG'"

for k in "$A" "$B" "$C" "$T" notes.txt sub/backup_sqlite_20200101_000000.db; do
	awsi s3 rm --quiet "s3://$S3_BUCKET/$P$k" >/dev/null 2>&1 || true
done
e2e_done
