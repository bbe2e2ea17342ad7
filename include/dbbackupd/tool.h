/* The one runner for a driver's external tools (pg_dump, psql, mariadb-dump,
 * mariadb): find the tool, ask its version, keep a secret in a 0600 option
 * file when the tool cannot take it from the environment, start it (child.h:
 * only the base environment plus what the run names), stream, decide which
 * end failed, and finish or kill it. A driver declares *what* to run (argv,
 * environment, the code its failures carry, an optional filter of the bytes
 * it sends); this module does the rest the same way for every driver.
 *
 * Failures of the tool carry the run's fail_code (DBB_ERR_BACKUP_FAILED for a
 * dump, DBB_ERR_RESTORE_FAILED for a restore) and the tool's own words:
 * "<tool> failed: exited with status 1: <stderr's last lines>". */
#ifndef DBBACKUPD_TOOL_H
#define DBBACKUPD_TOOL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "dbbackupd/error.h"
#include "dbbackupd/stream.h"

/* What to run. */
struct dbb_tool_run {
	const char *const *argv;      /* argv[0]: the tool (dbb_tool_find) */
	const char *const *env_extra; /* "NAME=value" the tool gets (child.h) */
	const char *const *env_pass;  /* daemon variables it also gets (child.h) */
	unsigned timeout_s;           /* 0: none */
	dbb_code fail_code;           /* the code of the tool's failures */
};

/* The first of `names` (NULL-terminated) that is an executable in PATH;
 * NULL if none is. */
const char *dbb_tool_find(const char *const *names);

/* Runs `tool --version` (base environment only) and copies the start of
 * what it printed (NUL-terminated) to out. Fails with fail_code. The answer
 * is kept (process-wide, thread-safe) while the program PATH finds for tool
 * is the same file: a program replaced in place is asked again. A wrapper
 * that picks its program at each start (Debian's pg_wrapper) stays the same
 * file when another version is installed: a caller whose check fails on
 * the version calls dbb_tool_version_forget(tool) and asks once more. */
dbb_code dbb_tool_version(const char *tool, unsigned timeout_s, dbb_code fail_code, char *out,
                          size_t cap, struct dbb_error *err);
void dbb_tool_version_forget(const char *tool);

/* Whether argv (nothing on stdin or stdout) runs and exits 0: a probe for
 * an option the tool may not know (mariadb --sandbox). */
bool dbb_tool_accepts(const char *const *argv, unsigned timeout_s);

/* A file only the daemon's user can read (0600, O_EXCL, in a fresh 0700
 * directory under TMPDIR, else /tmp) for a tool's secret. Owned by the
 * caller: dbb_tool_secret_file_remove() deletes both, on any state
 * (a zeroed struct included). */
struct dbb_tool_secret_file {
	char dir[PATH_MAX - 64];
	char path[PATH_MAX];
};

/* Writes body (len bytes) to a new secret file; `tag` names the directory
 * (dbbackupd-<tag>-XXXXXX), `name` the file in it. */
dbb_code dbb_tool_secret_file_create(struct dbb_tool_secret_file *f, const char *tag,
                                     const char *name, const void *body, size_t len,
                                     struct dbb_error *err);
void dbb_tool_secret_file_remove(struct dbb_tool_secret_file *f);

/* Runs the tool with its stdout into out until it ends. A failing sink
 * (disk full) kills the tool and its error stands; a tool that fails says
 * why in its words (fail_code). */
dbb_code dbb_tool_dump(const struct dbb_tool_run *run, struct dbb_sink *out, struct dbb_error *err);

/* What a restore sends to the tool besides the backup's bytes, each
 * writing to the tool's stdin (tool_in): `begin` what comes first (a session
 * set-up, a transaction start), `feed` what the tool should get of each
 * chunk of the backup (after checking it), `end` what comes last (COMMIT),
 * once it has checked the backup ended well. Each may be NULL: without feed
 * the bytes go to the tool unchanged. A DBB_ERR_INVALID_BACKUP from any of
 * them kills the tool before it can commit anything. */
struct dbb_tool_filter {
	dbb_code (*begin)(void *arg, struct dbb_sink *tool_in, struct dbb_error *err);
	dbb_code (*feed)(void *arg, struct dbb_sink *tool_in, const void *buf, size_t len,
	                 struct dbb_error *err);
	dbb_code (*end)(void *arg, struct dbb_sink *tool_in, struct dbb_error *err);
	void *arg;
};

/* Feeds the backup read from in (through filter, if not NULL) to the tool's
 * stdin; the tool commits only when its input ends. When our side fails
 * (the backup cannot be read, the filter refuses it, a write fails while the
 * tool still reads) the tool is killed, so nothing is committed; when the
 * tool stops (an SQL error breaks the pipe, a timeout) its own words are the
 * error. */
dbb_code dbb_tool_restore(const struct dbb_tool_run *run, struct dbb_source *in,
                          const struct dbb_tool_filter *filter, struct dbb_error *err);

#endif
