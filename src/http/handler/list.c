/* GET /backup/list: every backup in the directory, newest first. The
 * "backups" array is cached as JSON text until the directory changes (see
 * dbb_storage_stamp): with 1,000 backups, building it costs thousands of
 * system calls, and a list is asked for far more often than a backup is
 * made. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "http/internal.h"

/* a backup longer than this is a file copied in later, not a duration */
#define DURATION_MAX_S (7 * 86400)

json_t *dbb_backup_info_json(const struct dbb_backup_info *b)
{
	char ts[32];
	struct tm tm;
	gmtime_r(&b->created_at, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	double mb = round((double)b->size_bytes / 1048576.0 * 100.0) / 100.0;
	json_t *o =
	    json_pack("{s:s, s:I, s:f, s:s, s:b, s:s, s:s, s:s}", "filename", b->name, "size_bytes",
	              (json_int_t)b->size_bytes, "size_mb", mb, "created_at", ts, "compressed",
	              b->compressed, "compression", b->compression ? b->compression : "none",
	              "type", b->safety ? "safety_backup" : "backup", "database", b->db);
	if (o) /* issue 19: an age file (then compression is from its name) */
		json_object_set_new(o, "encrypted", json_boolean(b->encrypted));
	if (o)
		json_object_set_new(o, "sha256",
		                    b->sha256[0] ? json_string(b->sha256) : json_null());
	/* the offsite copy's record (offsite.h), null when the file has none */
	json_t *off = b->offsite[0] ? json_loads(b->offsite, 0, NULL) : NULL;
	if (o)
		json_object_set_new(o, "offsite",
		                    json_is_object(off) ? json_incref(off) : json_null());
	json_decref(off);
	/* issue 21: how long the backup took, about: the name holds the time
	 * it began, the file's mtime when its last byte was written; null for
	 * a file without a time in its name or a mtime that does not fit (a
	 * copy made later) */
	time_t began;
	if (o && b->modified_at && dbb_name_timestamp(b->name, &began) && b->modified_at >= began &&
	    b->modified_at - began <= DURATION_MAX_S)
		json_object_set_new(o, "duration_seconds",
		                    json_integer((json_int_t)(b->modified_at - began)));
	else if (o)
		json_object_set_new(o, "duration_seconds", json_null());
	/* issue 20: the last test-restore, null when never verified */
	bool vok = false;
	time_t vat = 0;
	if (o && dbb_verify_record_parse(b->verify, &vok, &vat)) {
		char vts[32];
		gmtime_r(&vat, &tm);
		strftime(vts, sizeof(vts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_object_set_new(o, "verified_at", json_string(vts));
		json_object_set_new(o, "verify_ok", json_boolean(vok));
	} else if (o) {
		json_object_set_new(o, "verified_at", json_null());
		json_object_set_new(o, "verify_ok", json_null());
	}
	return o;
}

#define CACHE_MAX_AGE_S 5
/* an old answer is served while one request rebuilds it, up to this age */
#define STALE_MAX_AGE_S 60

/* A whole answer, {"success":true,"backups":[...],"total_count":N}: built
 * once, then shared read-only by every response that sends it (MHD drops its
 * reference when the response is destroyed), so a cached list costs no copy
 * of its 250 KB per request. */
struct list_body {
	atomic_uint refs;
	size_t len;
	char text[]; /* NUL-terminated */
};

static struct list_body *body_ref(struct list_body *b)
{
	atomic_fetch_add(&b->refs, 1);
	return b;
}

static void body_unref(void *cls)
{
	struct list_body *b = cls;
	if (b && atomic_fetch_sub(&b->refs, 1) == 1)
		free(b);
}

/* One per target (the server's targets[i].list_cache): the ops it lists is the target's. */
struct dbb_list_cache {
	pthread_mutex_t mu;
	struct dbb_storage_stamp stamp;
	struct list_body *body; /* a reference of the cache's own */
	struct list_body *gz;   /* body gzip'd, made when first asked for; or NULL */
	bool refreshing;        /* a request is rebuilding the (old) body */
	bool compressing;       /* a request is making gz */
};

dbb_code dbb_list_cache_new(struct dbb_list_cache **out, struct dbb_error *err)
{
	struct dbb_list_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	pthread_mutex_init(&c->mu, NULL);
	*out = c;
	return DBB_OK;
}

void dbb_list_cache_free(struct dbb_list_cache *c)
{
	if (!c)
		return;
	body_unref(c->body);
	body_unref(c->gz);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static struct list_body *body_new(const char *backups, size_t count)
{
	size_t cap = strlen(backups) + 96;
	struct list_body *b = malloc(sizeof(*b) + cap);
	if (!b)
		return NULL;
	atomic_init(&b->refs, 1);
	int n = snprintf(b->text, cap, "{\"success\":true,\"backups\":%s,\"total_count\":%zu}",
	                 backups, count);
	b->len = n > 0 ? (size_t)n : 0;
	return b;
}

/* Builds the answer from the directory; *stamp is taken before reading, so a
 * change meanwhile voids it. */
static dbb_code build_body(struct dbb_ops *ops, struct dbb_storage_stamp *stamp,
                           struct list_body **out, struct dbb_error *err)
{
	struct dbb_backup_info *items = NULL;
	size_t n = 0;
	dbb_code rc = dbb_ops_list(ops, stamp, &items, &n, err);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, dbb_backup_info_json(&items[i]));
	free(items);
	char *text =
	    arr ? json_dumps(arr, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(12))
	        : NULL;
	json_decref(arr);
	*out = text ? body_new(text, n) : NULL;
	free(text);
	return *out ? DBB_OK : dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
}

/* b compressed as one gzip member (level 6, the list is ~10x smaller). */
static struct list_body *gzip_body(const struct list_body *b)
{
	z_stream z = {0};
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	size_t cap = deflateBound(&z, (uLong)b->len);
	struct list_body *gz = malloc(sizeof(*gz) + cap);
	if (gz) {
		atomic_init(&gz->refs, 1);
		z.next_in = (Bytef *)b->text;
		z.avail_in = (uInt)b->len;
		z.next_out = (Bytef *)gz->text;
		z.avail_out = (uInt)cap;
		if (deflate(&z, Z_FINISH) == Z_STREAM_END) {
			gz->len = cap - z.avail_out;
		} else {
			free(gz);
			gz = NULL;
		}
	}
	deflateEnd(&z);
	return gz;
}

/* The answer (a reference the caller drops), from the cache or from the
 * directory. When the cached answer has only grown old (the directory has not
 * changed), one request rebuilds it and the others keep being answered from
 * the old one meanwhile: otherwise every request in flight at that moment
 * would read the whole directory at once, every CACHE_MAX_AGE_S seconds. */
static dbb_code list_body(struct dbb_list_cache *cache, struct dbb_ops *ops, struct list_body **out,
                          struct dbb_error *err)
{
	bool refresher = false, gz_wanted = false;
	pthread_mutex_lock(&cache->mu);
	if (cache->body) {
		if (dbb_ops_list_current(ops, &cache->stamp, CACHE_MAX_AGE_S)) {
			*out = body_ref(cache->body);
			pthread_mutex_unlock(&cache->mu);
			return DBB_OK;
		}
		if (dbb_ops_list_current(ops, &cache->stamp, STALE_MAX_AGE_S)) {
			if (cache->refreshing) {
				*out = body_ref(cache->body);
				pthread_mutex_unlock(&cache->mu);
				return DBB_OK;
			}
			cache->refreshing = refresher = true;
			gz_wanted = cache->gz != NULL;
		}
	}
	pthread_mutex_unlock(&cache->mu);

	struct dbb_storage_stamp stamp;
	struct list_body *b = NULL, *gz = NULL;
	dbb_code rc = build_body(ops, &stamp, &b, err);
	if (rc == DBB_OK && gz_wanted && stamp.settled)
		gz = gzip_body(b); /* clients ask for gzip: have it ready too */
	pthread_mutex_lock(&cache->mu);
	if (refresher)
		cache->refreshing = false;
	if (rc == DBB_OK && stamp.settled) {
		body_unref(cache->body);
		body_unref(cache->gz);
		cache->body = body_ref(b);
		cache->gz = gz;
		gz = NULL;
		cache->stamp = stamp;
	}
	pthread_mutex_unlock(&cache->mu);
	body_unref(gz);
	*out = b;
	return rc;
}

/* The gzip'd form of b (a reference), cached beside the cached body; NULL
 * while another request is making it (Accept-Encoding allows gzip, it does not
 * demand it: identity is a right answer meanwhile) or when out of memory. */
static struct list_body *gzip_of(struct dbb_list_cache *cache, struct list_body *b)
{
	struct list_body *gz = NULL;
	bool cached, maker = false;

	pthread_mutex_lock(&cache->mu);
	cached = cache->body == b;
	if (cached && cache->gz)
		gz = body_ref(cache->gz);
	else if (cached && !cache->compressing)
		cache->compressing = maker = true;
	pthread_mutex_unlock(&cache->mu);
	if (gz || (cached && !maker))
		return gz; /* made already, or being made by another request */
	/* ours to make, or b is not cached (built for this request alone) */
	gz = gzip_body(b); /* outside the lock: a few ms */
	if (maker) {
		pthread_mutex_lock(&cache->mu);
		cache->compressing = false;
		if (gz && cache->body == b && !cache->gz)
			cache->gz = body_ref(gz);
		pthread_mutex_unlock(&cache->mu);
	}
	return gz;
}

/* The answer with "interrupted_restore" added before its closing brace. */
static char *with_interrupted(const struct list_body *b, const struct dbb_interrupted_restore *ir)
{
	json_t *j = dbb_interrupted_json(ir);
	char *ir_text = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(j);
	if (!ir_text || b->len == 0)
		goto out;
	size_t cap = b->len + strlen(ir_text) + 32;
	char *text = malloc(cap);
	if (text)
		snprintf(text, cap, "%.*s,\"interrupted_restore\":%s}", (int)(b->len - 1), b->text,
		         ir_text);
	free(ir_text);
	return text;
out:
	free(ir_text);
	return NULL;
}

enum MHD_Result dbb_handle_list(struct dbb_request *req)
{
	struct dbb_error err = {0};
	struct list_body *b = NULL;
	const char *location = NULL; /* issue 18: remote and all in list_remote.c */
	if (dbb_query_value(req, "location", &location, &err))
		return dbb_reply_err(req, &err);
	if (location && strcmp(location, "local") != 0)
		return dbb_handle_list_location(req, location);
	if (list_body(req->tgt->list_cache, req->tgt->ops, &b, &err))
		return dbb_reply_err(req, &err);
	struct dbb_interrupted_restore ir;
	if (dbb_ops_interrupted_restore(req->tgt->ops, &ir)) {
		char *text = with_interrupted(b, &ir);
		body_unref(b);
		if (!text)
			return dbb_reply_error(req, DBB_ERR_INTERNAL, "out of memory", NULL);
		return dbb_reply_json_text(req, 200, text);
	}
	/* Vary: a cache in between must not give the gzip form to a client that
	 * did not ask for it */
	const char *encoding = NULL;
	if (dbb_accepts_gzip(MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	                                                 MHD_HTTP_HEADER_ACCEPT_ENCODING))) {
		struct list_body *gz = gzip_of(req->tgt->list_cache, b);
		if (gz) {
			body_unref(b);
			b = gz;
			encoding = "gzip";
		}
	}
	/* the response owns the reference from here, even when it cannot be made */
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer_with_free_callback_cls(b->len, b->text, body_unref, b);
	if (!resp) {
		body_unref(b);
		return dbb_reply_error(req, DBB_ERR_INTERNAL, "out of memory", NULL);
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Vary", "Accept-Encoding");
	if (encoding)
		MHD_add_response_header(resp, "Content-Encoding", encoding);
	return dbb_reply_queue(req, 200, resp);
}
