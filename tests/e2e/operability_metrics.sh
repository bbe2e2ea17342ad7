#!/usr/bin/env bash
# GET /metrics: protected (viewer role or METRICS_TOKEN), parses as
# Prometheus text (prometheus-client's parser), and its counters move when
# backups, restores and refused requests happen.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operability_lib.sh"
e2e_init
op_venv

MT=metrics-token-0123456789abcdef
e2e_sqlite_demo
e2e_start SQLITE_PATH="$SQLITE_DB" METRICS_TOKEN="$MT"

# scrape NAME: the parsed samples of /metrics in $WORK/metrics.txt
scrape() {
	curl -sS -H "Authorization: Bearer $MT" -o "$WORK/metrics.raw" "$BASE/metrics" &&
		"$OP_PY" "$OP_TOOLS" prom "$WORK/metrics.raw" "$@" >"$WORK/metrics.txt"
}
NAMES=(dbbackupd_operations_total dbbackupd_backup_written_bytes_total dbbackupd_restore_read_bytes_total
	dbbackupd_upload_received_bytes_total dbbackupd_last_backup_size_bytes dbbackupd_database_up
	dbbackupd_last_restore_timestamp_seconds dbbackupd_http_requests_total
	dbbackupd_backups_on_disk dbbackupd_backups_on_disk_bytes dbbackupd_auth_failures_total
	dbbackupd_last_successful_backup_timestamp_seconds dbbackupd_operation_duration_seconds_count
	dbbackupd_operations_running dbbackupd_build_info)
# value SAMPLE: the value of one sample line of the last scrape (0 if absent)
value() {
	local v
	v=$(grep -F "$1 " "$WORK/metrics.txt" | head -n 1 | awk '{print $NF}')
	echo "${v:-0}"
}

api GET /metrics none
expect_error 401 unauthorized "/metrics without a token"
api GET /metrics none -H "Authorization: Bearer not-the-metrics-token"
expect_error 401 invalid_token "/metrics with a wrong static token"
api GET /metrics viewer
expect_status 200 "/metrics with a viewer token"
check "/metrics is Prometheus text" test "$(curl -sS -o /dev/null -w '%{content_type}' \
	-H "Authorization: Bearer $MT" "$BASE/metrics")" = "text/plain; version=0.0.4; charset=utf-8"
check "/metrics with METRICS_TOKEN parses as Prometheus text" scrape "${NAMES[@]}"
check "build info names the database" grep -q 'dbbackupd_build_info{database="sqlite"' "$WORK/metrics.txt"

B_OK='dbbackupd_operations_total{database="sqlite",operation="backup",outcome="success"}'
R_OK='dbbackupd_operations_total{database="sqlite",operation="restore",outcome="success"}'
R_REJ='dbbackupd_operations_total{database="sqlite",operation="restore",outcome="rejected"}'
B_DUR='dbbackupd_operation_duration_seconds_count{database="sqlite",operation="backup",outcome="success"}'
WRITTEN='dbbackupd_backup_written_bytes_total{database="sqlite"}'
READ='dbbackupd_restore_read_bytes_total{database="sqlite"}'
UPLOADED='dbbackupd_upload_received_bytes_total{database="sqlite"}'
LAST_SIZE='dbbackupd_last_backup_size_bytes{database="sqlite"}'
DB_UP='dbbackupd_database_up{database="sqlite"}'
RESTORED_AT='dbbackupd_last_restore_timestamp_seconds{database="sqlite",outcome="success"}'
ON_DISK='dbbackupd_backups_on_disk{type="backup"}'
SAFETY='dbbackupd_backups_on_disk{type="safety_backup"}'
DISK_BYTES='dbbackupd_backups_on_disk_bytes{type="backup"}'
LAST='dbbackupd_last_successful_backup_timestamp_seconds{database="sqlite"}'
CREATE_200='dbbackupd_http_requests_total{method="POST",route="/backup/create",status="200"}'
AUTH_MISSING='dbbackupd_auth_failures_total{reason="missing_token"}'
AUTH_INVALID='dbbackupd_auth_failures_total{reason="invalid_token"}'
AUTH_EXPIRED='dbbackupd_auth_failures_total{reason="expired_token"}'
AUTH_ROLE='dbbackupd_auth_failures_total{reason="insufficient_role"}'

check "no backup yet" test "$(value "$B_OK")" = 0
check "no backup on disk yet" test "$(value "$ON_DISK")" = 0
check "last successful backup: none" test "$(value "$LAST")" = 0
check "the missing and the wrong token were counted" \
	test "$(value "$AUTH_MISSING")" = 1 -a "$(value "$AUTH_INVALID")" = 1

start=$(date +%s)
api POST /backup/create operator
expect_status 200 "create a backup"
size=$(jq -r .size_bytes "$BODY")
name=$(jq -r .filename "$BODY")
scrape "${NAMES[@]}"
check "backups succeeded: 0 -> 1" test "$(value "$B_OK")" = 1
check "backup durations: one observation" test "$(value "$B_DUR")" = 1
check "bytes written grew by the backup's size ($size)" test "$(value "$WRITTEN")" = "$size"
check "the last backup's size is its size" test "$(value "$LAST_SIZE")" = "$size"
check "the database is up" test "$(value "$DB_UP")" = 1
check "no restore yet" test "$(value "$RESTORED_AT")" = 0
check "backups on disk: 1" test "$(value "$ON_DISK")" = 1
check "bytes on disk: the backup's size" test "$(value "$DISK_BYTES")" = "$size"
check "last successful backup time is now" \
	test "$(printf '%.0f' "$(value "$LAST")")" -ge "$start"
check "the create request was counted by route and status" test "$(value "$CREATE_200")" = 1
check "nothing running" test "$(value 'dbbackupd_operations_running{database="sqlite",operation="backup"}')" = 0

api POST "/backup/restore/$name" operator
expect_status 200 "restore it"
api POST /backup/restore/backup_sqlite_20200101_000000.db.gz operator
expect_error 404 not_found "restore of a missing backup"
printf 'not a backup' >"$WORK/junk.db"
api POST /backup/restore-upload operator -F "file=@$WORK/junk.db"
expect_error 422 invalid_backup "upload of junk"
scrape "${NAMES[@]}"
check "restores succeeded: 1" test "$(value "$R_OK")" = 1
check "restores rejected: 2 (missing file, junk upload)" test "$(value "$R_REJ")" = 2
check "restore bytes read: the backup's size" test "$(value "$READ")" = "$size"
check "the last successful restore's time is now" test "$(printf '%.0f' "$(value "$RESTORED_AT")")" -ge "$start"
check "upload bytes received: 12" test "$(value "$UPLOADED")" = 12
check "a safety backup is on disk" test "$(value "$SAFETY")" = 1

api POST /backup/create viewer
expect_error 403 forbidden "viewer cannot create"
api GET /backup/list expired
expect_error 401 invalid_token "expired token"
scrape "${NAMES[@]}"
check "the role refusal was counted" test "$(value "$AUTH_ROLE")" = 1
check "the expired token was counted" test "$(value "$AUTH_EXPIRED")" = 1
check "the refused create was not counted as a backup" test "$(value "$B_OK")" = 1

e2e_done
