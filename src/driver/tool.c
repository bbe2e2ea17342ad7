/* The runner of a driver's external tools: find, version, secret file, start, stream, decide which
 * end failed, finish or kill (tool.h). */
#include "dbbackupd/tool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbbackupd/child.h"

#define TOOL_PROBE_TIMEOUT_S 60

static const struct dbb_child CHILD_NONE = {
    .pid = -1, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};

const char *dbb_tool_find(const char *const *names)
{
	for (; names && *names; names++)
		if (dbb_child_program_exists(*names))
			return *names;
	return NULL;
}

static dbb_code version_probe(const char *tool, unsigned timeout_s, dbb_code fail_code, char *out,
                              size_t cap, struct dbb_error *err)
{
	const char *argv[] = {tool, "--version", NULL};
	struct dbb_child_spec spec = {.argv = argv,
	                              .want_stdout = true,
	                              .timeout_s = timeout_s ? timeout_s : TOOL_PROBE_TIMEOUT_S};
	struct dbb_child c = CHILD_NONE;
	struct dbb_child_stdout_source src;
	size_t len = 0, got;
	dbb_code rc;

	out[0] = '\0';
	rc = dbb_child_start(&c, &spec, err);
	if (rc)
		goto out;
	dbb_child_stdout_source_init(&src, &c);
	for (;;) {
		char buf[256];

		rc = dbb_source_read(&src.base, buf, sizeof(buf), &got, err);
		if (rc || got == 0)
			break;
		if (len + got < cap) {
			memcpy(out + len, buf, got);
			len += got;
			out[len] = '\0';
		}
	}
	if (rc)
		goto out;
	rc = dbb_child_finish(&c, fail_code, err);
	if (rc)
		dbb_error_prefix(err, "%s --version", tool);
out:
	dbb_child_abort(&c);
	if (rc)
		rc = dbb_error_recode(err, fail_code);
	return rc;
}

/* What `tool --version` printed, kept while the program PATH finds is the
 * same file (device, inode, size, modification and change times): Debian's
 * psql and pg_dump are pg_wrapper, a Perl script that takes about 50 ms to
 * start, and every dump and restore asked for the version before running
 * the tool. Successes only; a caller that finds the version wanting asks
 * again (dbb_tool_version_forget). */
#define VERSION_CACHE_SLOTS 8

struct version_entry {
	char tool[64];
	char path[PATH_MAX];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	char out[256];
};

static struct version_entry version_cache[VERSION_CACHE_SLOTS];
static unsigned version_cache_next;
static pthread_mutex_t version_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* The identity of the program `tool` runs as; false if it cannot be told. */
static bool program_identity(const char *tool, struct version_entry *id)
{
	struct stat sb;

	memset(id, 0, sizeof(*id));
	if ((size_t)snprintf(id->tool, sizeof(id->tool), "%s", tool) >= sizeof(id->tool) ||
	    !dbb_child_program_find(tool, id->path, sizeof(id->path)) || stat(id->path, &sb) != 0)
		return false;
	id->dev = sb.st_dev;
	id->ino = sb.st_ino;
	id->size = sb.st_size;
	id->mtime = sb.st_mtim;
	id->ctime = sb.st_ctim;
	return true;
}

static bool same_program(const struct version_entry *a, const struct version_entry *b)
{
	return strcmp(a->tool, b->tool) == 0 && strcmp(a->path, b->path) == 0 && a->dev == b->dev &&
	       a->ino == b->ino && a->size == b->size && same_time(&a->mtime, &b->mtime) &&
	       same_time(&a->ctime, &b->ctime);
}

/* Copies the cached answer for id to out; false if there is none. */
static bool version_cache_get(const struct version_entry *id, char *out, size_t cap)
{
	bool hit = false;

	pthread_mutex_lock(&version_cache_lock);
	for (size_t i = 0; i < VERSION_CACHE_SLOTS && !hit; i++)
		if (same_program(&version_cache[i], id)) {
			snprintf(out, cap, "%s", version_cache[i].out);
			hit = true;
		}
	pthread_mutex_unlock(&version_cache_lock);
	return hit;
}

static void version_cache_put(const struct version_entry *id, const char *out)
{
	pthread_mutex_lock(&version_cache_lock);
	struct version_entry *e = &version_cache[version_cache_next++ % VERSION_CACHE_SLOTS];
	*e = *id;
	snprintf(e->out, sizeof(e->out), "%s", out);
	pthread_mutex_unlock(&version_cache_lock);
}

void dbb_tool_version_forget(const char *tool)
{
	pthread_mutex_lock(&version_cache_lock);
	for (size_t i = 0; i < VERSION_CACHE_SLOTS; i++)
		if (strcmp(version_cache[i].tool, tool) == 0)
			memset(&version_cache[i], 0, sizeof(version_cache[i]));
	pthread_mutex_unlock(&version_cache_lock);
}

dbb_code dbb_tool_version(const char *tool, unsigned timeout_s, dbb_code fail_code, char *out,
                          size_t cap, struct dbb_error *err)
{
	struct version_entry *id = malloc(sizeof(*id));
	bool known = id && program_identity(tool, id);
	dbb_code rc;

	if (known && version_cache_get(id, out, cap)) {
		free(id);
		return DBB_OK;
	}
	rc = version_probe(tool, timeout_s, fail_code, out, cap, err);
	if (!rc && known)
		version_cache_put(id, out);
	free(id);
	return rc;
}

bool dbb_tool_accepts(const char *const *argv, unsigned timeout_s)
{
	struct dbb_child_spec spec = {.argv = argv, .timeout_s = timeout_s};
	struct dbb_child c = CHILD_NONE;
	struct dbb_error err = {0};

	if (dbb_child_start(&c, &spec, &err))
		return false;
	return dbb_child_finish(&c, DBB_ERR_INTERNAL, &err) == DBB_OK;
}

void dbb_tool_secret_file_remove(struct dbb_tool_secret_file *f)
{
	if (f->path[0]) {
		unlink(f->path);
		f->path[0] = '\0';
	}
	if (f->dir[0]) {
		rmdir(f->dir);
		f->dir[0] = '\0';
	}
}

/* Writes all of body to fd. */
static dbb_code write_all(int fd, const char *body, size_t len, struct dbb_error *err)
{
	const char *p = body;

	while (p < body + len) {
		ssize_t w = write(fd, p, (size_t)(body + len - p));

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return dbb_fail_errno(err, errno, DBB_ERR_INTERNAL,
			                      "cannot write the tool's option file");
		p += w;
	}
	return DBB_OK;
}

dbb_code dbb_tool_secret_file_create(struct dbb_tool_secret_file *f, const char *tag,
                                     const char *name, const void *body, size_t len,
                                     struct dbb_error *err)
{
	const char *tmp = getenv("TMPDIR");
	dbb_code rc;
	int fd;

	memset(f, 0, sizeof(*f));
	if (!tmp || !*tmp || tmp[0] != '/')
		tmp = "/tmp";
	if ((size_t)snprintf(f->dir, sizeof(f->dir), "%s/dbbackupd-%s-XXXXXX", tmp, tag) >=
	    sizeof(f->dir)) {
		f->dir[0] = '\0';
		return dbb_fail(err, DBB_ERR_INTERNAL, "TMPDIR is too long");
	}
	if (!mkdtemp(f->dir)) {
		int e = errno;

		f->dir[0] = '\0';
		return dbb_fail_errno(err, e, DBB_ERR_INTERNAL,
		                      "cannot create a private temporary directory");
	}
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = dbb_fail_errno(err, errno, DBB_ERR_INTERNAL,
		                    "cannot create the tool's option file");
		f->path[0] = '\0';
		goto out;
	}
	rc = write_all(fd, body, len, err);
	if (close(fd) && rc == DBB_OK)
		rc = dbb_fail_errno(err, errno, DBB_ERR_INTERNAL,
		                    "cannot write the tool's option file");
out:
	if (rc)
		dbb_tool_secret_file_remove(f);
	return rc;
}

static dbb_code tool_start(const struct dbb_tool_run *run, bool is_restore, struct dbb_child *c,
                           struct dbb_error *err)
{
	struct dbb_child_spec spec = {.argv = run->argv,
	                              .env_extra = run->env_extra,
	                              .env_pass = run->env_pass,
	                              .want_stdin = is_restore,
	                              .want_stdout = !is_restore,
	                              .timeout_s = run->timeout_s};
	dbb_code rc = dbb_child_start(c, &spec, err);

	return rc ? dbb_error_recode(err, run->fail_code) : DBB_OK;
}

/* Waits for the tool to end; if it failed, its words (with fail_code)
 * replace *err and are returned. Otherwise rc (our own failure, if any)
 * stands with *err as it is. */
static dbb_code tool_finish(const struct dbb_tool_run *run, struct dbb_child *c, dbb_code rc,
                            struct dbb_error *err)
{
	struct dbb_error ferr = {0};
	dbb_code frc = dbb_child_finish(c, run->fail_code, &ferr);

	if (!frc)
		return rc;
	dbb_error_prefix(&ferr, "%s failed", run->argv[0]);
	if (err)
		*err = ferr;
	return frc;
}

dbb_code dbb_tool_dump(const struct dbb_tool_run *run, struct dbb_sink *out, struct dbb_error *err)
{
	struct dbb_child c = CHILD_NONE;
	struct dbb_child_stdout_source src;
	enum dbb_stream_end failed = DBB_STREAM_END_NONE;
	dbb_code rc;

	rc = tool_start(run, false, &c, err);
	if (rc)
		goto out;
	dbb_child_stdout_source_init(&src, &c);
	/* A tool that dies early gives end of stream and says why in finish's
	 * message; one that hangs past the timeout fails the read and finish
	 * says so. A failing sink stops the tool (abort at out) and its error
	 * stands. */
	rc = dbb_stream_pump(&src.base, out, NULL, &failed, err);
	if (rc && failed != DBB_STREAM_END_SOURCE)
		goto out;
	rc = tool_finish(run, &c, rc, err);
out:
	dbb_child_abort(&c);
	return rc;
}

/* The backup through the filter into the tool's stdin; DBB_OK once `end`
 * was written. A failure to read the backup is DBB_ERR_INVALID_BACKUP's
 * sibling: *source_failed says so, and the tool must die. */
static dbb_code restore_feed(struct dbb_source *in, const struct dbb_tool_filter *f,
                             struct dbb_sink *tool_in, bool *source_failed, struct dbb_error *err)
{
	unsigned char *buf = malloc(DBB_STREAM_CHUNK);
	dbb_code rc = DBB_OK;

	*source_failed = false;
	if (!buf)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	if (f && f->begin)
		rc = f->begin(f->arg, tool_in, err);
	while (!rc) {
		size_t got;

		rc = dbb_source_read(in, buf, DBB_STREAM_CHUNK, &got, err);
		if (rc) {
			*source_failed = true;
			break;
		}
		if (got == 0)
			break;
		if (f && f->feed)
			rc = f->feed(f->arg, tool_in, buf, got, err);
		else
			rc = dbb_sink_write(tool_in, buf, got, err);
	}
	if (!rc && f && f->end)
		rc = f->end(f->arg, tool_in, err);
	free(buf);
	return rc;
}

dbb_code dbb_tool_restore(const struct dbb_tool_run *run, struct dbb_source *in,
                          const struct dbb_tool_filter *filter, struct dbb_error *err)
{
	struct dbb_child c = CHILD_NONE;
	struct dbb_child_stdin_sink sink;
	bool source_failed = false;
	dbb_code rc;

	rc = tool_start(run, true, &c, err);
	if (rc)
		goto out;
	dbb_child_stdin_sink_init(&sink, &c);
	rc = restore_feed(in, filter, &sink.base, &source_failed, err);
	if (source_failed) {
		/* a bad backup stream: kill the tool (at out) before it commits
		 * what is left of a statement */
		dbb_error_prefix(err, "reading the backup failed");
		goto out;
	}
	if (rc == DBB_ERR_INVALID_BACKUP || (rc && c.stdin_fd >= 0 && !c.timed_out)) {
		/* Our side refused or failed while the tool still reads: kill it
		 * (at out), so that nothing is committed; it may be waiting in
		 * the middle of a statement. */
		goto out;
	}
	/* End of input (the tool commits) or the tool stopped (the pipe
	 * broke, the timeout passed): its own words say more than EPIPE. */
	rc = tool_finish(run, &c, rc, err);
out:
	dbb_child_abort(&c);
	return rc;
}
