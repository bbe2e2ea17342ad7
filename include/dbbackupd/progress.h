/* Progress of a long operation (issue 20), and its cancellation.
 *
 * A thread that runs an operation (a job's thread, or a request's) binds a
 * struct dbb_progress to itself; the operation layer reports its phase and
 * the bytes it moves through the calls below, which do nothing when no
 * progress is bound, so no signature changes. The bytes count the current
 * phase: a phase change resets bytes_done and sets bytes_total (0 when
 * unknown). A cancellation is seen by the counting layers (their next read
 * or write fails with DBB_ERR_CANCELLED) and by the child tool runner (the
 * tool is stopped). A log line (dbb_info) every log_interval_s seconds
 * while bytes move, with phase, bytes and rate. */
#ifndef DBBACKUPD_PROGRESS_H
#define DBBACKUPD_PROGRESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dbbackupd/stream.h"

struct dbb_progress {
	_Atomic(const char *) phase; /* a string literal; "" before the first */
	_Atomic uint64_t bytes_done;
	_Atomic uint64_t bytes_total;   /* 0: unknown */
	_Atomic int64_t phase_start_ns; /* CLOCK_MONOTONIC */
	_Atomic int64_t last_log_ns;
	atomic_bool cancel;
	unsigned log_interval_s; /* 0: no log lines */
	bool wants_totals;       /* a job's: worth a query for a dump's bytes_total */
	char label[96];          /* names the operation in the log lines */
};

/* A snapshot, for the jobs' JSON. */
struct dbb_progress_view {
	const char *phase;
	uint64_t bytes_done, bytes_total;
	double rate;        /* bytes per second in this phase */
	double eta_seconds; /* < 0: unknown */
};

void dbb_progress_init(struct dbb_progress *p, const char *label, unsigned log_interval_s);
/* Binds p to the calling thread (NULL unbinds); returns what was bound. */
struct dbb_progress *dbb_progress_bind(struct dbb_progress *p);
struct dbb_progress *dbb_progress_current(void);

/* The bound progress enters a phase of total bytes (0: unknown). */
void dbb_progress_phase(const char *phase, uint64_t total);
/* n more bytes of the phase. */
void dbb_progress_add(uint64_t n);
/* The bound progress is a job's, whose bytes_total is worth a query
 * (a dump's size estimate); false when none is bound. */
bool dbb_progress_wants_totals(void);
/* The bound progress was cancelled (false when none is bound). */
bool dbb_progress_cancelled(void);

/* Any thread: asks the operation to stop. */
void dbb_progress_cancel(struct dbb_progress *p);
bool dbb_progress_is_cancelled(const struct dbb_progress *p);
void dbb_progress_read(const struct dbb_progress *p, struct dbb_progress_view *out);

/* Pass-through layers that count what goes through into the bound
 * progress and fail with DBB_ERR_CANCELLED once it is cancelled. */
struct dbb_progress_source {
	struct dbb_source base;
	struct dbb_source *next;
	struct dbb_progress *p; /* bound when made; NULL: pass-through */
};
void dbb_progress_source_init(struct dbb_progress_source *s, struct dbb_source *next);
struct dbb_progress_sink {
	struct dbb_sink base;
	struct dbb_sink *next;
	struct dbb_progress *p;
};
void dbb_progress_sink_init(struct dbb_progress_sink *s, struct dbb_sink *next);

#endif
