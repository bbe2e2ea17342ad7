/* Listings (ListObjectsV2, ListMultipartUploads), page by page and bounded,
 * and the aborting of multipart uploads. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbbackupd/log.h"

#define DEFAULT_MAX_ITEMS 100000
#define MAX_PAGES         10000

time_t s3_parse_iso8601(const char *s)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec;
	char t, z;
	if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d%c", &y, &mo, &d, &t, &h, &mi, &sec, &z) != 8 ||
	    (t != 'T' && t != ' ') || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return 0;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t v = timegm(&tm);
	return v < 0 ? 0 : v;
}

/* A key as a listing gives it: URL-decoded when the answer says it is. */
static bool listed_key(const char *c, size_t n, bool url, char *out, size_t cap)
{
	char raw[3 * DBB_S3_KEY_MAX + 1];
	if (!dbb_xml_text(c, n, raw, sizeof(raw)))
		return false;
	if (url)
		return dbb_uri_decode(raw, strlen(raw), out, cap, true) && s3_key_valid(out);
	if (strlen(raw) >= cap)
		return false;
	memcpy(out, raw, strlen(raw) + 1);
	return s3_key_valid(out);
}

static bool answer_is_url_encoded(const char *p, const char *end)
{
	char enc[16];
	return dbb_xml_get(p, end, "EncodingType", enc, sizeof(enc)) && strcmp(enc, "url") == 0;
}

static bool is_true(const char *p, const char *end, const char *name)
{
	char v[8];
	return dbb_xml_get(p, end, name, v, sizeof(v)) && strcmp(v, "true") == 0;
}

static dbb_code malformed(struct dbb_s3_error *err, const char *op, const char *what)
{
	return s3_fail(err, DBB_S3_FAULT_OTHER, DBB_ERR_INTERNAL, "S3 %s: malformed answer (%s)",
	               op, what);
}

dbb_code dbb_s3_list(struct dbb_s3 *s3, const char *prefix, size_t max_objects, dbb_s3_object_fn fn,
                     void *ud, bool *truncated, struct dbb_s3_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
	if (truncated)
		*truncated = false;
	if (!max_objects)
		max_objects = DEFAULT_MAX_ITEMS;
	dbb_code rc = DBB_OK;
	char token[1024] = "";
	size_t given = 0;
	bool stop = false;
	struct dbb_s3_object *obj = malloc(sizeof(*obj));
	CURL *curl = curl_easy_init();
	if (!obj || !curl) {
		rc = s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL,
		             "S3 ListObjectsV2: no memory");
		goto out;
	}
	for (unsigned page = 0; page < MAX_PAGES && !stop; page++) {
		struct s3_req rq;
		struct s3_resp rs;
		s3_req_init(&rq, s3, "ListObjectsV2", "GET", NULL);
		s3_req_query(&rq, "list-type", "2");
		s3_req_query(&rq, "encoding-type", "url");
		s3_req_query(&rq, "max-keys", "1000");
		if (prefix && *prefix)
			s3_req_query(&rq, "prefix", prefix);
		if (token[0])
			s3_req_query(&rq, "continuation-token", token);
		s3_resp_init(&rs);
		rs.body.max = S3_XML_BODY_MAX;
		rc = s3_perform(s3, curl, &rq, &rs, err);
		const char *p = rs.body.data ? rs.body.data : "", *end = p + rs.body.len;
		bool url = answer_is_url_encoded(p, end), more = is_true(p, end, "IsTruncated");
		const char *c, *after;
		size_t cl;
		while (!rc && !stop && dbb_xml_find(p, end, "Contents", &c, &cl, &after)) {
			const char *ce = c + cl, *kc;
			size_t kl;
			char num[32];
			memset(obj, 0, sizeof(*obj));
			if (!dbb_xml_find(c, ce, "Key", &kc, &kl, NULL) ||
			    !listed_key(kc, kl, url, obj->key, sizeof(obj->key)) ||
			    !dbb_xml_get(c, ce, "Size", num, sizeof(num))) {
				rc = malformed(err, rq.op, "Contents without a usable Key or Size");
				break;
			}
			char *numend;
			obj->size = strtoull(num, &numend, 10);
			if (*numend || numend == num) {
				rc = malformed(err, rq.op, "Size");
				break;
			}
			char etag[80], lm[40];
			if (dbb_xml_get(c, ce, "ETag", etag, sizeof(etag)))
				s3_printable(obj->etag, sizeof(obj->etag), etag, strlen(etag));
			if (dbb_xml_get(c, ce, "LastModified", lm, sizeof(lm)))
				obj->last_modified = s3_parse_iso8601(lm);
			if (dbb_xml_get(c, ce, "StorageClass", num, sizeof(num)))
				s3_printable(obj->storage_class, sizeof(obj->storage_class), num,
				             strlen(num));
			if (given == max_objects) {
				if (truncated)
					*truncated = true;
				stop = true;
				break;
			}
			given++;
			if (fn(obj, ud))
				stop = true;
			p = after;
		}
		if (!rc && !stop && more) {
			const char *q = rs.body.data ? rs.body.data : "";
			if (!dbb_xml_get(q, q + rs.body.len, "NextContinuationToken", token,
			                 sizeof(token)) ||
			    !token[0])
				rc = malformed(err, rq.op,
				               "IsTruncated without NextContinuationToken");
		}
		s3_resp_free(&rs);
		if (rc || !more)
			break;
	}
out:
	if (curl)
		curl_easy_cleanup(curl);
	free(obj);
	return rc;
}

dbb_code dbb_s3_list_uploads(struct dbb_s3 *s3, const char *prefix, size_t max_uploads,
                             dbb_s3_upload_fn fn, void *ud, bool *truncated,
                             struct dbb_s3_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
	if (truncated)
		*truncated = false;
	if (!max_uploads)
		max_uploads = DEFAULT_MAX_ITEMS;
	dbb_code rc = DBB_OK;
	char key_marker[3 * DBB_S3_KEY_MAX + 1] = "", id_marker[256] = "";
	size_t given = 0;
	bool stop = false;
	struct dbb_s3_upload *up = malloc(sizeof(*up));
	CURL *curl = curl_easy_init();
	if (!up || !curl) {
		rc = s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL,
		             "S3 ListMultipartUploads: no memory");
		goto out;
	}
	for (unsigned page = 0; page < MAX_PAGES && !stop; page++) {
		struct s3_req rq;
		struct s3_resp rs;
		s3_req_init(&rq, s3, "ListMultipartUploads", "GET", NULL);
		s3_req_query(&rq, "uploads", "");
		s3_req_query(&rq, "encoding-type", "url");
		if (prefix && *prefix)
			s3_req_query(&rq, "prefix", prefix);
		if (key_marker[0])
			s3_req_query(&rq, "key-marker", key_marker);
		if (id_marker[0])
			s3_req_query(&rq, "upload-id-marker", id_marker);
		s3_resp_init(&rs);
		rs.body.max = S3_XML_BODY_MAX;
		rc = s3_perform(s3, curl, &rq, &rs, err);
		const char *p = rs.body.data ? rs.body.data : "", *end = p + rs.body.len;
		bool url = answer_is_url_encoded(p, end), more = is_true(p, end, "IsTruncated");
		const char *c, *after;
		size_t cl;
		while (!rc && !stop && dbb_xml_find(p, end, "Upload", &c, &cl, &after)) {
			const char *ce = c + cl, *kc;
			size_t kl;
			char when[40];
			memset(up, 0, sizeof(*up));
			if (!dbb_xml_find(c, ce, "Key", &kc, &kl, NULL) ||
			    !listed_key(kc, kl, url, up->key, sizeof(up->key)) ||
			    !dbb_xml_get(c, ce, "UploadId", up->upload_id, sizeof(up->upload_id)) ||
			    !up->upload_id[0]) {
				rc = malformed(err, rq.op,
				               "Upload without a usable Key or UploadId");
				break;
			}
			if (dbb_xml_get(c, ce, "Initiated", when, sizeof(when)))
				up->initiated = s3_parse_iso8601(when);
			if (given == max_uploads) {
				if (truncated)
					*truncated = true;
				stop = true;
				break;
			}
			given++;
			if (fn(up, ud))
				stop = true;
			p = after;
		}
		if (!rc && !stop && more) {
			const char *q = rs.body.data ? rs.body.data : "", *qe = q + rs.body.len;
			char next_key[3 * DBB_S3_KEY_MAX + 1] = "", next_id[256] = "";
			dbb_xml_get(q, qe, "NextKeyMarker", next_key, sizeof(next_key));
			dbb_xml_get(q, qe, "NextUploadIdMarker", next_id, sizeof(next_id));
			/* a marker that does not move would list the same page forever */
			if (!next_key[0] || (strcmp(next_key, key_marker) == 0 &&
			                     strcmp(next_id, id_marker) == 0)) {
				rc = malformed(err, rq.op, "IsTruncated without new markers");
			} else if (url && !dbb_uri_decode(next_key, strlen(next_key), key_marker,
			                                  sizeof(key_marker), true)) {
				rc = malformed(err, rq.op, "NextKeyMarker");
			} else {
				if (!url)
					memcpy(key_marker, next_key, sizeof(key_marker));
				memcpy(id_marker, next_id, sizeof(id_marker));
			}
		}
		s3_resp_free(&rs);
		if (rc || !more)
			break;
	}
out:
	if (curl)
		curl_easy_cleanup(curl);
	free(up);
	return rc;
}

dbb_code dbb_s3_abort_upload(struct dbb_s3 *s3, const char *key, const char *upload_id,
                             struct dbb_s3_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
	if (!s3_key_valid(key) || !upload_id || !*upload_id)
		return s3_fail(err, DBB_S3_FAULT_OTHER, DBB_ERR_INVALID_PARAMETER,
		               "S3 AbortMultipartUpload: a key and an upload id are needed");
	CURL *curl = curl_easy_init();
	if (!curl)
		return s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL,
		               "S3: cannot set up libcurl");
	struct s3_req rq;
	struct s3_resp rs;
	s3_req_init(&rq, s3, "AbortMultipartUpload", "DELETE", key);
	s3_req_query(&rq, "uploadId", upload_id);
	s3_resp_init(&rs);
	dbb_code rc = s3_perform(s3, curl, &rq, &rs, err);
	if (rc && err && err->fault == DBB_S3_FAULT_NOT_FOUND) { /* gone already: done */
		memset(err, 0, sizeof(*err));
		rc = DBB_OK;
	}
	s3_resp_free(&rs);
	curl_easy_cleanup(curl);
	return rc;
}

struct incomplete {
	const char *key;
	const char *except_upload_id;
	struct dbb_s3_upload *ids;
	size_t n, cap;
	bool no_memory;
};

static int collect(const struct dbb_s3_upload *up, void *ud)
{
	struct incomplete *in = ud;
	if (strcmp(up->key, in->key) != 0 ||
	    (in->except_upload_id && strcmp(up->upload_id, in->except_upload_id) == 0))
		return 0;
	if (in->n == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 4;
		struct dbb_s3_upload *p = realloc(in->ids, cap * sizeof(*p));
		if (!p) {
			in->no_memory = true;
			return 1;
		}
		in->ids = p;
		in->cap = cap;
	}
	in->ids[in->n++] = *up;
	return 0;
}

dbb_code dbb_s3_abort_incomplete(struct dbb_s3 *s3, const char *key, const char *except_upload_id,
                                 unsigned *aborted, struct dbb_s3_error *err)
{
	if (aborted)
		*aborted = 0;
	if (!s3_key_valid(key))
		return s3_fail(err, DBB_S3_FAULT_OTHER, DBB_ERR_INVALID_PARAMETER,
		               "S3 abort: empty, too long or control characters in the key");
	struct incomplete in = {.key = key, .except_upload_id = except_upload_id};
	dbb_code rc = dbb_s3_list_uploads(s3, key, 1000, collect, &in, NULL, err);
	if (!rc && in.no_memory)
		rc = s3_fail(err, DBB_S3_FAULT_LOCAL, DBB_ERR_INTERNAL, "S3 abort: out of memory");
	for (size_t i = 0; !rc && i < in.n; i++) {
		rc = dbb_s3_abort_upload(s3, key, in.ids[i].upload_id, err);
		if (!rc && aborted)
			(*aborted)++;
	}
	free(in.ids);
	return rc;
}
