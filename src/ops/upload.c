/* Upload sessions: the body spooled to a temporary file of the backups
 * directory as it arrives, then validated and restored (the lock is taken
 * only then, by dbb_ops_restore_upload). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/internal.h"

struct dbb_ops_upload {
	struct dbb_ops *ops;
	struct dbb_storage_tmp tmp; /* owned until the restore consumes it */
	uint64_t bytes;
};

dbb_code dbb_ops_upload_begin(struct dbb_ops *ops, struct dbb_ops_upload **out,
                              struct dbb_error *err)
{
	struct dbb_ops_upload *up = calloc(1, sizeof(*up));
	if (!up)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	up->ops = ops;
	up->tmp.fd = -1;
	dbb_code rc = dbb_storage_tmp_create(ops->st, &up->tmp, err);
	if (rc) {
		free(up);
		return rc;
	}
	*out = up;
	return DBB_OK;
}

dbb_code dbb_ops_upload_write(struct dbb_ops_upload *up, const void *data, size_t n,
                              struct dbb_error *err)
{
	uint64_t max = up->ops->cfg->max_upload_bytes;
	if (up->tmp.fd < 0)
		return dbb_fail(err, DBB_ERR_INTERNAL, "the upload was already restored");
	if (up->bytes + n > max)
		return dbb_fail(err, DBB_ERR_PAYLOAD_TOO_LARGE,
		                "the upload is larger than MAX_UPLOAD_BYTES (%llu bytes)",
		                (unsigned long long)max);
	const char *p = data;
	size_t left = n;
	while (left > 0) {
		ssize_t w = write(up->tmp.fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL,
			                      "cannot spool the upload");
		}
		p += w;
		left -= (size_t)w;
	}
	up->bytes += n;
	return DBB_OK;
}

uint64_t dbb_ops_upload_bytes(const struct dbb_ops_upload *up)
{
	return up->bytes;
}

dbb_code dbb_ops_upload_restore(struct dbb_ops_upload *up, bool safety_backup,
                                struct dbb_restore_result *res, struct dbb_error *err)
{
	struct dbb_ops_watch w;
	dbb_code rc;
	memset(res, 0, sizeof(*res));
	dbb_ops_watch_begin(up->ops, &w, DBB_METRIC_RESTORE);
	if (up->tmp.fd < 0)
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "the upload was already restored");
	else
		rc = dbb_ops_restore_upload(up->ops, &up->tmp, safety_backup, res, err);
	res->bytes_read = rc ? 0 : up->bytes;
	res->seconds = dbb_ops_watch_end(up->ops, &w, rc, res->bytes_read, up->bytes);
	return rc;
}

void dbb_ops_upload_free(struct dbb_ops_upload *up)
{
	if (!up)
		return;
	dbb_storage_tmp_discard(&up->tmp);
	free(up);
}
