/* The observer ops reports every backup and restore to, the one that
 * records them as metrics, and the backup hook (offsite copies). */
#include <string.h>
#include <time.h>

#include "ops/internal.h"

void dbb_ops_set_observer(struct dbb_ops *ops, const struct dbb_ops_observer *obs)
{
	if (obs)
		ops->observer = *obs;
	else
		memset(&ops->observer, 0, sizeof(ops->observer));
}

void dbb_ops_set_backup_hook(struct dbb_ops *ops, dbb_ops_backup_hook fn, void *cls)
{
	ops->backup_hook = fn;
	ops->backup_hook_cls = fn ? cls : NULL;
}

void dbb_ops_watch_begin(struct dbb_ops *ops, struct dbb_ops_watch *w, enum dbb_metric_op kind)
{
	w->kind = kind;
	clock_gettime(CLOCK_MONOTONIC, &w->t0);
	if (ops->observer.started)
		ops->observer.started(ops->observer.cls, kind);
}

double dbb_ops_watch_end(struct dbb_ops *ops, const struct dbb_ops_watch *w, dbb_code rc,
                         uint64_t bytes, uint64_t upload_bytes)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	struct dbb_ops_report r = {
	    .kind = w->kind,
	    .rc = rc,
	    .seconds =
	        (double)(t1.tv_sec - w->t0.tv_sec) + (double)(t1.tv_nsec - w->t0.tv_nsec) / 1e9,
	    .bytes = bytes,
	    .upload_bytes = upload_bytes,
	};
	if (ops->observer.finished)
		ops->observer.finished(ops->observer.cls, &r);
	return r.seconds;
}

/* ---- the metrics observer ---- */

static void metrics_started(void *cls, enum dbb_metric_op kind)
{
	dbb_metrics_running(cls, kind, 1);
}

static void metrics_finished(void *cls, const struct dbb_ops_report *r)
{
	struct dbb_metrics_target *m = cls;
	dbb_metrics_running(m, r->kind, -1);
	dbb_metrics_operation(m, r->kind, r->rc, r->seconds);
	if (r->upload_bytes)
		dbb_metrics_bytes(m, DBB_BYTES_UPLOAD_RECEIVED, r->upload_bytes);
	if (r->rc != DBB_OK)
		return;
	if (r->kind == DBB_METRIC_BACKUP) {
		dbb_metrics_bytes(m, DBB_BYTES_BACKUP_WRITTEN, r->bytes);
		dbb_metrics_backup_succeeded(m, time(NULL));
		dbb_metrics_last_backup(m, r->bytes, r->seconds);
	} else {
		dbb_metrics_bytes(m, DBB_BYTES_RESTORE_READ, r->bytes);
	}
}

void dbb_ops_observe_metrics(struct dbb_ops *ops, struct dbb_metrics_target *m)
{
	struct dbb_ops_observer obs = {
	    .cls = m,
	    .started = metrics_started,
	    .finished = metrics_finished,
	};
	dbb_ops_set_observer(ops, m ? &obs : NULL);
}
