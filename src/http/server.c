/* libmicrohttpd set-up, the request life cycle, auth middleware, access log. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "dbbackupd/http.h"
#include "dbbackupd/log.h"
#include "http/internal.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decoding that never produces a NUL or a control byte: such input
 * is left undecoded, so it reaches the handlers as an invalid name (400)
 * instead of being cut short into a different, valid-looking one. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	size_t len = strlen(s);
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%')
			continue;
		if (i + 2 >= len)
			return len; /* a cut escape: leave the string as it came */
		int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
		if (a < 0 || b < 0 || a * 16 + b < 0x20 || a * 16 + b == 0x7f)
			return len;
		i += 2;
	}
	size_t w = 0;
	for (size_t r = 0; r < len; r++) {
		if (s[r] == '%') {
			s[w++] = (char)(hexval(s[r + 1]) * 16 + hexval(s[r + 2]));
			r += 2;
		} else {
			s[w++] = s[r];
		}
	}
	s[w] = '\0';
	return w;
}

/* "Bearer <METRICS_TOKEN>", compared in constant time. */
static bool metrics_token_matches(const struct dbb_server *srv, const char *authz)
{
	const char *want = srv->cfg->metrics_token;
	size_t n = strlen(want);
	if (!n || !authz || strncasecmp(authz, "Bearer ", 7) != 0)
		return false;
	authz += 7;
	while (*authz == ' ')
		authz++;
	return strlen(authz) == n && CRYPTO_memcmp(authz, want, n) == 0;
}

static enum dbb_auth_failure auth_failure_reason(const struct dbb_error *err)
{
	switch (err->code) {
	case DBB_ERR_UNAUTHORIZED:
		return DBB_AUTHFAIL_MISSING;
	case DBB_ERR_AUTH_UNAVAILABLE:
		return DBB_AUTHFAIL_UNAVAILABLE;
	default:
		return strstr(err->message, "expired") ? DBB_AUTHFAIL_EXPIRED
		                                       : DBB_AUTHFAIL_INVALID;
	}
}

double dbb_request_seconds(const struct dbb_request *req)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - req->started.tv_sec) +
	       (double)(now.tv_nsec - req->started.tv_nsec) / 1e9;
}

const struct dbb_server_target *dbb_server_target_find(const struct dbb_server *srv,
                                                       const char *name)
{
	for (size_t i = 0; i < srv->ntargets; i++)
		if (strcmp(srv->targets[i].cfg->name, name) == 0)
			return &srv->targets[i];
	return NULL;
}

/* The target of a /backup/ route: /targets/NAME/ (path_name) or
 * ?target=NAME; both given must agree. Answers 404 unknown_target or 400
 * itself (returns false). */
static bool choose_target(struct dbb_request *req, const char *path_name, enum MHD_Result *r)
{
	struct dbb_error err = {0};
	const char *name = NULL;
	if (dbb_query_value(req, "target", &name, &err)) {
		*r = dbb_reply_err(req, &err);
		return false;
	}
	if (path_name && name && strcmp(path_name, name) != 0) {
		json_t *extra = json_pack("{s:o}", "target", dbb_json_text(name));
		*r = dbb_reply_error(req, DBB_ERR_INVALID_PARAMETER,
		                     "?target= names another target than the path /targets/NAME/",
		                     extra);
		return false;
	}
	if (path_name)
		name = path_name;
	req->tgt = name ? dbb_server_target_find(req->srv, name) : &req->srv->targets[0];
	if (req->tgt)
		return true;
	char msg[160];
	snprintf(msg, sizeof(msg), "no target named \"%.40s\"; GET /targets lists them", name);
	json_t *extra = json_pack("{s:o}", "target", dbb_json_text(name));
	*r = dbb_reply_error(req, DBB_ERR_UNKNOWN_TARGET, msg, extra);
	return false;
}

static enum MHD_Result begin_request(struct dbb_server *srv, struct dbb_request *req,
                                     const char *url, const char *method)
{
	char allow[64];
	char *path_target = NULL;
	unsigned status = 0;
	struct dbb_error err = {0};
	enum MHD_Result r = MHD_YES;
	req->route = dbb_route_find(method, url, &req->param, &path_target, &status, allow,
	                            sizeof(allow), &req->path_route);
	if (!req->route) {
		if (status == 405) {
			char msg[160];
			snprintf(msg, sizeof(msg), "%s is not allowed here; allowed: %s", method,
			         allow);
			json_t *extra = json_pack("{s:s}", "allowed_methods", allow);
			snprintf(req->allow, sizeof(req->allow), "%s", allow);
			return dbb_reply_error(req, DBB_ERR_METHOD_NOT_ALLOWED, msg, extra);
		}
		if (status == 500)
			return dbb_reply_error(req, DBB_ERR_INTERNAL, "out of memory", NULL);
		return dbb_reply_error(req, DBB_ERR_NOT_FOUND, "no such endpoint", NULL);
	}
	if (atomic_load(&srv->stopping)) {
		r = dbb_reply_error(req, DBB_ERR_SHUTTING_DOWN,
		                    "the daemon is shutting down; try again when it is back", NULL);
		goto out;
	}
	const char *authz =
	    MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Authorization");
	if (!req->route->public || (req->route->token_optional && authz)) {
		if (req->route->metrics_token && metrics_token_matches(srv, authz)) {
			snprintf(req->who.subject, sizeof(req->who.subject), "METRICS_TOKEN");
			req->authenticated = true;
			req->by_metrics_token = true;
			goto authorized;
		}
		if (dbb_auth_verify(srv->auth, authz, &req->who, &err) != DBB_OK) {
			dbb_metrics_auth_failure(srv->metrics, auth_failure_reason(&err));
			r = dbb_reply_err(req, &err);
			goto out;
		}
		req->authenticated = true;
		/* the target is chosen after authentication: who may not learn
		 * which targets exist */
		bool per_target = dbb_route_per_target(req->route);
		if (per_target && !choose_target(req, path_target, &r))
			goto out;
		/* a role scoped to the request's target counts for its routes;
		 * GET /targets lists what any role of the token may view */
		enum dbb_role has =
		    per_target ? dbb_principal_role(&req->who, req->tgt->cfg->name)
		    : req->route->finish == dbb_handle_targets || req->route->any_target
		        ? dbb_principal_role_any(&req->who)
		        : req->who.role;
		/* a public route decides itself what a token of a lower role sees */
		if (has < req->route->role && !req->route->public) {
			dbb_metrics_auth_failure(srv->metrics, DBB_AUTHFAIL_FORBIDDEN);
			char msg[256];
			snprintf(
			    msg, sizeof(msg), "the %s role is needed to %s%s%s; your token has %s",
			    dbb_role_name(req->route->role), req->route->action,
			    per_target ? " of target " : "", per_target ? req->tgt->cfg->name : "",
			    has ? dbb_role_name(has) : "no role");
			json_t *extra =
			    json_pack("{s:s}", "required_role", dbb_role_name(req->route->role));
			r = dbb_reply_error(req, DBB_ERR_FORBIDDEN, msg, extra);
			goto out;
		}
	}
authorized:
	if (req->route->begin)
		r = req->route->begin(req);
out:
	free(path_target);
	return r;
}

/* 16 hex digits from the kernel's generator (a counter if it fails: ids
 * need only be unique in this log, not secret). */
static void new_request_id(char id[DBB_REQUEST_ID_MAX + 1])
{
	static atomic_ullong fallback;
	unsigned char b[8];
	unsigned long long v;
	if (getrandom(b, sizeof(b), GRND_NONBLOCK) == (ssize_t)sizeof(b)) {
		v = 0;
		for (size_t i = 0; i < sizeof(b); i++)
			v = v << 8 | b[i];
	} else {
		v = atomic_fetch_add(&fallback, 1) + 1;
	}
	snprintf(id, DBB_REQUEST_ID_MAX + 1, "%016llx", v);
}

/* An X-Request-Id we take from a trusted proxy: 1 to DBB_REQUEST_ID_MAX
 * characters of [A-Za-z0-9._-] (a UUID, a trace id), nothing to escape. */
static bool request_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > DBB_REQUEST_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* The client address of the request, and its id when a trusted proxy
 * passed one on. */
static void identify_client(struct dbb_server *srv, struct dbb_request *req)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const char *xff =
	    MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Forwarded-For");
	bool trusted = dbb_proxies_client(&srv->proxies, ci ? ci->client_addr : NULL, xff,
	                                  req->client, sizeof(req->client));
	const char *id = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Request-Id");
	if (trusted && request_id_valid(id)) {
		snprintf(req->request_id, sizeof(req->request_id), "%s", id);
		dbb_log_context(req->request_id);
	}
}

static struct dbb_request *request_new(struct dbb_server *srv, struct MHD_Connection *conn)
{
	struct dbb_request *req = calloc(1, sizeof(*req));
	if (!req)
		return NULL;
	atomic_fetch_add(&srv->in_flight, 1);
	req->srv = srv;
	req->conn = conn;
	clock_gettime(CLOCK_MONOTONIC, &req->started);
	snprintf(req->method, sizeof(req->method), "-");
	snprintf(req->client, sizeof(req->client), "-");
	new_request_id(req->request_id);
	return req;
}

/* MHD_OPTION_URI_LOG_CALLBACK: libmicrohttpd calls it for every request as
 * soon as the request line is read, before it parses the query. The request
 * record made here is what on_completed logs, so a request that
 * libmicrohttpd refuses on its own (a bad header, a head too large) still
 * gets its access log line. A query of more than DBB_MAX_QUERY_ARGS
 * parameters is cut off here, in libmicrohttpd's own buffer (the string is
 * the request line's, NUL-terminated, and writable): parsing a few hundred
 * exhausts the connection's memory pool and 0.9.75 then drops the
 * connection without an answer. The handler answers such a request 400. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct dbb_server *srv = cls;
	struct dbb_request *req = request_new(srv, conn);
	if (!req)
		return NULL;
	size_t plen = strcspn(uri, "?");
	snprintf(req->path, sizeof(req->path), "%.*s", (int)plen, uri);
	if (uri[plen] == '?') {
		char *q = (char *)(uintptr_t)(uri + plen);
		unsigned n = 1;
		for (const char *p = q + 1; *p; p++)
			n += *p == '&';
		req->query_args = n;
		if (n > DBB_MAX_QUERY_ARGS)
			q[1] = '\0';
	}
	return req;
}

struct header_count {
	unsigned host, content_length, transfer_encoding, authorization;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
	struct header_count *hc = cls;
	if (!key)
		return MHD_YES;
	if (strcasecmp(key, "Host") == 0)
		hc->host++;
	else if (strcasecmp(key, "Content-Length") == 0)
		hc->content_length++;
	else if (strcasecmp(key, "Transfer-Encoding") == 0)
		hc->transfer_encoding++;
	else if (strcasecmp(key, "Authorization") == 0)
		hc->authorization++;
	return MHD_YES;
}

/* What RFC 9112 says a server must refuse, and libmicrohttpd 0.9.75 lets
 * through: an HTTP/1.1 request without exactly one Host (section 3.2), a
 * body length given twice or in two ways (section 6.3: the way requests are
 * smuggled past a proxy), more than one Authorization (which one counts
 * would depend on who reads it: a proxy, libmicrohttpd, this daemon), and
 * more query parameters than we parse. 400, and the connection is closed. */
static enum MHD_Result refuse_malformed(struct dbb_request *req, const char *version, bool *refused)
{
	struct header_count hc = {0};
	char msg[160];
	*refused = false;
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_header, &hc);
	if (hc.host == 0 && strcmp(version, MHD_HTTP_VERSION_1_1) == 0)
		snprintf(msg, sizeof(msg), "an HTTP/1.1 request needs a Host header");
	else if (hc.host > 1)
		snprintf(msg, sizeof(msg), "the request has %u Host headers; send one", hc.host);
	else if (hc.content_length > 1)
		snprintf(msg, sizeof(msg), "the request has %u Content-Length headers; send one",
		         hc.content_length);
	else if (hc.content_length && hc.transfer_encoding)
		snprintf(msg, sizeof(msg),
		         "the request has both Content-Length and Transfer-Encoding; send one");
	else if (hc.transfer_encoding > 1)
		snprintf(msg, sizeof(msg), "the request has %u Transfer-Encoding headers; send one",
		         hc.transfer_encoding);
	else if (hc.authorization > 1)
		snprintf(msg, sizeof(msg), "the request has %u Authorization headers; send one",
		         hc.authorization);
	else if (req->query_args > DBB_MAX_QUERY_ARGS)
		snprintf(msg, sizeof(msg),
		         "the request has %u query parameters; at most %d are accepted",
		         req->query_args, DBB_MAX_QUERY_ARGS);
	else
		return MHD_YES;
	*refused = true;
	req->close = true;
	return dbb_reply_error(req, DBB_ERR_BAD_REQUEST, msg, NULL);
}

/* True when the request announces a body (a non-zero Content-Length, or a
 * Transfer-Encoding). */
static bool body_announced(struct MHD_Connection *conn)
{
	const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
	if (te)
		return true;
	return cl && strspn(cl, "0") != strlen(cl);
}

static enum MHD_Result serve(struct dbb_server *srv, struct dbb_request *req, const char *url,
                             const char *method, const char *version, const char *upload_data,
                             size_t *upload_data_size);

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
	struct dbb_server *srv = cls;
	struct dbb_request *req = *req_cls;
	if (!req) { /* on_uri could not allocate it */
		req = request_new(srv, conn);
		if (!req)
			return MHD_NO;
		*req_cls = req;
	}
	dbb_log_context(req->request_id);
	enum MHD_Result r = serve(srv, req, url, method, version, upload_data, upload_data_size);
	dbb_log_context(NULL);
	return r;
}

/* One call of libmicrohttpd's access handler for req. */
static enum MHD_Result serve(struct dbb_server *srv, struct dbb_request *req, const char *url,
                             const char *method, const char *version, const char *upload_data,
                             size_t *upload_data_size)
{
	struct MHD_Connection *conn = req->conn;
	if (!req->begun) {
		bool refused;
		req->begun = true;
		identify_client(srv, req);
		dbb_guard_head_done(srv->guard, conn);
		snprintf(req->method, sizeof(req->method), "%s", method);
		snprintf(req->path, sizeof(req->path), "%s", url);
		enum MHD_Result r = refuse_malformed(req, version, &refused);
		if (refused)
			return r;
		r = begin_request(srv, req, url, method);
		/* A route that reads no body answers now, whatever body was
		 * announced: libmicrohttpd then never reads it and closes the
		 * connection after the answer. No one holds a connection by
		 * trickling a body to a route that does not want one. */
		if (r == MHD_YES && !req->responded && !req->route->body && body_announced(conn)) {
			req->close = true;
			return req->route->finish(req);
		}
		return r;
	}
	if (req->responded) {
		*upload_data_size = 0; /* an early answer was sent: drop the body */
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (req->route->body)
			return req->route->body(req, upload_data, upload_data_size);
		*upload_data_size = 0; /* no body expected: ignore it */
		return MHD_YES;
	}
	return req->route->finish(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct dbb_request *req = *req_cls;
	struct dbb_server *srv = cls;
	dbb_guard_request_done(srv->guard, conn);
	if (!req)
		return;
	dbb_log_context(req->request_id);
	if (req->route && req->route->cleanup)
		req->route->cleanup(req);
	size_t nroutes;
	const struct dbb_route *table = dbb_routes(&nroutes);
	double seconds = dbb_request_seconds(req), ms = seconds * 1e3;
	const char *note = "";
	if (!req->begun) {
		/* refused by libmicrohttpd itself (its status, if it sent one),
		 * or the head never came whole (a slow client dropped) */
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_HTTP_STATUS);
		req->status = ci ? ci->http_status : 0;
		note = req->status
		           ? " (refused by libmicrohttpd: malformed or too large request head)"
		           : " (connection closed before the request head was complete)";
	} else if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !req->raw_reply) {
		note = " (connection closed early)";
	}
	/* a 405 is counted under the route of its path */
	const struct dbb_route *counted = req->route ? req->route : req->path_route;
	dbb_metrics_request(srv->metrics, counted ? (size_t)(counted - table) : nroutes,
	                    req->status, seconds);
	dbb_audit_request(req, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK || req->raw_reply);
	char method[64], path[sizeof(req->path) * 4 + 16], sub[300];
	dbb_log_quote(method, sizeof(method), req->method, false);
	dbb_log_quote(path, sizeof(path), req->path, false);
	dbb_log_quote(sub, sizeof(sub), req->authenticated ? req->who.subject : "-", false);
	/* target=NAME on the routes of one target ("-": not chosen, as when
	 * the token was refused or the target is unknown) */
	char target[DBB_TARGET_NAME_MAX + 16] = "";
	if (req->route && dbb_route_per_target(req->route))
		snprintf(target, sizeof(target), "target=%s ",
		         req->tgt ? req->tgt->cfg->name : "-");
	const char *role = "-";
	if (req->authenticated)
		role = dbb_role_name(req->tgt ? dbb_principal_role(&req->who, req->tgt->cfg->name)
		                              : req->who.role);
	dbb_info("%s %s %u %.1fms %ssub=%s role=%s client=%s%s", method, path, req->status, ms,
	         target, sub, role, req->client, note);
	dbb_log_context(NULL);
	free(req->param);
	free(req);
	*req_cls = NULL;
	atomic_fetch_sub(&srv->in_flight, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	dbb_debug("libmicrohttpd: %s", msg);
}

/* Reads a PEM file for TLS into a malloc'd NUL-terminated string. */
static dbb_code read_pem(const char *var, const char *path, char **out, struct dbb_error *err)
{
	char *buf = NULL;
	size_t cap = 1 << 20, len = 0;
	dbb_code rc = DBB_OK;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "%s: cannot open %s", var, path);
	buf = malloc(cap + 1);
	if (!buf) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "%s: cannot read %s", var,
			                    path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			rc =
			    dbb_fail(err, DBB_ERR_CONFIG, "%s: %s is larger than 1 MiB", var, path);
			goto out;
		}
	}
	buf[len] = '\0';
	if (!strstr(buf, "-----BEGIN ")) {
		rc = dbb_fail(err, DBB_ERR_CONFIG, "%s: %s is not a PEM file", var, path);
		goto out;
	}
	*out = buf;
	buf = NULL;
out:
	if (buf) {
		memset(buf, 0, len); /* may be a private key */
		free(buf);
	}
	close(fd);
	return rc;
}

static void server_free(struct dbb_server *srv)
{
	dbb_jobs_free(srv->jobs); /* cancels and waits for its threads: they use the targets */
	if (srv->tls_key) {
		memset(srv->tls_key, 0, strlen(srv->tls_key));
		free(srv->tls_key);
	}
	free(srv->tls_cert);
	for (size_t i = 0; srv->targets && i < srv->ntargets; i++) {
		dbb_ops_set_observer(srv->targets[i].ops, NULL);
		dbb_list_cache_free(srv->targets[i].list_cache);
		dbb_health_cache_destroy(&srv->targets[i].health);
	}
	free(srv->targets);
	dbb_metrics_free(srv->metrics);
	free(srv->metric_routes);
	dbb_guard_free(srv->guard);
	free(srv);
}

static dbb_code server_metrics(struct dbb_server *srv, struct dbb_error *err)
{
	size_t n;
	const struct dbb_route *table = dbb_routes(&n);
	srv->metric_routes = calloc(n, sizeof(*srv->metric_routes));
	if (!srv->metric_routes)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		srv->metric_routes[i].method = table[i].method;
		srv->metric_routes[i].path = dbb_route_doc_path(&table[i]);
	}
	struct dbb_metrics_target_info *info = calloc(srv->ntargets, sizeof(*info));
	if (!info)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < srv->ntargets; i++) {
		info[i].name = srv->targets[i].cfg->name;
		info[i].database = dbb_ops_database_type(srv->targets[i].ops);
	}
	dbb_code rc =
	    dbb_metrics_new_targets(&srv->metrics, info, srv->ntargets, srv->metric_routes, n, err);
	free(info);
	/* each target's ops reports its operations into its own series */
	for (size_t i = 0; !rc && i < srv->ntargets; i++)
		dbb_ops_observe_metrics(srv->targets[i].ops, dbb_metrics_target(srv->metrics, i));
	return rc;
}

dbb_code dbb_server_start(struct dbb_server **out, const struct dbb_config *cfg,
                          const struct dbb_target *targets, size_t ntargets, struct dbb_auth *auth,
                          struct dbb_error *err)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	/* MHD_USE_ITC: needed by MHD_quiesce_daemon (graceful shutdown) */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	                 MHD_USE_ERROR_LOG | MHD_USE_ITC;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	dbb_code rc;
	if (inet_pton(AF_INET, cfg->bind_address, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)cfg->port);
	} else if (inet_pton(AF_INET6, cfg->bind_address, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)cfg->port);
		flags |= MHD_USE_IPv6;
	} else {
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "BIND_ADDRESS must be an IPv4 or IPv6 address, got \"%s\"",
		                cfg->bind_address);
	}
	struct dbb_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	srv->cfg = cfg;
	srv->ops = targets[0].ops;
	srv->auth = auth;
	srv->listen_fd = -1;
	dbb_ui_setup(srv);
	atomic_init(&srv->stopping, false);
	atomic_init(&srv->in_flight, 0);
	srv->targets = calloc(ntargets, sizeof(*srv->targets));
	if (!srv->targets) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		goto fail;
	}
	srv->ntargets = ntargets;
	for (size_t i = 0; i < ntargets; i++) {
		srv->targets[i].cfg = targets[i].cfg;
		srv->targets[i].ops = targets[i].ops;
		dbb_health_cache_init(&srv->targets[i].health);
	}
	rc = server_metrics(srv, err);
	if (!rc) {
		/* issue 20: the journal is BACKUP_DIR/.jobs.json unless JOBS_JOURNAL */
		char journal[PATH_MAX + 16];
		snprintf(journal, sizeof(journal), "%s", cfg->jobs_journal);
		if (!journal[0])
			snprintf(journal, sizeof(journal), "%s/.jobs.json", cfg->backup_dir);
		struct dbb_jobs_settings js = {journal, cfg->jobs_max_running, cfg->jobs_history,
		                               cfg->progress_log_interval};
		rc = dbb_jobs_new(&srv->jobs, &js, err);
	}
	for (size_t i = 0; !rc && i < ntargets; i++)
		rc = dbb_list_cache_new(&srv->targets[i].list_cache, err);
	if (rc)
		goto fail;
	/* TLS (optional): the options go in an MHD_OPTION_ARRAY that is empty
	 * without it. Downloads are then sent with read()+TLS, not sendfile(). */
	struct MHD_OptionItem tls[3] = {{MHD_OPTION_END, 0, NULL}};
	if (cfg->tls_cert_file[0]) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			rc =
			    dbb_fail(err, DBB_ERR_CONFIG,
			             "TLS_CERT_FILE is set but this libmicrohttpd has no TLS "
			             "support; use a reverse proxy for HTTPS (docs/operations.md)");
			goto fail;
		}
		rc = read_pem("TLS_CERT_FILE", cfg->tls_cert_file, &srv->tls_cert, err);
		if (!rc)
			rc = read_pem("TLS_KEY_FILE", cfg->tls_key_file, &srv->tls_key, err);
		if (rc)
			goto fail;
		flags |= MHD_USE_TLS;
		tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert};
		tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key};
		tls[2] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	}
	/* a few connections are kept for requests that arrive while others
	 * hold many: an eighth of MAX_CONNECTIONS, at least 2 */
	struct dbb_guard_limits lim = {
	    .timeout_s = cfg->connection_timeout,
	    .min_body_rate = cfg->min_body_rate,
	    .max_connections = cfg->max_connections,
	    .reserve = cfg->max_connections / 8 > 2 ? cfg->max_connections / 8 : 2,
	};
	rc = dbb_guard_new(&srv->guard, &lim, err);
	if (!rc)
		rc = dbb_proxies_parse(&srv->proxies, cfg->trusted_proxies, err);
	if (rc)
		goto fail;
	srv->mhd = MHD_start_daemon(
	    flags, (uint16_t)cfg->port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, NULL, MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_CONNECTION_LIMIT,
	    cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout, MHD_OPTION_URI_LOG_CALLBACK,
	    on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)64 * 1024, MHD_OPTION_ARRAY, tls, MHD_OPTION_NOTIFY_CONNECTION,
	    dbb_guard_notify, srv->guard, MHD_OPTION_END);
	if (!srv->mhd) {
		rc = dbb_fail(err, DBB_ERR_CONFIG,
		              "cannot listen on %s:%u (BIND_ADDRESS/PORT): address in use or not "
		              "available%s",
		              cfg->bind_address, cfg->port,
		              cfg->tls_cert_file[0]
		                  ? ", or TLS_CERT_FILE/TLS_KEY_FILE are not a matching pair"
		                  : "");
		goto fail;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : (uint16_t)cfg->port;
	*out = srv;
	return DBB_OK;
fail:
	server_free(srv);
	return rc;
}

struct dbb_metrics *dbb_server_metrics(struct dbb_server *srv)
{
	return srv->metrics;
}

void dbb_server_set_scheduler(struct dbb_server *srv, size_t target, struct dbb_scheduler *sched,
                              struct dbb_notifier *notifier)
{
	if (target >= srv->ntargets)
		return;
	atomic_store(&srv->targets[target].notifier, notifier);
	atomic_store(&srv->targets[target].sched, sched);
}

uint16_t dbb_server_port(const struct dbb_server *srv)
{
	return srv->port;
}

void dbb_server_quiesce(struct dbb_server *srv)
{
	if (!srv || atomic_exchange(&srv->stopping, true))
		return;
	dbb_jobs_stop(srv->jobs); /* cancelled: drain waits for them (in_flight) */
	MHD_socket fd = MHD_quiesce_daemon(srv->mhd);
	if (fd == MHD_INVALID_SOCKET) {
		dbb_warn("could not stop listening; new connections wait until exit");
		return;
	}
	srv->listen_fd = fd;
	/* MHD no longer accepts on it, but the kernel would still complete
	 * handshakes into the backlog: stop listening so clients are refused
	 * at once. The fd itself is closed after MHD_stop_daemon. */
	if (shutdown(fd, SHUT_RD) != 0)
		dbb_debug("shutdown(listen socket): %s", strerror(errno));
}

unsigned dbb_server_in_flight(const struct dbb_server *srv)
{
	return srv ? atomic_load(&srv->in_flight) + dbb_jobs_active(srv->jobs) : 0;
}

void dbb_server_stop(struct dbb_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->mhd);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	server_free(srv);
}
