/* Connection guard: what libmicrohttpd's idle timeout does not cover.
 *  - a request head must be complete within CONNECTION_TIMEOUT seconds of
 *    the connection (or of the previous request's end);
 *  - a request body must bring at least MIN_BODY_RATE bytes a second,
 *    counted over each window of CONNECTION_TIMEOUT seconds;
 *  - when the connections in use reach MAX_CONNECTIONS minus a reserve, the
 *    oldest connections that have not sent a whole request head (slow heads,
 *    idle keep-alive connections) are dropped to make room, so that a client
 *    with a real request is served even while others hold many connections.
 * Dropping is shutdown(), not close(): libmicrohttpd sees the end of the
 * input and closes the socket itself. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "dbbackupd/log.h"
#include "http/internal.h"

/* One connection: from libmicrohttpd's "started" notification to "closed".
 * MHD closes the socket only after the "closed" notification, and that
 * notification takes the guard's lock to unlink the entry, so the watchdog
 * never touches a socket number that was closed and reused. */
struct guard_conn {
	struct guard_conn *prev, *next; /* newest first */
	int fd;
	struct timespec started; /* the connection, or the end of its last request */
	bool head_done;          /* a request head arrived; not evictable */
	bool in_body;            /* a route is reading the request body */
	struct timespec window;  /* start of the current body-rate window */
	uint64_t window_bytes;   /* body bytes received in that window */
	bool dropped;
	bool linked; /* in the list (and counted in live) */
};

struct dbb_guard {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool thread_started;
	bool stopping;
	struct dbb_guard_limits lim;
	unsigned live; /* connections not dropped */
	struct guard_conn *head;
	/* drops not yet logged: one line per kind and second at most, so
	 * that a flood does not flood the log too */
	unsigned evicted, slow_heads, slow_bodies;
	struct timespec logged;
};

static double since(const struct timespec *t, const struct timespec *now)
{
	return (double)(now->tv_sec - t->tv_sec) + (double)(now->tv_nsec - t->tv_nsec) / 1e9;
}

/* Caller holds g->mu. */
static void drop(struct dbb_guard *g, struct guard_conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
	c->dropped = true;
	g->live--;
}

/* Caller holds g->mu. Drops the oldest connections without a request head
 * until the connections in use are below the high-water mark. `keep` (the
 * connection just accepted) is never chosen. */
static void make_room(struct dbb_guard *g, const struct guard_conn *keep)
{
	unsigned high = g->lim.max_connections - g->lim.reserve;
	if (g->live <= high)
		return;
	struct guard_conn *tail = g->head;
	while (tail && tail->next)
		tail = tail->next;
	for (struct guard_conn *c = tail; c && g->live > high; c = c->prev) {
		if (c == keep || c->head_done || c->dropped)
			continue;
		drop(g, c);
		g->evicted++;
	}
}

/* Caller holds g->mu. */
static void log_drops(struct dbb_guard *g, const struct timespec *now)
{
	if (since(&g->logged, now) < 1.0 || !(g->evicted || g->slow_heads || g->slow_bodies))
		return;
	if (g->evicted)
		dbb_warn("dropped %u connection(s) that had sent no complete request head: "
		         "MAX_CONNECTIONS=%u nearly in use, %u kept free for new requests",
		         g->evicted, g->lim.max_connections, g->lim.reserve);
	if (g->slow_heads)
		dbb_warn("dropped %u connection(s) that sent no complete request head in %us "
		         "(CONNECTION_TIMEOUT)",
		         g->slow_heads, g->lim.timeout_s);
	if (g->slow_bodies)
		dbb_warn("dropped %u connection(s) that sent their request body slower than "
		         "MIN_BODY_RATE=%u bytes/s over %us (CONNECTION_TIMEOUT)",
		         g->slow_bodies, g->lim.min_body_rate, g->lim.timeout_s);
	g->evicted = g->slow_heads = g->slow_bodies = 0;
	g->logged = *now;
}

static void *watchdog(void *arg)
{
	struct dbb_guard *g = arg;
	unsigned t = g->lim.timeout_s;
	pthread_mutex_lock(&g->mu);
	while (!g->stopping) {
		struct timespec now, wake;
		clock_gettime(CLOCK_MONOTONIC, &now);
		for (struct guard_conn *c = g->head; c; c = c->next) {
			if (c->dropped)
				continue;
			if (!c->head_done && since(&c->started, &now) >= t) {
				drop(g, c);
				g->slow_heads++;
			} else if (c->in_body && since(&c->window, &now) >= t) {
				if (c->window_bytes < (uint64_t)g->lim.min_body_rate * t) {
					drop(g, c);
					g->slow_bodies++;
				} else {
					c->window = now;
					c->window_bytes = 0;
				}
			}
		}
		log_drops(g, &now);
		clock_gettime(CLOCK_MONOTONIC, &wake);
		wake.tv_nsec += 250 * 1000000L;
		if (wake.tv_nsec >= 1000000000L) {
			wake.tv_sec++;
			wake.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->cv, &g->mu, &wake);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

dbb_code dbb_guard_new(struct dbb_guard **out, const struct dbb_guard_limits *lim,
                       struct dbb_error *err)
{
	struct dbb_guard *g = calloc(1, sizeof(*g));
	pthread_condattr_t ca;
	if (!g)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	g->lim = *lim;
	if (g->lim.reserve >= g->lim.max_connections)
		g->lim.reserve = g->lim.max_connections / 2;
	pthread_mutex_init(&g->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	int e = pthread_create(&g->thread, NULL, watchdog, g);
	if (e) {
		dbb_guard_free(g);
		return dbb_fail_errno(err, e, DBB_ERR_INTERNAL,
		                      "cannot start the connection guard");
	}
	g->thread_started = true;
	*out = g;
	return DBB_OK;
}

void dbb_guard_free(struct dbb_guard *g)
{
	if (!g)
		return;
	if (g->thread_started) {
		pthread_mutex_lock(&g->mu);
		g->stopping = true;
		pthread_cond_signal(&g->cv);
		pthread_mutex_unlock(&g->mu);
		pthread_join(g->thread, NULL);
	}
	while (g->head) {
		struct guard_conn *c = g->head;
		g->head = c->next;
		free(c);
	}
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

void dbb_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe)
{
	struct dbb_guard *g = cls;
	if (!g)
		return;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct guard_conn *c = calloc(1, sizeof(*c));
		*socket_context = c;
		if (!c || !ci)
			return;
		c->fd = ci->connect_fd;
		clock_gettime(CLOCK_MONOTONIC, &c->started);
		pthread_mutex_lock(&g->mu);
		c->next = g->head;
		if (g->head)
			g->head->prev = c;
		g->head = c;
		c->linked = true;
		g->live++;
		make_room(g, c);
		pthread_mutex_unlock(&g->mu);
		return;
	}
	struct guard_conn *c = *socket_context;
	*socket_context = NULL;
	if (!c)
		return;
	pthread_mutex_lock(&g->mu);
	if (c->linked) {
		if (c->prev)
			c->prev->next = c->next;
		else
			g->head = c->next;
		if (c->next)
			c->next->prev = c->prev;
		if (!c->dropped)
			g->live--;
	}
	pthread_mutex_unlock(&g->mu);
	free(c);
}

static struct guard_conn *conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

void dbb_guard_head_done(struct dbb_guard *g, struct MHD_Connection *conn)
{
	struct guard_conn *c = g ? conn_of(conn) : NULL;
	if (!c)
		return;
	pthread_mutex_lock(&g->mu);
	c->head_done = true;
	pthread_mutex_unlock(&g->mu);
}

void dbb_guard_body(struct dbb_guard *g, struct MHD_Connection *conn, bool on)
{
	struct guard_conn *c = g ? conn_of(conn) : NULL;
	if (!c)
		return;
	pthread_mutex_lock(&g->mu);
	c->in_body = on;
	clock_gettime(CLOCK_MONOTONIC, &c->window);
	c->window_bytes = 0;
	pthread_mutex_unlock(&g->mu);
}

void dbb_guard_body_bytes(struct dbb_guard *g, struct MHD_Connection *conn, size_t n)
{
	struct guard_conn *c = g ? conn_of(conn) : NULL;
	if (!c)
		return;
	pthread_mutex_lock(&g->mu);
	c->window_bytes += n;
	pthread_mutex_unlock(&g->mu);
}

void dbb_guard_request_done(struct dbb_guard *g, struct MHD_Connection *conn)
{
	struct guard_conn *c = g ? conn_of(conn) : NULL;
	if (!c)
		return;
	pthread_mutex_lock(&g->mu);
	c->head_done = false; /* the next request head on this connection: a new clock */
	c->in_body = false;
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	pthread_mutex_unlock(&g->mu);
}
