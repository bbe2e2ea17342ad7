/* GET /backup/download/{filename}: sendfile, with byte ranges. A file that
 * is only in the object store (issue 18) is fetched first into an unlinked
 * temporary of the backups directory, its SHA-256 checked against the
 * object's x-amz-meta-sha256, then sent the same way. */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "http/internal.h"

enum MHD_Result dbb_handle_download(struct dbb_request *req)
{
	struct dbb_error err = {0};
	int fd;
	uint64_t size;
	dbb_code rc = dbb_ops_open_download(req->tgt->ops, req->param, &fd, &size, &err);
	if (rc == DBB_ERR_NOT_FOUND && dbb_ops_has_remote(req->tgt->ops))
		rc = dbb_ops_open_remote(req->tgt->ops, req->param, &fd, &size, &err);
	if (rc)
		return dbb_reply_err(req, &err);
	uint64_t first = 0, last = size ? size - 1 : 0;
	const char *range = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Range");
	enum dbb_range_result rr = dbb_range_parse(range, size, &first, &last);
	char buf[160];
	if (rr == DBB_RANGE_UNSATISFIABLE) {
		close(fd);
		snprintf(req->content_range, sizeof(req->content_range), "bytes */%" PRIu64, size);
		snprintf(buf, sizeof(buf),
		         "the requested range is outside the file (%" PRIu64 " bytes)", size);
		return dbb_reply_error(req, DBB_ERR_RANGE, buf, NULL);
	}
	uint64_t len = rr == DBB_RANGE_OK ? last - first + 1 : size;
	/* MHD owns fd from here and serves it with sendfile() */
	struct MHD_Response *resp =
	    MHD_create_response_from_fd_at_offset64(len, fd, (int64_t)first);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	snprintf(buf, sizeof(buf), "attachment; filename=\"%s\"", req->param);
	MHD_add_response_header(resp, "Content-Disposition", buf);
	MHD_add_response_header(resp, "Content-Type", "application/octet-stream");
	MHD_add_response_header(resp, "Accept-Ranges", "bytes");
	if (rr == DBB_RANGE_OK) {
		snprintf(buf, sizeof(buf), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last,
		         size);
		MHD_add_response_header(resp, "Content-Range", buf);
		return dbb_reply_queue(req, 206, resp);
	}
	return dbb_reply_queue(req, 200, resp);
}
