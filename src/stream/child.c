/* Child tools: posix_spawn with pipes, a minimal environment, stderr tail capture, poll-based
 * I/O, timeout, reaping. */
#include "dbbackupd/child.h"
#include "dbbackupd/progress.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Seconds a child gets between SIGTERM and SIGKILL. */
#define CHILD_KILL_GRACE_S 3
/* Capacity asked for the pipe a child writes its output into (Linux's
 * unprivileged maximum, /proc/sys/fs/pipe-max-size, by default). With the
 * default 64 KiB a dump tool stalls as soon as the daemon spends longer
 * than a 64 KiB write on compressing, so tool and compressor take turns
 * instead of running on two cores; 1 MiB lets the tool run ahead by a few
 * compression blocks (docs/compression.md). Kernel memory, not the
 * daemon's; best effort: a smaller pipe only costs speed. */
#define CHILD_STDOUT_PIPE_SIZE (1024 * 1024)

static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Milliseconds poll() may wait before the deadline; -1 without a deadline. */
static int poll_timeout_ms(const struct dbb_child *c)
{
	time_t now;

	/* a job's tool wakes up to see a cancellation (progress.h) */
	int cap = dbb_progress_current() ? 250 : 60000;
	if (c->deadline == 0)
		return dbb_progress_current() ? cap : -1;
	now = mono_now();
	if (now >= c->deadline)
		return 0;
	return (int)((c->deadline - now) * 1000 > cap ? cap : (c->deadline - now) * 1000);
}

static bool past_deadline(const struct dbb_child *c)
{
	return c->deadline != 0 && mono_now() >= c->deadline;
}

/* Keeps the last DBB_CHILD_STDERR_TAIL - 1 bytes the child wrote to stderr. */
static void tail_append(struct dbb_child *c, const char *buf, size_t len)
{
	const size_t cap = sizeof(c->stderr_tail) - 1;

	if (len >= cap) {
		memcpy(c->stderr_tail, buf + len - cap, cap);
		c->stderr_len = cap;
	} else {
		if (c->stderr_len + len > cap) {
			size_t drop = c->stderr_len + len - cap;

			memmove(c->stderr_tail, c->stderr_tail + drop, c->stderr_len - drop);
			c->stderr_len -= drop;
		}
		memcpy(c->stderr_tail + c->stderr_len, buf, len);
		c->stderr_len += len;
	}
	c->stderr_tail[c->stderr_len] = '\0';
}

/* Reads what stderr has now (non-blocking); closes it at EOF. */
static void drain_stderr(struct dbb_child *c)
{
	char buf[4096];

	while (c->stderr_fd >= 0) {
		ssize_t n = read(c->stderr_fd, buf, sizeof(buf));

		if (n > 0) {
			tail_append(c, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		close_fd(&c->stderr_fd); /* EOF or error */
	}
}

static void timeout_kill(struct dbb_child *c)
{
	if (c->pid > 0 && !c->timed_out) {
		c->timed_out = true;
		kill(c->pid, SIGTERM);
	}
}

/* Moves fd above 2 (so dup2 onto 0..2 in the child never hits itself) and
 * marks it close-on-exec. */
static int fd_high_cloexec(int fd)
{
	int nfd;

	if (fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

static int make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	p[0] = fd_high_cloexec(p[0]);
	p[1] = fd_high_cloexec(p[1]);
	if (p[0] < 0 || p[1] < 0) {
		if (p[0] >= 0)
			close(p[0]);
		if (p[1] >= 0)
			close(p[1]);
		return -1;
	}
	return 0;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static size_t env_name_len(const char *entry)
{
	const char *eq = strchr(entry, '=');

	return eq ? (size_t)(eq - entry) : strlen(entry);
}

/* True if entry ("NAME=value") names one of names (NULL-terminated). */
static bool env_named(const char *entry, const char *const *names)
{
	size_t n = env_name_len(entry);

	for (; names && *names; names++)
		if (env_name_len(*names) == n && strncmp(*names, entry, n) == 0)
			return true;
	return false;
}

/* The part of the daemon's environment that every child receives (see child.h). */
static bool env_base(const char *entry)
{
	static const char *const base[] = {DBB_CHILD_BASE_ENV, NULL};

	return (strncmp(entry, "LC_", 3) == 0 && env_name_len(entry) > 3) || env_named(entry, base);
}

/* The child's environment: the base variables and those named in env_pass,
 * from the daemon's environment, then env_extra (which wins). Nothing else
 * of the daemon's reaches it: no DB_PASSWORD, NEO4J_PASSWORD, METRICS_TOKEN
 * or any other secret the daemon was started with. The array is malloc'd,
 * its strings borrowed. */
static char **build_env(const char *const *extra, const char *const *pass)
{
	size_t n = 0, k = 0, i;
	char **env;

	for (i = 0; environ && environ[i]; i++)
		n++;
	for (i = 0; extra && extra[i]; i++)
		n++;
	env = calloc(n + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; environ && environ[i]; i++)
		if ((env_base(environ[i]) || env_named(environ[i], pass)) &&
		    !env_named(environ[i], extra))
			env[k++] = environ[i];
	for (i = 0; extra && extra[i]; i++)
		env[k++] = (char *)extra[i];
	env[k] = NULL;
	return env;
}

bool dbb_child_program_find(const char *name, char *out, size_t cap)
{
	const char *path, *p;
	char buf[4096];

	if (strchr(name, '/')) {
		if (access(name, X_OK) != 0)
			return false;
		return out == NULL || (size_t)snprintf(out, cap, "%s", name) < cap;
	}
	path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p++) {
		const char *end = strchr(p, ':'), *dir = p;
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == 0) { /* empty element: current directory */
			dir = ".";
			len = 1;
		}
		if (snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, dir, name) < (int)sizeof(buf) &&
		    access(buf, X_OK) == 0)
			return out == NULL || (size_t)snprintf(out, cap, "%s", buf) < cap;
		if (!end)
			return false;
		p = end;
	}
}

bool dbb_child_program_exists(const char *name)
{
	return dbb_child_program_find(name, NULL, 0);
}

dbb_code dbb_child_start(struct dbb_child *c, const struct dbb_child_spec *spec,
                         struct dbb_error *err)
{
	int in_p[2] = {-1, -1}, out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	bool fa_ok = false, attr_ok = false;
	sigset_t sigs;
	char **env = NULL;
	dbb_code rc = DBB_OK;
	int e;

	memset(c, 0, sizeof(*c));
	c->pid = -1;
	c->stdin_fd = c->stdout_fd = c->stderr_fd = -1;

	if (!spec->argv || !spec->argv[0])
		return dbb_fail(err, DBB_ERR_INTERNAL, "child: no program given");
	if (!dbb_child_program_exists(spec->argv[0]))
		return dbb_fail(err, DBB_ERR_INTERNAL, "%s: command not found", spec->argv[0]);
	if ((spec->want_stdin && make_pipe(in_p) != 0) ||
	    (spec->want_stdout && make_pipe(out_p) != 0) || make_pipe(err_p) != 0) {
		rc = dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "cannot create pipes for %s",
		                    spec->argv[0]);
		goto out;
	}
	if (spec->want_stdout)
		(void)fcntl(out_p[0], F_SETPIPE_SZ, CHILD_STDOUT_PIPE_SIZE);
	env = build_env(spec->env_extra, spec->env_pass);
	if (!env) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory starting %s", spec->argv[0]);
		goto out;
	}

	if (posix_spawn_file_actions_init(&fa) != 0) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "posix_spawn_file_actions_init failed");
		goto out;
	}
	fa_ok = true;
	if (spec->want_stdin)
		e = posix_spawn_file_actions_adddup2(&fa, in_p[0], 0);
	else
		e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (e == 0 && spec->want_stdout)
		e = posix_spawn_file_actions_adddup2(&fa, out_p[1], 1);
	else if (e == 0)
		e = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (e == 0)
		e = posix_spawn_file_actions_adddup2(&fa, err_p[1], 2);
	if (e != 0) {
		rc = dbb_fail_errno(err, e, DBB_ERR_INTERNAL, "posix_spawn file actions");
		goto out;
	}

	/* The child starts with no blocked signals and SIGPIPE at its default,
	 * whatever the daemon's threads do with them. */
	if (posix_spawnattr_init(&attr) != 0) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "posix_spawnattr_init failed");
		goto out;
	}
	attr_ok = true;
	sigemptyset(&sigs);
	posix_spawnattr_setsigmask(&attr, &sigs);
	sigaddset(&sigs, SIGPIPE);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	posix_spawnattr_setsigdefault(&attr, &sigs);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

	e = posix_spawnp(&c->pid, spec->argv[0], &fa, &attr, (char *const *)spec->argv, env);
	if (e != 0) {
		c->pid = -1;
		rc = dbb_fail_errno(err, e, DBB_ERR_INTERNAL, "cannot start %s", spec->argv[0]);
		goto out;
	}

	c->stdin_fd = in_p[1];
	in_p[1] = -1;
	c->stdout_fd = out_p[0];
	out_p[0] = -1;
	c->stderr_fd = err_p[0];
	err_p[0] = -1;
	if (c->stdin_fd >= 0)
		set_nonblock(c->stdin_fd);
	if (c->stdout_fd >= 0)
		set_nonblock(c->stdout_fd);
	set_nonblock(c->stderr_fd);
	if (spec->timeout_s)
		c->deadline = mono_now() + (time_t)spec->timeout_s;

out:
	if (attr_ok)
		posix_spawnattr_destroy(&attr);
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	free(env);
	for (int i = 0; i < 2; i++) {
		close_fd(&in_p[i]);
		close_fd(&out_p[i]);
		close_fd(&err_p[i]);
	}
	return rc;
}

/* write() that turns SIGPIPE into EPIPE for this thread only. */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old, pending;
	bool was_pending;
	ssize_t n;
	int saved;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	n = write(fd, buf, len);
	saved = errno;
	if (n < 0 && saved == EPIPE && !was_pending) {
		struct timespec zero = {0, 0};

		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return n;
}

/* Waits until fd is ready for events (or in error), reading the child's
 * stderr meanwhile so that it never blocks on a full stderr pipe. Past the
 * deadline the child is killed and that is the error. */
static dbb_code wait_io(struct dbb_child *c, int fd, short events, struct dbb_error *err)
{
	for (;;) {
		struct pollfd pf[2];
		nfds_t n = 0;
		int r;

		if (past_deadline(c)) {
			timeout_kill(c);
			return dbb_fail(err, DBB_ERR_INTERNAL, "child tool timed out");
		}
		if (dbb_progress_cancelled()) {
			timeout_kill(c);
			return dbb_fail(err, DBB_ERR_CANCELLED, "the job was cancelled");
		}
		pf[n++] = (struct pollfd){.fd = fd, .events = events};
		if (c->stderr_fd >= 0)
			pf[n++] = (struct pollfd){.fd = c->stderr_fd, .events = POLLIN};
		r = poll(pf, n, poll_timeout_ms(c));
		if (r < 0 && errno != EINTR)
			return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL, "poll");
		if (r <= 0)
			continue;
		if (n > 1 && pf[1].revents)
			drain_stderr(c);
		if (pf[0].revents)
			return DBB_OK;
	}
}

static dbb_code stdin_sink_write(struct dbb_sink *self, const void *buf, size_t len,
                                 struct dbb_error *err)
{
	struct dbb_child_stdin_sink *s = (struct dbb_child_stdin_sink *)self;
	struct dbb_child *c = s->child;
	const unsigned char *p = buf;

	while (len > 0) {
		if (c->stdin_fd < 0)
			return dbb_fail(err, DBB_ERR_INTERNAL, "child's input is closed");
		dbb_code rc = wait_io(c, c->stdin_fd, POLLOUT, err);
		if (rc)
			return rc;
		ssize_t w = write_nosigpipe(c->stdin_fd, p, len);
		if (w > 0) {
			p += w;
			len -= (size_t)w;
		} else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			int e = errno;

			close_fd(&c->stdin_fd);
			return dbb_fail_errno(err, e, DBB_ERR_INTERNAL,
			                      "child tool stopped reading its input");
		}
	}
	return DBB_OK;
}

void dbb_child_stdin_sink_init(struct dbb_child_stdin_sink *s, struct dbb_child *c)
{
	s->base = (struct dbb_sink){.write = stdin_sink_write};
	s->child = c;
}

static dbb_code stdout_source_read(struct dbb_source *self, void *buf, size_t cap, size_t *got,
                                   struct dbb_error *err)
{
	struct dbb_child_stdout_source *s = (struct dbb_child_stdout_source *)self;
	struct dbb_child *c = s->child;

	*got = 0;
	while (c->stdout_fd >= 0) {
		dbb_code rc = wait_io(c, c->stdout_fd, POLLIN, err);
		if (rc)
			return rc;
		ssize_t rd = read(c->stdout_fd, buf, cap);
		if (rd > 0) {
			*got = (size_t)rd;
			return DBB_OK;
		}
		if (rd == 0) {
			close_fd(&c->stdout_fd);
			return DBB_OK;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			int e = errno;

			close_fd(&c->stdout_fd);
			return dbb_fail_errno(err, e, DBB_ERR_INTERNAL,
			                      "reading the child tool's output");
		}
	}
	return DBB_OK; /* end of stream */
}

void dbb_child_stdout_source_init(struct dbb_child_stdout_source *s, struct dbb_child *c)
{
	s->base = (struct dbb_source){.read = stdout_source_read};
	s->child = c;
}

/* Reads stdout (discarded) and stderr until both close or the deadline. */
static void drain_all(struct dbb_child *c)
{
	char buf[4096];

	while (c->stdout_fd >= 0 || c->stderr_fd >= 0) {
		struct pollfd pf[2];
		nfds_t n = 0;
		int r;

		if (past_deadline(c) || dbb_progress_cancelled()) {
			timeout_kill(c);
			return;
		}
		if (c->stdout_fd >= 0)
			pf[n++] = (struct pollfd){.fd = c->stdout_fd, .events = POLLIN};
		if (c->stderr_fd >= 0)
			pf[n++] = (struct pollfd){.fd = c->stderr_fd, .events = POLLIN};
		r = poll(pf, n, poll_timeout_ms(c));
		if (r < 0 && errno != EINTR)
			return;
		if (r <= 0)
			continue;
		for (nfds_t i = 0; i < n; i++) {
			if (!pf[i].revents)
				continue;
			if (pf[i].fd == c->stderr_fd) {
				drain_stderr(c);
			} else {
				ssize_t rd = read(c->stdout_fd, buf, sizeof(buf));

				if (rd == 0 || (rd < 0 && errno != EAGAIN && errno != EINTR &&
				                errno != EWOULDBLOCK))
					close_fd(&c->stdout_fd);
			}
		}
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Waits for the child; after the deadline sends SIGTERM, then SIGKILL after
 * a grace period. Always reaps. */
static int reap(struct dbb_child *c)
{
	int status = 0;
	time_t kill_at = 0;
	long nap = 1;

	for (;;) {
		pid_t r = waitpid(c->pid, &status, WNOHANG);

		if (r == c->pid)
			break;
		if (r < 0 && errno != EINTR) {
			status = -1;
			break;
		}
		if ((past_deadline(c) || dbb_progress_cancelled()) && !c->timed_out)
			timeout_kill(c);
		if (c->timed_out) {
			if (kill_at == 0)
				kill_at = mono_now() + CHILD_KILL_GRACE_S;
			else if (mono_now() >= kill_at) {
				kill(c->pid, SIGKILL);
				while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
					;
				break;
			}
		}
		sleep_ms(nap);
		if (nap < 50)
			nap *= 2;
	}
	c->pid = -1;
	return status;
}

/* The stderr tail as one line: the last complete lines, newlines as " | ". */
static void tail_oneline(const struct dbb_child *c, char *out, size_t cap)
{
	const char *s = c->stderr_tail;
	size_t len = c->stderr_len, k = 0;

	if (len == sizeof(c->stderr_tail) - 1) {
		const char *nl = memchr(s, '\n', len);

		if (nl && (size_t)(nl - s) + 1 < len) {
			len -= (size_t)(nl - s) + 1;
			s = nl + 1;
		}
	}
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
		len--;
	/* keep the end when it does not fit */
	if (len + 1 > cap) {
		s += len - (cap - 1);
		len = cap - 1;
	}
	for (size_t i = 0; i < len && k + 4 < cap; i++) {
		if (s[i] == '\n') {
			memcpy(out + k, " | ", 3);
			k += 3;
		} else if (s[i] == '\r' || s[i] == '\t') {
			out[k++] = ' ';
		} else {
			out[k++] = s[i];
		}
	}
	out[k] = '\0';
}

dbb_code dbb_child_finish(struct dbb_child *c, dbb_code fail_code, struct dbb_error *err)
{
	char tail[700];
	int status;

	close_fd(&c->stdin_fd);
	if (c->pid <= 0) {
		close_fd(&c->stdout_fd);
		close_fd(&c->stderr_fd);
		return dbb_fail(err, fail_code, "child tool was not running");
	}
	drain_all(c);
	close_fd(&c->stdout_fd);
	close_fd(&c->stderr_fd);
	status = reap(c);
	tail_oneline(c, tail, sizeof(tail));

	if (c->timed_out && dbb_progress_cancelled())
		return dbb_fail(err, DBB_ERR_CANCELLED, "stopped: the job was cancelled");
	if (c->timed_out)
		return dbb_fail(err, fail_code, "timed out and was killed%s%s", tail[0] ? ": " : "",
		                tail);
	if (status == -1)
		return dbb_fail(err, fail_code, "lost track of the child process");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return DBB_OK;
	if (WIFEXITED(status))
		return dbb_fail(err, fail_code, "exited with status %d%s%s", WEXITSTATUS(status),
		                tail[0] ? ": " : "", tail);
	return dbb_fail(err, fail_code, "killed by signal %d%s%s",
	                WIFSIGNALED(status) ? WTERMSIG(status) : 0, tail[0] ? ": " : "", tail);
}

void dbb_child_abort(struct dbb_child *c)
{
	close_fd(&c->stdin_fd);
	close_fd(&c->stdout_fd);
	close_fd(&c->stderr_fd);
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = -1;
	}
}
