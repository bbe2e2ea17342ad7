/* Asynchronous jobs (issue 20): ?async=true on the mutating routes, and
 * GET /jobs, GET /jobs/{id}, GET /jobs/{id}/events, DELETE /jobs/{id}.
 *
 * Who sees a job: a token whose role for the job's target is at least the
 * role that could start it (operator for create, restore, restore-upload
 * and a dry-run prune; admin for delete and prune). A viewer may call the
 * routes and sees none of them; a job one may not see is 404 unknown_job,
 * as one that does not exist. Whoever sees a job may cancel it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbbackupd/progress.h"
#include "http/internal.h"

enum MHD_Result dbb_reply_outcome(struct dbb_request *req, struct dbb_outcome *o)
{
	if (o->audit_file[0])
		snprintf(req->audit_file, sizeof(req->audit_file), "%s", o->audit_file);
	json_t *body = o->body;
	o->body = NULL;
	if (o->rc)
		return dbb_reply_error(req, o->rc, o->err.message, body);
	return dbb_reply_json(req, 200, body);
}

bool dbb_query_async(struct dbb_request *req, bool *async, enum MHD_Result *bad_reply)
{
	struct dbb_error err = {0};
	*async = false;
	if (dbb_query_bool(req, "async", false, async, &err) == DBB_OK)
		return false;
	*bad_reply = dbb_reply_err(req, &err);
	return true;
}

/* A job's argument: the handler's operation and a copy of its argument. */
struct job_arg {
	dbb_outcome_fn fn;
	void (*free_arg)(void *arg);
	max_align_t data[]; /* the handler's argument */
};

static unsigned job_run(void *arg, json_t **result)
{
	struct job_arg *a = arg;
	struct dbb_outcome o;
	memset(&o, 0, sizeof(o));
	a->fn(a->data, &o);
	if (o.rc) {
		*result = dbb_error_body(o.rc, o.err.message, o.body);
		return dbb_code_http_status(o.rc);
	}
	*result = o.body;
	return 200;
}

static void job_arg_free(void *arg)
{
	struct job_arg *a = arg;
	if (a && a->free_arg)
		a->free_arg(a->data);
	free(a);
}

enum MHD_Result dbb_run_or_start(struct dbb_request *req, enum dbb_job_kind kind, const char *file,
                                 enum dbb_role required, dbb_outcome_fn fn, const void *arg,
                                 size_t size, void (*free_arg)(void *arg))
{
	enum MHD_Result r;
	bool async;
	if (dbb_query_async(req, &async, &r)) {
		if (free_arg)
			free_arg((void *)arg);
		return r;
	}
	if (!async) {
		struct dbb_outcome o;
		struct dbb_progress p;
		char label[96];
		memset(&o, 0, sizeof(o));
		snprintf(label, sizeof(label), "%.16s of %.40s (request %.16s)",
		         dbb_job_kind_name(kind), req->tgt ? req->tgt->cfg->name : "-",
		         req->request_id);
		dbb_progress_init(&p, label, req->srv->cfg->progress_log_interval);
		struct dbb_progress *was = dbb_progress_bind(&p);
		fn((void *)arg, &o);
		dbb_progress_bind(was);
		if (free_arg)
			free_arg((void *)arg);
		return dbb_reply_outcome(req, &o);
	}
	/* what the synchronous call refuses before it starts is refused before
	 * a job does: a backup's name that cannot be one (an upload's file is
	 * the client's own name, not a backup's) */
	if (file && kind != DBB_JOB_RESTORE_UPLOAD && !dbb_name_is_valid(file)) {
		if (free_arg)
			free_arg((void *)arg);
		return dbb_reply_error(req, DBB_ERR_INVALID_FILENAME, "invalid backup file name",
		                       NULL);
	}
	struct job_arg *a = malloc(sizeof(*a) + size);
	if (!a) {
		if (free_arg)
			free_arg((void *)arg);
		return dbb_reply_error(req, DBB_ERR_INTERNAL, "out of memory", NULL);
	}
	a->fn = fn;
	a->free_arg = free_arg;
	memcpy(a->data, arg, size);
	const char *target = req->tgt ? req->tgt->cfg->name : req->srv->targets[0].cfg->name;
	struct dbb_job_spec spec = {
	    .kind = kind,
	    .target = target,
	    .file = file,
	    .subject = req->who.subject,
	    .role = dbb_principal_role(&req->who, target),
	    .required = required,
	    .run = job_run,
	    .free_arg = job_arg_free,
	    .arg = a,
	};
	char id[DBB_JOB_ID_LEN + 1];
	struct dbb_error err = {0};
	if (dbb_jobs_submit(req->srv->jobs, &spec, id, &err))
		return dbb_reply_err(req, &err);
	snprintf(req->location, sizeof(req->location), "/jobs/%s", id);
	snprintf(req->audit_file, sizeof(req->audit_file), "%s%sjob %s", file ? file : "",
	         file ? ", " : "", id);
	return dbb_reply_json(req, 202,
	                      json_pack("{s:b, s:s, s:s, s:s}", "success", 1, "job_id", id,
	                                "status_url", req->location, "message",
	                                "started; GET status_url for its progress and result"));
}

/* ---- the /jobs routes ---- */

static bool visible(void *cls, const char *target, enum dbb_role required)
{
	const struct dbb_request *req = cls;
	return dbb_server_target_find(req->srv, target) &&
	       dbb_principal_role(&req->who, target) >= required;
}

enum MHD_Result dbb_handle_jobs(struct dbb_request *req)
{
	json_t *list = dbb_jobs_list_json(req->srv->jobs, visible, req);
	return dbb_reply_json(req, 200, json_pack("{s:b, s:o}", "success", 1, "jobs", list));
}

/* GET /jobs/{id}/events: Server-Sent Events, the job's JSON on each change
 * (looked at every second), ending when the job does. */
struct events {
	struct dbb_server *srv;
	struct dbb_request snapshot; /* who asks, for visible() */
	char id[DBB_JOB_ID_LEN + 1];
	char *pending; /* an event not yet sent whole */
	size_t len, off;
	char *last; /* the JSON last sent */
	unsigned long version;
	unsigned quiet_s; /* seconds with nothing sent */
	bool ended;
};

static void events_free(void *cls)
{
	struct events *e = cls;
	free(e->pending);
	free(e->last);
	free(e);
}

/* The next event into e->pending; false at the end of the stream. */
static bool next_event(struct events *e)
{
	for (;;) {
		if (e->ended || atomic_load(&e->srv->stopping))
			return false;
		json_t *job = NULL;
		struct dbb_error err = {0};
		unsigned long version = 0;
		if (dbb_jobs_get_json(e->srv->jobs, e->id, visible, &e->snapshot, &job, &version,
		                      &err))
			return false; /* evicted meanwhile */
		const char *state = json_string_value(json_object_get(job, "state"));
		bool over = state && strcmp(state, "queued") != 0 && strcmp(state, "running") != 0;
		char *text = json_dumps(job, JSON_COMPACT | JSON_ENSURE_ASCII);
		json_decref(job);
		if (!text)
			return false;
		if (!e->last || strcmp(text, e->last) != 0) {
			size_t n = strlen(text) + 32;
			free(e->pending);
			e->pending = malloc(n);
			if (!e->pending) {
				free(text);
				return false;
			}
			e->len = (size_t)snprintf(e->pending, n, "event: job\ndata: %s\n\n", text);
			e->off = 0;
			free(e->last);
			e->last = text;
			e->ended = over;
			e->quiet_s = 0;
			return true;
		}
		free(text);
		if (++e->quiet_s >= 15) { /* a comment keeps proxies from timing out */
			free(e->pending);
			e->pending = strdup(": still running\n\n");
			e->len = e->pending ? strlen(e->pending) : 0;
			e->off = 0;
			e->quiet_s = 0;
			return e->pending != NULL;
		}
		dbb_jobs_wait(e->srv->jobs, version, 1000);
	}
}

static ssize_t events_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct events *e = cls;
	(void)pos;
	if (e->off >= e->len && !next_event(e))
		return MHD_CONTENT_READER_END_OF_STREAM;
	size_t n = e->len - e->off < max ? e->len - e->off : max;
	memcpy(buf, e->pending + e->off, n);
	e->off += n;
	return (ssize_t)n;
}

enum MHD_Result dbb_handle_job_events(struct dbb_request *req)
{
	const char *id = req->param;
	struct dbb_error err = {0};
	json_t *job = NULL;
	if (dbb_jobs_get_json(req->srv->jobs, id, visible, req, &job, NULL, &err))
		return dbb_reply_err(req, &err);
	json_decref(job);
	struct events *e = calloc(1, sizeof(*e));
	if (!e)
		return dbb_reply_error(req, DBB_ERR_INTERNAL, "out of memory", NULL);
	e->srv = req->srv;
	e->snapshot.srv = req->srv;
	e->snapshot.who = req->who;
	snprintf(e->id, sizeof(e->id), "%s", id);
	struct MHD_Response *resp =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, events_read, e, events_free);
	if (!resp) {
		events_free(e);
		return dbb_reply_error(req, DBB_ERR_INTERNAL, "out of memory", NULL);
	}
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no"); /* nginx: pass each event on */
	return dbb_reply_queue(req, 200, resp);
}

enum MHD_Result dbb_handle_job(struct dbb_request *req)
{
	struct dbb_error err = {0};
	json_t *job = NULL;
	if (dbb_jobs_get_json(req->srv->jobs, req->param, visible, req, &job, NULL, &err))
		return dbb_reply_err(req, &err);
	json_object_set_new(job, "success", json_true());
	return dbb_reply_json(req, 200, job);
}

enum MHD_Result dbb_handle_job_cancel(struct dbb_request *req)
{
	struct dbb_error err = {0};
	json_t *job = NULL;
	if (dbb_jobs_cancel(req->srv->jobs, req->param, visible, req, &job, &err))
		return dbb_reply_err(req, &err);
	snprintf(req->audit_file, sizeof(req->audit_file), "job %.40s", req->param);
	return dbb_reply_json(req, 202,
	                      json_pack("{s:b, s:s, s:o}", "success", 1, "message",
	                                "cancellation requested; GET the job for its end", "job",
	                                job));
}
