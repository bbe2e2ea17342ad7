/* A minimal assertion kit for the unit tests: CHECK counts, DONE reports
 * "N passed, N failed" and gives the exit status. */
#ifndef DBB_TEST_CHECK_H
#define DBB_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (cond) {                                                                        \
			check_passed++;                                                            \
		} else {                                                                           \
			check_failed++;                                                            \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b) CHECK(strcmp((a), (b)) == 0)

#define DONE()                                                                                     \
	do {                                                                                       \
		printf("%d passed, %d failed\n", check_passed, check_failed);                      \
		return check_failed ? EXIT_FAILURE : EXIT_SUCCESS;                                 \
	} while (0)

/* A fresh directory under DBB_TEST_TMP (or /tmp); the caller removes it. */
static inline char *check_tmpdir(void)
{
	const char *base = getenv("DBB_TEST_TMP");
	static char path[4096];
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", base ? base : "/tmp");
	if (system(cmd) != 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/unit.XXXXXX", base ? base : "/tmp");
	return mkdtemp(path);
}

static inline void check_rmdir(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

#endif
