/* The audit trail: one logfmt line per create, restore, restore-upload and
 * delete, whatever the outcome, for a log shipper to parse:
 *   audit action=restore outcome=success status=200 user="backup-operator"
 *         sub="..." role=operator file="backup_postgresql_..." target=postgresql
 * (target: the request's target, "-" when none was chosen: refused token,
 * unknown target; role: the token's role for that target)
 * user, sub and file are always quoted and escaped (dbb_log_quote). */
#include <stdio.h>
#include <string.h>

#include "dbbackupd/log.h"
#include "dbbackupd/notify.h"
#include "http/internal.h"

/* issue 17: a create or restore of the API that failed (5xx, or 422: the
 * backup was refused as invalid) is notified; refusals (400, 404, 409) are
 * the client's to see. */
static void notify_failure(const struct dbb_request *req, const char *file)
{
	/* the request's target's notifier (none without a target: refused) */
	struct dbb_notifier *n = req->tgt ? atomic_load(&req->tgt->notifier) : NULL;
	const char *a = req->route->audit;
	if (!n || !req->status || (req->status < 500 && req->status != 422))
		return;
	bool create = strcmp(a, "create") == 0;
	if (!create && strncmp(a, "restore", 7) != 0)
		return;
	struct dbb_notify_event ev = {
	    .target = req->tgt->cfg->name,
	    .operation = create ? "backup" : "restore",
	    .trigger = "api",
	    .success = false,
	    .duration_seconds = dbb_request_seconds(req),
	};
	snprintf(ev.error, sizeof(ev.error), "%s (HTTP %u)",
	         req->error_name ? req->error_name : "error", req->status);
	snprintf(ev.file, sizeof(ev.file), "%.*s", DBB_NAME_MAX - 1, file);
	dbb_notify(n, &ev);
}

void dbb_audit_request(const struct dbb_request *req, bool completed)
{
	if (!req->route || !req->route->audit)
		return;
	char user[300], sub[300], file[400];
	const char *f = req->audit_file[0] ? req->audit_file : req->param;
	dbb_log_quote(user, sizeof(user), req->authenticated ? req->who.username : "", true);
	dbb_log_quote(sub, sizeof(sub), req->authenticated ? req->who.subject : "", true);
	dbb_log_quote(file, sizeof(file), f ? f : "", true);
	const char *outcome = !completed                         ? "client_disconnected"
	                      : req->status && req->status < 400 ? "success"
	                      : req->error_name                  ? req->error_name
	                                                         : "error";
	/* the role that counted: the token's for the request's target */
	enum dbb_role role =
	    req->tgt ? dbb_principal_role(&req->who, req->tgt->cfg->name) : req->who.role;
	dbb_info("audit action=%s outcome=%s status=%u user=%s sub=%s role=%s file=%s target=%s",
	         req->route->audit, outcome, req->status, user, sub,
	         req->authenticated ? dbb_role_name(role) : "-", file,
	         req->tgt ? req->tgt->cfg->name : "-");
	if (completed)
		notify_failure(req, f ? f : "");
}
