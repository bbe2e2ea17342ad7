/* Offsite copies: the S3_* settings, one uploader thread, and its queue
 * persisted as a record per backup ("<name>.offsite", JSON):
 *
 *   {"state":"pending|uploaded|failed","key":"...","attempts":N,
 *    "etag":...,"uploaded_at":...,"error":...,"next_attempt_at":...}
 *
 * A backup is recorded pending when ops's backup hook fires (before the
 * client gets its answer), an attempt is counted on disk before its first
 * request, and the record says uploaded only after the store's HEAD showed
 * the right size and SHA-256 (dbb_s3_put_file). A transient failure is
 * retried with exponential back-off up to OFFSITE_RETRY_LIMIT attempts; one
 * that needs a person (credentials, clock, bucket) fails at once. At start-up
 * pending and failed records are queued again (a restart is how a person
 * says the settings are fixed); before a retry, the multipart uploads a crash
 * may have left under the key are aborted. */
#include "dbbackupd/offsite.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "dbbackupd/config.h"
#include "dbbackupd/log.h"
#include "dbbackupd/metrics.h"
#include "dbbackupd/ops.h"
#include "dbbackupd/prune.h"
#include "dbbackupd/s3.h"
#include "dbbackupd/storage.h"
#include "dbbackupd/trust.h"
#include "offsite/internal.h"

#define T                   struct dbb_offsite_settings
#define STR(n, field, d)    DBB_SETTING_STRING(T, n, field, d, false)
#define SECRET(n, field, d) DBB_SETTING_STRING(T, n, field, d, true)
#define UINT(n, field, d, lo, hi)                                                                  \
	{                                                                                          \
		n, DBB_SETTING_UINT, offsetof(T, field), 0, d, lo, hi, false                       \
	}
#define BOOL(n, field, d)                                                                          \
	{                                                                                          \
		n, DBB_SETTING_BOOL, offsetof(T, field), 0, d, 0, 1, false                         \
	}
/* min 0: "0" accepted */
#define BYTES(n, field, d, min)                                                                    \
	{                                                                                          \
		n, DBB_SETTING_BYTES, offsetof(T, field), 0, d, min, 0, false                      \
	}

static const struct dbb_setting vars[] = {
    STR("S3_ENDPOINT", endpoint, ""),
    STR("S3_REGION", region, "us-east-1"),
    STR("S3_BUCKET", bucket, ""),
    STR("S3_PREFIX", prefix, ""),
    STR("S3_ACCESS_KEY_ID", access_key_id, ""),
    SECRET("S3_SECRET_ACCESS_KEY", secret_access_key, ""),
    STR("S3_SECRET_ACCESS_KEY_FILE", secret_access_key_file, ""),
    STR("S3_ADDRESSING", addressing, "path"),
    STR("S3_STORAGE_CLASS", storage_class, ""),
    BYTES("S3_PART_SIZE", part_size, "64M", 1),
    BYTES("S3_MAX_SEND_SPEED", max_send_speed, "0", 0),
    BOOL("S3_ALLOW_HTTP", allow_http, "false"),
    STR("OFFSITE_MODE", mode, "copy"),
    UINT("OFFSITE_RETRY_INITIAL", retry_initial, "30", 1, 86400),
    UINT("OFFSITE_RETRY_LIMIT", retry_limit, "10", 1, 1000),
    STR("OFFSITE_RETENTION", retention, ""), /* issue 18, prune.h */
};

const struct dbb_setting *dbb_offsite_settings_table(size_t *count)
{
	*count = sizeof(vars) / sizeof(vars[0]);
	return vars;
}

#define QUEUE_MAX     256  /* files queued in memory; more wait on disk */
#define BACKOFF_MAX_S 3600 /* the longest wait between two attempts */
#define ERROR_MAX     400  /* bytes of an error message kept in a record */

struct entry {
	char name[DBB_NAME_MAX];
	time_t due;
};

struct dbb_offsite {
	struct dbb_ops *ops;
	struct dbb_storage *st;
	struct dbb_s3 *s3;
	char prefix[512];
	char bucket[64];
	struct dbb_offsite_view view; /* lent to ops (remote.c, issue 18) */
	struct dbb_remote_retention retention;
	bool move;
	unsigned retry_initial, retry_limit;
	atomic_bool cancel; /* set by free: the transfer under way stops */

	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool started, stop;
	struct entry queue[QUEUE_MAX];
	size_t n;
	bool overflow;       /* pending records not queued: rescan once the queue empties */
	uint64_t pending;    /* records in state pending */
	time_t last_success; /* of a verified upload; 0: none known */
	struct dbb_metrics_target *metrics;
};

/* ---- records ---- */

struct record {
	char state[16]; /* "" when there is none */
	unsigned attempts;
	time_t uploaded_at;
};

static void iso8601(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static time_t parse_iso8601(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	return end && *end == '\0' ? timegm(&tm) : 0;
}

static void record_parse(const char *text, struct record *r)
{
	memset(r, 0, sizeof(*r));
	json_t *o = json_loads(text, 0, NULL);
	const char *state = json_string_value(json_object_get(o, "state"));
	if (state)
		snprintf(r->state, sizeof(r->state), "%s", state);
	json_int_t a = json_integer_value(json_object_get(o, "attempts"));
	r->attempts = a > 0 && a < 1000000 ? (unsigned)a : 0;
	r->uploaded_at = parse_iso8601(json_string_value(json_object_get(o, "uploaded_at")));
	json_decref(o);
}

static bool record_load(struct dbb_offsite *off, const char *name, struct record *r)
{
	char text[DBB_RECORD_MAX];
	struct dbb_error err = {0};
	memset(r, 0, sizeof(*r));
	if (dbb_storage_record_read(off->st, name, "offsite", text, sizeof(text), &err) != DBB_OK)
		return false;
	record_parse(text, r);
	return r->state[0] != '\0';
}

/* A message as a record keeps it: printable ASCII, bounded. */
static json_t *message_json(const char *msg)
{
	char buf[ERROR_MAX];
	size_t i = 0;
	for (; msg[i] && i + 1 < sizeof(buf); i++)
		buf[i] = msg[i] >= 0x20 && msg[i] < 0x7f ? msg[i] : '?';
	buf[i] = '\0';
	return json_string(buf);
}

static void key_of(const struct dbb_offsite *off, const char *name, char *key, size_t cap)
{
	snprintf(key, cap, "%s%s", off->prefix, name);
}

/* Writes name's record. etag, error: NULL for none; uploaded, next: 0 for
 * none. */
static dbb_code record_put(struct dbb_offsite *off, const char *name, const char *state,
                           unsigned attempts, const char *etag, time_t uploaded, const char *error,
                           time_t next, struct dbb_error *err)
{
	char key[DBB_S3_KEY_MAX + 1], ts[32], nx[32];
	key_of(off, name, key, sizeof(key));
	iso8601(uploaded, ts);
	iso8601(next, nx);
	json_t *o = json_pack("{s:s, s:s, s:I}", "state", state, "key", key, "attempts",
	                      (json_int_t)attempts);
	if (!o)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	json_object_set_new(o, "etag", etag && *etag ? message_json(etag) : json_null());
	json_object_set_new(o, "uploaded_at", uploaded ? json_string(ts) : json_null());
	json_object_set_new(o, "error", error && *error ? message_json(error) : json_null());
	json_object_set_new(o, "next_attempt_at", next ? json_string(nx) : json_null());
	char *text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (!text)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	dbb_code rc = dbb_storage_record_write(off->st, name, "offsite", text, err);
	free(text);
	return rc;
}

/* ---- the queue (callers hold mu) ---- */

static void report(struct dbb_offsite *off)
{
	if (off->metrics)
		dbb_metrics_offsite(off->metrics, off->pending, off->last_success);
}

static bool queued(const struct dbb_offsite *off, const char *name)
{
	for (size_t i = 0; i < off->n; i++)
		if (strcmp(off->queue[i].name, name) == 0)
			return true;
	return false;
}

/* false when the queue is full (the record stays pending on disk). */
static bool push(struct dbb_offsite *off, const char *name, time_t due)
{
	if (queued(off, name))
		return true;
	if (off->n == QUEUE_MAX) {
		off->overflow = true;
		return false;
	}
	snprintf(off->queue[off->n].name, DBB_NAME_MAX, "%s", name);
	off->queue[off->n].due = due;
	off->n++;
	pthread_cond_signal(&off->cv);
	return true;
}

/* name left state pending; uploaded_at: when it was uploaded, or 0. */
static void pending_done(struct dbb_offsite *off, time_t uploaded_at)
{
	pthread_mutex_lock(&off->mu);
	if (off->pending > 0)
		off->pending--;
	if (uploaded_at > off->last_success)
		off->last_success = uploaded_at;
	report(off);
	pthread_mutex_unlock(&off->mu);
}

void dbb_offsite_enqueue(struct dbb_offsite *off, const char *name)
{
	struct dbb_error err = {0};
	if (!off)
		return;
	if (record_put(off, name, "pending", 0, NULL, 0, NULL, 0, &err) != DBB_OK) {
		dbb_error("offsite copy of %s: cannot record it as pending (%s); it is not queued",
		          name, err.message);
		return;
	}
	pthread_mutex_lock(&off->mu);
	off->pending++;
	if (!push(off, name, time(NULL)))
		dbb_warn("offsite copy of %s: %d files queued already; it waits on disk", name,
		         QUEUE_MAX);
	report(off);
	pthread_mutex_unlock(&off->mu);
}

/* Queues every pending record (and, at start-up, every failed one) of the
 * directory, oldest first; counts them; learns the last upload's time. */
static void rescan(struct dbb_offsite *off, bool with_failed)
{
	struct dbb_backup_info *items = NULL;
	size_t count = 0, found = 0, requeued_failed = 0;
	struct dbb_error err = {0};
	if (dbb_storage_list(off->st, &items, &count, &err) != DBB_OK) {
		dbb_warn("offsite copies: cannot list the backups directory: %s", err.message);
		return;
	}
	time_t now = time(NULL), newest = 0;
	pthread_mutex_lock(&off->mu);
	for (size_t i = count; i-- > 0;) {
		struct record r;
		if (items[i].safety || !items[i].offsite[0])
			continue;
		record_parse(items[i].offsite, &r);
		if (strcmp(r.state, "uploaded") == 0 && r.uploaded_at > newest)
			newest = r.uploaded_at;
		bool failed = strcmp(r.state, "failed") == 0;
		if (strcmp(r.state, "pending") != 0 && !(with_failed && failed))
			continue;
		if (failed) {
			/* pending again: it is retried with a fresh budget */
			if (record_put(off, items[i].name, "pending", r.attempts, NULL, 0, NULL, 0,
			               &err) != DBB_OK)
				continue;
			requeued_failed++;
		}
		found++;
		push(off, items[i].name, now);
	}
	off->pending = found;
	if (newest > off->last_success)
		off->last_success = newest;
	report(off);
	pthread_mutex_unlock(&off->mu);
	free(items);
	if (found)
		dbb_info("offsite copies: %zu backup(s) to upload (%zu failed before, tried again)",
		         found, requeued_failed);
}

/* ---- OFFSITE_MODE=move ---- */

/* Deletes the local regular backups, all but the newest, whose copy the
 * store holds with the right size and SHA-256 (checked again by a HEAD). A
 * file under a running operation (restore) stays for the next round. */
static void prune_local(struct dbb_offsite *off)
{
	struct dbb_backup_info *items = NULL;
	size_t count = 0;
	bool newest_seen = false;
	struct dbb_error err = {0};
	if (dbb_storage_list(off->st, &items, &count, &err) != DBB_OK)
		return;
	for (size_t i = 0; i < count && !atomic_load(&off->cancel); i++) {
		struct dbb_backup_info *b = &items[i];
		struct record r;
		if (b->safety)
			continue;
		if (!newest_seen) {
			newest_seen = true; /* the newest stays */
			continue;
		}
		record_parse(b->offsite, &r);
		if (strcmp(r.state, "uploaded") != 0)
			continue;
		char key[DBB_S3_KEY_MAX + 1];
		struct dbb_s3_object obj;
		struct dbb_s3_error se = {0};
		key_of(off, b->name, key, sizeof(key));
		if (dbb_s3_head(off->s3, key, &obj, &se) != DBB_OK) {
			dbb_warn("OFFSITE_MODE=move: %s kept: its copy could not be checked (%s)",
			         b->name, se.base.message);
			continue;
		}
		if (obj.size != b->size_bytes || (b->sha256[0] && strcmp(obj.sha256, b->sha256))) {
			dbb_error(
			    "OFFSITE_MODE=move: %s kept: the store's copy %s differs (size %llu, "
			    "sha256 %s)",
			    b->name, key, (unsigned long long)obj.size,
			    obj.sha256[0] ? obj.sha256 : "none");
			continue;
		}
		dbb_code rc = dbb_ops_delete(off->ops, b->name, &err);
		if (rc == DBB_ERR_BUSY)
			break; /* the next upload tries again */
		if (rc)
			dbb_warn("OFFSITE_MODE=move: cannot delete %s: %s", b->name, err.message);
		else
			dbb_info("OFFSITE_MODE=move: local %s deleted, its verified copy is %s",
			         b->name, key);
	}
	free(items);
}

/* ---- one upload ---- */

static unsigned backoff_s(const struct dbb_offsite *off, unsigned attempts)
{
	unsigned long long d = off->retry_initial;
	for (unsigned i = 1; i < attempts && d < BACKOFF_MAX_S; i++)
		d *= 2;
	return d > BACKOFF_MAX_S ? BACKOFF_MAX_S : (unsigned)d;
}

static void expected_sha256(struct dbb_offsite *off, const char *name, char out[65])
{
	char text[160];
	struct dbb_error err = {0};
	out[0] = '\0';
	if (dbb_storage_record_read(off->st, name, "sha256", text, sizeof(text), &err) == DBB_OK &&
	    strspn(text, "0123456789abcdef") >= 64) {
		memcpy(out, text, 64);
		out[64] = '\0';
	}
}

/* Aborts the multipart uploads earlier attempts left under key (the store was
 * gone when they failed), except keep (the upload this attempt completed). */
static void abort_earlier_uploads(struct dbb_offsite *off, const char *name, const char *key,
                                  const char *keep)
{
	unsigned aborted = 0;
	struct dbb_s3_error ae = {0};
	if (dbb_s3_abort_incomplete(off->s3, key, keep, &aborted, &ae) != DBB_OK)
		dbb_warn("offsite copy of %s: unfinished multipart uploads of earlier attempts not "
		         "aborted (a bucket lifecycle rule AbortIncompleteMultipartUpload removes "
		         "them): %s",
		         name, ae.base.message);
	else if (aborted)
		dbb_info("offsite copy of %s: aborted %u unfinished multipart upload(s) of an "
		         "earlier attempt",
		         name, aborted);
}

static void upload_one(struct dbb_offsite *off, const char *name)
{
	char key[DBB_S3_KEY_MAX + 1], sha[65];
	struct dbb_error err = {0};
	struct dbb_s3_error se = {0};
	struct dbb_s3_put_result res;
	struct record r;
	struct stat sb;
	int fd = -1;

	key_of(off, name, key, sizeof(key));
	if (record_load(off, name, &r) && strcmp(r.state, "pending") != 0) {
		pending_done(off, 0); /* settled meanwhile */
		return;
	}
	if (dbb_storage_open_backup(off->st, name, &fd, &sb, &err) != DBB_OK) {
		dbb_info("offsite copy of %s: not uploaded, the file is gone (%s)", name,
		         err.message);
		pending_done(off, 0);
		return;
	}
	expected_sha256(off, name, sha);
	unsigned attempts = r.attempts + 1;
	/* the attempt is on disk before the store hears of it */
	if (record_put(off, name, "pending", attempts, NULL, 0, NULL, 0, &err) != DBB_OK) {
		dbb_warn("offsite copy of %s: %s", name, err.message);
		close(fd);
		pending_done(off, 0);
		return;
	}
	if (attempts > 1)
		abort_earlier_uploads(off, name, key, NULL);
	dbb_code rc = dbb_s3_put_file(off->s3, key, fd, sha[0] ? sha : NULL, &res, &se);
	close(fd);
	time_t now = time(NULL);
	if (rc == DBB_OK) {
		if (record_put(off, name, "uploaded", attempts, res.etag, now, NULL, 0, &err))
			dbb_warn("offsite copy of %s uploaded, but its record was not written: %s",
			         name, err.message);
		dbb_info("offsite copy of %s uploaded and verified: %s (%llu bytes, %u parts, "
		         "upload id %s, sha256 %s)",
		         name, key, (unsigned long long)res.size, res.parts,
		         res.upload_id[0] ? res.upload_id : "-", res.sha256);
		/* an earlier attempt's upload the store did not list before (it had
		 * just restarted, or the abort failed) is found now */
		if (attempts > 1)
			abort_earlier_uploads(off, name, key,
			                      res.upload_id[0] ? res.upload_id : NULL);
		pending_done(off, now);
		if (off->move)
			prune_local(off);
		return;
	}
	if (se.fault == DBB_S3_FAULT_CANCELLED) {
		dbb_info("offsite copy of %s: stopped by shutdown; it stays pending", name);
		return;
	}
	if (res.leftover_upload_id[0])
		dbb_warn("offsite copy of %s: an unfinished multipart upload is left; the next "
		         "attempt aborts it",
		         name);
	if (dbb_s3_fault_retryable(se.fault) && attempts < off->retry_limit) {
		unsigned wait = backoff_s(off, attempts);
		record_put(off, name, "pending", attempts, NULL, 0, se.base.message, now + wait,
		           &err);
		dbb_warn("offsite copy of %s: attempt %u of %u failed, next in %us: %s", name,
		         attempts, off->retry_limit, wait, se.base.message);
		pthread_mutex_lock(&off->mu);
		push(off, name, now + wait);
		pthread_mutex_unlock(&off->mu);
		return;
	}
	record_put(off, name, "failed", attempts, NULL, 0, se.base.message, 0, &err);
	dbb_error("offsite copy of %s FAILED (%s, attempt %u): %s; %s", name,
	          dbb_s3_fault_name(se.fault), attempts, se.base.message,
	          dbb_s3_fault_retryable(se.fault)
	              ? "no more attempts until the daemon restarts"
	              : "not retried: fix the S3 settings or the store, then restart the daemon");
	pending_done(off, 0);
}

/* ---- the thread ---- */

static size_t earliest(const struct dbb_offsite *off)
{
	size_t best = 0;
	for (size_t i = 1; i < off->n; i++)
		if (off->queue[i].due < off->queue[best].due)
			best = i;
	return best;
}

static void *uploader(void *arg)
{
	struct dbb_offsite *off = arg;
	if (off->move)
		prune_local(off);
	pthread_mutex_lock(&off->mu);
	while (!off->stop) {
		if (off->n == 0 && off->overflow) {
			off->overflow = false;
			pthread_mutex_unlock(&off->mu);
			rescan(off, false);
			pthread_mutex_lock(&off->mu);
			continue;
		}
		if (off->n == 0) {
			pthread_cond_wait(&off->cv, &off->mu);
			continue;
		}
		size_t i = earliest(off);
		if (off->queue[i].due > time(NULL)) {
			struct timespec until = {off->queue[i].due, 0};
			pthread_cond_timedwait(&off->cv, &off->mu, &until);
			continue;
		}
		struct entry e = off->queue[i];
		off->queue[i] = off->queue[--off->n];
		pthread_mutex_unlock(&off->mu);
		upload_one(off, e.name);
		pthread_mutex_lock(&off->mu);
	}
	pthread_mutex_unlock(&off->mu);
	return NULL;
}

static void backup_hook(void *cls, const char *name)
{
	dbb_offsite_enqueue(cls, name);
}

/* ---- settings ---- */

/* S3_SECRET_ACCESS_KEY_FILE: trusted like a private key (trust.h) and
 * readable by its owner only; one line. */
static dbb_code read_secret_file(const char *path, char *buf, size_t cap, struct dbb_error *err)
{
	const char *var = "S3_SECRET_ACCESS_KEY_FILE";
	struct stat checked, opened;
	dbb_code rc = dbb_trust_file(var, path, DBB_TRUST_PRIVATE, &checked, err);
	if (rc)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return dbb_fail_errno(err, errno, DBB_ERR_CONFIG, "%s %s: cannot open", var, path);
	size_t got = 0;
	if (fstat(fd, &opened) != 0 || opened.st_dev != checked.st_dev ||
	    opened.st_ino != checked.st_ino) {
		rc = dbb_fail(err, DBB_ERR_CONFIG, "%s %s changed while being read", var, path);
		goto out;
	}
	if (opened.st_mode & 077) {
		rc = dbb_fail(err, DBB_ERR_CONFIG,
		              "%s %s: readable by others than its owner (mode %03o); chmod 600 it",
		              var, path, (unsigned)(opened.st_mode & 0777));
		goto out;
	}
	while (got + 1 < cap) {
		ssize_t n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0])
		rc = dbb_fail(err, DBB_ERR_CONFIG, "%s %s is empty", var, path);
out:
	close(fd);
	return rc;
}

static dbb_code check_endpoint(const struct dbb_offsite_settings *s, char *endpoint, size_t cap,
                               struct dbb_error *err)
{
	if (!s->endpoint[0]) {
		snprintf(endpoint, cap, "https://s3.%s.amazonaws.com", s->region);
		return DBB_OK;
	}
	snprintf(endpoint, cap, "%s", s->endpoint);
	if (strncmp(endpoint, "https://", 8) == 0)
		return DBB_OK;
	if (strncmp(endpoint, "http://", 7) != 0)
		return dbb_fail(
		    err, DBB_ERR_CONFIG,
		    "S3_ENDPOINT must be an https:// URL (scheme, host, port), got \"%s\"",
		    endpoint);
	if (dbb_trust_loopback_url(endpoint) || s->allow_http)
		return DBB_OK;
	return dbb_fail(err, DBB_ERR_CONFIG,
	                "S3_ENDPOINT %s is plain http to a host that is not loopback: requests and "
	                "backups would cross the network in clear; use https, or set "
	                "S3_ALLOW_HTTP=true",
	                endpoint);
}

dbb_code dbb_offsite_new(struct dbb_offsite **out, const struct dbb_offsite_settings *s,
                         struct dbb_ops *ops, struct dbb_storage *st, struct dbb_error *err)
{
	char endpoint[sizeof(s->endpoint) + 64], secret[sizeof(s->secret_access_key)];
	struct dbb_offsite *off = NULL;
	struct dbb_s3_error se = {0};
	dbb_code rc = DBB_OK;
	*out = NULL;
	secret[0] = '\0';
	if (!s->bucket[0]) {
		if (s->endpoint[0] || s->access_key_id[0])
			return dbb_fail(err, DBB_ERR_CONFIG,
			                "S3_BUCKET must be set for offsite copies (S3_ENDPOINT or "
			                "S3_ACCESS_KEY_ID is set)");
		return DBB_OK;
	}
	bool move = strcmp(s->mode, "move") == 0;
	if (!move && strcmp(s->mode, "copy") != 0)
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "OFFSITE_MODE must be copy or move, got \"%s\"", s->mode);
	bool path = strcmp(s->addressing, "path") == 0;
	if (!path && strcmp(s->addressing, "virtual") != 0)
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "S3_ADDRESSING must be path or virtual, got \"%s\"", s->addressing);
	if (!s->access_key_id[0])
		return dbb_fail(err, DBB_ERR_CONFIG, "S3_ACCESS_KEY_ID must be set with S3_BUCKET");
	if (s->prefix[0] == '/')
		return dbb_fail(err, DBB_ERR_CONFIG, "S3_PREFIX must not start with /");
	rc = check_endpoint(s, endpoint, sizeof(endpoint), err);
	if (rc)
		return rc;
	struct dbb_remote_retention retention;
	rc = dbb_remote_retention_parse(s->retention, &retention, err);
	if (rc)
		return rc;
	if (s->secret_access_key[0] && s->secret_access_key_file[0])
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "S3_SECRET_ACCESS_KEY and S3_SECRET_ACCESS_KEY_FILE are both set: "
		                "keep one");
	if (s->secret_access_key_file[0]) {
		rc = read_secret_file(s->secret_access_key_file, secret, sizeof(secret), err);
		if (rc)
			goto out;
	} else if (s->secret_access_key[0]) {
		snprintf(secret, sizeof(secret), "%s", s->secret_access_key);
	} else {
		return dbb_fail(
		    err, DBB_ERR_CONFIG,
		    "S3_SECRET_ACCESS_KEY or S3_SECRET_ACCESS_KEY_FILE must be set with "
		    "S3_BUCKET");
	}
	off = calloc(1, sizeof(*off));
	if (!off) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		goto out;
	}
	off->ops = ops;
	off->st = st;
	off->move = move;
	off->retry_initial = s->retry_initial;
	off->retry_limit = s->retry_limit;
	atomic_init(&off->cancel, false);
	if (s->prefix[0])
		snprintf(off->prefix, sizeof(off->prefix), "%s", s->prefix);
	else
		snprintf(off->prefix, sizeof(off->prefix), "dbbackupd/%s/",
		         dbb_ops_target_name(ops));
	struct dbb_s3_config c = {
	    .endpoint = endpoint,
	    .region = s->region,
	    .bucket = s->bucket,
	    .access_key_id = s->access_key_id,
	    .secret_access_key = secret,
	    .addressing = path ? DBB_S3_ADDRESSING_PATH : DBB_S3_ADDRESSING_VIRTUAL,
	    .checksum = DBB_S3_CHECKSUM_SHA256,
	    .storage_class = s->storage_class[0] ? s->storage_class : NULL,
	    .part_size = s->part_size,
	    .max_send_speed = s->max_send_speed,
	    .cancel = &off->cancel,
	};
	if (dbb_s3_new(&c, &off->s3, &se) != DBB_OK) {
		rc = dbb_fail(err, DBB_ERR_CONFIG, "S3 settings: %s", se.base.message);
		goto out;
	}
	pthread_mutex_init(&off->mu, NULL);
	pthread_cond_init(&off->cv, NULL);
	dbb_ops_set_backup_hook(ops, backup_hook, off);
	/* issue 18: list, download and restore what is only in the store */
	snprintf(off->bucket, sizeof(off->bucket), "%s", s->bucket);
	off->view = (struct dbb_offsite_view){off->s3, off->bucket, off->prefix};
	off->retention = retention;
	dbb_ops_set_remote(ops, &(struct dbb_ops_remote){
	                            .cls = &off->view,
	                            .bucket = off->bucket,
	                            .prefix = off->prefix,
	                            .list = dbb_offsite_remote_list,
	                            .fetch = dbb_offsite_remote_fetch,
	                            .retention = &off->retention,
	                            .verified = dbb_offsite_remote_verified,
	                            .remove = dbb_offsite_remote_remove,
	                        });
	dbb_info("offsite copies: bucket %s at %s, keys %s<file>, OFFSITE_MODE=%s", s->bucket,
	         endpoint, off->prefix, s->mode);
	*out = off;
	off = NULL;
out:
	explicit_bzero(secret, sizeof(secret));
	free(off);
	return rc;
}

dbb_code dbb_offsite_start(struct dbb_offsite *off, struct dbb_metrics_target *m,
                           struct dbb_error *err)
{
	if (!off)
		return DBB_OK;
	pthread_mutex_lock(&off->mu);
	off->metrics = m;
	report(off);
	pthread_mutex_unlock(&off->mu);
	rescan(off, true);
	int e = pthread_create(&off->thread, NULL, uploader, off);
	if (e)
		return dbb_fail_errno(err, e, DBB_ERR_INTERNAL,
		                      "cannot start the offsite uploader");
	off->started = true;
	return DBB_OK;
}

void dbb_offsite_free(struct dbb_offsite *off)
{
	if (!off)
		return;
	dbb_ops_set_backup_hook(off->ops, NULL, NULL);
	pthread_mutex_lock(&off->mu);
	off->stop = true;
	atomic_store(&off->cancel, true);
	pthread_cond_broadcast(&off->cv);
	pthread_mutex_unlock(&off->mu);
	dbb_ops_set_remote(off->ops, NULL); /* waits for the requests using it (cancelled) */
	if (off->started)
		pthread_join(off->thread, NULL);
	dbb_s3_free(off->s3);
	pthread_cond_destroy(&off->cv);
	pthread_mutex_destroy(&off->mu);
	free(off);
}
