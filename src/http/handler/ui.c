/* GET /ui, /ui/, /ui/assets/{name} and /ui/config.json: the dashboard
 * (issue 21, docs/dashboard.md), a client of the public API whose static
 * files are embedded in the binary at build time (assets.c, from ui/ and
 * the npm packages of ui/package-lock.json). Public like /docs: the files
 * hold no data; every call the page makes carries the user's token.
 *
 * The page's Content-Security-Policy allows its own scripts and styles
 * only (no inline code at all), fetches to the daemon and, when tokens
 * come from Keycloak, to Keycloak's origin (the code exchange and the
 * refresh), and forms to nowhere but Keycloak. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dbbackupd/log.h"
#include "http/internal.h"

/* The browser's Keycloak: UI_KEYCLOAK_URL, else KEYCLOAK_URL, without
 * trailing slashes; "" when tokens do not come from Keycloak. */
static void keycloak_base(const struct dbb_config *cfg, char *out, size_t size)
{
	const char *url = cfg->ui_keycloak_url[0] ? cfg->ui_keycloak_url : cfg->keycloak_url;
	size_t n = strlen(url);
	out[0] = '\0';
	if (!cfg->keycloak_url[0] || !cfg->keycloak_realm[0])
		return;
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n < size)
		snprintf(out, size, "%.*s", (int)n, url);
}

/* scheme://host[:port] of url, or false when it is not a plain http(s)
 * URL (a character that could end a CSP source or inject a header). */
static bool origin_of(const char *url, char *out, size_t size)
{
	const char *rest;
	if (strncasecmp(url, "https://", 8) == 0)
		rest = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		rest = url + 7;
	else
		return false;
	size_t host = strcspn(rest, "/?#");
	if (host == 0 ||
	    strspn(rest, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") <
	        host)
		return false;
	int n = snprintf(out, size, "%.*s", (int)(rest - url + (ptrdiff_t)host), url);
	return n > 0 && (size_t)n < size;
}

void dbb_ui_setup(struct dbb_server *srv)
{
	char base[DBB_CFG_STR], origin[DBB_CFG_STR];
	keycloak_base(srv->cfg, base, sizeof(base));
	srv->ui_keycloak = false;
	if (base[0] && origin_of(base, origin, sizeof(origin)))
		srv->ui_keycloak = true;
	else if (base[0])
		dbb_warn(
		    "ui: the Keycloak URL \"%.80s\" has no usable origin; the dashboard offers "
		    "token paste only",
		    base);
	snprintf(srv->ui_csp, sizeof(srv->ui_csp),
	         "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
	         "connect-src 'self'%s%s; form-action %s; frame-ancestors 'none'; base-uri 'none'",
	         srv->ui_keycloak ? " " : "", srv->ui_keycloak ? origin : "",
	         srv->ui_keycloak ? origin : "'none'");
}

static enum MHD_Result serve(struct dbb_request *req, const char *name)
{
	struct dbb_asset a;
	req->csp = req->srv->ui_csp;
	if (!name || !dbb_ui_asset_find(name, &a))
		return dbb_reply_error(req, DBB_ERR_NOT_FOUND,
		                       "no such dashboard file (a build with DBB_UI=OFF has no "
		                       "dashboard)",
		                       NULL);
	return dbb_reply_asset(req, &a);
}

enum MHD_Result dbb_handle_ui(struct dbb_request *req)
{
	return serve(req, "index.html");
}

enum MHD_Result dbb_handle_ui_asset(struct dbb_request *req)
{
	/* index.html is served at /ui and /ui/ only */
	return serve(req, strcmp(req->param, "index.html") == 0 ? NULL : req->param);
}

/* {"auth":"keycloak"|"dev", "keycloak":{"url","realm","client_id"}}: what
 * the sign-in page offers. */
enum MHD_Result dbb_handle_ui_config(struct dbb_request *req)
{
	const struct dbb_config *cfg = req->srv->cfg;
	char base[DBB_CFG_STR];
	req->csp = req->srv->ui_csp;
	keycloak_base(cfg, base, sizeof(base));
	json_t *body = json_pack("{s:s}", "auth", req->srv->ui_keycloak ? "keycloak" : "dev");
	if (body && req->srv->ui_keycloak)
		json_object_set_new(body, "keycloak",
		                    json_pack("{s:s, s:s, s:s}", "url", base, "realm",
		                              cfg->keycloak_realm, "client_id", cfg->ui_client_id));
	if (!body)
		return dbb_reply_error(req, DBB_ERR_INTERNAL, "out of memory", NULL);
	return dbb_reply_json(req, 200, body);
}
