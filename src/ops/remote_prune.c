/* Retention of the offsite copies' objects (issue 18): after the local
 * prune (dbb_ops_prune), the objects under the target's S3_PREFIX with this
 * target's backup names are planned with OFFSITE_RETENTION (by default the
 * local KEEP_* policy) and the same guards, then deleted one by one with an
 * audit line each (`location=remote`). Nothing is deleted when the listing
 * is incomplete (more than DBB_REMOTE_LIST_MAX objects) or when none of the
 * newest regular objects carries the x-amz-meta-sha256 of a verified upload
 * (the "newest validated backup" guard needs one). The deletions do not take
 * the operation lock: they touch neither the database nor the backups
 * directory, and a store that is slow must not stall a backup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbbackupd/log.h"
#include "dbbackupd/prune.h"
#include "ops/internal.h"

/* regular objects checked by a HEAD, newest first, for the validated guard */
#define VERIFY_MAX 10

static void failed(struct dbb_prune_remote *out, const struct dbb_error *err, const char *target)
{
	out->rc = err->code ? err->code : DBB_ERR_INTERNAL;
	snprintf(out->error, sizeof(out->error), "%s", err->message);
	dbb_error("retention of target %s in the object store: nothing deleted there: %s", target,
	          err->message);
}

/* Marks the newest regular item (items sorted newest first) that carries
 * x-amz-meta-sha256 as validated; false when none of the first VERIFY_MAX
 * does. */
static dbb_code mark_validated(const struct dbb_ops_remote *r, struct dbb_retention_item *items,
                               size_t n, bool *found, struct dbb_error *err)
{
	unsigned checked = 0;
	*found = false;
	for (size_t i = 0; i < n && checked < VERIFY_MAX; i++) {
		if (items[i].safety)
			continue;
		bool has = false;
		dbb_code rc = r->verified(r->cls, items[i].name, &has, err);
		if (rc)
			return rc;
		checked++;
		if (has) {
			items[i].validated = true;
			*found = true;
			return DBB_OK;
		}
	}
	return DBB_OK;
}

void dbb_ops_prune_remote(struct dbb_ops *ops, const struct dbb_prune_policy *p, bool dry_run,
                          struct dbb_prune_remote *out)
{
	const char *target = dbb_ops_target_name(ops);
	struct dbb_error err = {0};
	struct dbb_ops_remote r;
	struct dbb_remote_info *list = NULL;
	struct dbb_retention_item *items = NULL;
	size_t n = 0, count = 0;
	bool truncated = false, found = false;
	char prefix[1100];
	dbb_code rc;

	memset(out, 0, sizeof(*out));
	if (!dbb_ops_remote_get(ops, &r))
		return;
	if (!r.retention || r.retention->mode == DBB_REMOTE_RETENTION_NONE)
		goto out;
	out->on = true;
	struct dbb_prune_policy rp = *p;
	if (r.retention->mode == DBB_REMOTE_RETENTION_OWN) {
		rp.policy = &r.retention->policy;
		rp.guards.keep_min = r.retention->keep_min;
		rp.guards.safety_within = r.retention->safety_within;
	}
	rc = dbb_ops_list_remote(ops, &list, &n, &truncated, prefix, sizeof(prefix), &err);
	if (!rc && truncated)
		rc = dbb_fail(&err, DBB_ERR_INTERNAL,
		              "the store holds more than %d objects under %s: the listing is "
		              "incomplete",
		              DBB_REMOTE_LIST_MAX, prefix);
	if (rc) {
		failed(out, &err, target);
		goto out;
	}
	items = calloc(n ? n : 1, sizeof(*items));
	if (!items) {
		dbb_fail(&err, DBB_ERR_INTERNAL, "out of memory planning a prune");
		failed(out, &err, target);
		goto out;
	}
	for (size_t i = 0; i < n; i++) { /* newest first, as listed */
		if (strcmp(list[i].db, target) != 0)
			continue; /* another target's file: not ours to judge */
		items[count++] = (struct dbb_retention_item){
		    .name = list[i].name,
		    .when = list[i].created_at,
		    .safety = list[i].safety,
		};
	}
	rc = mark_validated(&r, items, count, &found, &err);
	if (!rc)
		rc = dbb_prune_plan_items(&rp, items, count, &out->entries, &out->kept,
		                          &out->removed, &out->held_back, &out->policy_empty, &err);
	out->count = count;
	if (rc) {
		failed(out, &err, target);
		goto out;
	}
	if (!found && out->removed > 0) {
		dbb_fail(&err, DBB_ERR_INTERNAL,
		         "none of the %d newest backups under %s carries the x-amz-meta-sha256 of "
		         "a verified upload",
		         VERIFY_MAX, prefix);
		failed(out, &err, target);
		goto out;
	}
	for (size_t i = 0; !dry_run && i < count; i++) {
		struct dbb_prune_entry *e = &out->entries[i];
		struct dbb_error derr = {0};
		if (e->keep)
			continue;
		dbb_code drc = r.remove(r.cls, e->name, &derr);
		dbb_prune_audit_delete(ops, e->name, " location=remote", drc);
		if (drc) {
			dbb_error("retention: cannot delete %s%s from the object store: %s", prefix,
			          e->name, derr.message);
			if (!out->failed++) {
				out->rc = drc;
				snprintf(out->error, sizeof(out->error), "%s", derr.message);
			}
			continue;
		}
		e->deleted = true;
		dbb_info("backup %s%s deleted from the object store (retention)", prefix, e->name);
	}
	if (!dry_run)
		dbb_info("retention of target %s in the object store: %zu kept, %zu deleted, %zu "
		         "failed",
		         target, out->kept, out->removed - out->failed, out->failed);
out:
	dbb_ops_remote_put(ops);
	free(items);
	free(list);
}

/* ---- OFFSITE_RETENTION ---- */

static dbb_code keep_value(const char *name, const char *v, int *out, struct dbb_error *err)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n < -1 || n > 1000000)
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "OFFSITE_RETENTION: %s must be a whole number from -1 to 1000000, "
		                "got \"%s\"",
		                name, v);
	*out = (int)n;
	return DBB_OK;
}

static dbb_code assignment(char *a, struct dbb_remote_retention *out, struct dbb_error *err)
{
	static const char *const keep[DBB_BUCKET_COUNT] = {
	    "KEEP_LAST", "KEEP_HOURLY", "KEEP_DAILY", "KEEP_WEEKLY", "KEEP_MONTHLY", "KEEP_YEARLY"};
	char *eq = strchr(a, '=');
	if (!eq)
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "OFFSITE_RETENTION: \"%.64s\" is not NAME=VALUE (e.g. "
		                "KEEP_DAILY=30,KEEP_MONTHLY=24)",
		                a);
	*eq = '\0';
	const char *v = eq + 1;
	dbb_code rc;
	for (int b = 0; b < DBB_BUCKET_COUNT; b++)
		if (strcmp(a, keep[b]) == 0)
			return keep_value(a, v, &out->policy.keep[b], err);
	if (strcmp(a, "KEEP_MIN") == 0) {
		int n = 0;
		rc = keep_value(a, v, &n, err);
		if (!rc && n < 1)
			rc = dbb_fail(err, DBB_ERR_CONFIG,
			              "OFFSITE_RETENTION: KEEP_MIN must be 1 or more");
		out->keep_min = (unsigned)n;
		return rc;
	}
	struct dbb_duration *d = strcmp(a, "KEEP_WITHIN") == 0          ? &out->policy.within
	                         : strcmp(a, "KEEP_SAFETY_WITHIN") == 0 ? &out->safety_within
	                                                                : NULL;
	if (!d)
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "OFFSITE_RETENTION: unknown setting %.64s (KEEP_LAST, KEEP_HOURLY, "
		                "KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY, KEEP_YEARLY, KEEP_WITHIN, "
		                "KEEP_MIN, KEEP_SAFETY_WITHIN)",
		                a);
	rc = dbb_duration_parse(v, d, err);
	if (rc)
		dbb_error_prefix(err, "OFFSITE_RETENTION: %s", a);
	return rc;
}

dbb_code dbb_remote_retention_parse(const char *text, struct dbb_remote_retention *out,
                                    struct dbb_error *err)
{
	struct dbb_retention_guards g;
	char buf[512];
	memset(out, 0, sizeof(*out));
	dbb_retention_guards_default(&g);
	out->keep_min = g.keep_min;
	out->safety_within = g.safety_within;
	if (!text[0]) {
		out->mode = DBB_REMOTE_RETENTION_LOCAL;
		return DBB_OK;
	}
	if (strcmp(text, "none") == 0) {
		out->mode = DBB_REMOTE_RETENTION_NONE;
		return DBB_OK;
	}
	if (strlen(text) >= sizeof(buf))
		return dbb_fail(err, DBB_ERR_CONFIG, "OFFSITE_RETENTION is too long");
	out->mode = DBB_REMOTE_RETENTION_OWN;
	snprintf(buf, sizeof(buf), "%s", text);
	char *save = NULL;
	for (char *a = strtok_r(buf, ", \t", &save); a; a = strtok_r(NULL, ", \t", &save)) {
		dbb_code rc = assignment(a, out, err);
		if (rc)
			return rc;
	}
	return DBB_OK;
}
