/* Prune: retention policy and guards over this database's backups. */
#include "dbbackupd/prune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbbackupd/log.h"
#include "ops/internal.h"

void dbb_prune_result_free(struct dbb_prune_result *res)
{
	free(res->remote.entries);
	free(res->entries);
	memset(res, 0, sizeof(*res));
}

/* The bucket a backup fell in, in the policy's zone: "daily 2026-11-30". */
static void bucket_label(enum dbb_bucket b, const struct dbb_prune_policy *p,
                         const struct dbb_prune_entry *e, char *buf, size_t cap)
{
	struct dbb_civil c;
	int64_t iso_year;
	int week;
	dbb_tz_to_local(p->tz, e->created_at, &c, NULL);
	switch (b) {
	case DBB_BUCKET_LAST:
		if (p->policy->keep[b] < 0)
			snprintf(buf, cap, "last (all)");
		else
			snprintf(buf, cap, "last %d", p->policy->keep[b] - e->counters[b]);
		return;
	case DBB_BUCKET_HOURLY:
		snprintf(buf, cap, "hourly %04lld-%02d-%02d %02d:00", (long long)c.year, c.month,
		         c.day, c.hour);
		return;
	case DBB_BUCKET_DAILY:
		snprintf(buf, cap, "daily %04lld-%02d-%02d", (long long)c.year, c.month, c.day);
		return;
	case DBB_BUCKET_WEEKLY:
		dbb_iso_week(&c, &iso_year, &week);
		snprintf(buf, cap, "weekly %04lld-W%02d", (long long)iso_year, week);
		return;
	case DBB_BUCKET_MONTHLY:
		snprintf(buf, cap, "monthly %04lld-%02d", (long long)c.year, c.month);
		return;
	case DBB_BUCKET_YEARLY:
	case DBB_BUCKET_COUNT:
		snprintf(buf, cap, "yearly %04lld", (long long)c.year);
		return;
	}
}

static void describe(const struct dbb_prune_policy *p, struct dbb_prune_entry *e)
{
	for (int r = 0; r < DBB_KEEP_REASON_COUNT && e->nmatches < DBB_PRUNE_REASONS_MAX; r++) {
		if (!(e->reasons & (1u << r)))
			continue;
		dbb_retention_reason_text((enum dbb_keep_reason)r, p->policy, &p->guards,
		                          e->matches[e->nmatches], sizeof(e->matches[0]));
		if (r >= DBB_KEEP_LAST && r <= DBB_KEEP_YEARLY)
			bucket_label((enum dbb_bucket)(r - DBB_KEEP_LAST), p, e, e->why[e->nwhy],
			             sizeof(e->why[0]));
		else
			memcpy(e->why[e->nwhy], e->matches[e->nmatches], sizeof(e->why[0]));
		e->nmatches++;
		e->nwhy++;
	}
}

dbb_code dbb_prune_plan_items(const struct dbb_prune_policy *p, struct dbb_retention_item *items,
                              size_t count, struct dbb_prune_entry **entries, size_t *kept,
                              size_t *removed, bool *held_back, bool *policy_empty,
                              struct dbb_error *err)
{
	*entries = calloc(count ? count : 1, sizeof(**entries));
	if (!*entries)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory planning a prune");
	dbb_retention_plan(p->policy, &p->guards, p->tz, time(NULL), items, count);
	*policy_empty = dbb_retention_policy_empty(p->policy);
	time_t newest = 0;
	for (size_t i = 0; i < count; i++)
		if (!items[i].safety && items[i].when > newest)
			newest = items[i].when;
	*held_back = p->guards.due != 0 && newest < p->guards.due;
	for (size_t i = 0; i < count; i++) {
		struct dbb_prune_entry *e = &(*entries)[i];
		snprintf(e->name, sizeof(e->name), "%s", items[i].name);
		e->created_at = items[i].when;
		e->safety = items[i].safety;
		e->validated = items[i].validated;
		e->keep = items[i].keep;
		e->reasons = items[i].reasons;
		memcpy(e->counters, items[i].counters, sizeof(e->counters));
		describe(p, e);
		if (e->keep)
			(*kept)++;
		else
			(*removed)++;
	}
	return DBB_OK;
}

/* This database's backups as retention items, newest first. */
static dbb_code plan(struct dbb_ops *ops, const struct dbb_prune_policy *p,
                     struct dbb_prune_result *res, struct dbb_error *err)
{
	struct dbb_backup_info *list = NULL;
	struct dbb_retention_item *items = NULL;
	size_t n = 0, count = 0;
	dbb_code rc = dbb_storage_list(ops->st, &list, &n, err);
	if (rc)
		return rc;
	items = calloc(n ? n : 1, sizeof(*items));
	if (!items) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory planning a prune");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].db, dbb_ops_target_name(ops)) != 0)
			continue; /* another target's file: not ours to judge */
		bool vok = false, verified = false;
		time_t vat;
		verified = dbb_verify_record_parse(list[i].verify, &vok, &vat);
		items[count] = (struct dbb_retention_item){
		    .name = list[i].name,
		    .when = list[i].created_at,
		    .safety = list[i].safety,
		    .validated = list[i].sha256[0] != '\0',
		    .verified = verified && vok,
		    .verify_failed = verified && !vok,
		};
		count++;
	}
	rc = dbb_prune_plan_items(p, items, count, &res->entries, &res->kept, &res->removed,
	                          &res->held_back, &res->policy_empty, err);
	res->count = count;
out:
	free(items);
	free(list);
	return rc;
}

void dbb_prune_audit_delete(const struct dbb_ops *ops, const char *name, const char *where,
                            dbb_code rc)
{
	char file[DBB_NAME_MAX + 16];
	dbb_log_quote(file, sizeof(file), name, true);
	dbb_info("audit action=delete outcome=%s status=%u user=\"retention\" sub=\"\" role=- "
	         "file=%s%s target=%s",
	         rc ? dbb_code_name(rc) : "success", rc ? dbb_code_http_status(rc) : 200, file,
	         where, dbb_ops_target_name(ops));
}

dbb_code dbb_ops_prune(struct dbb_ops *ops, const struct dbb_prune_policy *p, bool dry_run,
                       struct dbb_prune_result *res, struct dbb_error *err)
{
	dbb_code rc, first = DBB_OK;
	memset(res, 0, sizeof(*res));
	if (dry_run) {
		rc = plan(ops, p, res, err);
		if (!rc)
			dbb_ops_prune_remote(ops, p, true, &res->remote); /* issue 18 */
		return rc;
	}
	rc = dbb_ops_lock_wait(ops, "a prune (retention)", p->lock_wait_ms, err);
	if (rc)
		return rc;
	dbb_ops_lock_brief(ops);
	rc = plan(ops, p, res, err); /* under the lock: nothing changes in between */
	for (size_t i = 0; rc == DBB_OK && i < res->count; i++) {
		struct dbb_prune_entry *e = &res->entries[i];
		struct dbb_error derr = {0};
		if (e->keep)
			continue;
		dbb_code drc = dbb_storage_delete(ops->st, e->name, &derr);
		dbb_prune_audit_delete(ops, e->name, "", drc);
		if (drc) {
			dbb_error("retention: cannot delete %s: %s", e->name, derr.message);
			res->failed++;
			if (!first) {
				first = drc;
				*err = derr;
			}
			continue;
		}
		e->deleted = true;
		dbb_info("backup %s deleted (retention)", e->name);
	}
	dbb_ops_unlock(ops);
	if (!rc) /* issue 18: the store's objects, outside the lock (network) */
		dbb_ops_prune_remote(ops, p, false, &res->remote);
	return rc ? rc : first;
}
