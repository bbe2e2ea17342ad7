/* Request-head deadline: drops connections that have not sent a whole
 * request head within CONNECTION_TIMEOUT seconds (slowloris). */
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
	struct guard_conn *prev, *next;
	int fd;
	struct timespec started;
	bool head_done;
	bool dropped;
};

struct dbb_guard {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool thread_started;
	bool stopping;
	unsigned timeout_s;
	struct guard_conn *head;
};

static double since(const struct timespec *t, const struct timespec *now)
{
	return (double)(now->tv_sec - t->tv_sec) + (double)(now->tv_nsec - t->tv_nsec) / 1e9;
}

static void *watchdog(void *arg)
{
	struct dbb_guard *g = arg;
	pthread_mutex_lock(&g->mu);
	while (!g->stopping) {
		struct timespec now, wake;
		clock_gettime(CLOCK_MONOTONIC, &now);
		for (struct guard_conn *c = g->head; c; c = c->next) {
			if (c->head_done || c->dropped || since(&c->started, &now) < g->timeout_s)
				continue;
			/* shutdown, not close: MHD sees end of input and closes it */
			shutdown(c->fd, SHUT_RDWR);
			c->dropped = true;
			dbb_warn("dropped a connection that sent no complete request head in %us "
			         "(CONNECTION_TIMEOUT)",
			         g->timeout_s);
		}
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

dbb_code dbb_guard_new(struct dbb_guard **out, unsigned timeout_s, struct dbb_error *err)
{
	struct dbb_guard *g = calloc(1, sizeof(*g));
	pthread_condattr_t ca;
	if (!g)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	g->timeout_s = timeout_s;
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
		pthread_mutex_unlock(&g->mu);
		return;
	}
	struct guard_conn *c = *socket_context;
	*socket_context = NULL;
	if (!c)
		return;
	pthread_mutex_lock(&g->mu);
	if (c->prev)
		c->prev->next = c->next;
	else if (g->head == c)
		g->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&g->mu);
	free(c);
}

void dbb_guard_head_done(struct dbb_guard *g, struct MHD_Connection *conn)
{
	if (!g)
		return;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (!ci || !ci->socket_context)
		return;
	struct guard_conn *c = ci->socket_context;
	pthread_mutex_lock(&g->mu);
	c->head_done = true;
	pthread_mutex_unlock(&g->mu);
}

void dbb_guard_request_done(struct dbb_guard *g, struct MHD_Connection *conn)
{
	if (!g)
		return;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (!ci || !ci->socket_context)
		return;
	struct guard_conn *c = ci->socket_context;
	pthread_mutex_lock(&g->mu);
	c->head_done = false; /* the next request head on this connection: a new clock */
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	pthread_mutex_unlock(&g->mu);
}
