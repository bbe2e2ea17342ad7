/* The audit trail: one logfmt line per create, restore, restore-upload and
 * delete, whatever the outcome, for a log shipper to parse:
 *   audit action=restore outcome=success status=200 user="backup-operator"
 *         sub="..." role=operator file="backup_postgresql_..." */
#include <stdio.h>
#include <string.h>

#include "dbbackupd/log.h"
#include "http/internal.h"

/* Quotes a value for logfmt: backslash and double quote escaped, control
 * bytes as '?', cut to fit. */
static void quote(char *out, size_t cap, const char *in)
{
	size_t o = 0;
	out[o++] = '"';
	for (const char *p = in ? in : ""; *p && o + 4 < cap; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\')
			out[o++] = '\\';
		out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[o++] = '"';
	out[o] = '\0';
}

void dbb_audit_request(const struct dbb_request *req, bool completed)
{
	if (!req->route || !req->route->audit)
		return;
	char user[300], sub[300], file[400];
	const char *f = req->audit_file[0] ? req->audit_file : req->param;
	quote(user, sizeof(user), req->authenticated ? req->who.username : "");
	quote(sub, sizeof(sub), req->authenticated ? req->who.subject : "");
	quote(file, sizeof(file), f ? f : "");
	const char *outcome = !completed                         ? "client_disconnected"
	                      : req->status && req->status < 400 ? "success"
	                      : req->error_name                  ? req->error_name
	                                                         : "error";
	dbb_info("audit action=%s outcome=%s status=%u user=%s sub=%s role=%s file=%s",
	         req->route->audit, outcome, req->status, user, sub,
	         req->authenticated ? dbb_role_name(req->who.role) : "-", file);
}
