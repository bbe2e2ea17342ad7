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

/* A target to serve: its settings (cfg->name) and its operation layer. */
struct dbb_target {
	const struct dbb_config *cfg;
	struct dbb_ops *ops;
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

/* issue 17: the server's metrics (for the scheduler and the notifier); the
 * scheduler GET /backup/schedule and POST /backup/prune use (set once,
 * after start; until then those answer 503), and the notifier told of
 * failed API creates and restores (by the audit line). */
struct dbb_metrics *dbb_server_metrics(struct dbb_server *srv);
struct dbb_scheduler;
struct dbb_notifier;
void dbb_server_set_scheduler(struct dbb_server *srv, struct dbb_scheduler *sched,
                              struct dbb_notifier *notifier);

#endif
