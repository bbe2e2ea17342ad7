/* The settings of schedules, retention and notifications: table and checks. */
#include "dbbackupd/schedule_config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dbbackupd/config.h"

#define T                   struct dbb_schedule_config
#define STR(n, field, d)    DBB_SETTING_STRING(T, n, field, d, false)
#define SECRET(n, field, d) DBB_SETTING_STRING(T, n, field, d, true)
#define UINT(n, field, d, lo, hi)                                                                  \
	{                                                                                          \
		n, DBB_SETTING_UINT, offsetof(T, field), 0, d, lo, hi, false                       \
	}
#define KEEP(n, field)                                                                             \
	{                                                                                          \
		n, DBB_SETTING_INT, offsetof(T, field), 0, "0", -1, 1000000, false                 \
	}
#define BOOL(n, field, d)                                                                          \
	{                                                                                          \
		n, DBB_SETTING_BOOL, offsetof(T, field), 0, d, 0, 1, false                         \
	}

static const struct dbb_setting vars[] = {
    STR("BACKUP_SCHEDULE", schedule, ""),
    STR("SCHEDULE_TZ", tz, "UTC"),
    STR("SCHEDULE_COMPRESS", compress, "true"),
    UINT("SCHEDULE_JITTER", jitter, "0", 0, 86400),
    BOOL("SCHEDULE_CATCH_UP", catch_up, "true"),
    KEEP("KEEP_LAST", keep_last),
    KEEP("KEEP_HOURLY", keep_hourly),
    KEEP("KEEP_DAILY", keep_daily),
    KEEP("KEEP_WEEKLY", keep_weekly),
    KEEP("KEEP_MONTHLY", keep_monthly),
    KEEP("KEEP_YEARLY", keep_yearly),
    STR("KEEP_WITHIN", keep_within, ""),
    UINT("KEEP_MIN", keep_min, "1", 1, 1000000),
    STR("KEEP_SAFETY_WITHIN", keep_safety_within, "7d"),
    SECRET("NOTIFY_WEBHOOK_URL", notify_webhook_url, ""), /* may hold a token */
    SECRET("NOTIFY_WEBHOOK_SECRET", notify_webhook_secret, ""),
    SECRET("NOTIFY_SMTP_URL", notify_smtp_url, ""), /* may hold user:password */
    STR("NOTIFY_MAIL_FROM", notify_mail_from, ""),
    STR("NOTIFY_MAIL_TO", notify_mail_to, ""),
    STR("NOTIFY_ON", notify_on, "failure,recovery"),
};

const struct dbb_setting *dbb_schedule_settings(size_t *count)
{
	*count = sizeof(vars) / sizeof(vars[0]);
	return vars;
}

static dbb_code duration(const char *name, const char *text, struct dbb_duration *out,
                         struct dbb_error *err)
{
	dbb_code rc = dbb_duration_parse(text, out, err);
	if (rc)
		dbb_error_prefix(err, "%s", name);
	return rc;
}

static bool compress_valid(const char *v)
{
	static const char *const ok[] = {"true", "false", "1", "0", "yes", "no", "gzip", "zstd"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcasecmp(v, ok[i]) == 0)
			return true;
	return false;
}

dbb_code dbb_schedule_config_parse(const struct dbb_schedule_config *c,
                                   struct dbb_schedule_parsed *out, struct dbb_error *err)
{
	dbb_code rc;
	memset(out, 0, sizeof(*out));
	out->scheduled = c->schedule[0] != '\0';
	if (out->scheduled && (rc = dbb_cron_parse(c->schedule, &out->cron, err))) {
		dbb_error_prefix(err, "%s", "BACKUP_SCHEDULE");
		return rc;
	}
	if (!compress_valid(c->compress))
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "SCHEDULE_COMPRESS must be true, false, gzip or zstd, got \"%s\"",
		                c->compress);
	const int keep[DBB_BUCKET_COUNT] = {c->keep_last,   c->keep_hourly,  c->keep_daily,
	                                    c->keep_weekly, c->keep_monthly, c->keep_yearly};
	memcpy(out->policy.keep, keep, sizeof(keep));
	rc = duration("KEEP_WITHIN", c->keep_within, &out->policy.within, err);
	if (rc)
		return rc;
	dbb_retention_guards_default(&out->guards);
	out->guards.keep_min = c->keep_min;
	rc = duration("KEEP_SAFETY_WITHIN", c->keep_safety_within, &out->guards.safety_within, err);
	if (rc)
		return rc;
	if (strcmp(c->notify_on, "all") == 0)
		out->notify_all = true;
	else if (strcmp(c->notify_on, "failure,recovery") && strcmp(c->notify_on, "failure"))
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "NOTIFY_ON must be failure,recovery or all, got \"%s\"",
		                c->notify_on);
	if (c->notify_smtp_url[0] && (!c->notify_mail_from[0] || !c->notify_mail_to[0]))
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "NOTIFY_SMTP_URL needs NOTIFY_MAIL_FROM and NOTIFY_MAIL_TO");
	if (c->notify_smtp_url[0] && strncmp(c->notify_smtp_url, "smtps://", 8) &&
	    strncmp(c->notify_smtp_url, "smtp://", 7))
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "NOTIFY_SMTP_URL must start with smtps:// or smtp://");
	if (c->notify_webhook_url[0] && strncmp(c->notify_webhook_url, "https://", 8) &&
	    strncmp(c->notify_webhook_url, "http://", 7))
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "NOTIFY_WEBHOOK_URL must start with https:// or http://");
	return DBB_OK;
}
