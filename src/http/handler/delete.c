/* DELETE /backup/delete/{filename}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

struct delete_args {
	struct dbb_ops *ops;
	char *name; /* owned */
};

static void delete_args_free(void *arg)
{
	free(((struct delete_args *)arg)->name);
}

/* On the request's thread, or a job's (?async=true, handler/jobs.c). */
static void delete_run(void *arg, struct dbb_outcome *o)
{
	struct delete_args *a = arg;
	if ((o->rc = dbb_ops_delete(a->ops, a->name, &o->err)))
		return;
	char msg[DBB_NAME_MAX + 64];
	snprintf(msg, sizeof(msg), "Backup deleted successfully: %s", a->name);
	o->body = json_pack("{s:b, s:s}", "success", 1, "message", msg);
}

enum MHD_Result dbb_handle_delete(struct dbb_request *req)
{
	struct delete_args a = {.ops = req->tgt->ops};
	a.name = strdup(req->param);
	if (!a.name)
		return dbb_reply_error(req, DBB_ERR_INTERNAL, "out of memory", NULL);
	return dbb_run_or_start(req, DBB_JOB_DELETE, req->param, DBB_ROLE_ADMIN, delete_run, &a,
	                        sizeof(a), delete_args_free);
}
