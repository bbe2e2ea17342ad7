/* GET /backup/list: every backup in the directory, newest first. The
 * "backups" array is cached as JSON text until the directory changes (see
 * dbb_storage_stamp): with 1,000 backups, building it costs thousands of
 * system calls, and a list is asked for far more often than a backup is
 * made. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/internal.h"

static json_t *info_json(const struct dbb_backup_info *b)
{
	char ts[32];
	struct tm tm;
	gmtime_r(&b->created_at, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	double mb = round((double)b->size_bytes / 1048576.0 * 100.0) / 100.0;
	json_t *o = json_pack("{s:s, s:I, s:f, s:s, s:b, s:s, s:s}", "filename", b->name,
	                      "size_bytes", (json_int_t)b->size_bytes, "size_mb", mb, "created_at",
	                      ts, "compressed", b->compressed, "type",
	                      b->safety ? "safety_backup" : "backup", "database", b->db);
	if (o)
		json_object_set_new(o, "sha256",
		                    b->sha256[0] ? json_string(b->sha256) : json_null());
	return o;
}

#define CACHE_MAX_AGE_S 5

/* One per process (one server, one backups directory). */
static struct {
	pthread_mutex_t mu;
	struct dbb_storage *st;
	struct dbb_storage_stamp stamp;
	char *backups; /* the "backups" array, compact JSON */
	size_t count;
} cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

void dbb_list_cache_free(void)
{
	pthread_mutex_lock(&cache.mu);
	free(cache.backups);
	cache.backups = NULL;
	cache.st = NULL;
	pthread_mutex_unlock(&cache.mu);
}

/* The "backups" array text (malloc'd) and its length, from the cache or
 * from the directory. */
static dbb_code backups_text(struct dbb_storage *st, char **text, size_t *count,
                             struct dbb_error *err)
{
	pthread_mutex_lock(&cache.mu);
	if (cache.backups && cache.st == st &&
	    dbb_storage_stamp_current(st, &cache.stamp, CACHE_MAX_AGE_S)) {
		*text = strdup(cache.backups);
		*count = cache.count;
		pthread_mutex_unlock(&cache.mu);
		return *text ? DBB_OK : dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	}
	pthread_mutex_unlock(&cache.mu);

	struct dbb_storage_stamp stamp;
	struct dbb_backup_info *items = NULL;
	size_t n = 0;
	dbb_storage_stamp(st, &stamp); /* before reading: a change meanwhile voids it */
	dbb_code rc = dbb_storage_list(st, &items, &n, err);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, info_json(&items[i]));
	free(items);
	*text = arr ? json_dumps(arr, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(arr);
	if (!*text)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	*count = n;
	if (stamp.settled) {
		char *copy = strdup(*text);
		pthread_mutex_lock(&cache.mu);
		if (copy) {
			free(cache.backups);
			cache.backups = copy;
			cache.count = n;
			cache.stamp = stamp;
			cache.st = st;
		}
		pthread_mutex_unlock(&cache.mu);
	}
	return DBB_OK;
}

enum MHD_Result dbb_handle_list(struct dbb_request *req)
{
	struct dbb_error err = {0};
	char *arr_text = NULL;
	size_t n = 0;
	if (backups_text(dbb_ops_storage(req->srv->ops), &arr_text, &n, &err))
		return dbb_reply_err(req, &err);
	/* {"success":true,"backups":[...],"total_count":n[,"interrupted_restore":{...}]} */
	char *ir_text = NULL;
	struct dbb_interrupted_restore ir;
	if (dbb_ops_interrupted_restore(req->srv->ops, &ir)) {
		json_t *j = dbb_interrupted_json(&ir);
		ir_text = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
		json_decref(j);
	}
	size_t cap = strlen(arr_text) + (ir_text ? strlen(ir_text) : 0) + 96;
	char *body = malloc(cap);
	if (body)
		snprintf(body, cap, "{\"success\":true,\"backups\":%s,\"total_count\":%zu%s%s}",
		         arr_text, n, ir_text ? ",\"interrupted_restore\":" : "",
		         ir_text ? ir_text : "");
	free(arr_text);
	free(ir_text);
	if (!body)
		return dbb_reply_error(req, DBB_ERR_INTERNAL, "out of memory", NULL);
	return dbb_reply_json_text(req, 200, body);
}
