/* Unit tests for driver/tool.c: the cached `tool --version`, with a real
 * script standing in for a tool (it counts its runs in a file). */
#include "dbbackupd/tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static char dir[4096], tool[4200], runs[4200];

/* (Re)writes the fake tool: it prints `version` and appends a line to runs. */
static void write_tool(const char *version)
{
	FILE *f = fopen(tool, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	fprintf(f, "#!/bin/sh\necho x >> '%s'\necho '%s'\n", runs, version);
	fclose(f);
	CHECK(chmod(tool, 0700) == 0);
}

static int run_count(void)
{
	FILE *f = fopen(runs, "r");
	int n = 0, c;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void test_cached_until_the_file_changes(void)
{
	struct dbb_error err = {0};
	char out[64];

	write_tool("faketool (PostgreSQL) 15.14");
	CHECK(dbb_tool_version(tool, 10, DBB_ERR_BACKUP_FAILED, out, sizeof(out), &err) == DBB_OK);
	CHECK(strstr(out, "15.14") != NULL);
	CHECK(run_count() == 1);
	/* asked again: the answer kept, the tool not run */
	CHECK(dbb_tool_version(tool, 10, DBB_ERR_BACKUP_FAILED, out, sizeof(out), &err) == DBB_OK);
	CHECK(strstr(out, "15.14") != NULL);
	CHECK(run_count() == 1);
	/* a shorter buffer gets the start of it, NUL-terminated */
	CHECK(dbb_tool_version(tool, 10, DBB_ERR_BACKUP_FAILED, out, 9, &err) == DBB_OK);
	CHECK_STR(out, "faketool");
	CHECK(run_count() == 1);

	/* replaced in place (another size, other times): asked again */
	write_tool("faketool (PostgreSQL) 16.10 (Debian)");
	CHECK(dbb_tool_version(tool, 10, DBB_ERR_BACKUP_FAILED, out, sizeof(out), &err) == DBB_OK);
	CHECK(strstr(out, "16.10") != NULL);
	CHECK(run_count() == 2);

	/* forgotten (the caller found the version wanting): asked again */
	dbb_tool_version_forget(tool);
	CHECK(dbb_tool_version(tool, 10, DBB_ERR_BACKUP_FAILED, out, sizeof(out), &err) == DBB_OK);
	CHECK(run_count() == 3);
	CHECK(dbb_tool_version(tool, 10, DBB_ERR_BACKUP_FAILED, out, sizeof(out), &err) == DBB_OK);
	CHECK(run_count() == 3);
}

/* By name, through PATH: the same cache, keyed by the file PATH finds. */
static void test_found_through_path(void)
{
	struct dbb_error err = {0};
	char out[64], path[8400];
	const char *old = getenv("PATH");

	snprintf(path, sizeof(path), "%s:%s", dir, old ? old : "/usr/bin:/bin");
	CHECK(setenv("PATH", path, 1) == 0);
	write_tool("faketool (PostgreSQL) 17.6");
	int before = run_count();
	CHECK(dbb_tool_version("dbb-fake-tool", 10, DBB_ERR_BACKUP_FAILED, out, sizeof(out),
	                       &err) == DBB_OK);
	CHECK(dbb_tool_version("dbb-fake-tool", 10, DBB_ERR_BACKUP_FAILED, out, sizeof(out),
	                       &err) == DBB_OK);
	CHECK(strstr(out, "17.6") != NULL);
	CHECK(run_count() == before + 1);
	CHECK(setenv("PATH", old ? old : "/usr/bin:/bin", 1) == 0);
}

/* A failing probe is not kept: the next call runs the tool again. */
static void test_failure_not_cached(void)
{
	struct dbb_error err = {0};
	char out[64];
	FILE *f = fopen(tool, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	fprintf(f, "#!/bin/sh\necho x >> '%s'\nexit 3\n", runs);
	fclose(f);
	int before = run_count();
	CHECK(dbb_tool_version(tool, 10, DBB_ERR_RESTORE_FAILED, out, sizeof(out), &err) ==
	      DBB_ERR_RESTORE_FAILED);
	CHECK(dbb_tool_version(tool, 10, DBB_ERR_RESTORE_FAILED, out, sizeof(out), &err) ==
	      DBB_ERR_RESTORE_FAILED);
	CHECK(run_count() == before + 2);
}

int main(void)
{
	char *d = check_tmpdir();
	char cmd[4300];

	CHECK(d != NULL);
	if (!d)
		DONE();
	snprintf(dir, sizeof(dir), "%s", d);
	snprintf(tool, sizeof(tool), "%s/dbb-fake-tool", dir);
	snprintf(runs, sizeof(runs), "%s/runs", dir);
	test_cached_until_the_file_changes();
	test_found_through_path();
	test_failure_not_cached();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
	DONE();
}
