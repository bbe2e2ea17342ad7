/* Unit tests of the in-place restore's clean (driver/pg_clean.c) that need
 * no server: the script it writes is one DO block that psql passes through
 * whole, in restricted mode, and the server sees as one statement. What it
 * does to a database is tested end to end (tests/e2e/postgresql_clean.sh,
 * postgresql_regress.sh). */
#include "check.h"

#include "driver/pg_clean.h"

struct buf_sink {
	struct dbb_sink base;
	char data[65536];
	size_t len;
	int writes;
	int fail_at; /* the write that fails, 0: none */
};

static dbb_code buf_write(struct dbb_sink *self, const void *p, size_t n, struct dbb_error *err)
{
	struct buf_sink *b = (struct buf_sink *)self;

	if (++b->writes == b->fail_at)
		return dbb_fail(err, DBB_ERR_NO_SPACE, "sink full");
	if (b->len + n >= sizeof(b->data))
		return dbb_fail(err, DBB_ERR_INTERNAL, "test buffer too small");
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return DBB_OK;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

int main(void)
{
	static struct buf_sink b;
	struct dbb_error err = {0};

	b.base.write = buf_write;
	CHECK(pg_clean_write(&b.base, &err) == DBB_OK);
	CHECK(strncmp(b.data, "DO $dbb_clean$\n", 15) == 0);
	CHECK(b.len > 20 && strcmp(b.data + b.len - 13, "$dbb_clean$;\n") == 0);
	/* the dollar quote opens and closes once: nothing inside ends it */
	CHECK(count(b.data, "$dbb_clean$") == 2);
	/* no line starts a psql meta-command (restricted mode refuses them) */
	CHECK(b.data[0] != '\\' && !strstr(b.data, "\n\\"));
	/* no NUL byte */
	CHECK(strlen(b.data) == b.len);
	/* the census runs twice: the plan, and what is left after it */
	CHECK(count(b.data, "WITH me AS") == 2);
	CHECK(strstr(b.data, "RAISE EXCEPTION") != NULL);
	/* every name is qualified: search_path is emptied, then given back */
	CHECK(strstr(b.data, "set_config('search_path', '', false)") != NULL);
	CHECK(strstr(b.data, "set_config('search_path', old_path, false)") != NULL);

	/* a failing sink's error is passed on */
	memset(&b, 0, sizeof(b));
	b.base.write = buf_write;
	b.fail_at = 2;
	CHECK(pg_clean_write(&b.base, &err) == DBB_ERR_NO_SPACE);
	CHECK(strcmp(err.message, "sink full") == 0);
	DONE();
}
