/* Asynchronous jobs (issue 20): a mutating operation started with
 * ?async=true runs on a thread of its own; its state, phase, bytes and, at
 * the end, the answer the synchronous call would have given are kept in a
 * bounded registry of recent jobs, persisted in a small journal.
 *
 * Ownership: a job belongs to the registry. Its thread touches it only
 * while it is unfinished, and only finished jobs are evicted (the oldest
 * first) when the history is full, so nothing outside the registry ever
 * holds a pointer to one: readers get JSON snapshots under its lock. */
#ifndef DBBACKUPD_JOBS_H
#define DBBACKUPD_JOBS_H

#include <stdbool.h>

#include <jansson.h>

#include "dbbackupd/auth.h"
#include "dbbackupd/error.h"

#define DBB_JOB_ID_LEN 32 /* hex digits */

enum dbb_job_kind {
	DBB_JOB_CREATE,
	DBB_JOB_RESTORE,
	DBB_JOB_RESTORE_UPLOAD,
	DBB_JOB_DELETE,
	DBB_JOB_PRUNE,
	DBB_JOB_VERIFY,
	DBB_JOB_KIND_COUNT
};
const char *dbb_job_kind_name(enum dbb_job_kind k);

enum dbb_job_state {
	DBB_JOB_QUEUED,
	DBB_JOB_RUNNING,
	DBB_JOB_SUCCEEDED,
	DBB_JOB_FAILED,
	DBB_JOB_CANCELLED
};
const char *dbb_job_state_name(enum dbb_job_state s);

/* The work: runs on the job's thread with the job's progress bound
 * (progress.h); *result gets the body the synchronous call would answer
 * (taken by the job), and the return value its HTTP status. */
typedef unsigned (*dbb_job_fn)(void *arg, json_t **result);

struct dbb_job_spec {
	enum dbb_job_kind kind;
	const char *target;     /* the target's name */
	const char *file;       /* the file it is about; NULL or "" when none */
	const char *subject;    /* who started it */
	enum dbb_role role;     /* the starter's role for the target */
	enum dbb_role required; /* the least role that sees and cancels it */
	dbb_job_fn run;
	void (*free_arg)(void *arg); /* after run, or when the job never runs; may be NULL */
	void *arg;
};

struct dbb_jobs_settings {
	const char *journal_path; /* "" or NULL: no journal */
	unsigned max_running;     /* JOBS_MAX_RUNNING (at least 1) */
	unsigned history;         /* jobs kept, finished or not (at least 1) */
	unsigned log_interval_s;  /* PROGRESS_LOG_INTERVAL (0: no progress lines) */
};

struct dbb_jobs;

/* Reads the journal (a missing one is fine; an unreadable one is logged and
 * replaced): jobs it names as queued or running were interrupted and are
 * failed now, and the journal is rewritten. */
dbb_code dbb_jobs_new(struct dbb_jobs **out, const struct dbb_jobs_settings *s,
                      struct dbb_error *err);
/* Cancels every unfinished job, waits for their threads, writes the
 * journal, frees. NULL is fine. */
void dbb_jobs_free(struct dbb_jobs *j);
/* Shutdown begins: new jobs are refused (DBB_ERR_SHUTTING_DOWN) and the
 * unfinished ones cancelled; returns at once. */
void dbb_jobs_stop(struct dbb_jobs *j);
/* Jobs queued or running. */
unsigned dbb_jobs_active(struct dbb_jobs *j);

/* Queues a job; id gets its id. On failure (shutting down; the history full
 * of unfinished jobs: DBB_ERR_BUSY) spec->free_arg(spec->arg) has run. */
dbb_code dbb_jobs_submit(struct dbb_jobs *j, const struct dbb_job_spec *spec,
                         char id[DBB_JOB_ID_LEN + 1], struct dbb_error *err);

/* Who asks: sees (and may cancel) a job of target when its role for that
 * target is at least the job's required role. */
typedef bool (*dbb_job_visible_fn)(void *cls, const char *target, enum dbb_role required);

/* The visible jobs, newest first: a JSON array. */
json_t *dbb_jobs_list_json(struct dbb_jobs *j, dbb_job_visible_fn visible, void *cls);
/* One job (DBB_ERR_UNKNOWN_JOB when absent or not visible); *version
 * (optional) changes whenever the job does (state, phase, bytes). */
dbb_code dbb_jobs_get_json(struct dbb_jobs *j, const char *id, dbb_job_visible_fn visible,
                           void *cls, json_t **out, unsigned long *version, struct dbb_error *err);
/* Cancels a queued or running job (DBB_ERR_JOB_FINISHED when it ended,
 * DBB_ERR_UNKNOWN_JOB as above); *out (optional) its JSON after. */
dbb_code dbb_jobs_cancel(struct dbb_jobs *j, const char *id, dbb_job_visible_fn visible, void *cls,
                         json_t **out, struct dbb_error *err);
/* Waits up to timeout_ms for the registry to change after version (for
 * GET /jobs/{id}/events); returns at once when shutting down. */
void dbb_jobs_wait(struct dbb_jobs *j, unsigned long version, unsigned timeout_ms);

#endif
