/* Notifications: a bounded queue, one delivery thread, webhook and SMTP. */
#include "dbbackupd/notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "dbbackupd/log.h"

#define QUEUE_MAX       32
#define ATTEMPTS        3  /* per channel and event */
#define TIMEOUT_SECONDS 10 /* per attempt */

struct queued {
	struct dbb_notify_event ev;
	char target[64], operation[16], trigger[16];
};

struct dbb_notifier {
	char webhook_url[512], webhook_secret[256];
	char smtp_url[512], mail_from[256], mail_to[512];
	bool notify_all;
	struct dbb_metrics_target *metrics;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct queued q[QUEUE_MAX];
	size_t head, count;
	bool stopping, started;
	pthread_t thread;
};

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

char *dbb_notify_event_json(const struct dbb_notify_event *ev)
{
	char at[32];
	struct tm tm;
	time_t t = ev->at ? ev->at : time(NULL);
	gmtime_r(&t, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_t *o = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:b, s:f, s:s}", "event", "operation_finished", "target",
	    ev->target ? ev->target : "", "operation", ev->operation ? ev->operation : "",
	    "trigger", ev->trigger ? ev->trigger : "", "outcome",
	    ev->success ? (ev->recovery ? "recovery" : "success") : "failure", "success",
	    ev->success, "duration_seconds", ev->duration_seconds, "finished_at", at);
	if (!o)
		return NULL;
	json_object_set_new(o, "error", ev->error[0] ? json_string(ev->error) : json_null());
	json_object_set_new(o, "file", ev->file[0] ? json_string(ev->file) : json_null());
	json_object_set_new(o, "size_bytes", json_integer((json_int_t)ev->size_bytes));
	if (ev->operation && strcmp(ev->operation, "prune") == 0)
		json_object_set_new(o, "deleted", json_integer(ev->deleted));
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static size_t discard(char *p, size_t size, size_t n, void *cls)
{
	(void)p;
	(void)cls;
	return size * n;
}

static bool post_webhook(struct dbb_notifier *n, const char *body, char *why, size_t cap)
{
	struct curl_slist *h = NULL;
	char sig[128] = "";
	long status = 0;
	bool ok = false;
	CURL *c = curl_easy_init();
	if (!c) {
		copy(why, cap, "out of memory");
		return false;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	if (n->webhook_secret[0]) {
		unsigned char mac[EVP_MAX_MD_SIZE];
		unsigned len = 0;
		HMAC(EVP_sha256(), n->webhook_secret, (int)strlen(n->webhook_secret),
		     (const unsigned char *)body, strlen(body), mac, &len);
		int at = snprintf(sig, sizeof(sig), "X-Dbbackupd-Signature: sha256=");
		for (unsigned i = 0; i < len && at + 2 < (int)sizeof(sig); i++)
			at += snprintf(sig + at, sizeof(sig) - (size_t)at, "%02x", mac[i]);
		h = curl_slist_append(h, sig);
	}
	curl_easy_setopt(c, CURLOPT_URL, n->webhook_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)TIMEOUT_SECONDS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	CURLcode cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		copy(why, cap, curl_easy_strerror(cc));
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		ok = status >= 200 && status < 300;
		if (!ok)
			snprintf(why, cap, "HTTP status %ld", status);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return ok;
}

struct mail_body {
	const char *data;
	size_t len, at;
};

static size_t mail_read(char *p, size_t size, size_t nitems, void *cls)
{
	struct mail_body *m = cls;
	size_t room = size * nitems, left = m->len - m->at;
	size_t k = left < room ? left : room;
	memcpy(p, m->data + m->at, k);
	m->at += k;
	return k;
}

/* smtp:// to a loopback host may go without TLS; anything else needs it. */
static bool smtp_host_loopback(const char *url)
{
	char *host = NULL;
	bool lo = false;
	CURLU *u = curl_url();
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		lo = strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
		     strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
	curl_free(host);
	curl_url_cleanup(u);
	return lo;
}

static bool send_mail(struct dbb_notifier *n, const struct dbb_notify_event *ev, char *why,
                      size_t cap)
{
	struct curl_slist *rcpt = NULL;
	char to[512], date[64], text[2048];
	bool ok = false;
	struct tm tm;
	time_t t = ev->at ? ev->at : time(NULL);
	const char *outcome = ev->success ? (ev->recovery ? "recovered" : "succeeded") : "FAILED";
	copy(to, sizeof(to), n->mail_to);
	for (char *save = NULL, *a = strtok_r(to, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		while (*a == ' ')
			a++;
		if (*a)
			rcpt = curl_slist_append(rcpt, a);
	}
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	int len = snprintf(text, sizeof(text),
	                   "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: dbbackupd: %s %s %s (%s)\r\n"
	                   "\r\nTarget: %s\r\nOperation: %s (%s)\r\nOutcome: %s\r\n"
	                   "File: %s\r\nSize: %llu bytes\r\nDuration: %.1f s\r\nError: %s\r\n",
	                   date, n->mail_from, n->mail_to, ev->target, ev->operation, outcome,
	                   ev->trigger, ev->target, ev->operation, ev->trigger, outcome,
	                   ev->file[0] ? ev->file : "-", (unsigned long long)ev->size_bytes,
	                   ev->duration_seconds, ev->error[0] ? ev->error : "-");
	struct mail_body body = {text, len < 0 ? 0 : (size_t)len, 0};
	if (body.len >= sizeof(text))
		body.len = sizeof(text) - 1;
	CURL *c = curl_easy_init();
	if (!c || !rcpt) {
		copy(why, cap, c ? "NOTIFY_MAIL_TO has no address" : "out of memory");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, n->smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_USE_SSL,
	                 strncmp(n->smtp_url, "smtps://", 8) == 0 ||
	                         !smtp_host_loopback(n->smtp_url)
	                     ? (long)CURLUSESSL_ALL
	                     : (long)CURLUSESSL_TRY);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, n->mail_from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, mail_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &body);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)TIMEOUT_SECONDS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	CURLcode cc = curl_easy_perform(c);
	ok = cc == CURLE_OK;
	if (!ok)
		copy(why, cap, curl_easy_strerror(cc));
out:
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	return ok;
}

/* Sleeps s seconds unless stopping; true when stopping. */
static bool backoff(struct dbb_notifier *n, unsigned s)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += s;
	pthread_mutex_lock(&n->mu);
	while (!n->stopping && pthread_cond_timedwait(&n->cv, &n->mu, &until) != ETIMEDOUT)
		;
	bool stop = n->stopping;
	pthread_mutex_unlock(&n->mu);
	return stop;
}

static void deliver(struct dbb_notifier *n, const struct dbb_notify_event *ev)
{
	char *body = dbb_notify_event_json(ev);
	bool web = n->webhook_url[0] != '\0', mail = n->smtp_url[0] != '\0';
	char why_web[256] = "out of memory", why_mail[256] = "";
	for (unsigned a = 0; a < ATTEMPTS && (web || mail); a++) {
		if (a > 0 && backoff(n, 1u << a))
			break; /* stopping: one attempt each, no more waiting */
		if (web && body && post_webhook(n, body, why_web, sizeof(why_web)))
			web = false;
		if (mail && send_mail(n, ev, why_mail, sizeof(why_mail)))
			mail = false;
	}
	if (web) {
		dbb_warn("notification of %s %s not delivered to NOTIFY_WEBHOOK_URL: %s",
		         ev->operation, ev->success ? "success" : "failure", why_web);
		if (n->metrics)
			dbb_metrics_notification_failed(n->metrics);
	}
	if (mail) {
		dbb_warn("notification of %s %s not delivered to NOTIFY_SMTP_URL: %s",
		         ev->operation, ev->success ? "success" : "failure", why_mail);
		if (n->metrics)
			dbb_metrics_notification_failed(n->metrics);
	}
	free(body);
}

static void *run(void *arg)
{
	struct dbb_notifier *n = arg;
	pthread_mutex_lock(&n->mu);
	for (;;) {
		while (n->count == 0 && !n->stopping)
			pthread_cond_wait(&n->cv, &n->mu);
		if (n->count == 0)
			break;
		struct queued item = n->q[n->head];
		n->head = (n->head + 1) % QUEUE_MAX;
		n->count--;
		pthread_mutex_unlock(&n->mu);
		item.ev.target = item.target;
		item.ev.operation = item.operation;
		item.ev.trigger = item.trigger;
		deliver(n, &item.ev);
		pthread_mutex_lock(&n->mu);
	}
	pthread_mutex_unlock(&n->mu);
	return NULL;
}

dbb_code dbb_notifier_new(struct dbb_notifier **out, const struct dbb_schedule_config *cfg,
                          struct dbb_metrics_target *m, struct dbb_error *err)
{
	struct dbb_notifier *n = calloc(1, sizeof(*n));
	*out = NULL;
	if (!n)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	copy(n->webhook_url, sizeof(n->webhook_url), cfg->notify_webhook_url);
	copy(n->webhook_secret, sizeof(n->webhook_secret), cfg->notify_webhook_secret);
	copy(n->smtp_url, sizeof(n->smtp_url), cfg->notify_smtp_url);
	copy(n->mail_from, sizeof(n->mail_from), cfg->notify_mail_from);
	copy(n->mail_to, sizeof(n->mail_to), cfg->notify_mail_to);
	n->notify_all = strcmp(cfg->notify_on, "all") == 0;
	n->metrics = m;
	pthread_mutex_init(&n->mu, NULL);
	pthread_cond_init(&n->cv, NULL);
	if (n->webhook_url[0] || n->smtp_url[0]) {
		if (pthread_create(&n->thread, NULL, run, n) != 0) {
			dbb_notifier_free(n);
			return dbb_fail(err, DBB_ERR_INTERNAL,
			                "cannot start the notification thread");
		}
		n->started = true;
	}
	*out = n;
	return DBB_OK;
}

void dbb_notify(struct dbb_notifier *n, const struct dbb_notify_event *ev)
{
	if (!n || !n->started)
		return;
	if (ev->success && !ev->recovery && !n->notify_all)
		return;
	pthread_mutex_lock(&n->mu);
	if (n->count == QUEUE_MAX || n->stopping) {
		pthread_mutex_unlock(&n->mu);
		dbb_warn("notification of %s %s dropped: the queue is full", ev->operation,
		         ev->success ? "success" : "failure");
		if (n->metrics)
			dbb_metrics_notification_failed(n->metrics);
		return;
	}
	struct queued *q = &n->q[(n->head + n->count) % QUEUE_MAX];
	q->ev = *ev;
	if (!q->ev.at)
		q->ev.at = time(NULL);
	copy(q->target, sizeof(q->target), ev->target);
	copy(q->operation, sizeof(q->operation), ev->operation);
	copy(q->trigger, sizeof(q->trigger), ev->trigger);
	n->count++;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
}

void dbb_notifier_free(struct dbb_notifier *n)
{
	if (!n)
		return;
	if (n->started) {
		pthread_mutex_lock(&n->mu);
		n->stopping = true;
		pthread_cond_broadcast(&n->cv);
		pthread_mutex_unlock(&n->mu);
		pthread_join(n->thread, NULL);
	}
	pthread_mutex_destroy(&n->mu);
	pthread_cond_destroy(&n->cv);
	free(n);
}
