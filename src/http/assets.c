/* Files embedded in the binary at build time with the assembler's .incbin:
 * docs/openapi.json, the /docs page and Swagger UI's files from the npm
 * package swagger-ui-dist (installed into the build tree by CMake). Paths
 * come from CMake as DBB_OPENAPI_JSON, DBB_DOCS_INDEX, DBB_DOCS_INIT and
 * DBB_SWAGGER_UI_DIR. */
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

bool dbb_asset_find(const char *name, struct dbb_asset *out)
{
	for (size_t i = 0; name && i < sizeof(entries) / sizeof(entries[0]); i++) {
		if (strcmp(entries[i].name, name) != 0)
			continue;
		out->name = entries[i].name;
		out->type = entries[i].type;
		out->data = entries[i].start;
		out->size = (size_t)(entries[i].end - entries[i].start);
		return true;
	}
	return false;
}
