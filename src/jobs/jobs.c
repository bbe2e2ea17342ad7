/* Asynchronous jobs: the registry, the job threads, the journal (jobs.h). */
#include "dbbackupd/jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "dbbackupd/log.h"
#include "dbbackupd/progress.h"

struct job {
	char id[DBB_JOB_ID_LEN + 1];
	unsigned long seq; /* submission order: queued jobs start in it */
	enum dbb_job_kind kind;
	char kind_name[24]; /* as journalled (a later version's kind survives) */
	char target[64];
	char file[256];
	char subject[128];
	char role[16];
	enum dbb_role required;
	enum dbb_job_state state;
	time_t created, started, finished; /* 0: not yet */
	struct dbb_progress progress;      /* live while unfinished */
	char phase[32];                    /* the last phase, once finished */
	uint64_t bytes_done, bytes_total;  /* once finished */
	double rate;                       /* once finished */
	unsigned status;                   /* the answer's HTTP status, once finished */
	json_t *result;                    /* the answer's body, once finished */
	/* the work, until it ran */
	dbb_job_fn run;
	void (*free_arg)(void *arg);
	void *arg;
	struct dbb_jobs *reg;
};

struct dbb_jobs {
	pthread_mutex_t mu;
	pthread_cond_t changed; /* a job changed state; a slot freed; stop */
	struct job **v;         /* oldest first */
	size_t n, cap;
	unsigned max_running, running, threads;
	unsigned long seq, version;
	bool stopping;
	unsigned log_interval_s;
	char journal[4096];
};

static const char *const kind_names[DBB_JOB_KIND_COUNT] = {"create", "restore", "restore-upload",
                                                           "delete", "prune",   "verify"};
static const char *const state_names[] = {"queued", "running", "succeeded", "failed", "cancelled"};

const char *dbb_job_kind_name(enum dbb_job_kind k)
{
	return k < DBB_JOB_KIND_COUNT ? kind_names[k] : "unknown";
}

const char *dbb_job_state_name(enum dbb_job_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s]
	                                                                  : "unknown";
}

static bool unfinished(const struct job *jb)
{
	return jb->state == DBB_JOB_QUEUED || jb->state == DBB_JOB_RUNNING;
}

static void iso8601(time_t t, char *out, size_t cap)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *time_json(time_t t)
{
	char buf[32];
	if (!t)
		return json_null();
	iso8601(t, buf, sizeof(buf));
	return json_string(buf);
}

static time_t time_parse(const json_t *v)
{
	struct tm tm;
	const char *s = json_string_value(v);
	memset(&tm, 0, sizeof(tm));
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return 0;
	return timegm(&tm);
}

static void job_free(struct job *jb)
{
	if (!jb)
		return;
	if (jb->free_arg)
		jb->free_arg(jb->arg);
	json_decref(jb->result);
	free(jb);
}

/* The job's JSON; lock held. */
static json_t *job_json(const struct job *jb)
{
	struct dbb_progress_view pv = {0};
	if (unfinished(jb)) {
		dbb_progress_read(&jb->progress, &pv);
		if (jb->state == DBB_JOB_QUEUED)
			pv.phase = "queued", pv.rate = 0, pv.eta_seconds = -1;
	} else {
		pv = (struct dbb_progress_view){jb->phase, jb->bytes_done, jb->bytes_total,
		                                jb->rate, -1};
	}
	char url[64];
	snprintf(url, sizeof(url), "/jobs/%s", jb->id);
	json_t *o = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s?, s:I, s:o, s:I, s:o}", "id", jb->id, "status_url", url,
	    "kind", jb->kind_name, "target", jb->target, "state", dbb_job_state_name(jb->state),
	    "phase", pv.phase && pv.phase[0] ? pv.phase : NULL, "bytes_done",
	    (json_int_t)pv.bytes_done, "bytes_total",
	    pv.bytes_total ? json_integer((json_int_t)pv.bytes_total) : json_null(),
	    "rate_bytes_per_second", (json_int_t)(pv.rate + 0.5), "eta_seconds",
	    pv.eta_seconds >= 0 ? json_integer((json_int_t)(pv.eta_seconds + 0.5)) : json_null());
	if (!o)
		return NULL;
	json_object_set_new(o, "file", jb->file[0] ? json_string(jb->file) : json_null());
	json_object_set_new(o, "created_at", time_json(jb->created));
	json_object_set_new(o, "started_at", time_json(jb->started));
	json_object_set_new(o, "finished_at", time_json(jb->finished));
	json_object_set_new(o, "started_by",
	                    json_pack("{s:s, s:s}", "subject", jb->subject, "role", jb->role));
	json_object_set_new(o, "required_role", json_string(dbb_role_name(jb->required)));
	json_object_set_new(o, "http_status", jb->status ? json_integer(jb->status) : json_null());
	json_object_set_new(o, "result", jb->result ? json_incref(jb->result) : json_null());
	return o;
}

/* ---- the journal ---- */

/* Lock held. Written to a temporary beside it, fsynced, renamed. */
static void journal_write(struct dbb_jobs *j)
{
	if (!j->journal[0])
		return;
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < j->n; i++)
		json_array_append_new(arr, job_json(j->v[i]));
	json_t *doc = json_pack("{s:i, s:o}", "version", 1, "jobs", arr);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!text) {
		dbb_warn("jobs journal %s not written: out of memory", j->journal);
		return;
	}
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", j->journal);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t len = strlen(text), off = 0;
	bool ok = fd >= 0;
	while (ok && off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		ok = w > 0;
		off += ok ? (size_t)w : 0;
	}
	ok = ok && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	ok = ok && rename(tmp, j->journal) == 0;
	if (!ok) {
		dbb_warn("jobs journal %s not written: %s", j->journal, strerror(errno));
		unlink(tmp);
	}
	free(text);
}

static void copy_str(char *dst, size_t cap, const json_t *v)
{
	const char *s = json_string_value(v);
	snprintf(dst, cap, "%s", s ? s : "");
}

/* A job of the journal: finished (or interrupted: failed now). */
static struct job *job_from_json(const json_t *o)
{
	const char *id = json_string_value(json_object_get(o, "id"));
	const char *state = json_string_value(json_object_get(o, "state"));
	if (!id || strlen(id) != DBB_JOB_ID_LEN ||
	    strspn(id, "0123456789abcdef") != DBB_JOB_ID_LEN || !state)
		return NULL;
	struct job *jb = calloc(1, sizeof(*jb));
	if (!jb)
		return NULL;
	memcpy(jb->id, id, DBB_JOB_ID_LEN + 1);
	copy_str(jb->kind_name, sizeof(jb->kind_name), json_object_get(o, "kind"));
	jb->kind = DBB_JOB_KIND_COUNT;
	for (int k = 0; k < DBB_JOB_KIND_COUNT; k++)
		if (strcmp(jb->kind_name, kind_names[k]) == 0)
			jb->kind = (enum dbb_job_kind)k;
	copy_str(jb->target, sizeof(jb->target), json_object_get(o, "target"));
	copy_str(jb->file, sizeof(jb->file), json_object_get(o, "file"));
	json_t *by = json_object_get(o, "started_by");
	copy_str(jb->subject, sizeof(jb->subject), json_object_get(by, "subject"));
	copy_str(jb->role, sizeof(jb->role), json_object_get(by, "role"));
	jb->required = dbb_role_parse(json_string_value(json_object_get(o, "required_role")));
	if (jb->required == DBB_ROLE_NONE)
		jb->required = DBB_ROLE_ADMIN;
	copy_str(jb->phase, sizeof(jb->phase), json_object_get(o, "phase"));
	jb->bytes_done = (uint64_t)json_integer_value(json_object_get(o, "bytes_done"));
	jb->bytes_total = (uint64_t)json_integer_value(json_object_get(o, "bytes_total"));
	jb->created = time_parse(json_object_get(o, "created_at"));
	jb->started = time_parse(json_object_get(o, "started_at"));
	jb->finished = time_parse(json_object_get(o, "finished_at"));
	jb->status = (unsigned)json_integer_value(json_object_get(o, "http_status"));
	json_t *res = json_object_get(o, "result");
	jb->result = json_is_object(res) ? json_incref(res) : NULL;
	jb->state = DBB_JOB_FAILED;
	for (int s = DBB_JOB_SUCCEEDED; s <= DBB_JOB_CANCELLED; s++)
		if (strcmp(state, state_names[s]) == 0)
			jb->state = (enum dbb_job_state)s;
	if (strcmp(state, "queued") == 0 || strcmp(state, "running") == 0) {
		/* the daemon stopped before it ended */
		jb->finished = time(NULL);
		jb->status = 503;
		json_decref(jb->result);
		jb->result =
		    json_pack("{s:b, s:s, s:s}", "success", 0, "error", "shutting_down", "message",
		              "interrupted: the daemon stopped before the job ended");
		dbb_warn("job %s (%s of %s) was %s when the daemon stopped: marked failed", jb->id,
		         jb->kind_name, jb->target, state);
	}
	return jb;
}

static void journal_load(struct dbb_jobs *j, unsigned history)
{
	json_error_t jerr;
	if (!j->journal[0])
		return;
	int fd = open(j->journal, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			dbb_warn("jobs journal %s not read: %s", j->journal, strerror(errno));
		return;
	}
	json_t *doc = json_loadfd(fd, 0, &jerr);
	close(fd);
	json_t *arr = json_object_get(doc, "jobs");
	if (!json_is_array(arr)) {
		dbb_warn("jobs journal %s not read (%s): starting an empty one", j->journal,
		         doc ? "no \"jobs\" array" : jerr.text);
		json_decref(doc);
		return;
	}
	size_t total = json_array_size(arr);
	size_t first = total > history ? total - history : 0;
	for (size_t i = first; i < total && j->n < j->cap; i++) {
		struct job *jb = job_from_json(json_array_get(arr, i));
		if (!jb)
			continue;
		jb->seq = ++j->seq;
		jb->reg = j;
		j->v[j->n++] = jb;
	}
	json_decref(doc);
}

dbb_code dbb_jobs_new(struct dbb_jobs **out, const struct dbb_jobs_settings *s,
                      struct dbb_error *err)
{
	*out = NULL;
	struct dbb_jobs *j = calloc(1, sizeof(*j));
	unsigned history = s->history ? s->history : 1;
	if (j)
		j->v = calloc(history, sizeof(*j->v));
	if (!j || !j->v) {
		free(j);
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	}
	j->cap = history;
	j->max_running = s->max_running ? s->max_running : 1;
	j->log_interval_s = s->log_interval_s;
	if (s->journal_path && strlen(s->journal_path) >= sizeof(j->journal) - 8) {
		free(j->v);
		free(j);
		return dbb_fail(err, DBB_ERR_CONFIG, "JOBS_JOURNAL is too long");
	}
	snprintf(j->journal, sizeof(j->journal), "%s", s->journal_path ? s->journal_path : "");
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->changed, NULL);
	journal_load(j, history);
	/* rewritten with the interrupted jobs failed; a daemon that never ran
	 * a job writes no journal (an empty backups directory stays empty) */
	pthread_mutex_lock(&j->mu);
	if (j->n > 0)
		journal_write(j);
	pthread_mutex_unlock(&j->mu);
	*out = j;
	return DBB_OK;
}

void dbb_jobs_stop(struct dbb_jobs *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	j->stopping = true;
	for (size_t i = 0; i < j->n; i++)
		if (unfinished(j->v[i])) {
			dbb_info("job %s (%s of %s) cancelled: the daemon stops", j->v[i]->id,
			         j->v[i]->kind_name, j->v[i]->target);
			dbb_progress_cancel(&j->v[i]->progress);
		}
	j->version++;
	pthread_cond_broadcast(&j->changed);
	pthread_mutex_unlock(&j->mu);
}

void dbb_jobs_free(struct dbb_jobs *j)
{
	if (!j)
		return;
	dbb_jobs_stop(j);
	pthread_mutex_lock(&j->mu);
	while (j->threads > 0)
		pthread_cond_wait(&j->changed, &j->mu);
	if (j->n > 0)
		journal_write(j);
	pthread_mutex_unlock(&j->mu);
	for (size_t i = 0; i < j->n; i++)
		job_free(j->v[i]);
	free(j->v);
	pthread_cond_destroy(&j->changed);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

unsigned dbb_jobs_active(struct dbb_jobs *j)
{
	if (!j)
		return 0;
	pthread_mutex_lock(&j->mu);
	unsigned n = j->threads;
	pthread_mutex_unlock(&j->mu);
	return n;
}

/* The oldest queued job is jb: lock held. */
static bool first_in_line(const struct dbb_jobs *j, const struct job *jb)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->v[i]->state == DBB_JOB_QUEUED && j->v[i]->seq < jb->seq)
			return false;
	return true;
}

/* Lock held: the job ends (its thread touches it no more after this). */
static void job_end(struct dbb_jobs *j, struct job *jb, unsigned status, json_t *result)
{
	struct dbb_progress_view pv;
	dbb_progress_read(&jb->progress, &pv);
	snprintf(jb->phase, sizeof(jb->phase), "%s", pv.phase ? pv.phase : "");
	jb->bytes_done = pv.bytes_done;
	jb->bytes_total = pv.bytes_total;
	jb->rate = pv.rate;
	jb->status = status;
	jb->result = result;
	jb->finished = time(NULL);
	if (dbb_progress_is_cancelled(&jb->progress) && status >= 400)
		jb->state = DBB_JOB_CANCELLED;
	else
		jb->state = status < 400 ? DBB_JOB_SUCCEEDED : DBB_JOB_FAILED;
	dbb_info("job %s (%s of %s%s%s) %s: HTTP %u", jb->id, jb->kind_name, jb->target,
	         jb->file[0] ? ", " : "", jb->file, dbb_job_state_name(jb->state), status);
	j->version++;
	journal_write(j);
	pthread_cond_broadcast(&j->changed);
}

static json_t *cancelled_before_start(void)
{
	return json_pack("{s:b, s:s, s:s}", "success", 0, "error", "cancelled", "message",
	                 "the job was cancelled before it started; nothing was done");
}

static void *job_thread(void *arg)
{
	struct job *jb = arg;
	struct dbb_jobs *j = jb->reg;
	pthread_mutex_lock(&j->mu);
	while (!dbb_progress_is_cancelled(&jb->progress) &&
	       (j->running >= j->max_running || !first_in_line(j, jb)))
		pthread_cond_wait(&j->changed, &j->mu);
	if (dbb_progress_is_cancelled(&jb->progress)) {
		/* what it holds (an upload's spooled file) goes now */
		void (*free_arg)(void *) = jb->free_arg;
		void *a = jb->arg;
		jb->free_arg = NULL;
		jb->arg = NULL;
		pthread_mutex_unlock(&j->mu);
		if (free_arg)
			free_arg(a);
		pthread_mutex_lock(&j->mu);
		job_end(j, jb, 409, cancelled_before_start());
		goto out;
	}
	j->running++;
	jb->state = DBB_JOB_RUNNING;
	jb->started = time(NULL);
	j->version++;
	journal_write(j);
	pthread_mutex_unlock(&j->mu);

	json_t *result = NULL;
	dbb_progress_bind(&jb->progress);
	unsigned status = jb->run(jb->arg, &result);
	dbb_progress_bind(NULL);
	if (jb->free_arg)
		jb->free_arg(jb->arg);
	jb->free_arg = NULL;
	jb->arg = NULL;
	if (!result)
		result = json_pack("{s:b, s:s, s:s}", "success", 0, "error", "internal_error",
		                   "message", "out of memory");

	pthread_mutex_lock(&j->mu);
	j->running--;
	job_end(j, jb, status, result);
out:
	j->threads--;
	pthread_cond_broadcast(&j->changed);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

static void random_id(char id[DBB_JOB_ID_LEN + 1])
{
	unsigned char b[DBB_JOB_ID_LEN / 2];
	static const char hex[] = "0123456789abcdef";
	size_t got = 0;
	while (got < sizeof(b)) {
		ssize_t r = getrandom(b + got, sizeof(b) - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got < sizeof(b)) { /* no kernel randomness: time and a counter */
		static _Atomic unsigned long n;
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		unsigned long v[2] = {(unsigned long)t.tv_nsec ^ (unsigned long)t.tv_sec << 20,
		                      ++n};
		memcpy(b, v, sizeof(b) < sizeof(v) ? sizeof(b) : sizeof(v));
	}
	for (size_t i = 0; i < sizeof(b); i++) {
		id[2 * i] = hex[b[i] >> 4];
		id[2 * i + 1] = hex[b[i] & 15];
	}
	id[DBB_JOB_ID_LEN] = '\0';
}

/* Lock held: makes room for one more (drops the oldest finished job). */
static bool make_room(struct dbb_jobs *j)
{
	if (j->n < j->cap)
		return true;
	for (size_t i = 0; i < j->n; i++) {
		if (unfinished(j->v[i]))
			continue;
		job_free(j->v[i]);
		memmove(&j->v[i], &j->v[i + 1], (j->n - i - 1) * sizeof(*j->v));
		j->n--;
		return true;
	}
	return false;
}

dbb_code dbb_jobs_submit(struct dbb_jobs *j, const struct dbb_job_spec *spec,
                         char id[DBB_JOB_ID_LEN + 1], struct dbb_error *err)
{
	struct job *jb = calloc(1, sizeof(*jb));
	if (!jb) {
		if (spec->free_arg)
			spec->free_arg(spec->arg);
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	}
	random_id(jb->id);
	jb->kind = spec->kind;
	snprintf(jb->kind_name, sizeof(jb->kind_name), "%s", dbb_job_kind_name(spec->kind));
	snprintf(jb->target, sizeof(jb->target), "%s", spec->target ? spec->target : "");
	snprintf(jb->file, sizeof(jb->file), "%s", spec->file ? spec->file : "");
	for (char *c = jb->file; *c; c++) /* a client's words: printable ASCII only */
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	snprintf(jb->subject, sizeof(jb->subject), "%s", spec->subject ? spec->subject : "");
	snprintf(jb->role, sizeof(jb->role), "%s", dbb_role_name(spec->role));
	jb->required = spec->required;
	jb->run = spec->run;
	jb->free_arg = spec->free_arg;
	jb->arg = spec->arg;
	jb->reg = j;
	jb->state = DBB_JOB_QUEUED;
	jb->created = time(NULL);
	char label[96];
	snprintf(label, sizeof(label), "job %.8s (%.16s of %.40s)", jb->id, jb->kind_name,
	         jb->target);
	dbb_progress_init(&jb->progress, label, j->log_interval_s);
	jb->progress.wants_totals = true;

	dbb_code rc = DBB_OK;
	pthread_mutex_lock(&j->mu);
	if (j->stopping)
		rc = dbb_fail(err, DBB_ERR_SHUTTING_DOWN,
		              "the daemon is shutting down; try again when it is back");
	else if (!make_room(j))
		rc = dbb_fail(err, DBB_ERR_BUSY,
		              "%zu jobs are queued or running, as many as the history keeps; try "
		              "again when one has ended",
		              j->n);
	if (!rc) {
		pthread_attr_t at;
		pthread_t th;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		jb->seq = ++j->seq;
		j->v[j->n++] = jb;
		j->threads++;
		if (pthread_create(&th, &at, job_thread, jb) != 0) {
			j->threads--;
			j->n--;
			rc = dbb_fail(err, DBB_ERR_INTERNAL, "cannot start a thread for the job");
		}
		pthread_attr_destroy(&at);
	}
	if (!rc) {
		memcpy(id, jb->id, DBB_JOB_ID_LEN + 1);
		dbb_info("job %s (%s of %s%s%s) queued by %s", jb->id, jb->kind_name, jb->target,
		         jb->file[0] ? ", " : "", jb->file, jb->subject);
		j->version++;
		journal_write(j);
	}
	pthread_mutex_unlock(&j->mu);
	if (rc)
		job_free(jb);
	return rc;
}

/* Lock held. */
static struct job *find(struct dbb_jobs *j, const char *id, dbb_job_visible_fn visible, void *cls)
{
	for (size_t i = 0; id && i < j->n; i++)
		if (strcmp(j->v[i]->id, id) == 0)
			return visible(cls, j->v[i]->target, j->v[i]->required) ? j->v[i] : NULL;
	return NULL;
}

static dbb_code unknown(struct dbb_error *err, const char *id)
{
	return dbb_fail(
	    err, DBB_ERR_UNKNOWN_JOB,
	    "no job %.40s%s (GET /jobs lists the recent ones you may see)",
	    id && strlen(id) <= 40 && strspn(id, "0123456789abcdef") == strlen(id) ? id : "", "");
}

json_t *dbb_jobs_list_json(struct dbb_jobs *j, dbb_job_visible_fn visible, void *cls)
{
	json_t *arr = json_array();
	pthread_mutex_lock(&j->mu);
	for (size_t i = j->n; arr && i-- > 0;)
		if (visible(cls, j->v[i]->target, j->v[i]->required))
			json_array_append_new(arr, job_json(j->v[i]));
	pthread_mutex_unlock(&j->mu);
	return arr;
}

dbb_code dbb_jobs_get_json(struct dbb_jobs *j, const char *id, dbb_job_visible_fn visible,
                           void *cls, json_t **out, unsigned long *version, struct dbb_error *err)
{
	*out = NULL;
	pthread_mutex_lock(&j->mu);
	struct job *jb = find(j, id, visible, cls);
	if (jb)
		*out = job_json(jb);
	if (version)
		*version = j->version;
	pthread_mutex_unlock(&j->mu);
	if (!jb)
		return unknown(err, id);
	return *out ? DBB_OK : dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
}

dbb_code dbb_jobs_cancel(struct dbb_jobs *j, const char *id, dbb_job_visible_fn visible, void *cls,
                         json_t **out, struct dbb_error *err)
{
	dbb_code rc = DBB_OK;
	if (out)
		*out = NULL;
	pthread_mutex_lock(&j->mu);
	struct job *jb = find(j, id, visible, cls);
	if (!jb) {
		rc = unknown(err, id);
	} else if (!unfinished(jb)) {
		rc = dbb_fail(err, DBB_ERR_JOB_FINISHED, "job %s has already ended (%s)", jb->id,
		              dbb_job_state_name(jb->state));
	} else {
		dbb_info("job %s (%s of %s) cancel requested", jb->id, jb->kind_name, jb->target);
		dbb_progress_cancel(&jb->progress);
		j->version++;
		pthread_cond_broadcast(&j->changed);
		if (out)
			*out = job_json(jb);
	}
	pthread_mutex_unlock(&j->mu);
	return rc;
}

void dbb_jobs_wait(struct dbb_jobs *j, unsigned long version, unsigned timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&j->mu);
	while (j->version == version && !j->stopping)
		if (pthread_cond_timedwait(&j->changed, &j->mu, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&j->mu);
}
