/* POST /backup/prune[?dry_run=true]: retention now (admin), or what it
 * would do (operator), in the shape of restic's `forget --dry-run --json`. */
#include <stdio.h>

#include "dbbackupd/progress.h"
#include "dbbackupd/scheduler.h"
#include "http/internal.h"

static json_t *entry_json(const struct dbb_prune_entry *e)
{
	static const char *const names[DBB_BUCKET_COUNT] = {"last",   "hourly",  "daily",
	                                                    "weekly", "monthly", "yearly"};
	char at[32];
	struct tm tm;
	gmtime_r(&e->created_at, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_t *o = json_pack("{s:s, s:s, s:b, s:b}", "file", e->name, "time", at, "safety",
	                      e->safety, "validated", e->validated);
	if (!o || !e->keep)
		return o;
	json_t *matches = json_array(), *why = json_array(), *counters = json_object();
	for (size_t i = 0; i < e->nmatches; i++) {
		json_array_append_new(matches, json_string(e->matches[i]));
		json_array_append_new(why, json_string(e->why[i]));
	}
	for (int b = 0; b < DBB_BUCKET_COUNT; b++)
		if (e->counters[b])
			json_object_set_new(counters, names[b], json_integer(e->counters[b]));
	json_object_set_new(o, "matches", matches);
	json_object_set_new(o, "reasons", why);
	json_object_set_new(o, "counters", counters);
	return o;
}

/* issue 18: the store's objects (OFFSITE_RETENTION); null when offsite
 * copies are off or OFFSITE_RETENTION=none */
static json_t *remote_json(const struct dbb_prune_remote *r, bool dry_run)
{
	if (!r->on)
		return json_null();
	json_t *keep = json_array(), *remove = json_array();
	size_t deleted = 0;
	for (size_t i = 0; i < r->count; i++) {
		const struct dbb_prune_entry *e = &r->entries[i];
		json_array_append_new(e->keep ? keep : remove, entry_json(e));
		deleted += e->deleted;
	}
	json_t *o =
	    json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:b, s:b}", "keep", keep, "remove", remove,
	              "kept", (json_int_t)r->kept, "removed", (json_int_t)deleted, "would_remove",
	              (json_int_t)(dry_run ? r->removed : 0), "failed", (json_int_t)r->failed,
	              "held_back", r->held_back, "policy_empty", r->policy_empty);
	if (o)
		json_object_set_new(o, "error", r->rc ? dbb_json_text(r->error) : json_null());
	return o;
}

static json_t *result_json(const struct dbb_prune_result *r, bool dry_run)
{
	json_t *keep = json_array(), *remove = json_array();
	size_t deleted = 0;
	for (size_t i = 0; i < r->count; i++) {
		const struct dbb_prune_entry *e = &r->entries[i];
		json_array_append_new(e->keep ? keep : remove, entry_json(e));
		deleted += e->deleted;
	}
	json_t *o = json_pack("{s:b, s:b, s:o, s:o, s:I, s:I, s:I, s:b, s:b}", "success", 1,
	                      "dry_run", dry_run, "keep", keep, "remove", remove, "kept",
	                      (json_int_t)r->kept, "removed", (json_int_t)(dry_run ? 0 : deleted),
	                      "would_remove", (json_int_t)(dry_run ? r->removed : 0), "held_back",
	                      r->held_back, "policy_empty", r->policy_empty);
	if (o)
		json_object_set_new(o, "remote", remote_json(&r->remote, dry_run));
	return o;
}

struct prune_args {
	struct dbb_scheduler *s;
	bool dry_run;
};

/* On the request's thread, or a job's (?async=true, handler/jobs.c). */
static void prune_run(void *arg, struct dbb_outcome *o)
{
	struct prune_args *a = arg;
	struct dbb_prune_result res = {0};
	dbb_progress_phase("pruning", 0);
	o->rc = dbb_scheduler_prune(a->s, a->dry_run, &res, &o->err);
	if (!o->rc)
		o->body = result_json(&res, a->dry_run);
	dbb_prune_result_free(&res);
}

enum MHD_Result dbb_handle_prune(struct dbb_request *req)
{
	struct dbb_error err = {0};
	/* the request's target's retention (docs/targets.md) */
	struct dbb_scheduler *s = atomic_load(&req->tgt->sched);
	bool dry_run = false;
	if (dbb_query_bool(req, "dry_run", false, &dry_run, &err))
		return dbb_reply_err(req, &err);
	if (!dry_run && dbb_principal_role(&req->who, req->tgt->cfg->name) < DBB_ROLE_ADMIN) {
		dbb_metrics_auth_failure(req->srv->metrics, DBB_AUTHFAIL_FORBIDDEN);
		return dbb_reply_error(
		    req, DBB_ERR_FORBIDDEN,
		    "the admin role is needed to prune backups (dry_run=true needs operator)",
		    json_pack("{s:s}", "required_role", "admin"));
	}
	if (!s)
		return dbb_reply_error(req, DBB_ERR_SHUTTING_DOWN, "the scheduler is not running",
		                       NULL);
	struct prune_args a = {s, dry_run};
	return dbb_run_or_start(req, DBB_JOB_PRUNE, NULL,
	                        dry_run ? DBB_ROLE_OPERATOR : DBB_ROLE_ADMIN, prune_run, &a,
	                        sizeof(a), NULL);
}
