/* libFuzzer target: the multipart upload path, POST /backup/restore-upload,
 * through the daemon's real HTTP server, auth and handlers, in-process.
 *
 * LLVMFuzzerInitialize makes a scratch directory (under /dev/shm when it is
 * writable: fsync is free there) holding fresh development keys, an SQLite
 * database and the backups directory, loads the configuration from the
 * environment like the daemon (DB_TYPE=sqlite, AUTH_JWKS_FILE, PORT=0), and
 * starts the server. Each input is the body of one authenticated operator
 * request with a fixed head (multipart/form-data, boundary "dbbfuzz",
 * Content-Length = the input's size), handed to libmicrohttpd on one end of
 * a socketpair with MHD_add_connection. So the multipart bytes upload.c and
 * libmicrohttpd's post processor see come from the fuzzer, and what follows
 * (spooling to a temporary, MAX_UPLOAD_BYTES, the safety flag field, gzip
 * and format validation, the SQLite restore, cleanup) runs under ASan and
 * UBSan. (libmicrohttpd itself is the system's, not instrumented: errors
 * inside it show only through the interceptors, e.g. memcpy.)
 *
 * What must hold for every input: one HTTP response with a JSON object body
 * ({"success":...}, true exactly on 200; an error names its code, and it is
 * never internal_error, nor operation_in_progress, which would mean an
 * earlier request kept the lock); the request ends (its cleanup runs); no
 * temporary and no restore journal is left in the backups directory; no
 * socket or scratch-directory file descriptor and no thread is left. Safety
 * backups that valid uploads produce are removed after each input. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sqlite3.h>

#include "dbbackupd/auth.h"
#include "dbbackupd/config.h"
#include "dbbackupd/http.h"
#include "dbbackupd/log.h"
#include "dbbackupd/ops.h"
#include "dbbackupd/storage.h"
#include "http/internal.h"

#define BOUNDARY  "dbbfuzz"
#define REPLY_MAX (1 << 20)
#define WAIT_MS   30000

static struct dbb_config cfg;
static struct dbb_storage *storage;
static struct dbb_auth *auth;
static struct dbb_ops *ops;
static struct dbb_server *srv;
static char *token;
static char base[PATH_MAX];
static FILE *diag; /* stderr as it was at start (see LLVMFuzzerInitialize) */
static int fd_baseline = -1, task_baseline; /* before the first request */

static void die(const char *what, const struct dbb_error *err)
{
	fprintf(diag, "fuzz_multipart: %s%s%s\n", what, err ? ": " : "", err ? err->message : "");
	abort();
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* At exit: the server's threads are joined and the scratch directory goes.
 * The rest stays allocated (reachable, so no leak is reported): OpenSSL
 * has already cleaned up by now (its atexit handler may be registered
 * after this one), so the keys must not be freed any more. */
static void at_exit(void)
{
	dbb_server_stop(srv);
	srv = NULL;
	if (base[0])
		nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_database(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
	                 "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
	                 "INSERT INTO t(v) VALUES('fuzz'),('ünï');",
	                 NULL, NULL, NULL) != SQLITE_OK)
		die("cannot create the SQLite database", NULL);
	sqlite3_close(db);
}

/* For the report of a leak: every open fd and what it is. */
static void list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char link[PATH_MAX + 32], target[PATH_MAX];

	if (!d)
		return;
	while ((e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		fprintf(diag, "  fd %s -> %s\n", e->d_name, target);
	}
	closedir(d);
}

/* Threads of this process. */
static int count_tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		die("cannot read /proc/self/task", NULL);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Open fds the daemon could leak here: sockets and files under the scratch
 * directory (temporaries, the database). Others are left out: libFuzzer and
 * the sanitizers open their own (the symbolizer's pipes) as they go. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char link[PATH_MAX + 32], target[PATH_MAX];
	size_t blen = strlen(base);
	int n = 0;

	if (!d)
		die("cannot read /proc/self/fd", NULL);
	while ((e = readdir(d))) {
		ssize_t len;

		if (e->d_name[0] == '.' || strtol(e->d_name, NULL, 10) == dirfd(d))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (!strncmp(target, "socket:", 7) || !strncmp(target, base, blen))
			n++;
	}
	closedir(d);
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct dbb_error err = {0};
	char path[PATH_MAX + 64];
	const char *tmp = getenv("DBB_FUZZ_TMPDIR");
	const struct dbb_driver *drv;

	(void)argc;
	(void)argv;
	/* The daemon logs every refused upload on stderr; ctest runs this
	 * target with -close_fd_mask=2 (stderr to /dev/null, libFuzzer's and the
	 * sanitizers' reports to a copy). This runs before that: our own
	 * messages go to a copy of stderr as it was. */
	int fd = dup(2);
	diag = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!diag)
		diag = stderr;
	setvbuf(diag, NULL, _IONBF, 0);
	if (!tmp)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	snprintf(base, sizeof(base), "%s/dbb-fuzz-multipart-XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(base))
		die("mkdtemp failed", NULL);
	atexit(at_exit);

	snprintf(path, sizeof(path), "%s/keys", base);
	if (dbb_devkeys_write(path, &err))
		die("dev keys", &err);
	snprintf(path, sizeof(path), "%s/app.db", base);
	make_database(path);

	setenv("BIND_ADDRESS", "127.0.0.1", 1);
	setenv("PORT", "0", 1); /* listens, unused: connections come by MHD_add_connection */
	setenv("DB_TYPE", "sqlite", 1);
	setenv("SQLITE_PATH", path, 1);
	snprintf(path, sizeof(path), "%s/backups", base);
	setenv("BACKUP_DIR", path, 1);
	snprintf(path, sizeof(path), "%s/keys/jwks.json", base);
	setenv("AUTH_JWKS_FILE", path, 1);
	setenv("KEYCLOAK_URL", "", 1);
	setenv("AUTH_ISSUER", "", 1);
	/* no periodic JWKS reload while fuzzing (it would be every 5 minutes):
	 * the refresher thread then never runs OpenSSL, whose per-thread state
	 * would be reported as leaked when the process exits */
	setenv("JWKS_REFRESH_INTERVAL", "86400", 1);
	/* small enough that inputs reach the limit (libFuzzer's -max_len is 64 KiB) */
	setenv("MAX_UPLOAD_BYTES", "16K", 1);
	setenv("LOG_LEVEL", getenv("DBB_FUZZ_LOG_LEVEL") ? getenv("DBB_FUZZ_LOG_LEVEL") : "error",
	       1);
	snprintf(path, sizeof(path), "%s/no.env", base);
	if (dbb_config_load(&cfg, path, &err))
		die("config", &err);
	if (dbb_log_set_level(cfg.log_level))
		die("LOG_LEVEL", NULL);
	drv = dbb_driver_find(cfg.db_type);
	if (!drv)
		die("no sqlite driver", NULL);
	if (drv->check_config && drv->check_config(&cfg, &err))
		die("check_config", &err);
	if (dbb_storage_open(&storage, cfg.backup_dir, &err))
		die("storage", &err);
	if (dbb_auth_new(&auth, &cfg, &err))
		die("auth", &err);
	if (dbb_ops_new(&ops, &cfg, drv, storage, &err))
		die("ops", &err);
	struct dbb_target target = {.cfg = &cfg, .ops = ops};
	if (dbb_server_start(&srv, &cfg, &target, 1, auth, &err))
		die("server", &err);
	snprintf(path, sizeof(path), "%s/keys/private.pem", base);
	if (dbb_token_issue(path, DBB_ROLE_OPERATOR, 10L * 365 * 86400, &cfg, &token, &err))
		die("token", &err);
	return 0;
}

/* Writes head+body to fd and reads the reply until the server closes. */
static size_t exchange(int fd, const char *head, size_t head_len, const uint8_t *body,
                       size_t body_len, char *reply, size_t cap)
{
	size_t sent = 0, total = head_len + body_len, got = 0;
	bool can_write = true;
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = {fd, POLLIN | (sent < total && can_write ? POLLOUT : 0), 0};
		int r = poll(&p, 1, 1000);

		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 > WAIT_MS)
			die("no complete response within 30 s", NULL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("poll failed", NULL);
		if (p.revents & POLLOUT) {
			const char *from =
			    sent < head_len ? head + sent : (const char *)body + (sent - head_len);
			size_t n = sent < head_len ? head_len - sent : total - sent;
			ssize_t w = send(fd, from, n, MSG_NOSIGNAL | MSG_DONTWAIT);

			if (w > 0)
				sent += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				can_write = false; /* the server answered early and closed */
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(fd, reply + got, cap - 1 - got, MSG_DONTWAIT);

			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				break;
			if (n > 0)
				got += (size_t)n;
			if (got >= cap - 1)
				die("response larger than 1 MiB", NULL);
		}
	}
	reply[got] = '\0';
	return got;
}

static void check_reply(const char *reply, size_t len)
{
	unsigned status = 0;
	const char *body;
	json_t *j, *success, *error;

	if (len < 12 || sscanf(reply, "HTTP/1.%*[01] %3u", &status) != 1 || status < 200 ||
	    status > 599) {
		fprintf(diag, "fuzz_multipart: not an HTTP response: %.200s\n", reply);
		abort();
	}
	body = strstr(reply, "\r\n\r\n");
	if (!body)
		die("response without a body", NULL);
	body += 4;
	if (getenv("DBB_FUZZ_VERBOSE")) /* for corpus work: what the daemon said */
		fprintf(diag, "reply: %u %s\n", status, body);
	j = json_loadb(body, len - (size_t)(body - reply), 0, NULL);
	success = json_object_get(j, "success");
	error = json_object_get(j, "error");
	if (!json_is_object(j) || !json_is_boolean(success) ||
	    json_is_true(success) != (status == 200) || (status != 200 && !json_is_string(error))) {
		fprintf(diag, "fuzz_multipart: unexpected reply: %.400s\n", reply);
		abort();
	}
	if (json_is_string(error) && (!strcmp(json_string_value(error), "internal_error") ||
	                              !strcmp(json_string_value(error), "operation_in_progress"))) {
		/* internal_error: client bytes broke something; operation_in_progress:
		 * requests come one at a time, so an earlier one kept the lock */
		fprintf(diag, "fuzz_multipart: %.400s\n", body);
		abort();
	}
	json_decref(j);
}

/* After the request ended: nothing half-done is left in the backups dir.
 * Safety backups of accepted uploads are removed, to keep it small. */
static void check_backups_dir(void)
{
	DIR *d = opendir(cfg.backup_dir);
	struct dirent *e;

	if (!d)
		die("cannot open the backups directory", NULL);
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, DBB_TMP_PREFIX, strlen(DBB_TMP_PREFIX)) ||
		    !strcmp(e->d_name, DBB_RESTORE_JOURNAL)) {
			fprintf(diag, "fuzz_multipart: %s left in the backups directory\n",
			        e->d_name);
			abort();
		}
		if (!strncmp(e->d_name, "safety_backup_", 14))
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char reply[REPLY_MAX];
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(40000)};
	char *head = NULL;
	int sv[2], n, waited;
	size_t len;

	if (fd_baseline < 0) { /* libFuzzer's own threads have started by now */
		fd_baseline = count_fds();
		task_baseline = count_tasks();
	}
	n = asprintf(&head,
	             "POST /backup/restore-upload HTTP/1.1\r\n"
	             "Host: fuzz\r\n"
	             "Authorization: Bearer %s\r\n"
	             "Content-Type: multipart/form-data; boundary=" BOUNDARY "\r\n"
	             "Content-Length: %zu\r\n"
	             "Connection: close\r\n"
	             "\r\n",
	             token, size);
	if (n < 0)
		die("out of memory", NULL);
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		die("socketpair failed", NULL);
	/* MHD owns sv[1] from here, also when it refuses it */
	if (MHD_add_connection(srv->mhd, sv[1], (const struct sockaddr *)&peer, sizeof(peer)) !=
	    MHD_YES)
		die("MHD_add_connection failed", NULL);
	len = exchange(sv[0], head, (size_t)n, data, size, reply, sizeof(reply));
	close(sv[0]);
	free(head);
	check_reply(reply, len);

	/* the request's cleanup (the temporary discarded, the lock released)
	 * runs after the reply was sent: wait for it */
	for (waited = 0; dbb_server_in_flight(srv) > 0; waited++) {
		if (waited > WAIT_MS)
			die("the request never ended", NULL);
		sleep_ms(1);
	}
	check_backups_dir();

	/* MHD closes its end and the connection's thread ends a little after
	 * the request ended: wait for both, so nothing of this input is still
	 * running when the next starts (or when libFuzzer checks for leaks) */
	for (waited = 0;; waited++) {
		int fds = count_fds(), tasks = count_tasks();

		if (fds <= fd_baseline && tasks <= task_baseline)
			break;
		if (waited > 5000) {
			fprintf(diag,
			        "fuzz_multipart: %d sockets and scratch files open and %d threads, "
			        "%d and %d "
			        "before the first request\n",
			        fds, tasks, fd_baseline, task_baseline);
			list_fds();
			abort();
		}
		sleep_ms(1);
	}
	return 0;
}
