/* The jobs registry (jobs.h) and the progress it reports (progress.h):
 * queueing behind JOBS_MAX_RUNNING, results, cancellation (queued and
 * running), visibility, the bounded history, the journal across a restart,
 * shutdown cancelling and joining. */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "dbbackupd/jobs.h"
#include "dbbackupd/log.h"
#include "dbbackupd/progress.h"

static atomic_bool release;
static atomic_int freed;

static void nap(void)
{
	struct timespec ts = {0, 5 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

/* Reports progress, then waits for release or a cancellation. */
static unsigned gate_job(void *arg, json_t **result)
{
	(void)arg;
	dbb_progress_phase("dumping", 1000);
	dbb_progress_add(10);
	while (!atomic_load(&release)) {
		if (dbb_progress_cancelled()) {
			*result = json_pack("{s:b, s:s, s:s}", "success", 0, "error", "cancelled",
			                    "message", "the job was cancelled");
			return 409;
		}
		nap();
	}
	dbb_progress_add(990);
	*result = json_pack("{s:b, s:s}", "success", 1, "filename", "backup_x_20260101_000000.db");
	return 200;
}

static unsigned quick_job(void *arg, json_t **result)
{
	*result = json_pack("{s:b, s:i}", "success", 1, "n", *(int *)arg);
	return 200;
}

static unsigned failing_job(void *arg, json_t **result)
{
	(void)arg;
	*result = json_pack("{s:b, s:s, s:s}", "success", 0, "error", "not_found", "message",
	                    "no such backup");
	return 404;
}

static void count_free(void *arg)
{
	(void)arg;
	atomic_fetch_add(&freed, 1);
}

static bool all_visible(void *cls, const char *target, enum dbb_role required)
{
	(void)cls;
	(void)target;
	(void)required;
	return true;
}

/* The role in cls sees jobs that need at most that role. */
static bool by_role(void *cls, const char *target, enum dbb_role required)
{
	(void)target;
	return *(enum dbb_role *)cls >= required;
}

static struct dbb_job_spec spec_of(dbb_job_fn fn, void *arg, enum dbb_role required)
{
	return (struct dbb_job_spec){.kind = DBB_JOB_CREATE,
	                             .target = "main",
	                             .subject = "tester",
	                             .role = DBB_ROLE_ADMIN,
	                             .required = required,
	                             .run = fn,
	                             .free_arg = count_free,
	                             .arg = arg};
}

static const char *state_of(struct dbb_jobs *j, const char *id)
{
	static char buf[32];
	json_t *o = NULL;
	struct dbb_error err = {0};
	if (dbb_jobs_get_json(j, id, all_visible, NULL, &o, NULL, &err))
		return "absent";
	snprintf(buf, sizeof(buf), "%s", json_string_value(json_object_get(o, "state")));
	json_decref(o);
	return buf;
}

static bool wait_state(struct dbb_jobs *j, const char *id, const char *state)
{
	for (int i = 0; i < 2000; i++) {
		if (strcmp(state_of(j, id), state) == 0)
			return true;
		nap();
	}
	return false;
}

static void test_queue_cancel_result(const char *journal)
{
	struct dbb_jobs *j;
	struct dbb_error err = {0};
	struct dbb_jobs_settings s = {journal, 1, 4, 0};
	char a[DBB_JOB_ID_LEN + 1], b[DBB_JOB_ID_LEN + 1], c[DBB_JOB_ID_LEN + 1];
	atomic_store(&release, false);
	CHECK(dbb_jobs_new(&j, &s, &err) == DBB_OK);
	struct dbb_job_spec sa = spec_of(gate_job, NULL, DBB_ROLE_OPERATOR);
	int n = 7;
	struct dbb_job_spec sb = spec_of(quick_job, &n, DBB_ROLE_OPERATOR);
	CHECK(dbb_jobs_submit(j, &sa, a, &err) == DBB_OK);
	CHECK(strlen(a) == DBB_JOB_ID_LEN);
	CHECK(wait_state(j, a, "running"));
	CHECK(dbb_jobs_submit(j, &sb, b, &err) == DBB_OK);
	CHECK(strcmp(a, b) != 0);
	CHECK_STR(state_of(j, b), "queued"); /* JOBS_MAX_RUNNING=1 */
	CHECK(dbb_jobs_active(j) == 2);

	/* progress of the running job */
	json_t *o = NULL;
	CHECK(dbb_jobs_get_json(j, a, all_visible, NULL, &o, NULL, &err) == DBB_OK);
	CHECK_STR(json_string_value(json_object_get(o, "phase")), "dumping");
	CHECK(json_integer_value(json_object_get(o, "bytes_done")) == 10);
	CHECK(json_integer_value(json_object_get(o, "bytes_total")) == 1000);
	CHECK(json_is_null(json_object_get(o, "result")));
	CHECK(json_is_null(json_object_get(o, "finished_at")));
	json_decref(o);

	/* visibility: a viewer sees neither */
	enum dbb_role viewer = DBB_ROLE_VIEWER, op = DBB_ROLE_OPERATOR;
	CHECK(dbb_jobs_get_json(j, a, by_role, &viewer, &o, NULL, &err) == DBB_ERR_UNKNOWN_JOB);
	CHECK(dbb_jobs_cancel(j, a, by_role, &viewer, NULL, &err) == DBB_ERR_UNKNOWN_JOB);
	json_t *list = dbb_jobs_list_json(j, by_role, &viewer);
	CHECK(json_array_size(list) == 0);
	json_decref(list);
	list = dbb_jobs_list_json(j, by_role, &op);
	CHECK(json_array_size(list) == 2);
	/* newest first */
	CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "id")), b);
	json_decref(list);
	CHECK(dbb_jobs_get_json(j, "nonsense", all_visible, NULL, &o, NULL, &err) ==
	      DBB_ERR_UNKNOWN_JOB);

	/* cancel the queued one: cancelled, never started, its argument freed */
	int before = atomic_load(&freed);
	CHECK(dbb_jobs_cancel(j, b, by_role, &op, &o, &err) == DBB_OK);
	json_decref(o);
	CHECK(wait_state(j, b, "cancelled"));
	CHECK(atomic_load(&freed) == before + 1);
	CHECK(dbb_jobs_get_json(j, b, all_visible, NULL, &o, NULL, &err) == DBB_OK);
	CHECK(json_is_null(json_object_get(o, "started_at")));
	CHECK_STR(json_string_value(json_object_get(json_object_get(o, "result"), "error")),
	          "cancelled");
	json_decref(o);
	CHECK(dbb_jobs_cancel(j, b, all_visible, NULL, NULL, &err) == DBB_ERR_JOB_FINISHED);

	/* the running one ends with its result */
	atomic_store(&release, true);
	CHECK(wait_state(j, a, "succeeded"));
	CHECK(dbb_jobs_get_json(j, a, all_visible, NULL, &o, NULL, &err) == DBB_OK);
	CHECK(json_integer_value(json_object_get(o, "http_status")) == 200);
	CHECK(json_integer_value(json_object_get(o, "bytes_done")) == 1000);
	CHECK_STR(json_string_value(json_object_get(json_object_get(o, "result"), "filename")),
	          "backup_x_20260101_000000.db");
	CHECK(json_is_string(json_object_get(o, "finished_at")));
	json_decref(o);

	/* a failing job: failed, with its error object */
	struct dbb_job_spec sc = spec_of(failing_job, NULL, DBB_ROLE_ADMIN);
	CHECK(dbb_jobs_submit(j, &sc, c, &err) == DBB_OK);
	CHECK(wait_state(j, c, "failed"));
	CHECK(dbb_jobs_get_json(j, c, by_role, &op, &o, NULL, &err) == DBB_ERR_UNKNOWN_JOB);

	/* a running job cancelled: its work sees it */
	atomic_store(&release, false);
	CHECK(dbb_jobs_submit(j, &sa, a, &err) == DBB_OK); /* evicts the oldest finished */
	CHECK(wait_state(j, a, "running"));
	CHECK(dbb_jobs_cancel(j, a, all_visible, NULL, NULL, &err) == DBB_OK);
	CHECK(wait_state(j, a, "cancelled"));
	list = dbb_jobs_list_json(j, all_visible, NULL);
	CHECK(json_array_size(list) == 4); /* the history's bound */
	json_decref(list);
	dbb_jobs_free(j);

	struct stat st;
	CHECK(stat(journal, &st) == 0 && (st.st_mode & 0777) == 0600);
}

static void test_history_full_and_shutdown(const char *journal)
{
	struct dbb_jobs *j;
	struct dbb_error err = {0};
	struct dbb_jobs_settings s = {journal, 1, 2, 0};
	char a[DBB_JOB_ID_LEN + 1], b[DBB_JOB_ID_LEN + 1], c[DBB_JOB_ID_LEN + 1];
	unlink(journal);
	atomic_store(&release, false);
	CHECK(dbb_jobs_new(&j, &s, &err) == DBB_OK);
	struct dbb_job_spec sa = spec_of(gate_job, NULL, DBB_ROLE_OPERATOR);
	CHECK(dbb_jobs_submit(j, &sa, a, &err) == DBB_OK);
	CHECK(dbb_jobs_submit(j, &sa, b, &err) == DBB_OK);
	int before = atomic_load(&freed);
	/* two unfinished jobs fill a history of 2: the third is refused */
	CHECK(dbb_jobs_submit(j, &sa, c, &err) == DBB_ERR_BUSY);
	CHECK(atomic_load(&freed) == before + 1);
	/* stop: new jobs refused, the running one cancelled */
	dbb_jobs_stop(j);
	CHECK(dbb_jobs_submit(j, &sa, c, &err) == DBB_ERR_SHUTTING_DOWN);
	CHECK(wait_state(j, a, "cancelled"));
	CHECK(wait_state(j, b, "cancelled"));
	CHECK(dbb_jobs_active(j) == 0);
	dbb_jobs_free(j);
}

static void test_journal(const char *dir, const char *journal)
{
	struct dbb_jobs *j;
	struct dbb_error err = {0};
	struct dbb_jobs_settings s = {journal, 2, 10, 0};
	char a[DBB_JOB_ID_LEN + 1];
	int n = 3;
	struct stat st;
	unlink(journal);
	/* a daemon that never ran a job writes no journal */
	CHECK(dbb_jobs_new(&j, &s, &err) == DBB_OK);
	dbb_jobs_free(j);
	CHECK(stat(journal, &st) != 0);
	CHECK(dbb_jobs_new(&j, &s, &err) == DBB_OK);
	struct dbb_job_spec sq = spec_of(quick_job, &n, DBB_ROLE_OPERATOR);
	sq.file = "bad\nname";
	CHECK(dbb_jobs_submit(j, &sq, a, &err) == DBB_OK);
	CHECK(wait_state(j, a, "succeeded"));
	dbb_jobs_free(j);

	/* a journal left by a daemon that died with a job running */
	json_error_t jerr;
	json_t *doc = json_load_file(journal, 0, &jerr);
	CHECK(doc != NULL);
	json_array_append_new(json_object_get(doc, "jobs"),
	                      json_pack("{s:s, s:s, s:s, s:s, s:s}", "id",
	                                "0123456789abcdef0123456789abcdef", "kind", "restore",
	                                "target", "main", "state", "running", "required_role",
	                                "operator"));
	json_array_append_new(json_object_get(doc, "jobs"),
	                      json_pack("{s:s, s:s}", "id", "../../etc", "state", "running"));
	CHECK(json_dump_file(doc, journal, 0) == 0);
	json_decref(doc);

	CHECK(dbb_jobs_new(&j, &s, &err) == DBB_OK);
	json_t *o = NULL;
	CHECK(dbb_jobs_get_json(j, a, all_visible, NULL, &o, NULL, &err) == DBB_OK);
	CHECK_STR(json_string_value(json_object_get(o, "state")), "succeeded");
	CHECK_STR(json_string_value(json_object_get(o, "file")), "bad?name");
	CHECK(json_integer_value(json_object_get(json_object_get(o, "result"), "n")) == 3);
	json_decref(o);
	CHECK(dbb_jobs_get_json(j, "0123456789abcdef0123456789abcdef", all_visible, NULL, &o, NULL,
	                        &err) == DBB_OK);
	CHECK_STR(json_string_value(json_object_get(o, "state")), "failed");
	CHECK(strstr(json_string_value(json_object_get(json_object_get(o, "result"), "message")),
	             "interrupted") != NULL);
	json_decref(o);
	json_t *list = dbb_jobs_list_json(j, all_visible, NULL);
	CHECK(json_array_size(list) == 2); /* the malformed entry is dropped */
	json_decref(list);
	dbb_jobs_free(j);

	/* an unreadable journal: an empty registry, not a failure */
	FILE *f = fopen(journal, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("{not json", f);
		fclose(f);
	}
	CHECK(dbb_jobs_new(&j, &s, &err) == DBB_OK);
	list = dbb_jobs_list_json(j, all_visible, NULL);
	CHECK(json_array_size(list) == 0);
	json_decref(list);
	dbb_jobs_free(j);
	(void)dir;
}

/* The counting layers: bytes into the bound progress; a cancellation
 * fails the next read with DBB_ERR_CANCELLED. */
static void test_progress_layers(void)
{
	struct dbb_progress p;
	struct dbb_error err = {0};
	int fds[2];
	char buf[64];
	size_t got = 0;
	CHECK(pipe(fds) == 0);
	CHECK(write(fds[1], "hello world", 11) == 11);
	close(fds[1]);
	dbb_progress_init(&p, "test", 0);
	CHECK(dbb_progress_bind(&p) == NULL);
	dbb_progress_phase("restoring", 11);
	struct dbb_fd_source fs;
	struct dbb_progress_source ps;
	dbb_fd_source_init(&fs, fds[0]);
	dbb_progress_source_init(&ps, &fs.base);
	CHECK(dbb_source_read(&ps.base, buf, 5, &got, &err) == DBB_OK && got == 5);
	struct dbb_progress_view v;
	dbb_progress_read(&p, &v);
	CHECK(v.bytes_done == 5 && v.bytes_total == 11);
	CHECK_STR(v.phase, "restoring");
	CHECK(!dbb_progress_cancelled());
	dbb_progress_cancel(&p);
	CHECK(dbb_progress_cancelled());
	CHECK(dbb_source_read(&ps.base, buf, 5, &got, &err) == DBB_ERR_CANCELLED);
	dbb_progress_phase("validating", 0);
	dbb_progress_read(&p, &v);
	CHECK(v.bytes_done == 0 && v.bytes_total == 0 && v.eta_seconds < 0);
	CHECK(dbb_progress_bind(NULL) == &p);
	/* nothing bound: the calls do nothing */
	dbb_progress_add(5);
	CHECK(!dbb_progress_cancelled());
	close(fds[0]);
}

int main(void)
{
	dbb_log_set_level("error");
	char *dir = check_tmpdir();
	CHECK(dir != NULL);
	if (!dir)
		DONE();
	char journal[4200];
	snprintf(journal, sizeof(journal), "%s/.jobs.json", dir);
	test_queue_cancel_result(journal);
	test_history_full_and_shutdown(journal);
	test_journal(dir, journal);
	test_progress_layers();
	check_rmdir(dir);
	DONE();
}
