/* Unit tests for metrics.c: what is recorded is what is rendered, from many
 * threads at once, and the outcome mapping. */
#include <pthread.h>

#include "check.h"
#include "dbbackupd/metrics.h"

static const struct dbb_metrics_route routes[] = {
    {"GET", "/health"},
    {"POST", "/backup/create"},
};

static char *render(struct dbb_metrics *m, const struct dbb_metrics_disk *d)
{
	size_t len = 0;
	char *text = dbb_metrics_render(m, d, &len);
	if (text && strlen(text) != len) {
		free(text);
		return NULL;
	}
	return text;
}

static void *hammer(void *arg)
{
	struct dbb_metrics *m = arg;
	for (int i = 0; i < 10000; i++) {
		dbb_metrics_request(m, 0, 200, 0.001);
		dbb_metrics_bytes(dbb_metrics_target(m, 0), DBB_BYTES_BACKUP_WRITTEN, 3);
	}
	return NULL;
}

int main(void)
{
	struct dbb_metrics *m = NULL;
	struct dbb_error err = {0};
	struct dbb_metrics_disk disk = {.ok = true,
	                                .backups = 2,
	                                .backup_bytes = 300,
	                                .safety = 1,
	                                .safety_bytes = 50,
	                                .newest_backup = 1000,
	                                .free_bytes = 7,
	                                .database_up = 1};
	CHECK(dbb_metrics_new(&m, "sqlite", routes, 2, &err) == DBB_OK);
	if (!m)
		DONE();

	CHECK(dbb_metrics_outcome(DBB_OK) == DBB_OUTCOME_SUCCESS);
	CHECK(dbb_metrics_outcome(DBB_ERR_BUSY) == DBB_OUTCOME_REJECTED);
	CHECK(dbb_metrics_outcome(DBB_ERR_INVALID_BACKUP) == DBB_OUTCOME_REJECTED);
	CHECK(dbb_metrics_outcome(DBB_ERR_NOT_FOUND) == DBB_OUTCOME_REJECTED);
	CHECK(dbb_metrics_outcome(DBB_ERR_BACKUP_FAILED) == DBB_OUTCOME_FAILED);
	CHECK(dbb_metrics_outcome(DBB_ERR_DB_UNAVAILABLE) == DBB_OUTCOME_FAILED);

	/* nothing recorded: zero series where they are fixed, none where not */
	char *t = render(m, &disk);
	CHECK(t != NULL);
	CHECK(t && strstr(t, "# TYPE dbbackupd_operations_total counter\n"));
	CHECK(t && strstr(t, "dbbackupd_operations_total{operation=\"backup\",database=\"sqlite\","
	                     "outcome=\"success\"} 0\n"));
	CHECK(t && !strstr(t, "dbbackupd_http_requests_total{"));
	CHECK(t && strstr(t, "dbbackupd_last_successful_backup_timestamp_seconds{database="
	                     "\"sqlite\"} 1000\n"));
	CHECK(t && strstr(t, "dbbackupd_backups_on_disk{type=\"backup\"} 2\n"));
	CHECK(t && strstr(t, "dbbackupd_backups_on_disk_bytes{type=\"safety_backup\"} 50\n"));
	CHECK(t && strstr(t, "dbbackupd_backup_dir_free_bytes 7\n"));
	free(t);

	/* concurrent recording loses nothing */
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, hammer, m);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	dbb_metrics_request(m, 1, 409, 0.5);
	dbb_metrics_request(m, 2, 404, 0.5);   /* unmatched */
	dbb_metrics_request(m, 99, 999, 0.5);  /* clamped to unmatched, status other */
	dbb_metrics_request(m, 1, 405, 0.001); /* a method /backup/create does not take */
	dbb_metrics_operation(dbb_metrics_target(m, 0), DBB_METRIC_BACKUP, DBB_OK, 2.0);
	dbb_metrics_operation(dbb_metrics_target(m, 0), DBB_METRIC_BACKUP, DBB_OK, 20000.0);
	dbb_metrics_operation(dbb_metrics_target(m, 0), DBB_METRIC_RESTORE, DBB_ERR_RESTORE_FAILED,
	                      0.05);
	dbb_metrics_auth_failure(m, DBB_AUTHFAIL_EXPIRED);
	dbb_metrics_backup_succeeded(dbb_metrics_target(m, 0), 5000);
	dbb_metrics_backup_succeeded(dbb_metrics_target(m, 0), 4000); /* never goes back */
	dbb_metrics_last_backup(dbb_metrics_target(m, 0), 4096, 1.5);
	dbb_metrics_running(dbb_metrics_target(m, 0), DBB_METRIC_RESTORE, 1);

	t = render(m, &disk);
	CHECK(t && strstr(t, "dbbackupd_http_requests_total{method=\"GET\",route=\"/health\","
	                     "status=\"200\"} 40000\n"));
	CHECK(t && strstr(t, "dbbackupd_http_requests_total{method=\"POST\",route=\"/backup/"
	                     "create\",status=\"409\"} 1\n"));
	CHECK(t && strstr(t, "dbbackupd_http_requests_total{method=\"other\",route=\"unmatched\","
	                     "status=\"404\"} 1\n"));
	CHECK(t && strstr(t, "dbbackupd_http_requests_total{method=\"other\",route=\"unmatched\","
	                     "status=\"other\"} 1\n"));
	/* a 405: the route of its path, method "other"; never an empty label */
	CHECK(t && strstr(t, "dbbackupd_http_requests_total{method=\"other\",route=\"/backup/"
	                     "create\",status=\"405\"} 1\n"));
	CHECK(t && !strstr(t, "=\"\""));
	/* request durations: a histogram, cumulative buckets */
	CHECK(t && strstr(t, "# TYPE dbbackupd_http_request_duration_seconds histogram\n"));
	CHECK(t && strstr(t, "dbbackupd_http_request_duration_seconds_bucket{method=\"POST\","
	                     "route=\"/backup/create\",le=\"0.25\"} 0\n"));
	CHECK(t && strstr(t, "dbbackupd_http_request_duration_seconds_bucket{method=\"POST\","
	                     "route=\"/backup/create\",le=\"0.5\"} 1\n"));
	CHECK(t && strstr(t, "dbbackupd_http_request_duration_seconds_bucket{method=\"other\","
	                     "route=\"unmatched\",le=\"+Inf\"} 3\n"));
	/* the process's own */
	CHECK(t && strstr(t, "\nprocess_resident_memory_bytes "));
	CHECK(t && strstr(t, "\nprocess_cpu_seconds_total "));
	CHECK(t && strstr(t, "\nprocess_open_fds "));
	CHECK(t && strstr(t, "\nprocess_start_time_seconds "));
	CHECK(t && strstr(t, "dbbackupd_backup_written_bytes_total{database=\"sqlite\"} 120000\n"));
	CHECK(t && strstr(t, "# TYPE dbbackupd_restore_read_bytes_total counter\n"));
	CHECK(t && !strstr(t, "dbbackupd_bytes_total"));
	/* the failed restore's time; none succeeded */
	CHECK(t && strstr(t, "dbbackupd_last_restore_timestamp_seconds{database=\"sqlite\","
	                     "outcome=\"success\"} 0\n"));
	CHECK(t && !strstr(t, "dbbackupd_last_restore_timestamp_seconds{database=\"sqlite\","
	                      "outcome=\"failed\"} 0\n"));
	CHECK(t && strstr(t, "dbbackupd_database_up{database=\"sqlite\"} 1\n"));
	CHECK(t && strstr(t, "dbbackupd_last_backup_size_bytes{database=\"sqlite\"} 4096\n"));
	CHECK(t && strstr(t, "dbbackupd_last_backup_duration_seconds{database=\"sqlite\"} "
	                     "1.500000\n"));
	CHECK(t && strstr(t, "dbbackupd_operations_total{operation=\"backup\",database=\"sqlite\","
	                     "outcome=\"success\"} 2\n"));
	CHECK(t && strstr(t, "dbbackupd_operations_total{operation=\"restore\",database=\"sqlite\","
	                     "outcome=\"failed\"} 1\n"));
	/* histogram buckets are cumulative; 20000 s only in +Inf */
	CHECK(t && strstr(t, "dbbackupd_operation_duration_seconds_bucket{operation=\"backup\","
	                     "database=\"sqlite\",outcome=\"success\",le=\"1\"} 0\n"));
	CHECK(t && strstr(t, "dbbackupd_operation_duration_seconds_bucket{operation=\"backup\","
	                     "database=\"sqlite\",outcome=\"success\",le=\"5\"} 1\n"));
	CHECK(t && strstr(t, "dbbackupd_operation_duration_seconds_bucket{operation=\"backup\","
	                     "database=\"sqlite\",outcome=\"success\",le=\"10800\"} 1\n"));
	CHECK(t && strstr(t, "dbbackupd_operation_duration_seconds_bucket{operation=\"backup\","
	                     "database=\"sqlite\",outcome=\"success\",le=\"+Inf\"} 2\n"));
	CHECK(t && strstr(t, "dbbackupd_operation_duration_seconds_sum{operation=\"backup\","
	                     "database=\"sqlite\",outcome=\"success\"} 20002.000000\n"));
	CHECK(t && strstr(t, "dbbackupd_auth_failures_total{reason=\"expired_token\"} 1\n"));
	CHECK(t && strstr(t, "dbbackupd_last_successful_backup_timestamp_seconds{database="
	                     "\"sqlite\"} 5000\n"));
	CHECK(t && strstr(t, "dbbackupd_operations_running{operation=\"restore\",database="
	                     "\"sqlite\"} 1\n"));
	free(t);

	/* a directory that cannot be read: only the error gauge */
	struct dbb_metrics_disk bad = {.ok = false};
	t = render(m, &bad);
	CHECK(t && strstr(t, "dbbackupd_backup_dir_scrape_ok 0\n"));
	CHECK(t && !strstr(t, "dbbackupd_backups_on_disk{"));
	free(t);

	dbb_metrics_free(m);
	DONE();
}
