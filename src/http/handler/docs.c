/* GET /openapi.json, GET /docs and GET /docs/{asset}: the API description
 * and Swagger UI, both embedded in the binary at build time (assets.c), so
 * the daemon serves them from any working directory and the browser needs
 * no internet access. */
#include <string.h>

#include "http/internal.h"

static enum MHD_Result serve(struct dbb_request *req, const char *name)
{
	struct dbb_asset a;
	if (!dbb_asset_find(name, &a))
		return dbb_reply_error(req, DBB_ERR_NOT_FOUND,
		                       "no such documentation file (a build with DBB_DOCS_UI=OFF "
		                       "has no Swagger UI; the API is described at /openapi.json)",
		                       NULL);
	if (strcmp(name, "index.html") == 0)
		req->csp = DBB_CSP_DOCS;
	return dbb_reply_asset(req, &a);
}

enum MHD_Result dbb_handle_openapi(struct dbb_request *req)
{
	return serve(req, "openapi.json");
}

enum MHD_Result dbb_handle_docs(struct dbb_request *req)
{
	return serve(req, "index.html");
}

enum MHD_Result dbb_handle_docs_asset(struct dbb_request *req)
{
	/* index.html is served at /docs only */
	return serve(req, strcmp(req->param, "index.html") == 0 ? "" : req->param);
}
