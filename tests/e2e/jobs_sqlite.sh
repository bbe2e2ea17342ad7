#!/usr/bin/env bash
# Asynchronous jobs on SQLite (issue 20): ?async=true answers 202 with a job
# polled to its end, whose result is the synchronous call's; who sees which
# job; cancellation; an async verify; the journal keeps jobs across a
# restart and marks the ones a stop interrupted as failed.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_sqlite_demo
e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB"

# an async create: 202, a Location, a job that ends with the sync result
hdr="$WORK/headers"
STATUS=$(curl -sS -D "$hdr" -o "$BODY" -w '%{http_code}' -X POST \
	-H "Authorization: Bearer $(token operator)" "$BASE/backup/create?compress=true&async=true")
expect_status 202 "async create answers 202"
expect_json '.success == true and (.job_id | test("^[0-9a-f]{32}$")) and .status_url == "/jobs/\(.job_id)"' "202 names the job and its URL"
job=$(jq -r .job_id "$BODY")
check "Location header names the job" grep -qi "^Location: /jobs/$job" "$hdr"
check "the job ends" poll_job "$job" operator
expect_json '.state == "succeeded" and .kind == "create" and .target == "sqlite" and .http_status == 200' "the create job succeeded"
expect_json '.result.success == true and (.result.filename | test("^backup_sqlite_.*\\.db\\.gz$")) and (.result.size_bytes > 0) and (.result.sha256 | length == 64) and .result.message == "Backup created successfully: \(.result.filename)"' "the result is the synchronous call's"
expect_json '(.created_at | test("Z$")) and (.started_at | test("Z$")) and (.finished_at | test("Z$")) and .started_by.role == "operator"' "timestamps and starter"
expect_json '.phase == "dumping" and .bytes_total > 0 and .bytes_done > 0' "a create job's bytes: the dump's, bytes_total the database's size"
gz=$(jq -r .result.filename "$BODY")
api GET /backup/list viewer
expect_json "[.backups[].filename] | index(\"$gz\") != null" "the job's backup is listed"

# an async verify: a job of kind verify whose result is the synchronous answer
api POST "/backup/verify/$gz?async=true" operator
expect_status 202 "async verify answers 202"
vjob=$(jq -r .job_id "$BODY")
check "the verify job ends" poll_job "$vjob" operator
expect_json '.state == "succeeded" and .kind == "verify" and .file == "'"$gz"'" and .http_status == 200' "the verify job succeeded"
expect_json '.result.success == true and .result.verify_ok == true and .result.recorded == true and (.result.counts.total_rows > 0)' "its result is the verification's"
api GET "/jobs/$vjob" viewer
expect_error 404 unknown_job "a viewer does not see the verify job"
api GET /backup/list viewer
expect_json "[.backups[] | select(.filename == \"$gz\") | .verify_ok] == [true]" "the list shows the async verification"

# the synchronous call is unchanged
api POST "/backup/create?compress=true" operator
expect_status 200 "a synchronous create still answers 200"
expect_json '.success == true and (.job_id == null)' "with the usual body"

# an async restore: the database comes back; the result has the restore's fields
original=$(sqlite_sum)
sqlite3 "$SQLITE_DB" "DELETE FROM orders; CREATE TABLE added_later (x);"
api POST "/backup/restore/$gz?async=true" operator
expect_status 202 "async restore answers 202"
rjob=$(jq -r .job_id "$BODY")
check "the restore job ends" poll_job "$rjob" operator
expect_json ".state == \"succeeded\" and .kind == \"restore\" and .file == \"$gz\" and .result.message == \"Database restored successfully from: $gz\" and .result.safety_backup_created == true" "the restore job succeeded with the sync result"
expect_json '.bytes_total == null or .bytes_done <= .bytes_total' "bytes within the total"
check "the data is back" test "$(sqlite_sum)" = "$original"

# an async restore-upload: the body is received first, then the job
cp "$WORK/backups/$gz" "$WORK/upload.db.gz"
api POST "/backup/restore-upload?async=true&create_safety_backup=false" operator -F "file=@$WORK/upload.db.gz"
expect_status 202 "async restore-upload answers 202"
ujob=$(jq -r .job_id "$BODY")
check "the upload job ends" poll_job "$ujob" operator
expect_json '.state == "succeeded" and .kind == "restore-upload" and .result.message == "Database restored successfully from uploaded file: upload.db.gz"' "upload job succeeded"

# a failing job: failed, with the error object the sync call gives
api POST "/backup/restore/backup_sqlite_20000101_000000.db?async=true" operator
expect_status 202 "a restore of a missing file is still a job"
fjob=$(jq -r .job_id "$BODY")
check "the failing job ends" poll_job "$fjob" operator
expect_json '.state == "failed" and .http_status == 404 and .result.success == false and .result.error == "not_found"' "failed, with the sync error"

# a bad async value is a 400, as any bad boolean
api POST "/backup/create?async=maybe" operator
expect_error 400 invalid_parameter "async=maybe"

# unknown jobs: 404 unknown_job (also for cancel)
api GET /jobs/0123456789abcdef0123456789abcdef operator
expect_error 404 unknown_job "unknown job id"
api DELETE /jobs/0123456789abcdef0123456789abcdef operator
expect_error 404 unknown_job "cancel of an unknown job"
api GET /jobs/nonsense/events operator
expect_error 404 unknown_job "events of an unknown job"

# what the synchronous call refuses at once is refused before a job starts
api DELETE "/backup/delete/not_a_backup.txt?async=true" admin
expect_error 400 invalid_filename "async delete of a name that is no backup's: 400, no job"
api POST "/backup/verify/not_a_backup.txt?async=true" operator
expect_error 400 invalid_filename "async verify of a name that is no backup's: 400, no job"

# visibility: a viewer sees none; an operator sees operator jobs; admin all
api DELETE "/backup/delete/$gz?async=true" admin
expect_status 202 "async delete answers 202"
djob=$(jq -r .job_id "$BODY")
check "the delete job ends" poll_job "$djob" admin
expect_json ".state == \"succeeded\" and .kind == \"delete\" and .result.message == \"Backup deleted successfully: $gz\"" "delete job succeeded"
api GET /jobs viewer
expect_status 200 "a viewer may list jobs"
expect_json '.success == true and (.jobs | length) == 0' "a viewer sees no job"
api GET "/jobs/$job" viewer
expect_error 404 unknown_job "a viewer cannot read an operator's job"
api GET /jobs operator
expect_json "[.jobs[].id] | (index(\"$job\") != null and index(\"$djob\") == null)" "an operator sees operator jobs, not the admin's delete"
api GET "/jobs/$djob" operator
expect_error 404 unknown_job "an operator cannot read a delete job"
api GET /jobs admin
expect_json "[.jobs[].id] | (index(\"$job\") != null and index(\"$djob\") != null)" "an admin sees both"
expect_json '[.jobs[].created_at] == ([.jobs[].created_at] | sort | reverse)' "newest first"
api GET /jobs none
expect_error 401 unauthorized "no token, no jobs"

# an async prune (dry run: operator)
api POST "/backup/prune?dry_run=true&async=true" operator
expect_status 202 "async dry-run prune answers 202"
pjob=$(jq -r .job_id "$BODY")
check "the prune job ends" poll_job "$pjob" operator
expect_json '.state == "succeeded" and .kind == "prune" and .result.dry_run == true' "prune job succeeded"

# cancelling a finished job: 409 job_finished
api DELETE "/jobs/$job" operator
expect_error 409 job_finished "a finished job cannot be cancelled"

# events: a finished job's stream sends its JSON once and ends
STATUS=$(curl -sS -o "$BODY" -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $(token operator)" "$BASE/jobs/$job/events")
expect_status 200 "events of a finished job"
check "one event with the job's final JSON" bash -c "grep -c '^event: job' '$BODY' | grep -qx 1 && sed -n 's/^data: //p' '$BODY' | jq -e '.state == \"succeeded\"' >/dev/null"

# per target: /targets/NAME/backup/create?async=true
api POST "/targets/sqlite/backup/create?compress=false&async=true" operator
expect_status 202 "async create under /targets/NAME/"
tjob=$(jq -r .job_id "$BODY")
check "the per-target job ends" poll_job "$tjob" operator
expect_json '.state == "succeeded" and .target == "sqlite"' "per-target job succeeded"

# the journal: 0600, and the jobs survive a restart
check "the journal is 0600" test "$(stat -c %a "$WORK/backups/.jobs.json")" = 600
e2e_stop
# a journal naming a job as running (the daemon died): failed at the next start
jq '.jobs += [{"id":"00000000000000000000000000000001","kind":"restore","target":"sqlite","state":"running","phase":"restoring","required_role":"operator","started_by":{"subject":"x","role":"operator"},"created_at":"2026-01-01T00:00:00Z","started_at":"2026-01-01T00:00:01Z"}]' \
	"$WORK/backups/.jobs.json" >"$WORK/j" && cat "$WORK/j" >"$WORK/backups/.jobs.json"
e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB"
api GET "/jobs/$job" operator
expect_json '.state == "succeeded" and .result.filename != null' "a job survives a restart"
api GET /jobs/00000000000000000000000000000001 operator
expect_json '.state == "failed" and .result.error == "shutting_down" and (.result.message | test("interrupted")) and .finished_at != null' "an interrupted job is failed at start-up"

# cancel a queued job (JOBS_MAX_RUNNING=1 behind a slow one): cancelled,
# nothing done
e2e_stop
e2e_sqlite_demo 300000
e2e_start DB_TYPE=sqlite SQLITE_PATH="$SQLITE_DB" JOBS_MAX_RUNNING=1
backups() { find "$WORK/backups" -maxdepth 1 -name 'backup_*.gz' | wc -l; }
before=$(backups)
api POST "/backup/create?compress=true&async=true" operator
first=$(jq -r .job_id "$BODY")
api POST "/backup/create?compress=true&async=true" operator
second=$(jq -r .job_id "$BODY")
api GET "/jobs/$second" operator
if jq -e '.state == "queued"' "$BODY" >/dev/null; then
	api DELETE "/jobs/$second" operator
	expect_status 202 "cancel of a queued job"
	check "the cancelled job ends" poll_job "$second" operator
	expect_json '.state == "cancelled" and .result.error == "cancelled" and .started_at == null' "a queued job cancelled never started"
	check "the first job still succeeds" poll_job "$first" operator
	expect_json '.state == "succeeded"' "the running job was not disturbed"
	check "only the first job wrote a backup" test "$(backups)" = $((before + 1))
else
	part_skipped "the first backup ended before the second was looked at"
fi

# events of a running job: each change, the stream ending with the job's end
api POST "/backup/create?compress=true&async=true" operator
ejob=$(jq -r .job_id "$BODY")
STATUS=$(curl -sS -N -o "$WORK/events" -w '%{http_code}' --max-time 300 \
	-H "Authorization: Bearer $(token operator)" "$BASE/jobs/$ejob/events")
expect_status 200 "events of a running job"
check "the stream ended with the job's final state" bash -c "sed -n 's/^data: //p' '$WORK/events' | tail -n 1 | jq -e '.state == \"succeeded\" and .result.success == true' >/dev/null"
check "every event is the job's JSON" bash -c "sed -n 's/^data: //p' '$WORK/events' | jq -e '.id == \"$ejob\"' >/dev/null"

# cancel a running restore: the database is as before (SQLite is atomic)
api POST "/backup/create?compress=true" operator
big=$(jq -r .filename "$BODY")
sqlite3 "$SQLITE_DB" "DELETE FROM orders WHERE id % 3 = 0;"
before=$(sqlite_sum)
api POST "/backup/restore/$big?async=true" operator
cjob=$(jq -r .job_id "$BODY")
api DELETE "/jobs/$cjob" operator
if [ "$STATUS" = 202 ]; then
	check "the cancelled restore ends" poll_job "$cjob" operator
	if jq -e '.state == "cancelled"' "$BODY" >/dev/null; then
		ok "the restore was cancelled"
		expect_json '.result.success == false and (.result.message | test("cancel"))' "the result says it was cancelled"
		check "the database is as before the restore" test "$(sqlite_sum)" = "$before"
		check "no temporary file is left" bash -c "! ls -A '$WORK/backups' | grep -q '^\\.tmp-'"
	else
		# the cancellation came after the last point it is seen
		expect_json '.state == "succeeded"' "a restore that was not stopped in time succeeded"
	fi
else
	expect_error 409 job_finished "the restore ended before the cancel"
fi

# shutdown cancels a running job and the daemon exits 0 (e2e_stop checks)
api POST "/backup/create?compress=true&async=true" operator
sjob=$(jq -r .job_id "$BODY")
e2e_stop
check "the journal records the job as ended" jq -e ".jobs[] | select(.id == \"$sjob\") | .state != \"queued\" and .state != \"running\"" "$WORK/backups/.jobs.json"
e2e_done
