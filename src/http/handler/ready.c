/* GET /ready: can the daemon do its work now? The database answers the
 * driver's health check, a file can be created in the backups directory,
 * and token verification keys are loaded. 200 or 503.
 *
 * No token needed, and then the answer is only {"status":"ready"} or
 * {"status":"not_ready"}: the database's own error text, its type and the
 * free bytes are for a viewer token or METRICS_TOKEN (a token that does not
 * verify is a 401). The checks run at most once every
 * DBB_READY_CACHE_SECONDS and one at a time: callers meanwhile get the last
 * result, so a flood of probes opens no more database sessions than one. */
#include <stdio.h>
#include <string.h>

#include "dbbackupd/log.h"
#include "http/internal.h"

void dbb_ready_cache_init(struct dbb_ready_cache *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
}

void dbb_ready_cache_destroy(struct dbb_ready_cache *c)
{
	pthread_mutex_destroy(&c->mu);
}

static bool fresh(const struct dbb_ready_cache *c)
{
	struct timespec now;
	if (!c->valid)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double age =
	    (double)(now.tv_sec - c->at.tv_sec) + (double)(now.tv_nsec - c->at.tv_nsec) / 1e9;
	return age >= 0 && age < DBB_READY_CACHE_SECONDS;
}

/* Caller holds c->mu. */
static void run_checks(struct dbb_server *srv, struct dbb_ready_cache *cache)
{
	struct dbb_ready_result *c = &cache->res;
	dbb_ops_health(srv->ops, &c->health);
	c->auth_ok = dbb_auth_ready(srv->auth);
	c->ready = c->health.db_ok && c->health.dir_ok && c->auth_ok;
	clock_gettime(CLOCK_MONOTONIC, &cache->at);
	cache->valid = true;
	dbb_debug("readiness checked: database %s, backups directory %s, keys %s",
	          c->health.db_ok ? "ok" : "failing", c->health.dir_ok ? "ok" : "failing",
	          c->auth_ok ? "ok" : "missing");
}

static json_t *check(bool ok, const char *message)
{
	json_t *o = json_pack("{s:b}", "ok", ok);
	if (o && !ok)
		json_object_set_new(o, "message", dbb_json_text(message));
	return o;
}

enum MHD_Result dbb_handle_ready(struct dbb_request *req)
{
	struct dbb_ready_cache *c = &req->srv->ready;
	struct dbb_ready_result r;
	pthread_mutex_lock(&c->mu);
	if (!fresh(c))
		run_checks(req->srv, c);
	r = c->res;
	pthread_mutex_unlock(&c->mu);

	const char *status = r.ready ? "ready" : "not_ready";
	bool details =
	    req->authenticated && (req->by_metrics_token || req->who.role >= DBB_ROLE_VIEWER);
	if (!details)
		return dbb_reply_json(req, r.ready ? 200 : 503,
		                      json_pack("{s:s}", "status", status));
	json_t *dir = check(r.health.dir_ok, r.health.dir_message);
	if (dir && r.health.dir_ok)
		json_object_set_new(dir, "free_bytes",
		                    json_integer((json_int_t)r.health.free_bytes));
	json_t *body = json_pack(
	    "{s:s, s:s, s:{s:o, s:o, s:o}}", "status", status, "database_type",
	    dbb_ops_database_type(req->srv->ops), "checks", "database",
	    check(r.health.db_ok, r.health.db_message), "backup_dir", dir, "auth",
	    check(r.auth_ok, "no token verification keys are loaded (JWKS source unreachable?)"));
	return dbb_reply_json(req, r.ready ? 200 : 503, body);
}
