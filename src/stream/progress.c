/* Progress of a long operation and its cancellation (progress.h). */
#include "dbbackupd/progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dbbackupd/log.h"

static _Thread_local struct dbb_progress *bound;

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

void dbb_progress_init(struct dbb_progress *p, const char *label, unsigned log_interval_s)
{
	int64_t t = now_ns();
	atomic_init(&p->phase, "");
	atomic_init(&p->bytes_done, 0);
	atomic_init(&p->bytes_total, 0);
	atomic_init(&p->phase_start_ns, t);
	atomic_init(&p->last_log_ns, t);
	atomic_init(&p->cancel, false);
	p->log_interval_s = log_interval_s;
	p->wants_totals = false;
	snprintf(p->label, sizeof(p->label), "%s", label ? label : "operation");
}

struct dbb_progress *dbb_progress_bind(struct dbb_progress *p)
{
	struct dbb_progress *old = bound;
	bound = p;
	return old;
}

struct dbb_progress *dbb_progress_current(void)
{
	return bound;
}

bool dbb_progress_wants_totals(void)
{
	return bound && bound->wants_totals;
}

void dbb_progress_phase(const char *phase, uint64_t total)
{
	struct dbb_progress *p = bound;
	if (!p)
		return;
	atomic_store(&p->bytes_done, 0);
	atomic_store(&p->bytes_total, total);
	atomic_store(&p->phase_start_ns, now_ns());
	atomic_store(&p->phase, phase);
	if (p->log_interval_s)
		dbb_debug("%s: phase %s", p->label, phase);
}

void dbb_progress_read(const struct dbb_progress *p, struct dbb_progress_view *out)
{
	out->phase = atomic_load(&p->phase);
	out->bytes_done = atomic_load(&p->bytes_done);
	out->bytes_total = atomic_load(&p->bytes_total);
	double secs = (double)(now_ns() - atomic_load(&p->phase_start_ns)) / 1e9;
	out->rate = secs > 0 ? (double)out->bytes_done / secs : 0;
	out->eta_seconds = -1;
	if (out->bytes_total && out->rate > 0 && out->bytes_done <= out->bytes_total)
		out->eta_seconds = (double)(out->bytes_total - out->bytes_done) / out->rate;
}

static void maybe_log(struct dbb_progress *p)
{
	int64_t t = now_ns(), last = atomic_load(&p->last_log_ns);
	if (t - last < (int64_t)p->log_interval_s * 1000000000)
		return;
	if (!atomic_compare_exchange_strong(&p->last_log_ns, &last, t))
		return; /* another thread logs this one */
	struct dbb_progress_view v;
	dbb_progress_read(p, &v);
	char total[48] = "";
	if (v.bytes_total)
		snprintf(total, sizeof(total), " of %llu", (unsigned long long)v.bytes_total);
	dbb_info("%s: %s, %llu bytes%s, %.0f bytes/s", p->label, v.phase[0] ? v.phase : "running",
	         (unsigned long long)v.bytes_done, total, v.rate);
}

void dbb_progress_add(uint64_t n)
{
	struct dbb_progress *p = bound;
	if (!p)
		return;
	atomic_fetch_add(&p->bytes_done, n);
	if (p->log_interval_s)
		maybe_log(p);
}

bool dbb_progress_cancelled(void)
{
	return bound && atomic_load(&bound->cancel);
}

void dbb_progress_cancel(struct dbb_progress *p)
{
	atomic_store(&p->cancel, true);
}

bool dbb_progress_is_cancelled(const struct dbb_progress *p)
{
	return atomic_load(&p->cancel);
}

static dbb_code cancelled(struct dbb_error *err)
{
	return dbb_fail(err, DBB_ERR_CANCELLED, "the job was cancelled");
}

static dbb_code source_read(struct dbb_source *self, void *buf, size_t cap, size_t *got,
                            struct dbb_error *err)
{
	struct dbb_progress_source *s = (struct dbb_progress_source *)self;
	if (s->p && atomic_load(&s->p->cancel))
		return cancelled(err);
	dbb_code rc = dbb_source_read(s->next, buf, cap, got, err);
	if (!rc && s->p && *got) {
		atomic_fetch_add(&s->p->bytes_done, *got);
		if (s->p->log_interval_s)
			maybe_log(s->p);
	}
	return rc;
}

void dbb_progress_source_init(struct dbb_progress_source *s, struct dbb_source *next)
{
	memset(s, 0, sizeof(*s));
	s->base.read = source_read;
	s->next = next;
	s->p = bound;
}

static dbb_code sink_write(struct dbb_sink *self, const void *buf, size_t len,
                           struct dbb_error *err)
{
	struct dbb_progress_sink *s = (struct dbb_progress_sink *)self;
	if (s->p && atomic_load(&s->p->cancel))
		return cancelled(err);
	dbb_code rc = dbb_sink_write(s->next, buf, len, err);
	if (!rc && s->p) {
		atomic_fetch_add(&s->p->bytes_done, len);
		if (s->p->log_interval_s)
			maybe_log(s->p);
	}
	return rc;
}

void dbb_progress_sink_init(struct dbb_progress_sink *s, struct dbb_sink *next)
{
	memset(s, 0, sizeof(*s));
	s->base.write = sink_write;
	s->next = next;
	s->p = bound;
}
