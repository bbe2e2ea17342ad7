/* Backups that live only in the object store (issue 18): the listing of the
 * store under the target's prefix, and the download and restore of a file
 * the backups directory does not hold, through the view of the store the
 * offsite uploader lends (struct dbb_ops_remote). A fetched file is a
 * temporary of the backups directory, so it is on the file system the
 * restore limits count and removed at start-up if a crash left it; every
 * path here removes it. See docs/offsite.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbbackupd/log.h"
#include "ops/internal.h"

void dbb_ops_set_remote(struct dbb_ops *ops, const struct dbb_ops_remote *r)
{
	pthread_mutex_lock(&ops->mu);
	if (r) {
		ops->remote = *r;
		ops->has_remote = true;
	} else {
		ops->has_remote = false; /* no new call; those under way end first */
		while (ops->remote_users > 0)
			pthread_cond_wait(&ops->remote_idle, &ops->mu);
		memset(&ops->remote, 0, sizeof(ops->remote));
	}
	pthread_mutex_unlock(&ops->mu);
}

bool dbb_ops_has_remote(struct dbb_ops *ops)
{
	pthread_mutex_lock(&ops->mu);
	bool on = ops->has_remote;
	pthread_mutex_unlock(&ops->mu);
	return on;
}

bool dbb_ops_remote_get(struct dbb_ops *ops, struct dbb_ops_remote *out)
{
	pthread_mutex_lock(&ops->mu);
	bool on = ops->has_remote;
	if (on) {
		*out = ops->remote;
		ops->remote_users++;
	}
	pthread_mutex_unlock(&ops->mu);
	return on;
}

void dbb_ops_remote_put(struct dbb_ops *ops)
{
	pthread_mutex_lock(&ops->mu);
	if (--ops->remote_users == 0)
		pthread_cond_broadcast(&ops->remote_idle);
	pthread_mutex_unlock(&ops->mu);
}

/* ---- the listing ---- */

struct collect {
	struct dbb_remote_info *items;
	size_t n, cap;
	bool oom;
};

static int collect_one(const struct dbb_remote_object *o, void *ud)
{
	struct collect *c = ud;
	if (strlen(o->name) >= DBB_NAME_MAX || !dbb_name_is_valid(o->name))
		return 0; /* not a backup's name: never listed, as in the directory */
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct dbb_remote_info *v = realloc(c->items, cap * sizeof(*v));
		if (!v) {
			c->oom = true;
			return 1;
		}
		c->items = v;
		c->cap = cap;
	}
	struct dbb_remote_info *r = &c->items[c->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", o->name);
	r->size_bytes = o->size;
	r->last_modified = o->last_modified;
	if (!dbb_name_timestamp(o->name, &r->created_at))
		r->created_at = o->last_modified;
	r->compression = dbb_name_compression(o->name);
	r->encrypted = dbb_name_is_encrypted(o->name);
	r->safety = strncmp(o->name, "safety_", 7) == 0;
	if (!dbb_name_target(o->name, r->db, sizeof(r->db)))
		r->db[0] = '\0';
	snprintf(r->etag, sizeof(r->etag), "%s", o->etag ? o->etag : "");
	snprintf(r->storage_class, sizeof(r->storage_class), "%s",
	         o->storage_class ? o->storage_class : "");
	return 0;
}

/* the directory's order (storage.c): newest first, then by name */
static int newest_first(const void *a, const void *b)
{
	const struct dbb_remote_info *x = a, *y = b;
	if (x->created_at != y->created_at)
		return x->created_at < y->created_at ? 1 : -1;
	return -strcmp(x->name, y->name);
}

static dbb_code not_configured(struct dbb_error *err)
{
	return dbb_fail(err, DBB_ERR_OFFSITE_OFF,
	                "offsite copies are not configured for this target (S3_BUCKET is not "
	                "set): there is no object store to ask");
}

dbb_code dbb_ops_list_remote(struct dbb_ops *ops, struct dbb_remote_info **items, size_t *count,
                             bool *truncated, char *key_prefix, size_t cap, struct dbb_error *err)
{
	struct dbb_ops_remote r;
	struct collect c = {0};
	*items = NULL;
	*count = 0;
	*truncated = false;
	if (!dbb_ops_remote_get(ops, &r))
		return not_configured(err);
	snprintf(key_prefix, cap, "%s", r.prefix);
	dbb_code rc = r.list(r.cls, DBB_REMOTE_LIST_MAX, collect_one, &c, truncated, err);
	dbb_ops_remote_put(ops);
	if (!rc && c.oom)
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory listing the object store");
	if (rc) {
		free(c.items);
		return rc;
	}
	if (c.n > 1)
		qsort(c.items, c.n, sizeof(*c.items), newest_first);
	*items = c.items;
	*count = c.n;
	return DBB_OK;
}

/* ---- fetching a file into a temporary ---- */

/* The room a fetched file may take: the backups directory's free space less
 * a reserve (a tenth of the file system, at most 64 MiB), as for uploads. */
static uint64_t fetch_room(struct dbb_ops *ops)
{
	uint64_t free_b, total_b;
	struct dbb_error err = {0};
	if (dbb_storage_space(ops->st, &free_b, &total_b, &err))
		return UINT64_MAX; /* unknown: the write itself fails on a full disk */
	uint64_t reserve = total_b / 10 < (64u << 20) ? total_b / 10 : (64u << 20);
	return free_b > reserve ? free_b - reserve : 0;
}

/* name, not in the directory, from the store into a new temporary (rewound);
 * the caller owns tmp on success, nothing is left on failure. */
static dbb_code fetch(struct dbb_ops *ops, const char *name, struct dbb_storage_tmp *tmp,
                      struct dbb_remote_fetch *got, struct dbb_error *err)
{
	struct dbb_ops_remote r;
	dbb_code rc;
	memset(got, 0, sizeof(*got));
	tmp->fd = -1;
	if (!dbb_name_is_valid(name))
		return dbb_fail(err, DBB_ERR_INVALID_FILENAME, "invalid backup file name");
	if (!dbb_ops_remote_get(ops, &r))
		return dbb_fail(err, DBB_ERR_NOT_FOUND, "backup not found: %s", name);
	rc = dbb_storage_tmp_create(ops->st, tmp, err);
	if (!rc)
		rc = r.fetch(r.cls, name, tmp->fd, fetch_room(ops), got, err);
	if (!rc && lseek(tmp->fd, 0, SEEK_SET) != 0)
		rc = dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "cannot rewind %s", tmp->name);
	if (rc == DBB_ERR_NOT_FOUND)
		dbb_fail(err, DBB_ERR_NOT_FOUND,
		         "backup not found: %s (neither in the backups directory nor in the object "
		         "store under s3://%s/%s)",
		         name, r.bucket, r.prefix);
	dbb_ops_remote_put(ops);
	if (rc) {
		dbb_storage_tmp_discard(tmp);
		return rc;
	}
	dbb_info("%s fetched from the object store (s3://%s/%s%s, %llu bytes, %s)", name, r.bucket,
	         r.prefix, name, (unsigned long long)got->size,
	         got->verified ? "SHA-256 verified against x-amz-meta-sha256"
	                       : "no x-amz-meta-sha256 to verify it against");
	return DBB_OK;
}

dbb_code dbb_ops_open_remote(struct dbb_ops *ops, const char *name, int *fd, uint64_t *size,
                             struct dbb_error *err)
{
	struct dbb_storage_tmp tmp = {0};
	struct dbb_remote_fetch got;
	*fd = -1;
	dbb_code rc = fetch(ops, name, &tmp, &got, err);
	if (rc)
		return rc;
	/* the name goes now: the descriptor alone keeps the bytes, so nothing
	 * is left behind however the response ends */
	*fd = dup(tmp.fd);
	dbb_storage_tmp_discard(&tmp);
	if (*fd < 0)
		return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "cannot keep the fetched file");
	*size = got.size;
	return DBB_OK;
}

dbb_code dbb_ops_restore_any(struct dbb_ops *ops, const char *name, bool safety_backup,
                             struct dbb_restore_result *res, struct dbb_error *err)
{
	struct dbb_storage_tmp tmp = {0};
	struct dbb_remote_fetch got;
	struct dbb_ops_watch w;
	struct stat sb;
	int fd = -1;
	char label[DBB_NAME_MAX + 32];

	dbb_code rc = dbb_storage_open_backup(ops->st, name, &fd, &sb, err);
	if (fd >= 0)
		close(fd);
	if (rc != DBB_ERR_NOT_FOUND || !dbb_ops_has_remote(ops))
		return dbb_ops_restore_file(ops, name, safety_backup, res, err);
	memset(res, 0, sizeof(*res));
	dbb_ops_watch_begin(ops, &w, DBB_METRIC_RESTORE);
	rc = fetch(ops, name, &tmp, &got, err);
	if (rc) {
		dbb_error("restore from %s refused: %s", name, err->message);
	} else {
		snprintf(label, sizeof(label), "%s (from the object store)", name);
		rc = dbb_ops_restore_fetched(ops, &tmp, label, safety_backup, res, err);
	}
	res->bytes_read = rc ? 0 : got.size;
	res->seconds = dbb_ops_watch_end(ops, &w, rc, res->bytes_read, 0);
	return rc;
}
