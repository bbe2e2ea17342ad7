#!/usr/bin/env bash
# Every endpoint of the contract against the SQLite default, with every role:
# the contract's JSON fields, the role matrix, downloads with ranges.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo
e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB"

api GET /health none
expect_status 200 "health needs no token"
expect_json '.status == "ok"'

api GET /backup/list viewer
expect_status 200 "viewer lists"
expect_json '.total_count == 0 and (.backups | length) == 0' "empty list"

# create: default compressed, contract fields
api POST /backup/create operator
expect_status 200 "operator creates"
expect_json '.success == true and (.filename | test("^backup_sqlite_[0-9]{8}_[0-9]{6}(_[0-9]+)?\\.db\\.gz$")) and (.size_mb | type == "number") and (.message | startswith("Backup created successfully: "))' "create reply has the contract's fields"
gz=$(jq -r .filename "$BODY")
api POST "/backup/create?compress=false" admin
expect_status 200 "admin creates uncompressed"
expect_json '.filename | test("^backup_sqlite_.*\\.db$")' "uncompressed name ends in .db"
plain=$(jq -r .filename "$BODY")
check "the uncompressed backup is an SQLite file" bash -c "head -c 15 '$WORK/backups/$plain' | grep -q 'SQLite format 3'"
check "the compressed backup is gzip" gzip -t "$WORK/backups/$gz"

# list: both, contract fields, checksums true
api GET /backup/list viewer
expect_json '.total_count == 2' "list has both backups"
expect_json '[.backups[] | has("filename", "size_bytes", "size_mb", "created_at", "compressed")] | all' "list items have the contract's fields"
expect_json '[.backups[].created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")] | all' "created_at is UTC with the zone marked"
check "size_mb is written with at most 2 decimals (0.04, not 0.040000000000000001)" \
	bash -c "grep -q '\"size_mb\":' '$BODY' && ! grep -Eq '\"size_mb\":[0-9]+\.[0-9]{3,}' '$BODY'"
expect_json "[.backups[] | select(.filename == \"$gz\") | .compressed] == [true]" "compressed flag"
expect_json "[.backups[] | select(.filename == \"$plain\") | .compressed] == [false]" "uncompressed flag"
want=$(sha256sum "$WORK/backups/$gz" | cut -d' ' -f1)
expect_json "[.backups[] | select(.filename == \"$gz\") | .sha256] == [\"$want\"]" "recorded sha256 matches the file"
check "sidecar verifies with sha256sum -c" bash -c "cd '$WORK/backups' && sha256sum -c --quiet '$gz.sha256'"

# the list in gzip for a client that asks for it (the same JSON), identity
# otherwise; both say Vary: Accept-Encoding
cp "$BODY" "$WORK/list.identity"
api GET /backup/list viewer -H 'Accept-Encoding: gzip' -D "$WORK/list.headers"
cp "$BODY" "$WORK/list.gz"
check "list asked with Accept-Encoding: gzip is gzip" grep -qi '^Content-Encoding: gzip' "$WORK/list.headers"
check "gzip list is the same JSON" bash -c "gzip -dc '$WORK/list.gz' | cmp -s - '$WORK/list.identity'"
check "gzip list says Vary: Accept-Encoding" grep -qi '^Vary: Accept-Encoding' "$WORK/list.headers"
api GET /backup/list viewer -H 'Accept-Encoding: gzip;q=0, br' -D "$WORK/list.headers"
check "gzip;q=0 gets identity" bash -c "! grep -qi '^Content-Encoding' '$WORK/list.headers' && cmp -s '$BODY' '$WORK/list.identity'"

# changes made by hand reach the cached list: a file copied in (the
# directory changes) and a sidecar rewritten in place (it does not: seen when
# the cache ages out, 5 s)
hand=backup_sqlite_20200101_000000.db.gz
cp "$WORK/backups/$gz" "$WORK/backups/$hand"
(cd "$WORK/backups" && sha256sum "$hand" >"$hand.sha256")
listed_by_hand() {
	api GET /backup/list viewer
	jq -e "$1" "$BODY" >/dev/null
}
seen=0
for _ in $(seq 1 40); do
	if listed_by_hand "[.backups[].filename] | index(\"$hand\")"; then seen=1; break; fi
	sleep 0.25
done
check "a backup copied in by hand is listed within 10 s" test $seen = 1
sleep 2.2 # let the directory settle (2 s), so that the list is cached
api GET /backup/list viewer
# in place: the directory does not change
echo "0000000000000000000000000000000000000000000000000000000000000000  $hand" >"$WORK/backups/$hand.sha256"
seen=0
for _ in $(seq 1 40); do
	if listed_by_hand ".backups[] | select(.filename == \"$hand\") | .sha256 | startswith(\"0000\")"; then seen=1; break; fi
	sleep 0.25
done
check "a sidecar rewritten by hand is seen within 10 s" test $seen = 1
rm "$WORK/backups/$hand" "$WORK/backups/$hand.sha256"

# download as the contract shows (-O keeps the name)
mkdir -p "$WORK/dl" && cd "$WORK/dl" || exit 1
code=$(curl -s -w '%{http_code}' -X GET "$BASE/backup/download/$gz" -H "Authorization: Bearer $(token viewer)" -O -D "$WORK/headers")
cd "$WORK" || exit 1
[ "$code" = 200 ] && ok "viewer downloads" || fail "viewer downloads ($code)"
check "downloaded file equals the backup" cmp "$WORK/backups/$gz" "$WORK/dl/$gz"
check "Content-Disposition names the file" grep -qi "content-disposition: attachment; filename=\"$gz\"" "$WORK/headers"
size=$(stat -c %s "$WORK/backups/$gz")
check "Content-Length is the file size" grep -qi "content-length: $size" "$WORK/headers"

# ranges: a part, and a resumed download
api GET "/backup/download/$gz" viewer -H "Range: bytes=0-9"
expect_status 206 "Range gives 206"
check "206 body is 10 bytes" test "$(stat -c %s "$BODY")" = 10
check "206 body is the file's first bytes" cmp -n 10 "$BODY" "$WORK/backups/$gz"
api GET "/backup/download/$gz" viewer -H "Range: bytes=$size-"
expect_status 416 "Range past the end gives 416"
head -c 7 "$WORK/backups/$gz" >"$WORK/partial"
curl -s -C - -o "$WORK/partial" -H "Authorization: Bearer $(token viewer)" "$BASE/backup/download/$gz"
check "an interrupted download resumes (curl -C -)" cmp "$WORK/partial" "$WORK/backups/$gz"

# stats
api GET /backup/stats viewer
expect_status 200 "viewer reads stats"
expect_json '.success == true and .database_type == "sqlite" and .table_count == 2 and ([.tables[] | select(.name == "customers") | .rows] == [200])' "stats count tables and rows"

# role matrix: forbidden cells
api POST /backup/create viewer
expect_error 403 forbidden "viewer cannot create"
expect_json '.required_role == "operator"' "403 names the role needed"
api POST "/backup/restore/$gz" viewer
expect_error 403 forbidden "viewer cannot restore"
api POST /backup/restore-upload viewer -F "file=@$WORK/backups/$gz"
expect_error 403 forbidden "viewer cannot upload-restore"
api DELETE "/backup/delete/$gz" viewer
expect_error 403 forbidden "viewer cannot delete"
api DELETE "/backup/delete/$gz" operator
expect_error 403 forbidden "operator cannot delete"
expect_json '.required_role == "admin"'

# no token, expired token, garbage: 401 with WWW-Authenticate, for every route
for route in "GET /backup/list" "GET /backup/stats" "GET /backup/download/$gz" "POST /backup/create" \
	"POST /backup/restore/$gz" "POST /backup/restore-upload" "DELETE /backup/delete/$gz"; do
	set -- $route
	api "$1" "$2" none -D "$WORK/h401"
	expect_error 401 unauthorized "no token: $route"
	check "WWW-Authenticate on $route" grep -qi '^www-authenticate: Bearer' "$WORK/h401"
	api "$1" "$2" expired
	expect_error 401 invalid_token "expired token: $route"
done
STATUS=$(curl -s -o "$BODY" -w '%{http_code}' -H "Authorization: Bearer not.a.token" "$BASE/backup/list")
expect_error 401 invalid_token "garbage token"
STATUS=$(curl -s -o "$BODY" -w '%{http_code}' -H "Authorization: Basic YWRtaW46YWRtaW4=" "$BASE/backup/list")
expect_error 401 unauthorized "basic auth is not a bearer token"

# delete as the contract shows
code=$(curl -s -o "$BODY" -w '%{http_code}' -X DELETE "$BASE/backup/delete/$plain" -H "Authorization: Bearer $(token admin)")
STATUS=$code
expect_status 200 "admin deletes"
expect_json ".success == true and .message == \"Backup deleted successfully: $plain\""
check "deleted file is gone" test ! -e "$WORK/backups/$plain"
check "its sidecar is gone" test ! -e "$WORK/backups/$plain.sha256"
api DELETE "/backup/delete/$plain" admin
expect_error 404 not_found "deleting it again: 404"

# the audit trail: one parseable line per mutating request, any outcome
check "audit line for a create" grep -Eq "audit action=create outcome=success status=200 user=\"dev-operator\" sub=\"dev-operator\" role=operator file=\"$gz\"" "$DAEMON_LOG"
check "audit line for a delete" grep -q "audit action=delete outcome=success status=200 user=\"dev-admin\" sub=\"dev-admin\" role=admin file=\"$plain\"" "$DAEMON_LOG"
check "audit line for a forbidden delete" grep -q "audit action=delete outcome=forbidden status=403 user=\"dev-viewer\" sub=\"dev-viewer\" role=viewer" "$DAEMON_LOG"
check "audit line for an anonymous restore" grep -q "audit action=restore outcome=unauthorized status=401 user=\"\" sub=\"\" role=-" "$DAEMON_LOG"
check "no token in the log" bash -c "! grep -q 'eyJ' '$DAEMON_LOG'"

e2e_done
