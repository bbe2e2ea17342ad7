/* DELETE /backup/delete/{filename}. */
#include <stdio.h>

#include "http/internal.h"

enum MHD_Result dbb_handle_delete(struct dbb_request *req)
{
	struct dbb_error err = {0};
	if (dbb_ops_delete(req->tgt->ops, req->param, &err))
		return dbb_reply_err(req, &err);
	char msg[DBB_NAME_MAX + 64];
	snprintf(msg, sizeof(msg), "Backup deleted successfully: %s", req->param);
	return dbb_reply_json(req, 200, json_pack("{s:b, s:s}", "success", 1, "message", msg));
}
