#!/usr/bin/env bash
# Asynchronous jobs on MySQL/MariaDB (issue 20): a restore cancelled while
# it runs is rolled back from its safety backup (MySQL DDL is not
# transactional), and the job's result says so.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service mysql
. "$DBB_SOURCE_DIR/tests/e2e/mysql_lib.sh"

check "fixture loads" my_load_fixture
# large enough that a restore takes seconds
my_sql "CREATE TABLE big (id INT PRIMARY KEY, a VARCHAR(32), b VARCHAR(64));
	INSERT INTO big SELECT seq, MD5(seq), REPEAT(MD5(seq * 7), 2) FROM seq_1_to_600000"
e2e_start DB_TYPE=mysql

api POST "/backup/create?compress=gzip" operator
expect_status 200 "backup of the large table"
file=$(jq -r .filename "$BODY")

# the state before the restore differs from the backup's
my_sql "DELETE FROM big WHERE id % 10 = 0; CREATE TABLE before_state (id INT PRIMARY KEY); INSERT INTO before_state VALUES (1)"
my_dump "$WORK/before.sql"

api POST "/backup/restore/$file?async=true" operator
expect_status 202 "async restore answers 202"
job=$(jq -r .job_id "$BODY")
check "the restore reached its restoring phase" wait_restoring "$job"
api DELETE "/jobs/$job" operator
expect_status 202 "cancel of the running restore"
check "the job ends" poll_job "$job" operator
expect_json '.state == "cancelled" and .http_status == 500 and .result.error == "restore_failed"' "cancelled; the result is a failed restore's"
expect_json '.result.rollback_performed == true and .result.rollback_succeeded == true and (.result.message | test("cancelled")) and (.result.message | test("rolled back"))' "the result says it was cancelled and rolled back"
check "the database is as it was before the request" my_same_as "$WORK/before.sql"
check "no temporary file is left" bash -c "! ls -A '$WORK/backups' | grep -q '^\\.tmp-'"
api GET /health none
expect_json '.interrupted_restore == null' "no interrupted restore is reported"

api POST "/backup/create?compress=false" operator
expect_status 200 "the daemon works on after a cancel"

# an async create's bytes_total: the schema's size on disk (an estimate)
api POST "/backup/create?compress=false&async=true" operator
expect_status 202 "an async create"
job=$(jq -r .job_id "$BODY")
check "the job ends" poll_job "$job" operator
expect_json '.state == "succeeded" and .phase == "dumping" and .bytes_total > 0 and .bytes_done > 0' \
	"it dumped with an estimated bytes_total"
my_reset
e2e_done
