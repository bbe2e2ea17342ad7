#!/usr/bin/env bash
# The full role matrix over every endpoint with real Keycloak tokens (users
# backup-admin, -operator, -viewer and one without a role), allowed and
# forbidden cells both asserted; forbidden cells change nothing.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
. "$DBB_SOURCE_DIR/tests/e2e/keycloak_lib.sh"
kc_init
kc_start

kc_api GET /health anon
expect_status 200 "health needs no token"

# A backup to work on, made by the admin.
kc_api POST "/backup/create?compress=true" admin
expect_status 200 "admin creates a backup"
B0=$(jq -r .filename "$BODY")
cp "$WORK/backups/$B0" "$WORK/upload.db.gz"

# Read-only endpoints: every role may, a user without a role may not.
for who in admin operator viewer; do
	kc_api GET /backup/list "$who"
	expect_status 200 "$who lists"
	expect_json ".backups | map(.filename) | index(\"$B0\") != null" "$who sees the backup"
	kc_api GET /backup/stats "$who"
	expect_status 200 "$who reads stats"
	kc_api GET "/backup/download/$B0" "$who"
	expect_status 200 "$who downloads"
	check "$who got the backup's bytes" cmp -s "$BODY" "$WORK/backups/$B0"
done

files_snapshot
for path in /backup/list /backup/stats "/backup/download/$B0"; do
	kc_api GET "$path" norole
	expect_error 403 forbidden "a user without a role cannot GET $path"
	expect_json '.required_role == "viewer"' "403 on $path names the viewer role"
	kc_api GET "$path" anon
	expect_401 "no token on GET $path" unauthorized
done

# Mutating endpoints, forbidden cells first: nothing may change.
for who in viewer norole; do
	kc_api POST "/backup/create?compress=true" "$who"
	expect_error 403 forbidden "$who cannot create"
	expect_json '.required_role == "operator"' "403 on create names the operator role"
	kc_api POST "/backup/restore/$B0" "$who"
	expect_error 403 forbidden "$who cannot restore"
	kc_api POST /backup/restore-upload "$who" -F "file=@$WORK/upload.db.gz"
	expect_error 403 forbidden "$who cannot upload-restore"
done
for who in operator viewer norole; do
	kc_api DELETE "/backup/delete/$B0" "$who"
	expect_error 403 forbidden "$who cannot delete"
	expect_json '.required_role == "admin"' "403 on delete names the admin role"
done
kc_api POST "/backup/create?compress=true" anon
expect_401 "no token on create" unauthorized
kc_api POST "/backup/restore/$B0" anon
expect_401 "no token on restore" unauthorized
kc_api POST /backup/restore-upload anon -F "file=@$WORK/upload.db.gz"
expect_401 "no token on restore-upload" unauthorized
kc_api DELETE "/backup/delete/$B0" anon
expect_401 "no token on delete" unauthorized
files_unchanged "forbidden and unauthenticated cells"

# Allowed mutating cells.
for who in operator admin; do
	kc_api POST "/backup/create?compress=false" "$who"
	expect_status 200 "$who creates"
	kc_api POST "/backup/restore/$B0?create_safety_backup=false" "$who"
	expect_status 200 "$who restores"
	kc_api POST /backup/restore-upload "$who" -F "file=@$WORK/upload.db.gz" -F create_safety_backup=false
	expect_status 200 "$who upload-restores"
done
kc_api DELETE "/backup/delete/$B0" admin
expect_status 200 "admin deletes"
check "the deleted backup is gone" test ! -e "$WORK/backups/$B0"

# The access log names the Keycloak subject, never a token.
sub=$(b64url_decode "$(kc_token admin | cut -d. -f2)" | jq -r .sub)
check "the access log names the admin's subject" grep -q "sub=$sub" "$DAEMON_LOG"
tok=$(kc_token admin)
check "no token in the daemon log" bash -c "! grep -qF '${tok:(-40)}' '$DAEMON_LOG'"

e2e_done
