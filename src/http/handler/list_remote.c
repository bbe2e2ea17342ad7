/* GET /backup/list?location=remote|all (issue 18): the backups in the
 * object store under the target's S3_PREFIX, alone or merged by file name
 * with the backups directory's. Never cached: each request lists the store
 * (at most DBB_REMOTE_LIST_MAX objects, "truncated" says when more were
 * left). No HEAD per object: a listing does not carry x-amz-meta-sha256, so
 * a remote item's sha256 is the local sidecar's when the file is also local,
 * else null; download and restore check the object's SHA-256 themselves.
 * location=local (or none) is dbb_handle_list's answer, unchanged. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/internal.h"

static json_t *iso_json(time_t t)
{
	char ts[32];
	struct tm tm;
	if (t == 0)
		return json_null();
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(ts);
}

/* {"key","size_bytes","last_modified","etag","storage_class"} */
static json_t *remote_json(const struct dbb_remote_info *r, const char *prefix)
{
	char key[DBB_NAME_MAX + 1100];
	snprintf(key, sizeof(key), "%s%s", prefix, r->name);
	json_t *o =
	    json_pack("{s:o, s:I, s:o}", "key", dbb_json_text(key), "size_bytes",
	              (json_int_t)r->size_bytes, "last_modified", iso_json(r->last_modified));
	if (o) {
		json_object_set_new(o, "etag", r->etag[0] ? dbb_json_text(r->etag) : json_null());
		json_object_set_new(o, "storage_class",
		                    r->storage_class[0] ? dbb_json_text(r->storage_class)
		                                        : json_null());
	}
	return o;
}

/* A file only in the store, with the fields of a local item: what is known
 * without reading it (compression from the name's suffix). */
static json_t *remote_item(const struct dbb_remote_info *r, const char *prefix)
{
	double mb = round((double)r->size_bytes / 1048576.0 * 100.0) / 100.0;
	json_t *o =
	    json_pack("{s:s, s:I, s:f, s:o, s:b, s:s, s:s, s:s, s:n, s:n, s:s}", "filename",
	              r->name, "size_bytes", (json_int_t)r->size_bytes, "size_mb", mb, "created_at",
	              iso_json(r->created_at), "compressed", strcmp(r->compression, "none") != 0,
	              "compression", r->compression, "type", r->safety ? "safety_backup" : "backup",
	              "database", r->db, "sha256", "offsite", "location", "remote");
	if (o) {
		json_object_set_new(o, "encrypted", json_boolean(r->encrypted));
		json_object_set_new(o, "remote", remote_json(r, prefix));
	}
	return o;
}

static json_t *local_item(const struct dbb_backup_info *b, const struct dbb_remote_info *r,
                          const char *prefix)
{
	json_t *o = dbb_backup_info_json(b);
	if (o) {
		json_object_set_new(o, "location", json_string(r ? "both" : "local"));
		json_object_set_new(o, "remote", r ? remote_json(r, prefix) : json_null());
	}
	return o;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct dbb_remote_info *)a)->name,
	              ((const struct dbb_remote_info *)b)->name);
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The items of location=all, newest first (the directory's order): each
 * local file (with its copy, if the store has one) and each file only in
 * the store. */
static json_t *merged(const struct dbb_backup_info *loc, size_t nl,
                      const struct dbb_remote_info *rem, size_t nr, const char *prefix,
                      size_t *count)
{
	json_t *arr = json_array();
	struct dbb_remote_info *rem_by_name = malloc((nr ? nr : 1) * sizeof(*rem_by_name));
	const char **loc_names = malloc((nl ? nl : 1) * sizeof(*loc_names));
	if (!arr || !rem_by_name || !loc_names) {
		json_decref(arr);
		arr = NULL;
		goto out;
	}
	memcpy(rem_by_name, rem, nr * sizeof(*rem));
	qsort(rem_by_name, nr, sizeof(*rem_by_name), by_name);
	for (size_t i = 0; i < nl; i++)
		loc_names[i] = loc[i].name;
	qsort(loc_names, nl, sizeof(*loc_names), by_string);
	size_t i = 0, j = 0;
	while (i < nl || j < nr) {
		const char *rname = j < nr ? rem[j].name : NULL;
		if (rname && nl && bsearch(&rname, loc_names, nl, sizeof(*loc_names), by_string)) {
			j++; /* also local: listed with the local item */
			continue;
		}
		bool take_local = j >= nr || (i < nl && (loc[i].created_at > rem[j].created_at ||
		                                         (loc[i].created_at == rem[j].created_at &&
		                                          strcmp(loc[i].name, rem[j].name) > 0)));
		if (take_local) {
			struct dbb_remote_info key = {0};
			snprintf(key.name, sizeof(key.name), "%s", loc[i].name);
			const struct dbb_remote_info *r =
			    nr ? bsearch(&key, rem_by_name, nr, sizeof(*rem_by_name), by_name)
			       : NULL;
			json_array_append_new(arr, local_item(&loc[i], r, prefix));
			i++;
		} else {
			json_array_append_new(arr, remote_item(&rem[j], prefix));
			j++;
		}
	}
	*count = json_array_size(arr);
out:
	free(rem_by_name);
	free(loc_names);
	return arr;
}

enum MHD_Result dbb_handle_list_location(struct dbb_request *req, const char *location)
{
	struct dbb_error err = {0};
	struct dbb_backup_info *loc = NULL;
	struct dbb_remote_info *rem = NULL;
	size_t nl = 0, nr = 0, count = 0;
	bool truncated = false, all = strcmp(location, "all") == 0;
	char prefix[1100];
	json_t *arr = NULL;
	enum MHD_Result ret;

	if (!all && strcmp(location, "remote") != 0) {
		dbb_fail(&err, DBB_ERR_INVALID_PARAMETER,
		         "location must be local, remote or all (got \"%.64s\")", location);
		return dbb_reply_err(req, &err);
	}
	struct dbb_storage_stamp stamp;
	if (all && dbb_ops_list(req->tgt->ops, &stamp, &loc, &nl, &err)) {
		ret = dbb_reply_err(req, &err);
		goto out;
	}
	if (dbb_ops_list_remote(req->tgt->ops, &rem, &nr, &truncated, prefix, sizeof(prefix),
	                        &err)) {
		ret = dbb_reply_err(req, &err);
		goto out;
	}
	if (all) {
		arr = merged(loc, nl, rem, nr, prefix, &count);
	} else {
		arr = json_array();
		for (size_t i = 0; arr && i < nr; i++)
			json_array_append_new(arr, remote_item(&rem[i], prefix));
		count = nr;
	}
	json_t *body = arr ? json_pack("{s:b, s:O, s:I, s:s, s:b}", "success", 1, "backups", arr,
	                               "total_count", (json_int_t)count, "location", location,
	                               "truncated", truncated)
	                   : NULL;
	struct dbb_interrupted_restore ir;
	if (body && dbb_ops_interrupted_restore(req->tgt->ops, &ir))
		json_object_set_new(body, "interrupted_restore", dbb_interrupted_json(&ir));
	char *text =
	    body ? json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(12))
	         : NULL;
	json_decref(body);
	ret = text ? dbb_reply_json_text(req, 200, text)
	           : dbb_reply_error(req, DBB_ERR_INTERNAL, "out of memory", NULL);
out:
	json_decref(arr);
	free(loc);
	free(rem);
	return ret;
}
