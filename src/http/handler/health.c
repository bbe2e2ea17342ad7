/* GET /health: the process is alive (no auth, no database call). */
#include "http/internal.h"

enum MHD_Result dbb_handle_health(struct dbb_request *req)
{
	return dbb_reply_json(req, 200,
	                      json_pack("{s:s, s:s, s:s}", "status", "ok", "service", "dbbackupd",
	                                "version", DBB_VERSION));
}
