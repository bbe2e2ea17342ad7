/* The HTTP server: libmicrohttpd with one thread per connection (see
 * docs/design.md), a route table, the auth middleware and JSON replies. */
#ifndef DBBACKUPD_HTTP_H
#define DBBACKUPD_HTTP_H

#include <stdint.h>

#include "dbbackupd/auth.h"
#include "dbbackupd/config.h"
#include "dbbackupd/error.h"
#include "dbbackupd/ops.h"

struct dbb_server;

struct dbb_offsite;
struct dbb_scheduler;
struct dbb_notifier;

/* A target to serve: its settings (cfg->name) and its operation layer,
 * which the server borrows; and what main.c makes for it and owns: its
 * offsite uploader, its notifier and its scheduler (issue 17; NULL when
 * off), given to the server with dbb_server_set_scheduler. */
struct dbb_target {
	const struct dbb_config *cfg;
	struct dbb_ops *ops;
	struct dbb_offsite *offsite;
	struct dbb_notifier *notifier;
	struct dbb_scheduler *sched;
};

/* Starts listening on BIND_ADDRESS:PORT (PORT=0: a free port, logged),
 * serving ntargets targets (targets[0]: the default one). The server
 * borrows cfg, the targets' settings and ops, and auth; they must outlive
 * it. */
dbb_code dbb_server_start(struct dbb_server **out, const struct dbb_config *cfg,
                          const struct dbb_target *targets, size_t ntargets, struct dbb_auth *auth,
                          struct dbb_error *err);
uint16_t dbb_server_port(const struct dbb_server *srv);
/* Graceful shutdown, step 1: stops listening (new connections are refused)
 * and answers new requests on open connections with 503 shutting_down;
 * running requests go on. */
void dbb_server_quiesce(struct dbb_server *srv);
/* Requests begun and not yet completed (a running backup is one). */
unsigned dbb_server_in_flight(const struct dbb_server *srv);
/* Stops accepting, waits for running requests, frees everything. */
void dbb_server_stop(struct dbb_server *srv);

/* issue 17: the server's metrics (dbb_metrics_target(m, i): target i's
 * series, for its scheduler, notifier and offsite uploader); target i's
 * scheduler, the one its GET /backup/schedule and POST /backup/prune use
 * (set once, after start; until then those answer 503), and its notifier,
 * told of its failed API creates and restores (by the audit line). */
struct dbb_metrics *dbb_server_metrics(struct dbb_server *srv);
void dbb_server_set_scheduler(struct dbb_server *srv, size_t target, struct dbb_scheduler *sched,
                              struct dbb_notifier *notifier);

#endif
