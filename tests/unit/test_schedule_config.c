/* Unit tests for the schedule settings (sched/settings.c) and the
 * notification event's JSON (notify/notify.c). */
#include <jansson.h>
#include <string.h>

#include "check.h"
#include "dbbackupd/log.h"
#include "dbbackupd/notify.h"
#include "dbbackupd/schedule_config.h"

static void defaults(struct dbb_schedule_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->tz, sizeof(c->tz), "UTC");
	snprintf(c->compress, sizeof(c->compress), "true");
	snprintf(c->keep_safety_within, sizeof(c->keep_safety_within), "7d");
	snprintf(c->notify_on, sizeof(c->notify_on), "failure,recovery");
	c->keep_min = 1;
}

static void test_parse(void)
{
	struct dbb_schedule_config c;
	struct dbb_schedule_parsed p;
	struct dbb_error err = {0};
	defaults(&c);
	CHECK(dbb_schedule_config_parse(&c, &p, &err) == DBB_OK);
	CHECK(!p.scheduled && dbb_retention_policy_empty(&p.policy) && !p.notify_all);
	CHECK(p.guards.keep_min == 1 && p.guards.safety_within.days == 7);

	snprintf(c.schedule, sizeof(c.schedule), "0 2 * * *");
	c.keep_daily = 7;
	c.keep_weekly = 4;
	c.keep_monthly = 12;
	snprintf(c.keep_within, sizeof(c.keep_within), "1y2m");
	snprintf(c.notify_on, sizeof(c.notify_on), "all");
	CHECK(dbb_schedule_config_parse(&c, &p, &err) == DBB_OK);
	CHECK(p.scheduled && p.notify_all && p.policy.keep[DBB_BUCKET_DAILY] == 7 &&
	      p.policy.keep[DBB_BUCKET_MONTHLY] == 12 && p.policy.within.years == 1 &&
	      p.policy.within.months == 2);

	snprintf(c.schedule, sizeof(c.schedule), "0 25 * * *");
	CHECK(dbb_schedule_config_parse(&c, &p, &err) == DBB_ERR_CONFIG);
	CHECK(strncmp(err.message, "BACKUP_SCHEDULE: ", 17) == 0);
	snprintf(c.schedule, sizeof(c.schedule), "@daily");
	snprintf(c.keep_within, sizeof(c.keep_within), "3w");
	CHECK(dbb_schedule_config_parse(&c, &p, &err) == DBB_ERR_CONFIG);
	CHECK(strncmp(err.message, "KEEP_WITHIN: ", 13) == 0);
	c.keep_within[0] = '\0';
	snprintf(c.notify_on, sizeof(c.notify_on), "sometimes");
	CHECK(dbb_schedule_config_parse(&c, &p, &err) == DBB_ERR_CONFIG);
	snprintf(c.notify_on, sizeof(c.notify_on), "all");
	snprintf(c.compress, sizeof(c.compress), "lz4");
	CHECK(dbb_schedule_config_parse(&c, &p, &err) == DBB_ERR_CONFIG);
	snprintf(c.compress, sizeof(c.compress), "zstd");
	snprintf(c.notify_smtp_url, sizeof(c.notify_smtp_url), "smtp://127.0.0.1:25");
	CHECK(dbb_schedule_config_parse(&c, &p, &err) == DBB_ERR_CONFIG); /* no from/to */
	snprintf(c.notify_mail_from, sizeof(c.notify_mail_from), "a@example.test");
	snprintf(c.notify_mail_to, sizeof(c.notify_mail_to), "b@example.test");
	CHECK(dbb_schedule_config_parse(&c, &p, &err) == DBB_OK);
	snprintf(c.notify_smtp_url, sizeof(c.notify_smtp_url), "ftp://example.test");
	CHECK(dbb_schedule_config_parse(&c, &p, &err) == DBB_ERR_CONFIG);
}

static void test_event_json(void)
{
	struct dbb_notify_event ev = {
	    .target = "sqlite",
	    .operation = "backup",
	    .trigger = "schedule",
	    .success = false,
	    .duration_seconds = 1.5,
	    .at = 1796182560,
	};
	snprintf(ev.error, sizeof(ev.error), "cannot open \"x\"");
	char *s = dbb_notify_event_json(&ev);
	json_t *o = json_loads(s ? s : "", 0, NULL);
	CHECK(o != NULL);
	CHECK_STR(json_string_value(json_object_get(o, "outcome")), "failure");
	CHECK_STR(json_string_value(json_object_get(o, "error")), "cannot open \"x\"");
	CHECK_STR(json_string_value(json_object_get(o, "finished_at")), "2026-12-02T03:36:00Z");
	CHECK(json_is_null(json_object_get(o, "file")));
	json_decref(o);
	free(s);
	ev.success = ev.recovery = true;
	snprintf(ev.file, sizeof(ev.file), "backup_sqlite_20261202_033700.db.gz");
	s = dbb_notify_event_json(&ev);
	o = json_loads(s ? s : "", 0, NULL);
	CHECK_STR(json_string_value(json_object_get(o, "outcome")), "recovery");
	CHECK_STR(json_string_value(json_object_get(o, "file")),
	          "backup_sqlite_20261202_033700.db.gz");
	json_decref(o);
	free(s);
}

int main(void)
{
	dbb_log_set_level("error");
	test_parse();
	test_event_json();
	DONE();
}
