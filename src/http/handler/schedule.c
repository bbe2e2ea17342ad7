/* GET /backup/schedule: the schedule, its next run and its last run. */
#include <stdio.h>

#include "dbbackupd/scheduler.h"
#include "http/internal.h"

static json_t *utc_time(time_t t)
{
	char buf[32];
	struct tm tm;
	if (!t)
		return json_null();
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/* ISO 8601 with the zone's offset: 2026-12-02T03:00:00+01:00 */
static json_t *local_time(const struct dbb_tz *tz, time_t t)
{
	struct dbb_civil c;
	int32_t off;
	char buf[48];
	if (!t)
		return json_null();
	dbb_tz_to_local(tz, t, &c, &off);
	int32_t a = off < 0 ? -off : off;
	snprintf(buf, sizeof(buf), "%04lld-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", (long long)c.year,
	         c.month, c.day, c.hour, c.minute, c.second, off < 0 ? '-' : '+', (int)(a / 3600),
	         (int)(a % 3600 / 60));
	return json_string(buf);
}

enum MHD_Result dbb_handle_schedule(struct dbb_request *req)
{
	/* the request's target's schedule (docs/targets.md) */
	struct dbb_scheduler *s = atomic_load(&req->tgt->sched);
	struct dbb_schedule_status st;
	if (!s)
		return dbb_reply_error(req, DBB_ERR_SHUTTING_DOWN, "the scheduler is not running",
		                       NULL);
	dbb_scheduler_status(s, &st);
	const struct dbb_tz *tz = dbb_scheduler_tz(s);
	json_t *last = json_null();
	if (st.has_last)
		last = json_pack(
		    "{s:o, s:s, s:f, s:o, s:o}", "started_at", utc_time(st.last_started), "outcome",
		    st.last_success ? "success" : "failure", "duration_seconds", st.last_seconds,
		    "file", st.last_file[0] ? json_string(st.last_file) : json_null(), "error",
		    st.last_error[0] ? json_string(st.last_error) : json_null());
	return dbb_reply_json(req, 200,
	                      json_pack("{s:b, s:b, s:o, s:s, s:o, s:o, s:o, s:i, s:o, s:o}",
	                                "success", 1, "scheduled", st.scheduled, "expression",
	                                st.scheduled ? json_string(st.expression) : json_null(),
	                                "timezone", st.tz, "next_run_utc", utc_time(st.next_run),
	                                "next_run_local", local_time(tz, st.next_run), "last_run",
	                                last, "consecutive_failures", (int)st.consecutive_failures,
	                                "last_success_at", utc_time(st.last_success_at),
	                                "last_failure_at", utc_time(st.last_failure_at)));
}
