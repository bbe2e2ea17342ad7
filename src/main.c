/* dbbackupd: the daemon's entry point and its small command-line tools. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "dbbackupd/auth.h"
#include "dbbackupd/config.h"
#include "dbbackupd/driver.h"
#include "dbbackupd/http.h"
#include "dbbackupd/log.h"
#include "dbbackupd/notify.h"
#include "dbbackupd/age.h"
#include "dbbackupd/offsite.h"
#include "dbbackupd/scheduler.h"
#include "dbbackupd/ops.h"
#include "dbbackupd/storage.h"
#include "dbbackupd/trust.h"
#include "http/internal.h"

static const char usage[] =
    "Usage:\n"
    "  dbbackupd                 run the daemon (settings from the environment and .env)\n"
    "  dbbackupd --check-config  check the settings, print them and every target's\n"
    "                            (secrets masked), exit\n"
    "  dbbackupd --check-config --probe\n"
    "                            the same, and connect to each target's database\n"
    "  dbbackupd --version       print the version\n"
    "  dbbackupd --help          this text\n"
    "  dbbackupd dev-keys DIR    write DIR/private.pem (0600) and DIR/jwks.json, a local key\n"
    "                            pair for development without Keycloak (AUTH_JWKS_FILE)\n"
    "  dbbackupd token --key DIR/private.pem --role admin|operator|viewer[:TARGET]\n"
    "                 [--ttl SECONDS]\n"
    "                            print a token signed with that key (negative ttl: expired);\n"
    "                            ROLE:TARGET: a role for that target only\n"
    "  dbbackupd keygen FILE     write a new age identity to FILE (0600, never over a file)\n"
    "                            and print its recipient for ENCRYPT_RECIPIENTS\n"
    "\n"
    "Settings are documented in setup/.env.template; the API in docs/.\n";

static int config_error(const struct dbb_error *err)
{
	fprintf(stderr, "dbbackupd: configuration error: %s\n", err->message);
	return 2;
}

static int cmd_dev_keys(int argc, char **argv)
{
	struct dbb_error err = {0};
	if (argc != 3) {
		fprintf(stderr, "usage: dbbackupd dev-keys DIR\n");
		return 2;
	}
	if (dbb_devkeys_write(argv[2], &err)) {
		fprintf(stderr, "dbbackupd: %s\n", err.message);
		return 1;
	}
	printf("wrote %s/private.pem and %s/jwks.json\n", argv[2], argv[2]);
	/* keys in a place others can change are keys the daemon refuses */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/private.pem", argv[2]);
	dbb_code rc = dbb_trust_file("dev-keys", path, DBB_TRUST_PRIVATE, NULL, &err);
	snprintf(path, sizeof(path), "%s/jwks.json", argv[2]);
	if (rc == DBB_OK)
		rc = dbb_trust_file("dev-keys", path, 0, NULL, &err);
	if (rc) {
		fprintf(stderr, "dbbackupd: the daemon will refuse these keys: %s\n", err.message);
		return 1;
	}
	return 0;
}

/* issue 19: an age identity file, like age-keygen -o FILE; the recipient
 * (public) on stdout, nothing secret printed. */
static int cmd_keygen(int argc, char **argv)
{
	char recipient[DBB_AGE_RECIPIENT_LEN + 1];
	struct dbb_error err = {0};
	if (argc != 3) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	if (dbb_age_keygen_file(argv[2], recipient, &err)) {
		fprintf(stderr, "dbbackupd: %s\n", err.message);
		return 1;
	}
	fprintf(stderr, "wrote %s; its recipient (ENCRYPT_RECIPIENTS) is:\n", argv[2]);
	printf("%s\n", recipient);
	return 0;
}

static int cmd_token(int argc, char **argv)
{
	struct dbb_config cfg;
	struct dbb_error err = {0};
	const char *key = NULL, *role = NULL;
	long ttl = 3600;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
			key = argv[++i];
		} else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc) {
			role = argv[++i];
		} else if (strcmp(argv[i], "--ttl") == 0 && i + 1 < argc) {
			char *end;
			errno = 0;
			ttl = strtol(argv[++i], &end, 10);
			if (errno || *end) {
				fprintf(stderr, "dbbackupd: --ttl must be a number of seconds\n");
				return 2;
			}
		} else {
			fprintf(stderr, "%s", usage);
			return 2;
		}
	}
	/* ROLE, or ROLE:TARGET for a role scoped to one target */
	struct dbb_principal check = {0};
	if (role)
		dbb_principal_add_role(&check, role);
	if (!key || dbb_principal_role_any(&check) == DBB_ROLE_NONE) {
		fprintf(stderr, "usage: dbbackupd token --key FILE --role "
		                "admin|operator|viewer[:TARGET] [--ttl SECONDS]\n");
		return 2;
	}
	if (dbb_config_load(&cfg, NULL, &err))
		return config_error(&err);
	if (ttl > (long)cfg.auth_max_token_lifetime) {
		fprintf(stderr,
		        "dbbackupd: --ttl %ld is longer than AUTH_MAX_TOKEN_LIFETIME (%u s): the "
		        "daemon would refuse the token\n",
		        ttl, cfg.auth_max_token_lifetime);
		return 2;
	}
	char *token = NULL;
	if (dbb_token_issue_role(key, role, ttl, &cfg, &token, &err)) {
		fprintf(stderr, "dbbackupd: %s\n", err.message);
		return 1;
	}
	printf("%s\n", token);
	free(token);
	return 0;
}

/* Everything the daemon owns, released in reverse order by daemon_close.
 * targets[i] (i < ntargets) has the settings tcfg[i] and its own storage
 * and ops; [0] is the default target. */
struct daemon {
	struct dbb_config cfg;
	struct dbb_config *tcfg; /* malloc'd, one per target */
	size_t ntargets;
	struct dbb_storage **storage; /* one per target */
	/* one per target: cfg and ops, its offsite uploader, notifier and
	 * scheduler */
	struct dbb_target *targets;
	struct dbb_auth *auth;
	struct dbb_server *server;
};

static void daemon_close(struct daemon *d)
{
	size_t n = d->targets ? d->ntargets : 0;
	for (size_t i = 0; i < n; i++)
		dbb_scheduler_stop(d->targets[i].sched);
	for (size_t i = 0; i < n; i++)
		dbb_offsite_free(d->targets[i].offsite); /* before the metrics it reports to */
	dbb_server_stop(d->server);
	for (size_t i = 0; i < n; i++) {
		dbb_scheduler_free(d->targets[i].sched);
		dbb_notifier_free(d->targets[i].notifier);
	}
	for (size_t i = 0; i < n; i++)
		dbb_ops_free(d->targets[i].ops);
	dbb_auth_free(d->auth);
	for (size_t i = 0; d->storage && i < d->ntargets; i++)
		dbb_storage_close(d->storage[i]);
	free(d->targets);
	free(d->storage);
	free(d->tcfg);
}

static dbb_code tls_files_trusted(const struct dbb_config *cfg, struct dbb_error *err)
{
	dbb_code rc = DBB_OK;
	if (cfg->tls_key_file[0])
		rc =
		    dbb_trust_file("TLS_KEY_FILE", cfg->tls_key_file, DBB_TRUST_PRIVATE, NULL, err);
	if (rc == DBB_OK && cfg->tls_cert_file[0])
		rc = dbb_trust_file("TLS_CERT_FILE", cfg->tls_cert_file, 0, NULL, err);
	return rc;
}

/* Checks target i's driver settings and its SCHEDULE_TZ (issue 17, here
 * for --check-config), opens its storage. */
static dbb_code target_open(struct daemon *d, size_t i, struct dbb_error *err)
{
	const struct dbb_config *t = &d->tcfg[i];
	const struct dbb_driver *drv = dbb_driver_find(t->db_type);
	struct dbb_tz *tz = NULL;
	dbb_code rc = DBB_OK;
	if (drv->check_config)
		rc = drv->check_config(t, err);
	if (!rc) {
		rc = dbb_tz_load(&tz, t->schedule.tz, getenv("TZDIR"), err);
		dbb_tz_free(tz);
		if (rc)
			dbb_error_prefix(err, "SCHEDULE_TZ");
	}
	if (!rc)
		rc = dbb_storage_open(&d->storage[i], t->target_dir, err);
	if (rc && !t->is_default)
		dbb_error_prefix(err, "target %s", t->name);
	return rc;
}

/* Loads and checks every setting, opens what the daemon needs. */
static dbb_code daemon_open(struct daemon *d, struct dbb_error *err)
{
	dbb_code rc = dbb_config_load(&d->cfg, NULL, err);
	if (rc)
		return rc;
	if (dbb_log_set_level(d->cfg.log_level) != 0)
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "LOG_LEVEL must be debug, info, warn or error, got \"%s\"",
		                d->cfg.log_level);
	if (dbb_log_set_format(d->cfg.log_format) != 0)
		return dbb_fail(err, DBB_ERR_CONFIG, "LOG_FORMAT must be text or json, got \"%s\"",
		                d->cfg.log_format);
	rc = tls_files_trusted(&d->cfg, err);
	if (rc)
		return rc;
	dbb_trust_warn_transport(&d->cfg);
	rc = dbb_config_load_targets(&d->cfg, &d->tcfg, &d->ntargets, err);
	if (rc)
		return rc;
	d->storage = calloc(d->ntargets, sizeof(*d->storage));
	d->targets = calloc(d->ntargets, sizeof(*d->targets));
	if (!d->storage || !d->targets)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	for (size_t i = 0; !rc && i < d->ntargets; i++)
		rc = target_open(d, i, err);
	if (!rc)
		rc = dbb_auth_new(&d->auth, &d->cfg, err);
	/* each target's ops (its lock, its restore journal) and its offsite
	 * uploader (NULL when its S3_BUCKET is empty) */
	for (size_t i = 0; !rc && i < d->ntargets; i++) {
		struct dbb_target *t = &d->targets[i];
		t->cfg = &d->tcfg[i];
		rc = dbb_ops_new(&t->ops, &d->tcfg[i], dbb_driver_find(d->tcfg[i].db_type),
		                 d->storage[i], err);
		if (!rc)
			rc = dbb_offsite_new(&t->offsite, &d->tcfg[i].offsite, t->ops,
			                     d->storage[i], err);
		if (rc && !d->tcfg[i].is_default)
			dbb_error_prefix(err, "target %s", d->tcfg[i].name);
	}
	return rc;
}

/* --probe: asks each target's database (the driver's health check, as GET
 * /ready does) and says whether it answers. False if one does not. */
static bool probe_targets(const struct daemon *d)
{
	bool all = true;
	for (size_t i = 0; i < d->ntargets; i++) {
		struct dbb_ops_health h;
		dbb_ops_health(d->targets[i].ops, &h);
		if (h.db_ok)
			printf("probe %s: the %s database answers\n", d->tcfg[i].name,
			       d->tcfg[i].db_type);
		else
			printf("probe %s: the %s database does not answer: %s\n", d->tcfg[i].name,
			       d->tcfg[i].db_type, h.db_message);
		if (!h.dir_ok)
			printf("probe %s: backups directory %s: %s\n", d->tcfg[i].name,
			       d->tcfg[i].target_dir, h.dir_message);
		all = all && h.db_ok && h.dir_ok;
	}
	return all;
}

static int cmd_check_config(int argc, char **argv)
{
	struct daemon d = {0};
	struct dbb_error err = {0};
	bool probe = argc == 3 && strcmp(argv[2], "--probe") == 0;
	if (argc > 3 || (argc == 3 && !probe)) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	dbb_code rc = daemon_open(&d, &err);
	bool answered = true;
	if (rc == DBB_OK) {
		dbb_config_dump(&d.cfg, stdout);
		printf("targets: %zu\n", d.ntargets);
		for (size_t i = 0; i < d.ntargets; i++)
			printf("target %s: %s, backups in %s%s\n", d.tcfg[i].name,
			       d.tcfg[i].db_type, d.tcfg[i].target_dir,
			       d.tcfg[i].is_default ? " (default)" : "");
		for (size_t i = 1; i < d.ntargets; i++)
			dbb_config_dump_target(&d.tcfg[i], stdout);
		printf("configuration OK\n");
		if (probe)
			answered = probe_targets(&d);
	}
	daemon_close(&d);
	if (rc)
		return config_error(&err);
	return answered ? 0 : 1;
}

/* Hidden: prints "METHOD PATH ROLE" for every route of the router's table
 * (ROLE: public or the least role), then the /backup/ ones again in their
 * /targets/{target}/ form, for the test that the OpenAPI document
 * describes exactly the routes the daemon serves. */
static int cmd_routes(void)
{
	size_t n;
	const struct dbb_route *r = dbb_routes(&n);
	for (size_t i = 0; i < n; i++)
		printf("%s %s %s\n", r[i].method, dbb_route_doc_path(&r[i]),
		       r[i].public ? "public" : dbb_role_name(r[i].role));
	/* every route of one target, also as /targets/{target}/backup/... */
	for (size_t i = 0; i < n; i++)
		if (dbb_route_per_target(&r[i]))
			printf("%s /targets/{target}%s %s\n", r[i].method,
			       dbb_route_doc_path(&r[i]), dbb_role_name(r[i].role));
	return 0;
}

/* Scheduled backups running now, all targets together (issue 17). */
static unsigned schedulers_busy(const struct daemon *d)
{
	unsigned n = 0;
	for (size_t i = 0; i < d->ntargets; i++)
		n += dbb_scheduler_busy(d->targets[i].sched);
	return n;
}

/* After the first SIGTERM/SIGINT: no new connections; running requests
 * (backups, restores, downloads) may finish for SHUTDOWN_TIMEOUT seconds.
 * A second signal, or the timeout, ends the process at once with status 1:
 * unfinished backups are hidden temporaries, removed at the next start. */
static void drain(struct daemon *d, const sigset_t *stop_signals, int sig)
{
	struct timespec start, now;
	unsigned running = dbb_server_in_flight(d->server);
	clock_gettime(CLOCK_MONOTONIC, &start);
	dbb_server_quiesce(d->server);
	dbb_info("signal %d: stopping; no new connections; %u request(s) running, waiting up to "
	         "%us (SHUTDOWN_TIMEOUT); a second signal stops at once",
	         sig, running, d->cfg.shutdown_timeout);
	/* a scheduled backup running counts as a request (issue 17) */
	while ((running = dbb_server_in_flight(d->server) + schedulers_busy(d)) > 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)d->cfg.shutdown_timeout) {
			dbb_warn(
			    "SHUTDOWN_TIMEOUT (%us) passed with %u request(s) running: exiting "
			    "now; unfinished files are hidden temporaries, removed at the next "
			    "start",
			    d->cfg.shutdown_timeout, running);
			_exit(1);
		}
		struct timespec tick = {0, 100 * 1000 * 1000};
		int again = sigtimedwait(stop_signals, NULL, &tick);
		if (again > 0) {
			dbb_warn(
			    "signal %d again: exiting now with %u request(s) running; "
			    "unfinished files are hidden temporaries, removed at the next start",
			    again, running);
			_exit(1);
		}
	}
}

/* issue 17: each target's notifications and schedule (its own settings,
 * docs/targets.md), reporting into its own metrics series; then each
 * target's offsite uploader starts. */
static dbb_code targets_start(struct daemon *d, struct dbb_error *err)
{
	struct dbb_metrics *m = dbb_server_metrics(d->server);
	dbb_code rc = DBB_OK;
	for (size_t i = 0; !rc && i < d->ntargets; i++) {
		struct dbb_target *t = &d->targets[i];
		struct dbb_metrics_target *mt = dbb_metrics_target(m, i);
		rc = dbb_notifier_new(&t->notifier, &d->tcfg[i].schedule, mt, err);
		if (!rc)
			rc = dbb_scheduler_new(&t->sched, t->ops, &d->tcfg[i].schedule, mt,
			                       t->notifier, err);
		if (!rc) {
			dbb_server_set_scheduler(d->server, i, t->sched, t->notifier);
			rc = dbb_scheduler_start(t->sched, err);
		}
		if (!rc)
			rc = dbb_offsite_start(t->offsite, mt, err);
		if (rc && !d->tcfg[i].is_default)
			dbb_error_prefix(err, "target %s", d->tcfg[i].name);
	}
	return rc;
}

/* Buffers of 128 KiB and more (codec jobs, stream buffers) are mapped and
 * unmapped with each use. glibc's own threshold climbs to the largest block
 * freed so far, after which such buffers stay in the heaps of the threads
 * that freed them: the daemon's peak was the sum of its operations' instead
 * of the largest (docs/benchmarks.md, issue 15). GLIBC_TUNABLES wins. */
static void malloc_setup(void)
{
	if (!getenv("GLIBC_TUNABLES"))
		(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

static int cmd_serve(void)
{
	struct daemon d = {0};
	struct dbb_error err = {0};
	sigset_t stop_signals;
	int sig = 0;

	/* Block the stop signals before any thread starts, so every thread
	 * inherits the mask and only sigwait() below receives them. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	malloc_setup();
	signal(SIGPIPE, SIG_IGN);

	dbb_code rc = daemon_open(&d, &err);
	if (!rc)
		rc = dbb_server_start(&d.server, &d.cfg, d.targets, d.ntargets, d.auth, &err);
	if (!rc) /* issue 17: each target's notifications, schedule, offsite copies */
		rc = targets_start(&d, &err);
	if (rc) {
		daemon_close(&d);
		return config_error(&err);
	}
	dbb_info("dbbackupd %s: %s database, backups in %s, listening on %s://%s:%u", DBB_VERSION,
	         d.cfg.db_type, dbb_storage_dir(d.storage[0]),
	         d.cfg.tls_cert_file[0] ? "https" : "http", d.cfg.bind_address,
	         (unsigned)dbb_server_port(d.server));
	for (size_t i = 0; i < d.ntargets; i++)
		dbb_info("target %s: %s database, backups in %s%s", d.tcfg[i].name,
		         d.tcfg[i].db_type, dbb_storage_dir(d.storage[i]),
		         d.tcfg[i].is_default ? " (the default target)" : "");
	sigwait(&stop_signals, &sig);
	for (size_t i = 0; i < d.ntargets; i++) /* no new scheduled run while draining */
		dbb_scheduler_request_stop(d.targets[i].sched);
	drain(&d, &stop_signals, sig);
	daemon_close(&d);
	dbb_info("stopped");
	return 0;
}

int main(int argc, char **argv)
{
	int rc;
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("dbbackupd %s\n", DBB_VERSION);
		return 0;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (argc >= 2 && strcmp(argv[1], "--check-config") == 0)
		rc = cmd_check_config(argc, argv);
	else if (argc >= 2 && strcmp(argv[1], "dev-keys") == 0)
		rc = cmd_dev_keys(argc, argv);
	else if (argc >= 2 && strcmp(argv[1], "token") == 0)
		rc = cmd_token(argc, argv);
	else if (argc >= 2 && strcmp(argv[1], "keygen") == 0)
		rc = cmd_keygen(argc, argv);
	else if (argc == 2 && strcmp(argv[1], "routes") == 0)
		rc = cmd_routes();
	else if (argc == 1)
		rc = cmd_serve();
	else {
		fprintf(stderr, "%s", usage);
		rc = 2;
	}
	curl_global_cleanup();
	return rc;
}
