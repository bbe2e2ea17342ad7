#!/usr/bin/env bash
# Issue 14, item 6: an upload that trickles does not hold the operation
# lock. The lock is taken only when the whole body has arrived and been
# validated, so while an upload is still arriving a backup, a restore of a
# listed backup, a delete and another upload all run (200); the slow upload
# is then restored when its last byte comes. (The price: a second upload
# that collides with a running operation gets its 409 at the end of its
# body, not before it.)
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo
# no body rate: this test holds an upload open on purpose
e2e_start SQLITE_PATH="$SQLITE_DB" MIN_BODY_RATE=0
port=${BASE##*:}

gzip -c "$SQLITE_DB" >"$WORK/up.db.gz"
B=dbbslowupload
{
	printf -- '--%s\r\nContent-Disposition: form-data; name="file"; filename="up.db.gz"\r\n' $B
	printf 'Content-Type: application/octet-stream\r\n\r\n'
	cat "$WORK/up.db.gz"
	printf -- '\r\n--%s--\r\n' $B
} >"$WORK/upload.body"
len=$(stat -c %s "$WORK/upload.body")
half=$((len / 2))

# the slow upload: head and half the body now, the rest later
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'POST /backup/restore-upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' \
	"$(token operator)" $B "$len" >&3
head -c "$half" "$WORK/upload.body" >&3
sleep 1

api POST "/backup/create?compress=true" operator
expect_status 200 "a backup runs while an upload is still arriving"
listed=$(jq -r .filename "$BODY")
api POST "/backup/restore/$listed?create_safety_backup=false" operator
expect_status 200 "  ... a restore of a listed backup too"
api POST /backup/create operator
api DELETE "/backup/delete/$(jq -r .filename "$BODY")" admin
expect_status 200 "  ... a delete too"
api POST "/backup/restore-upload?create_safety_backup=false" operator -F "file=@$WORK/up.db.gz"
expect_status 200 "  ... another upload too"

# the rest of the slow upload: it is restored
tail -c +$((half + 1)) "$WORK/upload.body" >&3
timeout 60 cat <&3 >"$WORK/answer"
exec 3>&-
check "the slow upload, once complete, is restored (200)" grep -q '^HTTP/1.1 200' "$WORK/answer"
check "  ... its answer says so" grep -q '"success":true' "$WORK/answer"
check "no temporary left" bash -c "! ls -A '$WORK/backups' | grep -q '^\.tmp-'"
e2e_done
