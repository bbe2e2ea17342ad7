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
	struct dbb_ops *ops = srv->ops;
	struct dbb_storage *st = dbb_ops_storage(ops);
	struct dbb_driver_ctx ctx;
	struct dbb_error derr = {0}, serr = {0};
	struct dbb_storage_tmp tmp = {0};

	dbb_ops_driver_ctx(ops, &ctx);
	c->db_ok = dbb_ops_driver(ops)->health(&ctx, &derr) == DBB_OK;
	tmp.fd = -1;
	c->dir_ok = dbb_storage_tmp_create(st, &tmp, &serr) == DBB_OK;
	dbb_storage_tmp_discard(&tmp);
	c->free_bytes = 0;
	if (c->dir_ok)
		c->dir_ok = dbb_storage_free_bytes(st, &c->free_bytes, &serr) == DBB_OK;
	c->auth_ok = dbb_auth_ready(srv->auth);
	c->ready = c->db_ok && c->dir_ok && c->auth_ok;
	snprintf(c->db_message, sizeof(c->db_message), "%s", derr.message);
	snprintf(c->dir_message, sizeof(c->dir_message), "%s", serr.message);
	clock_gettime(CLOCK_MONOTONIC, &cache->at);
	cache->valid = true;
	dbb_debug("readiness checked: database %s, backups directory %s, keys %s",
	          c->db_ok ? "ok" : "failing", c->dir_ok ? "ok" : "failing",
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
	json_t *dir = check(r.dir_ok, r.dir_message);
	if (dir && r.dir_ok)
		json_object_set_new(dir, "free_bytes", json_integer((json_int_t)r.free_bytes));
	json_t *body = json_pack(
	    "{s:s, s:s, s:{s:o, s:o, s:o}}", "status", status, "database_type",
	    dbb_ops_driver(req->srv->ops)->name, "checks", "database", check(r.db_ok, r.db_message),
	    "backup_dir", dir, "auth",
	    check(r.auth_ok, "no token verification keys are loaded (JWKS source unreachable?)"));
	return dbb_reply_json(req, r.ready ? 200 : 503, body);
}
