/* The view of the store the offsite uploader lends the operation layer
 * (struct dbb_ops_remote, issue 18): the objects under the target's
 * S3_PREFIX, and one of them fetched into a file with its SHA-256 checked.
 * S3's errors become the project's codes here, once: a missing object is
 * 404, bytes that do not match the object's x-amz-meta-sha256 are 422
 * invalid_backup, a full disk 507, shutdown 503 shutting_down, and anything
 * that keeps the store from answering (down, timeout, credentials, clock,
 * bucket) 503 offsite_unavailable with the client's message (which names
 * what to check, never a secret). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dbbackupd/storage.h"
#include "offsite/internal.h"

static dbb_code mapped(const struct dbb_s3_error *se, struct dbb_error *err)
{
	dbb_code code;
	switch (se->fault) {
	case DBB_S3_FAULT_NOT_FOUND:
		code = DBB_ERR_NOT_FOUND;
		break;
	case DBB_S3_FAULT_INTEGRITY:
		code = DBB_ERR_INVALID_BACKUP;
		break;
	case DBB_S3_FAULT_CANCELLED:
		code = DBB_ERR_SHUTTING_DOWN;
		break;
	case DBB_S3_FAULT_LOCAL:
		code = se->base.code == DBB_ERR_NO_SPACE ? DBB_ERR_NO_SPACE : DBB_ERR_INTERNAL;
		break;
	default: /* transient, auth, clock, config, other: the store cannot serve us */
		code = DBB_ERR_OFFSITE_DOWN;
		break;
	}
	if (err) {
		*err = se->base;
		err->code = code;
	}
	return code;
}

struct list_ctx {
	const struct dbb_offsite_view *v;
	dbb_ops_remote_fn fn;
	void *ud;
};

static int list_one(const struct dbb_s3_object *obj, void *ud)
{
	struct list_ctx *c = ud;
	size_t plen = strlen(c->v->prefix);
	if (strncmp(obj->key, c->v->prefix, plen) != 0)
		return 0;
	struct dbb_remote_object o = {
	    .name = obj->key + plen,
	    .size = obj->size,
	    .last_modified = obj->last_modified,
	    .etag = obj->etag,
	    .storage_class = obj->storage_class,
	};
	return c->fn(&o, c->ud);
}

dbb_code dbb_offsite_remote_list(void *cls, size_t max, dbb_ops_remote_fn fn, void *ud,
                                 bool *truncated, struct dbb_error *err)
{
	const struct dbb_offsite_view *v = cls;
	struct dbb_s3_error se = {0};
	struct list_ctx c = {v, fn, ud};
	if (dbb_s3_list(v->s3, v->prefix, max, list_one, &c, truncated, &se) != DBB_OK)
		return mapped(&se, err);
	return DBB_OK;
}

dbb_code dbb_offsite_remote_fetch(void *cls, const char *name, int fd, uint64_t max_bytes,
                                  struct dbb_remote_fetch *out, struct dbb_error *err)
{
	const struct dbb_offsite_view *v = cls;
	char key[DBB_S3_KEY_MAX + 1];
	struct dbb_s3_object obj;
	struct dbb_s3_get_result res;
	struct dbb_s3_error se = {0};
	memset(out, 0, sizeof(*out));
	int n = snprintf(key, sizeof(key), "%s%s", v->prefix, name);
	if (n < 0 || (size_t)n >= sizeof(key))
		return dbb_fail(err, DBB_ERR_INVALID_FILENAME, "the key of %s is too long", name);
	/* its size first: a file that cannot fit is refused before a byte */
	if (dbb_s3_head(v->s3, key, &obj, &se) != DBB_OK)
		return mapped(&se, err);
	if (obj.size > max_bytes)
		return dbb_fail(err, DBB_ERR_NO_SPACE,
		                "%s is %" PRIu64
		                " bytes in the object store; the backups directory "
		                "has room for %" PRIu64 " (its free space less a reserve)",
		                name, obj.size, max_bytes);
	if (dbb_s3_get_file(v->s3, key, fd, &res, &se) != DBB_OK) {
		dbb_code rc = mapped(&se, err);
		if (rc == DBB_ERR_INVALID_BACKUP)
			dbb_error_prefix(err,
			                 "the object store's copy of %s is damaged or was "
			                 "changed; nothing was done with it",
			                 name);
		return rc;
	}
	out->size = res.obj.size;
	out->verified = res.verified;
	memcpy(out->sha256, res.sha256, sizeof(out->sha256));
	return DBB_OK;
}

/* ---- retention (ops/remote_prune.c) ---- */

static dbb_code key_for(const struct dbb_offsite_view *v, const char *name, char *key, size_t cap,
                        struct dbb_error *err)
{
	int n = snprintf(key, cap, "%s%s", v->prefix, name);
	if (n < 0 || (size_t)n >= cap)
		return dbb_fail(err, DBB_ERR_INVALID_FILENAME, "the key of %s is too long", name);
	return DBB_OK;
}

dbb_code dbb_offsite_remote_verified(void *cls, const char *name, bool *has_sha256,
                                     struct dbb_error *err)
{
	const struct dbb_offsite_view *v = cls;
	char key[DBB_S3_KEY_MAX + 1];
	struct dbb_s3_object obj;
	struct dbb_s3_error se = {0};
	*has_sha256 = false;
	dbb_code rc = key_for(v, name, key, sizeof(key), err);
	if (rc)
		return rc;
	if (dbb_s3_head(v->s3, key, &obj, &se) != DBB_OK)
		return mapped(&se, err);
	*has_sha256 = obj.sha256[0] != '\0';
	return DBB_OK;
}

dbb_code dbb_offsite_remote_remove(void *cls, const char *name, struct dbb_error *err)
{
	const struct dbb_offsite_view *v = cls;
	char key[DBB_S3_KEY_MAX + 1];
	struct dbb_s3_error se = {0};
	dbb_code rc = key_for(v, name, key, sizeof(key), err);
	if (rc)
		return rc;
	if (dbb_s3_delete(v->s3, key, &se) != DBB_OK)
		return mapped(&se, err);
	return DBB_OK;
}
