/* The reads of the operation layer: statistics, readiness, downloads, the
 * listing and disk usage. None takes the lock: they run beside a backup or
 * a restore. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/internal.h"

dbb_code dbb_ops_stats(struct dbb_ops *ops, struct dbb_stats *out, struct dbb_error *err)
{
	struct dbb_driver_ctx ctx;
	dbb_stats_init(out);
	dbb_ops_driver_ctx(ops, &ctx);
	return ops->drv->stats(&ctx, out, err);
}

void dbb_ops_health(struct dbb_ops *ops, struct dbb_ops_health *out)
{
	struct dbb_driver_ctx ctx;
	struct dbb_error derr = {0}, serr = {0};
	struct dbb_storage_tmp tmp = {0};

	memset(out, 0, sizeof(*out));
	dbb_ops_driver_ctx(ops, &ctx);
	out->db_ok = ops->drv->health(&ctx, &derr) == DBB_OK;
	tmp.fd = -1;
	out->dir_ok = dbb_storage_tmp_create(ops->st, &tmp, &serr) == DBB_OK;
	dbb_storage_tmp_discard(&tmp);
	if (out->dir_ok)
		out->dir_ok = dbb_storage_free_bytes(ops->st, &out->free_bytes, &serr) == DBB_OK;
	snprintf(out->db_message, sizeof(out->db_message), "%s", derr.message);
	snprintf(out->dir_message, sizeof(out->dir_message), "%s", serr.message);
}

dbb_code dbb_ops_open_download(struct dbb_ops *ops, const char *name, int *fd, uint64_t *size,
                               struct dbb_error *err)
{
	struct stat sb;
	dbb_code rc = dbb_storage_open_backup(ops->st, name, fd, &sb, err);
	if (!rc)
		*size = (uint64_t)sb.st_size;
	return rc;
}

dbb_code dbb_ops_list(struct dbb_ops *ops, struct dbb_storage_stamp *stamp,
                      struct dbb_backup_info **items, size_t *count, struct dbb_error *err)
{
	dbb_storage_stamp(ops->st, stamp);
	return dbb_storage_list(ops->st, items, count, err);
}

bool dbb_ops_list_current(struct dbb_ops *ops, const struct dbb_storage_stamp *stamp,
                          unsigned max_age_s)
{
	return dbb_storage_stamp_current(ops->st, stamp, max_age_s);
}

void dbb_ops_disk_usage(struct dbb_ops *ops, struct dbb_metrics_disk *d)
{
	struct dbb_error err = {0};
	struct dbb_backup_info *items = NULL;
	size_t n = 0;
	memset(d, 0, sizeof(*d));
	if (dbb_storage_list(ops->st, &items, &n, &err) ||
	    dbb_storage_free_bytes(ops->st, &d->free_bytes, &err))
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (items[i].safety) {
			d->safety++;
			d->safety_bytes += items[i].size_bytes;
		} else {
			d->backups++;
			d->backup_bytes += items[i].size_bytes;
			if (items[i].created_at > d->newest_backup)
				d->newest_backup = items[i].created_at;
		}
		bool ok;
		time_t at;
		if (dbb_verify_record_parse(items[i].verify, &ok, &at) && ok &&
		    at > d->last_verified)
			d->last_verified = at;
	}
	d->ok = true;
out:
	free(items);
}
