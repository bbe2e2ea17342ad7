/* JSON replies and error bodies; every response goes through here. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dbbackupd/ops.h"
#include "http/internal.h"

#define STRINGIFY_(x)    #x
#define STRINGIFY(x)     STRINGIFY_(x)
#define BUSY_RETRY_AFTER STRINGIFY(DBB_BUSY_RETRY_AFTER_S)

enum MHD_Result dbb_reply_queue(struct dbb_request *req, unsigned status, struct MHD_Response *resp)
{
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* nothing the daemon serves may be framed; only /docs runs scripts */
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	/* no URL of the daemon's (a job's, a file name) leaves in a Referer */
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Content-Security-Policy", req->csp ? req->csp : DBB_CSP_API);
	if (req->allow[0])
		MHD_add_response_header(resp, "Allow", req->allow);
	if (req->content_range[0])
		MHD_add_response_header(resp, "Content-Range", req->content_range);
	if (req->location[0])
		MHD_add_response_header(resp, "Location", req->location);
	if (req->close)
		MHD_add_response_header(resp, "Connection", "close");
	if (req->request_id[0])
		MHD_add_response_header(resp, "X-Request-Id", req->request_id);
	enum MHD_Result r = MHD_queue_response(req->conn, status, resp);
	MHD_destroy_response(resp);
	req->status = status;
	req->responded = true;
	return r;
}

static struct MHD_Response *json_response(json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(12));
	json_decref(body);
	if (!text)
		return NULL;
	size_t len = strlen(text);
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return NULL;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return resp;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	size_t n;
	unsigned lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

json_t *dbb_json_text(const char *text)
{
	size_t len = strlen(text);
	char *clean = malloc(len + 1);
	if (!clean)
		return NULL;
	size_t w = 0;
	for (size_t r = 0; r < len;) {
		size_t n = utf8_seq((const unsigned char *)text + r);
		if (n == 0) {
			clean[w++] = '?'; /* a byte that is not UTF-8 */
			r++;
			continue;
		}
		memcpy(clean + w, text + r, n);
		w += n;
		r += n;
	}
	json_t *j = json_stringn(clean, w);
	free(clean);
	return j;
}

enum MHD_Result dbb_reply_json_text(struct dbb_request *req, unsigned status, char *text)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return dbb_reply_error(req, DBB_ERR_INTERNAL, "out of memory", NULL);
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return dbb_reply_queue(req, status, resp);
}

enum MHD_Result dbb_reply_json(struct dbb_request *req, unsigned status, json_t *body)
{
	if (!body) /* a body that could not be built: still a JSON answer */
		return dbb_reply_error(req, DBB_ERR_INTERNAL, "cannot build the response", NULL);
	return dbb_reply_queue(req, status, json_response(body));
}

json_t *dbb_error_body(dbb_code code, const char *message, json_t *extra)
{
	json_t *body =
	    json_pack("{s:b, s:s, s:o}", "success", 0, "error", dbb_code_name(code), "message",
	              dbb_json_text(message && *message ? message : dbb_code_name(code)));
	if (body && extra)
		json_object_update_missing(body, extra);
	json_decref(extra);
	return body;
}

enum MHD_Result dbb_reply_error(struct dbb_request *req, dbb_code code, const char *message,
                                json_t *extra)
{
	req->error_name = dbb_code_name(code);
	json_t *body = dbb_error_body(code, message, extra);
	if (!body)
		return MHD_NO;
	struct MHD_Response *resp = json_response(body);
	if (!resp)
		return MHD_NO;
	/* RFC 6750 §3 */
	if (code == DBB_ERR_UNAUTHORIZED)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"dbbackupd\"");
	else if (code == DBB_ERR_INVALID_TOKEN)
		MHD_add_response_header(resp, "WWW-Authenticate",
		                        "Bearer realm=\"dbbackupd\", error=\"invalid_token\"");
	else if (code == DBB_ERR_FORBIDDEN)
		MHD_add_response_header(resp, "WWW-Authenticate",
		                        "Bearer realm=\"dbbackupd\", error=\"insufficient_scope\"");
	else if (code == DBB_ERR_BUSY) /* RFC 9110 §10.2.3: when to try again */
		MHD_add_response_header(resp, "Retry-After", BUSY_RETRY_AFTER);
	return dbb_reply_queue(req, dbb_code_http_status(code), resp);
}

enum MHD_Result dbb_reply_err(struct dbb_request *req, const struct dbb_error *err)
{
	return dbb_reply_error(req, err->code ? err->code : DBB_ERR_INTERNAL, err->message, NULL);
}

dbb_code dbb_parse_bool(const char *name, const char *value, bool *out, struct dbb_error *err)
{
	static const char *const yes[] = {"true", "1", "yes", "on"};
	static const char *const no[] = {"false", "0", "no", "off"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*out = true;
			return DBB_OK;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*out = false;
			return DBB_OK;
		}
	}
	return dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "%s must be true or false, got \"%.64s\"",
	                name, value);
}

struct count_ctx {
	const char *name;
	unsigned n;
};

static enum MHD_Result count_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
	struct count_ctx *c = cls;
	if (key && strcmp(key, c->name) == 0)
		c->n++;
	return MHD_YES;
}

dbb_code dbb_query_value(struct dbb_request *req, const char *name, const char **out,
                         struct dbb_error *err)
{
	struct count_ctx c = {name, 0};
	*out = NULL;
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, count_arg, &c);
	if (c.n > 1)
		return dbb_fail(err, DBB_ERR_INVALID_PARAMETER,
		                "%s is given %u times; give it once", name, c.n);
	if (c.n == 0)
		return DBB_OK;
	*out = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
	if (!*out)
		return dbb_fail(err, DBB_ERR_INVALID_PARAMETER, "%s needs a value", name);
	return DBB_OK;
}

dbb_code dbb_query_bool(struct dbb_request *req, const char *name, bool def, bool *out,
                        struct dbb_error *err)
{
	const char *v;
	dbb_code rc = dbb_query_value(req, name, &v, err);
	if (rc)
		return rc;
	if (!v) {
		*out = def;
		return DBB_OK;
	}
	return dbb_parse_bool(name, v, out, err);
}

/* Sends all of buf on a non-blocking socket, waiting at most 5 s for room. */
static bool send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			if (poll(&p, 1, 5000) > 0)
				continue;
		}
		return false;
	}
	return true;
}

bool dbb_reply_raw(struct dbb_request *req, dbb_code code, const char *message)
{
	const union MHD_ConnectionInfo *ci;
	if (req->srv->tls_cert ||
	    !(ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD)))
		return false;
	int fd = ci->connect_fd;
	json_t *body = json_pack("{s:b, s:s, s:o}", "success", 0, "error", dbb_code_name(code),
	                         "message", dbb_json_text(message));
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(body);
	if (!text)
		return false;
	unsigned status = dbb_code_http_status(code);
	char head[576];
	int hl = snprintf(head, sizeof(head),
	                  "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\n"
	                  "Content-Length: %zu\r\nConnection: close\r\nCache-Control: no-store\r\n"
	                  "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
	                  "Content-Security-Policy: %s\r\n%s\r\n",
	                  status, MHD_get_reason_phrase_for(status), strlen(text), DBB_CSP_API,
	                  code == DBB_ERR_BUSY ? "Retry-After: " BUSY_RETRY_AFTER "\r\n" : "");
	bool sent = send_all(fd, head, (size_t)hl) && send_all(fd, text, strlen(text));
	free(text);
	req->error_name = dbb_code_name(code);
	req->status = status;
	req->responded = true;
	req->raw_reply = true;
	if (!sent)
		return true; /* the client is gone: nothing more to do */
	/* Lingering close: the client is still sending. Closing now, with its
	 * bytes unread, would make the kernel answer with a reset that can
	 * destroy our answer in the client's buffer before it reads it. So stop
	 * writing, and read and discard for a moment (2 s, 16 MiB at most). */
	shutdown(fd, SHUT_WR);
	char sink[16384];
	size_t drained = 0;
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= 2000 || drained > (16u << 20))
			break;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)(2000 - ms)) <= 0)
			break;
		ssize_t n = recv(fd, sink, sizeof(sink), 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		drained += (size_t)n;
	}
	return true;
}
