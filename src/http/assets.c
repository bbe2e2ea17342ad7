/* Files embedded in the binary at build time with the assembler's .incbin:
 * docs/openapi.json, the /docs page and Swagger UI's files from the npm
 * package swagger-ui-dist (installed into the build tree by CMake). Paths
 * come from CMake as DBB_OPENAPI_JSON, DBB_DOCS_INDEX, DBB_DOCS_INIT and
 * DBB_SWAGGER_UI_DIR; and the dashboard's (/ui, issue 21) from DBB_UI_DIR
 * (ui/) and DBB_UPLOT_DIR (the npm package uplot). */
#include <string.h>

#include "http/internal.h"

#define INCBIN(sym, path)                                                                          \
	__asm__(".pushsection .rodata\n"                                                           \
	        ".balign 16\n"                                                                     \
	        ".global " #sym "_start\n"                                                         \
	        ".hidden " #sym "_start\n" #sym "_start:\n"                                        \
	        ".incbin \"" path "\"\n"                                                           \
	        ".global " #sym "_end\n"                                                           \
	        ".hidden " #sym "_end\n" #sym "_end:\n"                                            \
	        ".byte 0\n"                                                                        \
	        ".popsection\n");                                                                  \
	extern const unsigned char sym##_start[], sym##_end[]

INCBIN(dbb_asset_openapi, DBB_OPENAPI_JSON);
#ifdef DBB_SWAGGER_UI_DIR
INCBIN(dbb_asset_index, DBB_DOCS_INDEX);
INCBIN(dbb_asset_init, DBB_DOCS_INIT);
INCBIN(dbb_asset_css, DBB_SWAGGER_UI_DIR "/swagger-ui.css");
INCBIN(dbb_asset_bundle, DBB_SWAGGER_UI_DIR "/swagger-ui-bundle.js");
INCBIN(dbb_asset_preset, DBB_SWAGGER_UI_DIR "/swagger-ui-standalone-preset.js");
INCBIN(dbb_asset_fav32, DBB_SWAGGER_UI_DIR "/favicon-32x32.png");
INCBIN(dbb_asset_fav16, DBB_SWAGGER_UI_DIR "/favicon-16x16.png");
#endif

struct entry {
	const char *name;
	const char *type;
	const unsigned char *start, *end;
};

static const struct entry entries[] = {
    {"openapi.json", "application/json", dbb_asset_openapi_start, dbb_asset_openapi_end},
#ifdef DBB_SWAGGER_UI_DIR
    {"index.html", "text/html; charset=utf-8", dbb_asset_index_start, dbb_asset_index_end},
    {"init.js", "text/javascript; charset=utf-8", dbb_asset_init_start, dbb_asset_init_end},
    {"swagger-ui.css", "text/css; charset=utf-8", dbb_asset_css_start, dbb_asset_css_end},
    {"swagger-ui-bundle.js", "text/javascript; charset=utf-8", dbb_asset_bundle_start,
     dbb_asset_bundle_end},
    {"swagger-ui-standalone-preset.js", "text/javascript; charset=utf-8", dbb_asset_preset_start,
     dbb_asset_preset_end},
    {"favicon-32x32.png", "image/png", dbb_asset_fav32_start, dbb_asset_fav32_end},
    {"favicon-16x16.png", "image/png", dbb_asset_fav16_start, dbb_asset_fav16_end},
#endif
};

#ifdef DBB_UI_DIR
INCBIN(dbb_ui_index, DBB_UI_DIR "/index.html");
INCBIN(dbb_ui_css, DBB_UI_DIR "/app.css");
INCBIN(dbb_ui_app, DBB_UI_DIR "/app.js");
INCBIN(dbb_ui_api, DBB_UI_DIR "/api.js");
INCBIN(dbb_ui_auth, DBB_UI_DIR "/auth.js");
INCBIN(dbb_ui_util, DBB_UI_DIR "/util.js");
INCBIN(dbb_ui_uplot, DBB_UPLOT_DIR "/uPlot.esm.js");
INCBIN(dbb_ui_uplot_css, DBB_UPLOT_DIR "/uPlot.min.css");
#define JS  "text/javascript; charset=utf-8"
#define CSS "text/css; charset=utf-8"
/* the dashboard's files (issue 21): ui/ and uPlot's from npm */
static const struct entry ui_entries[] = {
    {"index.html", "text/html; charset=utf-8", dbb_ui_index_start, dbb_ui_index_end},
    {"app.css", CSS, dbb_ui_css_start, dbb_ui_css_end},
    {"app.js", JS, dbb_ui_app_start, dbb_ui_app_end},
    {"api.js", JS, dbb_ui_api_start, dbb_ui_api_end},
    {"auth.js", JS, dbb_ui_auth_start, dbb_ui_auth_end},
    {"util.js", JS, dbb_ui_util_start, dbb_ui_util_end},
    {"uPlot.esm.js", JS, dbb_ui_uplot_start, dbb_ui_uplot_end},
    {"uPlot.min.css", CSS, dbb_ui_uplot_css_start, dbb_ui_uplot_css_end},
};
#endif

static bool find(const struct entry *e, size_t n, const char *name, struct dbb_asset *out)
{
	for (size_t i = 0; name && i < n; i++) {
		if (strcmp(e[i].name, name) != 0)
			continue;
		out->name = e[i].name;
		out->type = e[i].type;
		out->data = e[i].start;
		out->size = (size_t)(e[i].end - e[i].start);
		return true;
	}
	return false;
}

bool dbb_ui_asset_find(const char *name, struct dbb_asset *out)
{
#ifdef DBB_UI_DIR
	return find(ui_entries, sizeof(ui_entries) / sizeof(ui_entries[0]), name, out);
#else
	(void)name;
	(void)out;
	return false;
#endif
}

bool dbb_asset_find(const char *name, struct dbb_asset *out)
{
	return find(entries, sizeof(entries) / sizeof(entries[0]), name, out);
}

enum MHD_Result dbb_reply_asset(struct dbb_request *req, const struct dbb_asset *a)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(a->size, (void *)a->data, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", a->type);
	return dbb_reply_queue(req, 200, resp);
}
