/* Child tools (pg_dump, psql, mariadb-dump, mariadb): started with
 * posix_spawn, stdin/stdout as pipes, stderr captured (its last lines kept for
 * error messages), secrets only through the environment, always reaped, and
 * killed (SIGTERM, then SIGKILL) once the timeout passes.
 *
 * Environment: a child does not inherit the daemon's. It gets only
 *   - from the daemon's environment, when set: PATH, HOME (the tools' own
 *     files: ~/.pgpass, ~/.postgresql/root.crt, ~/.my.cnf), LANG, LANGUAGE,
 *     every LC_* (the language of their messages), TZ and TMPDIR;
 *   - the variables the spec names in env_pass, when set in the daemon's
 *     environment (a driver's non-secret client settings);
 *   - the spec's env_extra, which wins over both.
 * Nothing else: DB_PASSWORD, NEO4J_PASSWORD, METRICS_TOKEN, storage or
 * Keycloak secrets and whatever else the daemon was started with never
 * reach a child.
 *
 * Ownership: struct dbb_child owns its pid and pipe fds until
 * dbb_child_finish() (or dbb_child_abort()) returns; both are safe to call on
 * any state and close everything. */
#ifndef DBBACKUPD_CHILD_H
#define DBBACKUPD_CHILD_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "dbbackupd/error.h"
#include "dbbackupd/stream.h"

#define DBB_CHILD_STDERR_TAIL 2048

/* The variables every child gets from the daemon's environment (when set),
 * besides every LC_* one. */
#define DBB_CHILD_BASE_ENV "PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR"

struct dbb_child_spec {
	const char *const *argv; /* argv[0] looked up in PATH */
	/* "NAME=value" entries added to the child's environment (replacing a
	 * base or passed variable of that name), NULL-terminated; this is where
	 * PGPASSWORD goes. */
	const char *const *env_extra;
	/* Names of variables of the daemon's environment the child also gets
	 * when they are set, NULL-terminated (NULL: none). Never a secret. */
	const char *const *env_pass;
	bool want_stdin;    /* give the child a pipe on stdin (else /dev/null) */
	bool want_stdout;   /* give the child a pipe on stdout (else /dev/null) */
	unsigned timeout_s; /* 0: no timeout */
};

struct dbb_child {
	pid_t pid;
	int stdin_fd;  /* write end, -1 if none/closed */
	int stdout_fd; /* read end, -1 if none/closed */
	int stderr_fd; /* read end, drained by the helpers below */
	time_t deadline;
	bool timed_out;
	char stderr_tail[DBB_CHILD_STDERR_TAIL];
	size_t stderr_len;
};

/* True if `name` (no slash) is an executable in PATH (an empty element
 * being the current directory, as for posix_spawnp), or a path that is. */
bool dbb_child_program_exists(const char *name);

/* As dbb_child_program_exists, and copies the path it found (the PATH
 * element joined with name, or name itself when it has a slash) to out
 * (cap bytes; false if it does not fit). out may be NULL. */
bool dbb_child_program_find(const char *name, char *out, size_t cap);

dbb_code dbb_child_start(struct dbb_child *c, const struct dbb_child_spec *spec,
                         struct dbb_error *err);

/* Sink that writes into the child's stdin (draining stderr meanwhile). */
struct dbb_child_stdin_sink {
	struct dbb_sink base;
	struct dbb_child *child;
};
void dbb_child_stdin_sink_init(struct dbb_child_stdin_sink *s, struct dbb_child *c);

/* Source that reads the child's stdout (draining stderr meanwhile). */
struct dbb_child_stdout_source {
	struct dbb_source base;
	struct dbb_child *child;
};
void dbb_child_stdout_source_init(struct dbb_child_stdout_source *s, struct dbb_child *c);

/* Closes stdin, drains stdout/stderr, waits (killing on timeout) and reaps.
 * Returns DBB_OK only if the child exited 0; otherwise fails with
 * `fail_code` and a message holding the exit status and stderr's tail. */
dbb_code dbb_child_finish(struct dbb_child *c, dbb_code fail_code, struct dbb_error *err);

/* Kills and reaps the child, closes everything. For error paths. */
void dbb_child_abort(struct dbb_child *c);

#endif
