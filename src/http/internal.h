/* Internal interface of the HTTP layer: requests, routes, replies. */
#ifndef DBBACKUPD_HTTP_INTERNAL_H
#define DBBACKUPD_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "dbbackupd/auth.h"
#include "dbbackupd/config.h"
#include "dbbackupd/jobs.h"
#include "dbbackupd/metrics.h"
#include "dbbackupd/ops.h"
#include "dbbackupd/log.h"
#include "dbbackupd/storage.h"
#include "http/proxy.h"

struct dbb_guard;

/* A target's last health check (handler/ready.c): its database answers,
 * its backups directory takes a file. One check at a time, reused for
 * DBB_READY_CACHE_SECONDS, so a flood of probes or scrapes opens no more
 * database sessions than one. */
#define DBB_READY_CACHE_SECONDS 2
struct dbb_health_cache {
	pthread_mutex_t mu;
	bool valid;
	struct timespec at; /* CLOCK_MONOTONIC */
	struct dbb_ops_health health;
};

/* A target the server serves (docs/targets.md): its settings, its
 * operation layer (its own lock, storage and journal), its listing cache,
 * and its scheduler and notifier (issue 17). targets[0] is the default
 * target. */
struct dbb_server_target {
	const struct dbb_config *cfg; /* cfg->name */
	struct dbb_ops *ops;
	struct dbb_list_cache *list_cache;       /* owned (handler/list.c) */
	_Atomic(struct dbb_scheduler *) sched;   /* not owned (main.c); issue 17 */
	_Atomic(struct dbb_notifier *) notifier; /* not owned (main.c); issue 17 */
	struct dbb_health_cache health;          /* /ready and dbbackupd_database_up */
};

struct dbb_server {
	struct MHD_Daemon *mhd;
	struct dbb_guard *guard; /* slow clients, connection reserve (guard.c) */
	const struct dbb_config *cfg;
	struct dbb_ops *ops;               /* the default target's */
	struct dbb_server_target *targets; /* owned array; [0] the default target */
	size_t ntargets;
	struct dbb_auth *auth;
	struct dbb_metrics *metrics;             /* owned */
	struct dbb_metrics_route *metric_routes; /* owned, one per route */
	uint16_t port;
	int listen_fd;              /* after quiesce: closed once MHD has stopped */
	atomic_bool stopping;       /* new requests get 503 shutting_down */
	atomic_uint in_flight;      /* requests begun and not yet completed */
	char *tls_cert, *tls_key;   /* PEM in memory (TLS_CERT_FILE/TLS_KEY_FILE), owned */
	struct dbb_proxies proxies; /* TRUSTED_PROXIES */
	struct dbb_jobs *jobs;      /* ?async=true (issue 20), owned; NULL: none */
	/* issue 21: the dashboard's CSP and sign-in (handler/ui.c) */
	char ui_csp[1280];
	bool ui_keycloak; /* tokens come from Keycloak: the page offers its sign-in */
};

struct dbb_request;

/* A route: one row of the table in router.c. */
struct dbb_route {
	const char *method; /* "GET", "POST", "DELETE" */
	const char *path;   /* exact, or a prefix ending in '/' when has_param */
	/* A route of one target (the /backup/ ones): ?target=NAME or the
	 * /targets/NAME prefix chooses it (default: the default target). */
	bool has_param;           /* the rest of the path is one parameter (a file name) */
	const char *param_suffix; /* the path ends so, after the parameter ("/events") */
	bool public;              /* no token needed */
	bool token_optional;      /* public, but a token given is verified (req->authenticated) */
	enum dbb_role role;       /* least role needed */
	const char *action;       /* for 403 messages: "create backups" */
	const char *audit;        /* name in the audit log; NULL: not audited */
	const char
	    *doc_path;      /* path template for docs and metrics: "/backup/download/{filename}" */
	bool metrics_token; /* METRICS_TOKEN, when set, is accepted in place of a JWT */
	bool any_target;    /* the token's role for any target counts; the handler filters */
	/* Optional: runs on the first call, after auth, before any body is read.
	 * May queue a response (the request then ends). */
	enum MHD_Result (*begin)(struct dbb_request *req);
	/* Optional: consumes request body bytes (set *size to 0). */
	enum MHD_Result (*body)(struct dbb_request *req, const char *data, size_t *size);
	/* Queues the response once the whole request has arrived. */
	enum MHD_Result (*finish)(struct dbb_request *req);
	/* Optional: frees per-request state; runs when the request ends, also
	 * when the client went away. */
	void (*cleanup)(struct dbb_request *req);
};

/* More query parameters than this: 400 (libmicrohttpd 0.9.75 would run out
 * of its per-connection memory parsing a few hundred and drop the
 * connection without an answer). */
#define DBB_MAX_QUERY_ARGS 64

struct dbb_request {
	struct dbb_server *srv;
	struct MHD_Connection *conn;
	const struct dbb_route *route;
	const struct dbb_route *path_route; /* a 405's: the route of its path */
	/* The target of the request: the one named by /targets/NAME/ or
	 * ?target=NAME on a /backup/ route; else the default target. */
	const struct dbb_server_target *tgt;
	bool begun;          /* the access handler has seen this request */
	unsigned query_args; /* counted from the raw request line */
	char method[16];
	char path[256]; /* for the log, cut */
	char *param;    /* decoded path parameter, owned */
	struct dbb_principal who;
	bool authenticated;
	bool by_metrics_token; /* authenticated with METRICS_TOKEN, not a JWT */
	bool responded;
	unsigned status;
	char allow[64];                     /* Allow header of a 405 */
	char content_range[64];             /* Content-Range header of a 416 */
	char location[64];                  /* Location header of a 202 (a job's URL) */
	const char *csp;                    /* Content-Security-Policy; NULL: the API's */
	bool close;                         /* Connection: close (a malformed request) */
	bool raw_reply;                     /* answered on the socket (reply_raw) */
	const char *error_name;             /* the error sent, for the audit log */
	char audit_file[DBB_NAME_MAX + 64]; /* the file an audited action was about */
	struct timespec started;
	void *state; /* the handler's, freed by route->cleanup */
	/* X-Request-Id: ours (random), or a trusted proxy's; on every log
	 * line of the request and in its answer */
	char request_id[DBB_REQUEST_ID_MAX + 1];
	char client[64]; /* the client's address (TRUSTED_PROXIES), for the log */
};

/* ---- audit.c ---- */
/* One line per audited request (create, restore, restore-upload, delete),
 * whatever its outcome: who, which role, what, which file, the result. */
void dbb_audit_request(const struct dbb_request *req, bool completed);

/* ---- router.c ---- */
/* Finds the route for method+url. Returns NULL with *status 404 or 405 (and
 * *allow set to the allowed methods for 405, *path_route to the first route
 * of that path, for the metrics). A URL /targets/NAME/backup/... is the
 * route /backup/...: *target_name then receives NAME (malloc'd; NULL
 * otherwise). */
const struct dbb_route *dbb_route_find(const char *method, const char *url, char **param,
                                       char **target_name, unsigned *status, char *allow,
                                       size_t allow_cap, const struct dbb_route **path_route);
/* True for the routes of one target (/backup/...). */
bool dbb_route_per_target(const struct dbb_route *r);
/* The target of that name; NULL if there is none. */
const struct dbb_server_target *dbb_server_target_find(const struct dbb_server *srv,
                                                       const char *name);
/* Every route, for the OpenAPI consistency check and the docs. */
const struct dbb_route *dbb_routes(size_t *count);
/* The route's method and path template, for the metrics labels. */
const char *dbb_route_doc_path(const struct dbb_route *r);
/* Seconds since req started. */
double dbb_request_seconds(const struct dbb_request *req);

/* ---- reply.c: every response goes through these ---- */
/* Content-Security-Policy of every answer but the /docs page: no content
 * of any kind, never framed (a JSON answer is never rendered as a page). */
#define DBB_CSP_API "default-src 'none'; frame-ancestors 'none'"
/* The /docs page: its own scripts and styles (Swagger UI sets inline
 * styles), data: images, fetches to the daemon only, never framed. */
#define DBB_CSP_DOCS                                                                               \
	"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "                \
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; "       \
	"form-action 'none'; frame-ancestors 'none'"

enum MHD_Result dbb_reply_json(struct dbb_request *req, unsigned status, json_t *body);
/* Like dbb_reply_json for a body already serialised (malloc'd, taken). */
enum MHD_Result dbb_reply_json_text(struct dbb_request *req, unsigned status, char *text);
/* {"success":false,"error":code,"message":msg} merged with extra (may be NULL). */
enum MHD_Result dbb_reply_error(struct dbb_request *req, dbb_code code, const char *message,
                                json_t *extra);
enum MHD_Result dbb_reply_err(struct dbb_request *req, const struct dbb_error *err);
/* A JSON string of text, with every byte that is not well-formed UTF-8
 * replaced by '?' (client input echoed in messages stays valid JSON). */
json_t *dbb_json_text(const char *text);
/* Queues a response, records the status. Takes ownership of resp. */
enum MHD_Result dbb_reply_queue(struct dbb_request *req, unsigned status,
                                struct MHD_Response *resp);

/* ---- query parameters ---- */
/* Parses a boolean query parameter (true/false/1/0/yes/no). Absent → def.
 * Repeated or malformed → DBB_ERR_INVALID_PARAMETER. */
dbb_code dbb_query_bool(struct dbb_request *req, const char *name, bool def, bool *out,
                        struct dbb_error *err);
dbb_code dbb_parse_bool(const char *name, const char *value, bool *out, struct dbb_error *err);
/* The value of a query parameter given at most once; *out NULL if absent.
 * Repeated or without a value → DBB_ERR_INVALID_PARAMETER. */
dbb_code dbb_query_value(struct dbb_request *req, const char *name, const char **out,
                         struct dbb_error *err);

/* Answers on the socket itself and closes the connection, for a request
 * whose body is being received (libmicrohttpd 0.9.75 can queue a response
 * only before the body or after all of it): used to refuse a chunked upload
 * at once. Not possible with TLS (returns false: nothing was sent). */
bool dbb_reply_raw(struct dbb_request *req, dbb_code code, const char *message);

/* ---- guard.c: slow clients and the connection reserve ---- */
struct dbb_guard_limits {
	unsigned timeout_s;       /* CONNECTION_TIMEOUT: request head deadline, body window */
	unsigned min_body_rate;   /* MIN_BODY_RATE, bytes/s */
	unsigned max_connections; /* MAX_CONNECTIONS */
	unsigned reserve;         /* kept free by dropping connections without a head */
};
dbb_code dbb_guard_new(struct dbb_guard **out, const struct dbb_guard_limits *lim,
                       struct dbb_error *err);
void dbb_guard_free(struct dbb_guard *g);
/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void dbb_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe);
/* The request head arrived (first call of the access handler). */
void dbb_guard_head_done(struct dbb_guard *g, struct MHD_Connection *conn);
/* A route starts (on) or stops (off) reading a request body: while on, the
 * body must keep MIN_BODY_RATE. */
void dbb_guard_body(struct dbb_guard *g, struct MHD_Connection *conn, bool on);
/* n body bytes arrived. */
void dbb_guard_body_bytes(struct dbb_guard *g, struct MHD_Connection *conn, size_t n);
/* A request ended: the next head on this connection gets a new deadline. */
void dbb_guard_request_done(struct dbb_guard *g, struct MHD_Connection *conn);

/* ---- encoding.c ---- */
/* True when an Accept-Encoding value allows gzip ("gzip", "x-gzip" or "*",
 * with a non-zero q). NULL (no header) allows only identity. */
bool dbb_accepts_gzip(const char *accept_encoding);

/* ---- range.c ---- */
enum dbb_range_result { DBB_RANGE_NONE, DBB_RANGE_OK, DBB_RANGE_UNSATISFIABLE };
/* Parses one "bytes=" range against a file of size bytes. Malformed or
 * multi-range headers are ignored (DBB_RANGE_NONE: send the whole file). */
enum dbb_range_result dbb_range_parse(const char *header, uint64_t size, uint64_t *first,
                                      uint64_t *last);

/* ---- assets.c: files embedded at build time ---- */
struct dbb_asset {
	const char *name; /* "openapi.json", "index.html", "swagger-ui.css"... */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t size;
};
/* Fills *out with the embedded file of that name; false if there is none
 * (also for "index.html" and the Swagger UI files in a build without UI). */
bool dbb_asset_find(const char *name, struct dbb_asset *out);
/* The same for the dashboard's files (/ui, issue 21): "index.html",
 * "app.js"...; false for every name in a build with DBB_UI=OFF. */
bool dbb_ui_asset_find(const char *name, struct dbb_asset *out);
/* 200 with an embedded file and its Content-Type (req->csp as the caller
 * set it): /openapi.json, /docs and /ui. */
enum MHD_Result dbb_reply_asset(struct dbb_request *req, const struct dbb_asset *a);

/* ---- handlers, one file each in handler/ ---- */
enum MHD_Result dbb_handle_health(struct dbb_request *req);
/* {"source","safety_backup","started_at","message"} of an interrupted restore. */
json_t *dbb_interrupted_json(const struct dbb_interrupted_restore *ir);
enum MHD_Result dbb_handle_ready(struct dbb_request *req);
void dbb_health_cache_init(struct dbb_health_cache *c);
void dbb_health_cache_destroy(struct dbb_health_cache *c);
/* The target's health, checked now or at most DBB_READY_CACHE_SECONDS ago. */
void dbb_target_health(struct dbb_server_target *t, struct dbb_ops_health *out);
enum MHD_Result dbb_handle_metrics(struct dbb_request *req);
enum MHD_Result dbb_handle_openapi(struct dbb_request *req);
enum MHD_Result dbb_handle_docs(struct dbb_request *req);
enum MHD_Result dbb_handle_docs_asset(struct dbb_request *req);
/* issue 21: the dashboard (handler/ui.c); dbb_ui_setup fills srv->ui_csp
 * and srv->ui_keycloak from the settings, once at start. */
void dbb_ui_setup(struct dbb_server *srv);
enum MHD_Result dbb_handle_ui(struct dbb_request *req);
enum MHD_Result dbb_handle_ui_asset(struct dbb_request *req);
enum MHD_Result dbb_handle_ui_config(struct dbb_request *req);
enum MHD_Result dbb_handle_list(struct dbb_request *req);
/* A listed backup's item (list.c), and ?location=remote|all (list_remote.c,
 * issue 18; local is dbb_handle_list's own answer). */
json_t *dbb_backup_info_json(const struct dbb_backup_info *b);
enum MHD_Result dbb_handle_list_location(struct dbb_request *req, const char *location);
/* The list's cache, one per server. */
struct dbb_list_cache;
dbb_code dbb_list_cache_new(struct dbb_list_cache **out, struct dbb_error *err);
void dbb_list_cache_free(struct dbb_list_cache *c);
enum MHD_Result dbb_handle_stats(struct dbb_request *req);
enum MHD_Result dbb_handle_download(struct dbb_request *req);
enum MHD_Result dbb_handle_create(struct dbb_request *req);
enum MHD_Result dbb_handle_restore(struct dbb_request *req);
/* The reply of both restore routes; `what` ends the success message
 * (": name" or " uploaded file: name"). */
enum MHD_Result dbb_reply_restore(struct dbb_request *req, dbb_code rc, const struct dbb_error *err,
                                  const struct dbb_restore_result *res, const char *what);
/* POST /backup/verify/{filename} (issue 20) */
enum MHD_Result dbb_handle_verify(struct dbb_request *req);
enum MHD_Result dbb_upload_begin(struct dbb_request *req);
enum MHD_Result dbb_upload_body(struct dbb_request *req, const char *data, size_t *size);
enum MHD_Result dbb_upload_finish(struct dbb_request *req);
void dbb_upload_cleanup(struct dbb_request *req);
enum MHD_Result dbb_handle_delete(struct dbb_request *req);
enum MHD_Result dbb_handle_schedule(struct dbb_request *req);
enum MHD_Result dbb_handle_prune(struct dbb_request *req);
/* ---- handler/jobs.c: asynchronous jobs (issue 20) ----
 * What a mutating handler's operation gives: the body of its success, or
 * an error (with extra fields for its body). */
struct dbb_outcome {
	dbb_code rc;
	struct dbb_error err;
	json_t *body;                       /* the success body, or the error's extra fields */
	char audit_file[DBB_NAME_MAX + 64]; /* for the audit line; "" when none */
};
/* The operation, on the request's thread or a job's; arg is the handler's. */
typedef void (*dbb_outcome_fn)(void *arg, struct dbb_outcome *out);
/* The body of an error answer (dbb_reply_error's). */
json_t *dbb_error_body(dbb_code code, const char *message, json_t *extra);
/* Answers an outcome as the synchronous call always has. */
enum MHD_Result dbb_reply_outcome(struct dbb_request *req, struct dbb_outcome *o);
/* Without ?async=true: runs fn(arg) now (its progress logged every
 * PROGRESS_LOG_INTERVAL) and answers; with it: copies arg (size bytes,
 * released by free_arg after the run or when the job never runs, then
 * free()d) into a job and answers 202 with its id and URL. free_arg may be
 * NULL. required: the least role that sees and cancels the job. */
enum MHD_Result dbb_run_or_start(struct dbb_request *req, enum dbb_job_kind kind, const char *file,
                                 enum dbb_role required, dbb_outcome_fn fn, const void *arg,
                                 size_t size, void (*free_arg)(void *arg));
/* ?async= given as true (a bad value: *bad_reply answered, returns true). */
bool dbb_query_async(struct dbb_request *req, bool *async, enum MHD_Result *bad_reply);
/* The outcome of a restore, as dbb_reply_restore answers it. */
void dbb_restore_outcome(struct dbb_outcome *o, dbb_code rc, const struct dbb_error *err,
                         const struct dbb_restore_result *res, const char *what);
enum MHD_Result dbb_handle_jobs(struct dbb_request *req);
enum MHD_Result dbb_handle_job(struct dbb_request *req);
enum MHD_Result dbb_handle_job_events(struct dbb_request *req);
enum MHD_Result dbb_handle_job_cancel(struct dbb_request *req);

/* GET /targets: every target the token may view, with its type, health and
 * newest backup. */
enum MHD_Result dbb_handle_targets(struct dbb_request *req);

#endif
