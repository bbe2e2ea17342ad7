/* Unit tests for stream/child.c: real child processes (sh, cat, sleep). */
#include "dbbackupd/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static time_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static bool no_children_left(void)
{
	return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

/* Reads the whole stdout of a child; returns the byte count. */
static size_t read_all(struct dbb_child *c, char *keep, size_t keep_cap, dbb_code *rc,
                       struct dbb_error *err)
{
	struct dbb_child_stdout_source src;
	char buf[65536];
	size_t total = 0, got;

	dbb_child_stdout_source_init(&src, c);
	for (;;) {
		*rc = dbb_source_read(&src.base, buf, sizeof(buf), &got, err);
		if (*rc || got == 0)
			break;
		if (keep && total < keep_cap) {
			size_t n = got < keep_cap - total ? got : keep_cap - total;

			memcpy(keep + total, buf, n);
		}
		total += got;
	}
	return total;
}

/* Reads /proc/sys/fs/pipe-max-size (0 if it cannot). */
static long pipe_max_size(void)
{
	long max = 0;
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");

	if (f) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 0;
		fclose(f);
	}
	return max;
}

/* Output larger than any pipe; the pipe it comes through holds 1 MiB (a
 * dump tool runs ahead of the compressor) where the system allows that. */
static void test_stdout_large(void)
{
	const char *argv[] = {"sh", "-c", "head -c 3000000 /dev/zero", NULL};
	struct dbb_child_spec spec = {.argv = argv, .want_stdout = true, .timeout_s = 30};
	struct dbb_child c;
	struct dbb_error err = {0};
	dbb_code rc;
	size_t n;

	CHECK(dbb_child_start(&c, &spec, &err) == DBB_OK);
	if (pipe_max_size() >= 1024 * 1024)
		CHECK(fcntl(c.stdout_fd, F_GETPIPE_SZ) == 1024 * 1024);
	n = read_all(&c, NULL, 0, &rc, &err);
	CHECK(rc == DBB_OK);
	CHECK(n == 3000000);
	CHECK(dbb_child_finish(&c, DBB_ERR_BACKUP_FAILED, &err) == DBB_OK);
	CHECK(c.pid == -1);
}

/* A child that floods stderr while writing stdout must not deadlock, and the
 * tail keeps the last bytes. */
static void test_stderr_flood(void)
{
	const char *argv[] = {
	    "sh", "-c",
	    "head -c 500000 /dev/zero | tr '\\0' x >&2; echo; echo last-line >&2; "
	    "head -c 200000 /dev/zero; echo done-stdout",
	    NULL};
	struct dbb_child_spec spec = {.argv = argv, .want_stdout = true, .timeout_s = 30};
	struct dbb_child c;
	struct dbb_error err = {0};
	dbb_code rc;
	size_t n;

	CHECK(dbb_child_start(&c, &spec, &err) == DBB_OK);
	n = read_all(&c, NULL, 0, &rc, &err);
	CHECK(rc == DBB_OK);
	CHECK(n == 200000 + 1 + strlen("done-stdout\n"));
	CHECK(dbb_child_finish(&c, DBB_ERR_BACKUP_FAILED, &err) == DBB_OK);
	CHECK(c.stderr_len == DBB_CHILD_STDERR_TAIL - 1);
	CHECK(strstr(c.stderr_tail, "last-line\n") != NULL);
}

/* Writing a lot to stdin while the child floods stderr. */
static void test_stdin_sink(void)
{
	const char *argv[] = {"sh", "-c",
	                      "wc -c; head -c 100000 /dev/zero | tr '\\0' y >&2; echo tail-end >&2",
	                      NULL};
	struct dbb_child_spec spec = {.argv = argv, .want_stdin = true, .timeout_s = 30};
	struct dbb_child c;
	struct dbb_child_stdin_sink sink;
	struct dbb_error err = {0};
	static char block[100000];
	dbb_code rc = DBB_OK;

	memset(block, 'a', sizeof(block));
	CHECK(dbb_child_start(&c, &spec, &err) == DBB_OK);
	dbb_child_stdin_sink_init(&sink, &c);
	for (int i = 0; i < 50 && rc == DBB_OK; i++)
		rc = dbb_sink_write(&sink.base, block, sizeof(block), &err);
	CHECK(rc == DBB_OK);
	CHECK(dbb_child_finish(&c, DBB_ERR_RESTORE_FAILED, &err) == DBB_OK);
	CHECK(strstr(c.stderr_tail, "tail-end") != NULL);
}

static void test_stdin_roundtrip_count(void)
{
	const char *argv[] = {"sh", "-c", "wc -c >&2", NULL};
	struct dbb_child_spec spec = {.argv = argv, .want_stdin = true, .timeout_s = 30};
	struct dbb_child c;
	struct dbb_child_stdin_sink sink;
	struct dbb_error err = {0};
	static char block[65536];

	CHECK(dbb_child_start(&c, &spec, &err) == DBB_OK);
	dbb_child_stdin_sink_init(&sink, &c);
	for (int i = 0; i < 20; i++)
		CHECK(dbb_sink_write(&sink.base, block, sizeof(block), &err) == DBB_OK);
	CHECK(dbb_child_finish(&c, DBB_ERR_RESTORE_FAILED, &err) == DBB_OK);
	CHECK(atol(c.stderr_tail) == 20L * 65536);
}

static void test_exit_status(void)
{
	const char *argv[] = {"sh", "-c", "echo first >&2; echo 'pg_dump: error: boom' >&2; exit 3",
	                      NULL};
	struct dbb_child_spec spec = {.argv = argv, .timeout_s = 30};
	struct dbb_child c;
	struct dbb_error err = {0};

	CHECK(dbb_child_start(&c, &spec, &err) == DBB_OK);
	CHECK(dbb_child_finish(&c, DBB_ERR_BACKUP_FAILED, &err) == DBB_ERR_BACKUP_FAILED);
	CHECK(err.code == DBB_ERR_BACKUP_FAILED);
	CHECK(strstr(err.message, "status 3") != NULL);
	CHECK(strstr(err.message, "first | pg_dump: error: boom") != NULL);
}

static void test_signal_exit(void)
{
	const char *argv[] = {"sh", "-c", "kill -9 $$", NULL};
	struct dbb_child_spec spec = {.argv = argv};
	struct dbb_child c;
	struct dbb_error err = {0};

	CHECK(dbb_child_start(&c, &spec, &err) == DBB_OK);
	CHECK(dbb_child_finish(&c, DBB_ERR_INTERNAL, &err) == DBB_ERR_INTERNAL);
	CHECK(strstr(err.message, "signal 9") != NULL);
}

static void test_not_found(void)
{
	const char *argv[] = {"dbb-no-such-tool-xyz", NULL};
	struct dbb_child_spec spec = {.argv = argv};
	struct dbb_child c;
	struct dbb_error err = {0};

	CHECK(dbb_child_start(&c, &spec, &err) != DBB_OK);
	CHECK(strstr(err.message, "dbb-no-such-tool-xyz") != NULL);
	CHECK(c.pid == -1 && c.stdin_fd == -1 && c.stdout_fd == -1 && c.stderr_fd == -1);
	dbb_child_abort(&c); /* safe after a failed start */
}

static void test_env_extra(void)
{
	const char *argv[] = {"sh", "-c",
	                      "printf '%s|%s|' \"$DBB_T_NEW\" \"$DBB_T_OLD\"; "
	                      "env | grep -c '^DBB_T_OLD='",
	                      NULL};
	const char *extra[] = {"DBB_T_NEW=secret value", "DBB_T_OLD=replaced", NULL};
	struct dbb_child_spec spec = {
	    .argv = argv, .env_extra = extra, .want_stdout = true, .timeout_s = 30};
	struct dbb_child c;
	struct dbb_error err = {0};
	char out[128] = {0};
	dbb_code rc;

	setenv("DBB_T_OLD", "original", 1);
	CHECK(dbb_child_start(&c, &spec, &err) == DBB_OK);
	read_all(&c, out, sizeof(out) - 1, &rc, &err);
	CHECK(rc == DBB_OK);
	CHECK(strcmp(out, "secret value|replaced|1\n") == 0);
	CHECK(dbb_child_finish(&c, DBB_ERR_INTERNAL, &err) == DBB_OK);
	CHECK(strcmp(getenv("DBB_T_OLD"), "original") == 0);
	unsetenv("DBB_T_OLD");
}

/* Issue 14 item 12: a child gets the base environment of child.h, the
 * names of env_pass and env_extra; none of the daemon's secrets. Read from
 * the child's own /proc/self/environ, so no shell adds anything. */
static void test_env_minimal(void)
{
	static const char *const secrets[][2] = {
	    {"DB_PASSWORD", "db-secret-1"},
	    {"NEO4J_PASSWORD", "neo-secret-2"},
	    {"METRICS_TOKEN", "metrics-secret-3"},
	    {"AWS_SECRET_ACCESS_KEY", "s3-secret-4"},
	    {"S3_SECRET_KEY", "s3-secret-5"},
	    {"KEYCLOAK_CLIENT_SECRET", "kc-secret-6"},
	    {"PGPASSWORD", "inherited-pg-7"},
	    {"MYSQL_PWD", "inherited-my-8"},
	    {"LD_PRELOAD", ""},
	    {"DBB_UNRELATED", "x"},
	};
	const char *argv[] = {"cat", "/proc/self/environ", NULL};
	const char *pass[] = {"DBB_T_PASSED", "DBB_T_UNSET", NULL};
	const char *extra[] = {"PGPASSWORD=given-by-the-driver", "TZ=UTC", NULL};
	struct dbb_child_spec spec = {.argv = argv,
	                              .env_extra = extra,
	                              .env_pass = pass,
	                              .want_stdout = true,
	                              .timeout_s = 30};
	struct dbb_child c;
	struct dbb_error err = {0};
	char out[65536] = {0};
	size_t n, names = 0;
	dbb_code rc;
	bool path = false, lang = false, lc = false, passed_seen = false, pg = false, tz = false;

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		setenv(secrets[i][0], secrets[i][1], 1);
	setenv("LANG", "C.UTF-8", 1);
	setenv("LC_MESSAGES", "C", 1);
	setenv("TZ", "Europe/Paris", 1);
	setenv("DBB_T_PASSED", "passed", 1);
	unsetenv("DBB_T_UNSET");
	CHECK(dbb_child_start(&c, &spec, &err) == DBB_OK);
	n = read_all(&c, out, sizeof(out) - 1, &rc, &err);
	CHECK(rc == DBB_OK);
	CHECK(dbb_child_finish(&c, DBB_ERR_INTERNAL, &err) == DBB_OK);
	CHECK(n > 0 && n < sizeof(out));
	for (const char *e = out; e < out + n; e += strlen(e) + 1) {
		size_t len = strcspn(e, "=");
		bool allowed = (len > 3 && strncmp(e, "LC_", 3) == 0);
		static const char *const ok[] = {"PATH", "HOME",   "LANG",       "LANGUAGE",
		                                 "TZ",   "TMPDIR", "PGPASSWORD", "DBB_T_PASSED"};

		names++;
		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			allowed |= strlen(ok[i]) == len && strncmp(ok[i], e, len) == 0;
		if (!allowed)
			fprintf(stderr, "  unexpected in the child's environment: %.*s\n", (int)len,
			        e);
		CHECK(allowed);
		path |= strncmp(e, "PATH=", 5) == 0;
		lang |= strcmp(e, "LANG=C.UTF-8") == 0;
		lc |= strcmp(e, "LC_MESSAGES=C") == 0;
		passed_seen |= strcmp(e, "DBB_T_PASSED=passed") == 0;
		pg |= strcmp(e, "PGPASSWORD=given-by-the-driver") == 0;
		tz |= strcmp(e, "TZ=UTC") == 0;
		CHECK(strncmp(e, "DBB_T_UNSET", 11) != 0);
		CHECK(strncmp(e, "TZ=Europe", 9) != 0); /* env_extra wins */
	}
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		if (secrets[i][1][0] && memmem(out, n, secrets[i][1], strlen(secrets[i][1]))) {
			fprintf(stderr, "  %s reached the child\n", secrets[i][0]);
			CHECK(!"a secret of the daemon's environment reached the child");
		}
		unsetenv(secrets[i][0]);
	}
	CHECK(path && lang && lc && passed_seen && pg && tz);
	CHECK(names >= 6);
	unsetenv("DBB_T_PASSED");
	unsetenv("LC_MESSAGES");
	unsetenv("TZ");
}

/* A hung child is killed once the timeout passes (finish path). */
static void test_timeout_finish(void)
{
	const char *argv[] = {"sleep", "30", NULL};
	struct dbb_child_spec spec = {.argv = argv, .timeout_s = 1};
	struct dbb_child c;
	struct dbb_error err = {0};
	time_t t0 = now_s();

	CHECK(dbb_child_start(&c, &spec, &err) == DBB_OK);
	CHECK(dbb_child_finish(&c, DBB_ERR_BACKUP_FAILED, &err) == DBB_ERR_BACKUP_FAILED);
	CHECK(c.timed_out);
	CHECK(strstr(err.message, "timed out") != NULL);
	CHECK(now_s() - t0 < 10);
}

/* A child that ignores SIGTERM gets SIGKILL after the grace period. */
static void test_timeout_ignores_term(void)
{
	const char *argv[] = {"sh", "-c", "trap '' TERM; exec sleep 60", NULL};
	struct dbb_child_spec spec = {.argv = argv, .timeout_s = 1};
	struct dbb_child c;
	struct dbb_error err = {0};
	time_t t0 = now_s();

	CHECK(dbb_child_start(&c, &spec, &err) == DBB_OK);
	CHECK(dbb_child_finish(&c, DBB_ERR_BACKUP_FAILED, &err) == DBB_ERR_BACKUP_FAILED);
	CHECK(c.timed_out);
	CHECK(now_s() - t0 < 15);
}

/* A reader blocked on a silent child returns an error at the deadline. */
static void test_timeout_read(void)
{
	const char *argv[] = {"sleep", "30", NULL};
	struct dbb_child_spec spec = {.argv = argv, .want_stdout = true, .timeout_s = 1};
	struct dbb_child c;
	struct dbb_error err = {0};
	time_t t0 = now_s();
	dbb_code rc;

	CHECK(dbb_child_start(&c, &spec, &err) == DBB_OK);
	read_all(&c, NULL, 0, &rc, &err);
	CHECK(rc != DBB_OK);
	CHECK(strstr(err.message, "timed out") != NULL);
	dbb_child_abort(&c);
	CHECK(c.pid == -1);
	CHECK(now_s() - t0 < 10);
}

/* A child that stops reading: the writer gets an error, not SIGPIPE. */
static void test_stdin_closed_early(void)
{
	const char *argv[] = {"sh", "-c", "head -c 10 >/dev/null; echo stopped >&2; exit 4", NULL};
	struct dbb_child_spec spec = {.argv = argv, .want_stdin = true, .timeout_s = 30};
	struct dbb_child c;
	struct dbb_child_stdin_sink sink;
	struct dbb_error err = {0};
	static char block[65536];
	dbb_code rc = DBB_OK;

	CHECK(dbb_child_start(&c, &spec, &err) == DBB_OK);
	dbb_child_stdin_sink_init(&sink, &c);
	for (int i = 0; i < 200 && rc == DBB_OK; i++)
		rc = dbb_sink_write(&sink.base, block, sizeof(block), &err);
	CHECK(rc != DBB_OK);
	CHECK(dbb_child_finish(&c, DBB_ERR_RESTORE_FAILED, &err) == DBB_ERR_RESTORE_FAILED);
	CHECK(strstr(err.message, "status 4") != NULL);
	CHECK(strstr(err.message, "stopped") != NULL);
}

static void test_abort_running(void)
{
	const char *argv[] = {"cat", NULL};
	struct dbb_child_spec spec = {.argv = argv, .want_stdin = true, .want_stdout = true};
	struct dbb_child c;
	struct dbb_error err = {0};
	pid_t pid;

	CHECK(dbb_child_start(&c, &spec, &err) == DBB_OK);
	pid = c.pid;
	dbb_child_abort(&c);
	CHECK(c.pid == -1 && c.stdin_fd == -1 && c.stdout_fd == -1 && c.stderr_fd == -1);
	CHECK(kill(pid, 0) != 0);
	dbb_child_abort(&c); /* twice is fine */
}

int main(void)
{
	/* The daemon ignores SIGPIPE; the tests must pass without that too. */
	test_stdout_large();
	test_stderr_flood();
	test_stdin_sink();
	test_stdin_roundtrip_count();
	test_exit_status();
	test_env_minimal();
	test_signal_exit();
	test_not_found();
	test_env_extra();
	test_timeout_finish();
	test_timeout_ignores_term();
	test_timeout_read();
	test_stdin_closed_early();
	test_abort_running();
	CHECK(no_children_left());
	DONE();
}
