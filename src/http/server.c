/* libmicrohttpd set-up, the request life cycle, auth middleware, access log. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

static enum MHD_Result begin_request(struct dbb_server *srv, struct dbb_request *req,
                                     const char *url, const char *method)
{
	char allow[64];
	unsigned status = 0;
	struct dbb_error err = {0};
	req->route = dbb_route_find(method, url, &req->param, &status, allow, sizeof(allow));
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
	if (!req->route->public) {
		const char *authz =
		    MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Authorization");
		if (dbb_auth_verify(srv->auth, authz, &req->who, &err) != DBB_OK)
			return dbb_reply_err(req, &err);
		req->authenticated = true;
		if (req->who.role < req->route->role) {
			char msg[256];
			snprintf(msg, sizeof(msg), "the %s role is needed to %s; your token has %s",
			         dbb_role_name(req->route->role), req->route->action,
			         req->who.role ? dbb_role_name(req->who.role) : "no role");
			json_t *extra =
			    json_pack("{s:s}", "required_role", dbb_role_name(req->route->role));
			return dbb_reply_error(req, DBB_ERR_FORBIDDEN, msg, extra);
		}
	}
	if (req->route->begin)
		return req->route->begin(req);
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
	struct dbb_server *srv = cls;
	struct dbb_request *req = *req_cls;
	if (!req) {
		dbb_guard_head_done(srv->guard, conn);
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*req_cls = req;
		req->srv = srv;
		req->conn = conn;
		clock_gettime(CLOCK_MONOTONIC, &req->started);
		snprintf(req->method, sizeof(req->method), "%s", method);
		snprintf(req->path, sizeof(req->path), "%s", url);
		return begin_request(srv, req, url, method);
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
	if (req->route && req->route->cleanup)
		req->route->cleanup(req);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double ms = (double)(now.tv_sec - req->started.tv_sec) * 1e3 +
	            (double)(now.tv_nsec - req->started.tv_nsec) / 1e6;
	dbb_info("%s %s %u %.1fms sub=%s%s", req->method, req->path, req->status, ms,
	         req->authenticated ? req->who.subject : "-",
	         toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection closed early)");
	free(req->param);
	free(req);
	*req_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	dbb_debug("libmicrohttpd: %s", msg);
}

dbb_code dbb_server_start(struct dbb_server **out, const struct dbb_config *cfg,
                          struct dbb_ops *ops, struct dbb_auth *auth, struct dbb_error *err)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	unsigned flags =
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
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
	srv->ops = ops;
	srv->auth = auth;
	if (dbb_guard_new(&srv->guard, cfg->connection_timeout, err)) {
		free(srv);
		return err->code;
	}
	srv->mhd = MHD_start_daemon(
	    flags, (uint16_t)cfg->port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, &ss,
	    MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
	    cfg->connection_timeout, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, MHD_OPTION_NOTIFY_CONNECTION,
	    dbb_guard_notify, srv->guard, MHD_OPTION_END);
	if (!srv->mhd) {
		dbb_guard_free(srv->guard);
		free(srv);
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "cannot listen on %s:%u (BIND_ADDRESS/PORT): address in use or not "
		                "available",
		                cfg->bind_address, cfg->port);
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : (uint16_t)cfg->port;
	*out = srv;
	return DBB_OK;
}

uint16_t dbb_server_port(const struct dbb_server *srv)
{
	return srv->port;
}

void dbb_server_stop(struct dbb_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->mhd);
	dbb_guard_free(srv->guard);
	dbb_list_cache_free();
	free(srv);
}
