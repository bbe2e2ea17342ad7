/* MySQL/MariaDB driver: mariadb-dump and mariadb as child tools for dump and
 * restore, libmariadb for health, clean and stats. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "dbbackupd/driver.h"
#include "dbbackupd/log.h"
#include "dbbackupd/sniff.h"
#include "dbbackupd/tool.h"
#include "driver/mysql_script.h"

#define MY_DEFAULT_PORT      3306
#define MY_CONNECT_TIMEOUT_S 5
#define MY_QUERY_TIMEOUT_S   60
/* How much of the start of a file is searched for the dump's signature. */
#define MY_HEAD_MAX (64 * 1024)

const struct dbb_driver dbb_driver_mysql;

static const char *const dump_tools[] = {"mariadb-dump", "mysqldump", NULL};
static const char *const client_tools[] = {"mariadb", "mysql", NULL};

/* ---- libmariadb ---- */

static pthread_once_t my_once = PTHREAD_ONCE_INIT;
static int my_init_rc;

static void my_library_init_once(void)
{
	my_init_rc = mysql_library_init(0, NULL, NULL);
}

/* Errors that mean "the server is not there or will not let us in": 503. */
static const unsigned unavailable_errors[] = {
    CR_CONNECTION_ERROR,    CR_CONN_HOST_ERROR,
    CR_UNKNOWN_HOST,        CR_SERVER_GONE_ERROR,
    CR_SERVER_LOST,         CR_SERVER_LOST_EXTENDED,
    ER_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR,
    ER_BAD_DB_ERROR,        ER_CON_COUNT_ERROR,
    ER_SERVER_SHUTDOWN,     ER_HOST_NOT_PRIVILEGED,
    ER_HOST_IS_BLOCKED,     ER_TOO_MANY_USER_CONNECTIONS,
};

static bool my_errno_unavailable(unsigned e)
{
	size_t i;

	for (i = 0; i < sizeof(unavailable_errors) / sizeof(unavailable_errors[0]); i++)
		if (unavailable_errors[i] == e)
			return true;
	return false;
}

/* The one mapping from a libmariadb error to ours. */
static dbb_code mysql_error_to(MYSQL *my, dbb_code fallback, struct dbb_error *err,
                               const char *what)
{
	unsigned e = mysql_errno(my);
	dbb_code code = my_errno_unavailable(e) ? DBB_ERR_DB_UNAVAILABLE : fallback;

	return dbb_fail(err, code, "%s: %s (MySQL error %u)", what, mysql_error(my), e);
}

static unsigned my_port(const struct dbb_config *cfg)
{
	return cfg->db_port ? cfg->db_port : MY_DEFAULT_PORT;
}

/* Opens a connection to the configured database with utf8mb4. read_timeout_s
 * 0 means libmariadb's default (none). */
static dbb_code my_connect_db(const struct dbb_config *cfg, const char *db, unsigned read_timeout_s,
                              MYSQL **out, struct dbb_error *err);

static dbb_code my_connect(const struct dbb_config *cfg, unsigned read_timeout_s, MYSQL **out,
                           struct dbb_error *err)
{
	return my_connect_db(cfg, cfg->db_name, read_timeout_s, out, err);
}

/* The same with db as the default database (NULL: none). */
static dbb_code my_connect_db(const struct dbb_config *cfg, const char *db, unsigned read_timeout_s,
                              MYSQL **out, struct dbb_error *err)
{
	unsigned connect_timeout = MY_CONNECT_TIMEOUT_S;
	MYSQL *my;

	*out = NULL;
	pthread_once(&my_once, my_library_init_once);
	if (my_init_rc)
		return dbb_fail(err, DBB_ERR_INTERNAL, "libmariadb initialisation failed");
	my = mysql_init(NULL);
	if (!my)
		return dbb_fail(err, DBB_ERR_INTERNAL, "mysql_init: out of memory");
	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
	if (read_timeout_s) {
		mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &read_timeout_s);
		mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &read_timeout_s);
	}
	mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!mysql_real_connect(my, cfg->db_host, cfg->db_user, cfg->db_password, db, my_port(cfg),
	                        NULL, 0)) {
		dbb_code rc = dbb_fail(
		    err, DBB_ERR_DB_UNAVAILABLE,
		    "cannot connect to MySQL/MariaDB at %s:%u as %s: %s (MySQL error %u)",
		    cfg->db_host, my_port(cfg), cfg->db_user, mysql_error(my), mysql_errno(my));
		mysql_close(my);
		return rc;
	}
	*out = my;
	return DBB_OK;
}

static dbb_code my_exec(MYSQL *my, const char *sql, dbb_code fallback, struct dbb_error *err)
{
	if (mysql_query(my, sql))
		return mysql_error_to(my, fallback, err, "query failed");
	return DBB_OK;
}

/* Runs a query that returns rows; *res owned by the caller (mysql_free_result). */
static dbb_code my_select(MYSQL *my, const char *sql, MYSQL_RES **res, dbb_code fallback,
                          struct dbb_error *err)
{
	*res = NULL;
	if (mysql_query(my, sql))
		return mysql_error_to(my, fallback, err, "query failed");
	*res = mysql_store_result(my);
	if (!*res)
		return mysql_error_to(my, fallback, err, "reading the result failed");
	return DBB_OK;
}

/* Appends `name` quoted as a MySQL identifier (backticks doubled). */
static bool quote_ident(char *buf, size_t cap, size_t *len, const char *name)
{
	const char *p;

	if (*len + 1 >= cap)
		return false;
	buf[(*len)++] = '`';
	for (p = name; *p; p++) {
		if (*len + 3 >= cap)
			return false;
		if (*p == '`')
			buf[(*len)++] = '`';
		buf[(*len)++] = *p;
	}
	buf[(*len)++] = '`';
	buf[*len] = '\0';
	return true;
}

/* The configured database name as an escaped string literal body. */
static dbb_code my_db_literal(MYSQL *my, const struct dbb_config *cfg, char *out, size_t cap,
                              struct dbb_error *err)
{
	size_t n = strlen(cfg->db_name);

	if (cap < 2 * n + 1)
		return dbb_fail(err, DBB_ERR_INTERNAL, "database name too long");
	mysql_real_escape_string(my, out, cfg->db_name, n);
	return DBB_OK;
}

/* ---- option file for the child tools (the password never reaches argv) ---- */

struct my_optfile {
	struct dbb_tool_secret_file file;
	char arg[PATH_MAX + 32]; /* "--defaults-file=<path>" */
};

static void optfile_remove(struct my_optfile *o)
{
	dbb_tool_secret_file_remove(&o->file);
}

/* Writes [client] password="..." to a 0600 file of its own (tool.h). */
static dbb_code optfile_create(struct my_optfile *o, const struct dbb_config *cfg,
                               struct dbb_error *err)
{
	size_t len, cap = 64 + 2 * strlen(cfg->db_password);
	char *body = malloc(cap);
	const char *p;
	dbb_code rc;

	memset(o, 0, sizeof(*o));
	if (!body)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	len = (size_t)snprintf(body, cap, "[client]\npassword=\"");
	for (p = cfg->db_password; *p; p++) {
		if (*p == '"' || *p == '\\') {
			body[len++] = '\\';
			body[len++] = *p;
		} else if (*p == '\n') {
			body[len++] = '\\';
			body[len++] = 'n';
		} else {
			body[len++] = *p;
		}
	}
	len += (size_t)snprintf(body + len, cap - len, "\"\n");
	rc = dbb_tool_secret_file_create(&o->file, "mysql", "client.cnf", body, len, err);
	if (!rc)
		snprintf(o->arg, sizeof(o->arg), "--defaults-file=%s", o->file.path);
	explicit_bzero(body, cap);
	free(body);
	return rc;
}

/* Seconds since t0 (CLOCK_MONOTONIC), for the log lines that say where a
 * restore's time went. */
static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- the vtable ---- */

static dbb_code mysql_check_config(const struct dbb_config *cfg, struct dbb_error *err)
{
	if (!cfg->db_host[0])
		return dbb_fail(err, DBB_ERR_CONFIG, "DB_HOST must be set for DB_TYPE=mysql");
	if (!cfg->db_name[0])
		return dbb_fail(err, DBB_ERR_CONFIG, "DB_NAME must be set for DB_TYPE=mysql");
	if (cfg->db_name[0] == '-' || strlen(cfg->db_name) > 64)
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "DB_NAME must be a MySQL database name (at most 64 characters, not "
		                "starting with '-')");
	if (!cfg->db_user[0])
		return dbb_fail(err, DBB_ERR_CONFIG, "DB_USER must be set for DB_TYPE=mysql");
	if (cfg->db_user[0] == '-')
		return dbb_fail(err, DBB_ERR_CONFIG, "DB_USER must not start with '-'");
	if (cfg->db_host[0] == '-')
		return dbb_fail(err, DBB_ERR_CONFIG, "DB_HOST must not start with '-'");
	if (cfg->db_port > 65535)
		return dbb_fail(err, DBB_ERR_CONFIG, "DB_PORT must be a TCP port (1-65535)");
	return DBB_OK;
}

static dbb_code mysql_health(const struct dbb_driver_ctx *ctx, struct dbb_error *err)
{
	MYSQL *my = NULL;
	dbb_code rc;

	rc = my_connect(ctx->cfg, MY_CONNECT_TIMEOUT_S, &my, err);
	if (rc)
		goto out;
	if (mysql_ping(my))
		rc = mysql_error_to(my, DBB_ERR_DB_UNAVAILABLE, err, "ping failed");
out:
	if (my)
		mysql_close(my);
	return rc;
}

/* The argv entries every child tool gets after the option file. */
struct my_argv {
	char host[300];
	char port[32];
	char user[160];
	const char *v[24];
	size_t n;
};

static void argv_common(struct my_argv *a, const char *tool, const struct my_optfile *o,
                        const struct dbb_config *cfg)
{
	snprintf(a->host, sizeof(a->host), "--host=%s", cfg->db_host);
	snprintf(a->port, sizeof(a->port), "--port=%u", my_port(cfg));
	snprintf(a->user, sizeof(a->user), "--user=%s", cfg->db_user);
	a->n = 0;
	a->v[a->n++] = tool;
	/* first, as the tools require: no other option file is read (no
	 * ~/.my.cnf or /etc/mysql pager, local-infile or init-command) */
	a->v[a->n++] = o->arg;
	a->v[a->n++] = a->host;
	a->v[a->n++] = a->port;
	a->v[a->n++] = a->user;
	a->v[a->n++] = "--default-character-set=utf8mb4";
}

/* What dump and restore do before their tool starts: the server must answer
 * (503 with libmariadb's words otherwise, before any child), one of tools
 * must be in PATH (else `missing`), then the option file is written and the
 * arguments every tool takes are set. On failure the caller's cleanup
 * (optfile_remove) is all there is to do. */
static dbb_code tool_prepare(const struct dbb_driver_ctx *ctx, const char *const *tools,
                             dbb_code missing, const char *tools_named, struct my_optfile *of,
                             struct my_argv *a, const char **tool, struct dbb_error *err)
{
	dbb_code rc = mysql_health(ctx, err);
	if (rc)
		return rc;
	*tool = dbb_tool_find(tools);
	if (!*tool)
		return dbb_fail(err, missing, "%s was found in PATH", tools_named);
	rc = optfile_create(of, ctx->cfg, err);
	if (rc)
		return rc;
	argv_common(a, *tool, of, ctx->cfg);
	return DBB_OK;
}

static dbb_code mysql_dump(const struct dbb_driver_ctx *ctx, const struct dbb_dump_options *opt,
                           struct dbb_sink *out, struct dbb_error *err)
{
	const struct dbb_config *cfg = ctx->cfg;
	struct my_optfile of = {0};
	struct my_argv a = {0};
	const char *tool = NULL;
	dbb_code rc;

	(void)opt;
	rc = tool_prepare(ctx, dump_tools, DBB_ERR_BACKUP_FAILED,
	                  "neither mariadb-dump nor mysqldump", &of, &a, &tool, err);
	if (rc)
		goto out;
	a.v[a.n++] = "--single-transaction";
	a.v[a.n++] = "--routines";
	a.v[a.n++] = "--triggers";
	a.v[a.n++] = "--events";
	a.v[a.n++] = "--hex-blob";
	a.v[a.n++] = "--no-tablespaces";
	a.v[a.n++] = "--skip-lock-tables";
	a.v[a.n++] = cfg->db_name;
	a.v[a.n] = NULL;
	rc = dbb_tool_dump(&(struct dbb_tool_run){.argv = a.v,
	                                          .timeout_s = cfg->child_timeout,
	                                          .fail_code = DBB_ERR_BACKUP_FAILED},
	                   out, err);
out:
	optfile_remove(&of);
	return rc;
}

/* ---- validation ---- */

struct my_scan {
	char head[MY_HEAD_MAX];
	size_t head_len;
	bool saw_nul;
};

/* What a mariadb-dump/mysqldump file shows near its start, with or without
 * its header (--skip-comments). */
static const char *const my_marks[] = {
    "MySQL dump",    "MariaDB dump",
    "/*!40101 SET",  "/*!40014 SET",
    "/*M!",          "/*!40000 ALTER TABLE",
    "LOCK TABLES `", "CREATE TABLE `",
    "INSERT INTO `", "DROP TABLE IF EXISTS `",
    "ENGINE=InnoDB", "ENGINE=MyISAM",
    "ENGINE=Aria",   NULL,
};

static const char *mysql_recognise(const unsigned char *head, size_t len, bool *restorable)
{
	*restorable = true;
	return dbb_sniff_find_any(head, len, my_marks) ? "a MySQL/MariaDB SQL dump" : NULL;
}

/* Says what the file is when it is not a MySQL/MariaDB dump: the sniffer
 * (every driver's recognise) on its first bytes, then this driver's marks
 * anywhere in the head. */
static dbb_code classify_head(const struct my_scan *s, struct dbb_error *err)
{
	const unsigned char *head = (const unsigned char *)s->head;
	struct dbb_format fmt = dbb_sniff(head, s->head_len);

	if (dbb_format_is(&fmt, &dbb_driver_mysql))
		return DBB_OK;
	if (fmt.kind != DBB_FORMAT_UNKNOWN)
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		                "the file is %s, not a MySQL/MariaDB SQL dump", fmt.what);
	if (s->saw_nul)
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		                "the file is a binary file of unknown format, not a MySQL/MariaDB "
		                "SQL dump");
	if (dbb_sniff_find_any(head, s->head_len, my_marks))
		return DBB_OK;
	return dbb_fail(
	    err, DBB_ERR_INVALID_BACKUP,
	    "the file is not a MySQL/MariaDB SQL dump: no mariadb-dump/mysqldump header and "
	    "no MySQL statements in its first %zu bytes",
	    s->head_len);
}

/* The checker runs on a second thread while this one decompresses: the
 * reader fills one buffer while the checker reads the other, so checking
 * costs no time when a core is free (the database is idle meanwhile). */
struct check_feed {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *buf[2];
	size_t len[2];
	bool full[2]; /* handed to the checker, not yet read by it */
	bool eof;     /* the reader has handed over everything */
	bool abandon; /* the reader failed: stop without a verdict */
	bool failed;  /* the checker refused the file (err) */
	struct my_script *script;
	struct dbb_error err;
};

static void *check_thread(void *arg)
{
	struct check_feed *f = arg;
	size_t i = 0;
	dbb_code rc;

	for (;;) {
		pthread_mutex_lock(&f->mu);
		while (!f->full[i] && !f->eof && !f->abandon)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->abandon || !f->full[i]) {
			bool done = !f->abandon;

			pthread_mutex_unlock(&f->mu);
			if (done)
				break;
			return NULL;
		}
		pthread_mutex_unlock(&f->mu);
		rc = my_script_feed(f->script, f->buf[i], f->len[i], &f->err);
		pthread_mutex_lock(&f->mu);
		f->full[i] = false;
		f->failed = rc != DBB_OK;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
		if (rc)
			return NULL;
		i ^= 1;
	}
	rc = my_script_finish(f->script, &f->err);
	pthread_mutex_lock(&f->mu);
	f->failed = rc != DBB_OK;
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* Waits until the checker is done with buffer i; true if it has refused. */
static bool feed_wait(struct check_feed *f, size_t i)
{
	bool failed;

	pthread_mutex_lock(&f->mu);
	while (f->full[i] && !f->failed)
		pthread_cond_wait(&f->cv, &f->mu);
	failed = f->failed;
	pthread_mutex_unlock(&f->mu);
	return failed;
}

/* Hands buffer i (got bytes) to the checker. */
static void feed_hand(struct check_feed *f, size_t i, size_t got)
{
	pthread_mutex_lock(&f->mu);
	f->len[i] = got;
	f->full[i] = true;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* Tells the checker the input ended (or was abandoned) and waits for it. */
static void feed_end(struct check_feed *f, pthread_t thread, bool abandon)
{
	pthread_mutex_lock(&f->mu);
	f->eof = true;
	f->abandon = abandon;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(thread, NULL);
}

/* Keeps the file's first bytes and, once there are enough (or the file
 * ended, or holds a NUL byte), says what the file is (classify_head). */
static dbb_code head_take(struct my_scan *s, const char *buf, size_t got, bool *classified,
                          struct dbb_error *err)
{
	size_t take = sizeof(s->head) - s->head_len;
	dbb_code rc;

	if (*classified)
		return DBB_OK;
	if (take > got)
		take = got;
	memcpy(s->head + s->head_len, buf, take);
	s->head_len += take;
	if (got > 0 && memchr(buf, '\0', got))
		s->saw_nul = true;
	if (got == 0 || s->head_len == sizeof(s->head) || s->saw_nul) {
		rc = classify_head(s, err);
		if (rc)
			return rc;
		*classified = true;
	}
	return DBB_OK;
}

/* Reads the whole file: what it is (classify_head on its first 64 KiB),
 * then every byte through the checker of mysql_script.h, which refuses
 * client commands, file access, other databases and what would make the
 * client read the file otherwise. A file that is not a MySQL dump is
 * named as what it is, even when the checker stopped first. */
static dbb_code mysql_validate(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                               struct dbb_error *err)
{
	struct check_feed *f;
	struct my_scan *s;
	struct timespec t0;
	unsigned long long total = 0;
	pthread_t thread;
	bool classified = false, started = false;
	size_t i = 0;
	dbb_code rc = DBB_OK;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	s = calloc(1, sizeof(*s));
	f = calloc(1, sizeof(*f));
	if (!s || !f) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		goto out_free;
	}
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->buf[0] = malloc(DBB_STREAM_CHUNK);
	f->buf[1] = malloc(DBB_STREAM_CHUNK);
	f->script = my_script_new(ctx->cfg->db_name);
	if (!f->buf[0] || !f->buf[1] || !f->script) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (pthread_create(&thread, NULL, check_thread, f)) {
		rc = dbb_fail(err, DBB_ERR_INTERNAL, "cannot start a thread to check the dump");
		goto out;
	}
	started = true;
	for (;;) {
		size_t got = 0;
		bool failed;

		/* once the checker has refused, read on only to say what the
		 * file is (it no longer touches the buffers) */
		failed = feed_wait(f, i);
		if (failed && classified)
			break;
		rc = dbb_source_read(in, f->buf[i], DBB_STREAM_CHUNK, &got, err);
		if (!rc)
			rc = head_take(s, f->buf[i], got, &classified, err);
		if (rc)
			goto out;
		if (got == 0)
			break;
		total += got;
		if (!failed) {
			feed_hand(f, i, got);
			i ^= 1;
		}
	}
out:
	if (started) {
		feed_end(f, thread, rc != DBB_OK);
		if (!rc && f->failed) {
			if (err)
				*err = f->err;
			rc = f->err.code;
		} else if (!rc) {
			dbb_info("mysql: checked the dump (%.1f MiB) in %.2fs",
			         (double)total / 1048576.0, seconds_since(&t0));
		}
	}
	my_script_free(f->script);
	free(f->buf[0]);
	free(f->buf[1]);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
out_free:
	free(f);
	free(s);
	return rc;
}

/* ---- clean ---- */

/* "<head> '<escaped db name>' <tail>" */
static void schema_query(char *sql, size_t cap, const char *head, const char *dblit,
                         const char *tail)
{
	snprintf(sql, cap, "%s '%s' %s", head, dblit, tail ? tail : "");
}

#define TABLES_OF "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA ="

struct my_object_kind {
	const char *what; /* for messages */
	const char *head; /* query up to the schema name; returns name[, type] */
	const char *tail; /* the rest of the query */
	const char *drop; /* "DROP ... IF EXISTS"; NULL: from the type column */
	bool batch;       /* one DROP may name several (DROP TABLE a, b, ...) */
};

/* Longest DROP statement naming several objects: a DROP per statement is
 * a round trip and a DDL commit each; 300 tables drop in half the time in
 * one statement. Far below any server's max_allowed_packet. */
#define DROP_BATCH_MAX (16 * 1024)
/* Room one more quoted `db`.`name` may take in it. */
#define DROP_ENTRY_MAX (2 * (sizeof(((struct dbb_config *)0)->db_name) + 64) + 16)

static const struct my_object_kind object_kinds[] = {
    {"event", "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA =", NULL,
     "DROP EVENT IF EXISTS", false},
    {"trigger", "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA =", NULL,
     "DROP TRIGGER IF EXISTS", false},
    {"routine",
     "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA =",
     "ORDER BY ROUTINE_TYPE = 'PACKAGE'", NULL, false},
    {"view", TABLES_OF, "AND TABLE_TYPE = 'VIEW'", "DROP VIEW IF EXISTS", true},
    {"sequence", TABLES_OF, "AND TABLE_TYPE = 'SEQUENCE'", "DROP SEQUENCE IF EXISTS", true},
    {"table", TABLES_OF, "AND TABLE_TYPE NOT IN ('VIEW', 'SEQUENCE', 'TEMPORARY')",
     "DROP TABLE IF EXISTS", true},
};

static const struct {
	const char *type; /* information_schema.ROUTINES.ROUTINE_TYPE */
	const char *drop;
} routine_drops[] = {
    {"PROCEDURE", "DROP PROCEDURE IF EXISTS"},
    {"FUNCTION", "DROP FUNCTION IF EXISTS"},
    {"PACKAGE BODY", "DROP PACKAGE BODY IF EXISTS"},
    {"PACKAGE", "DROP PACKAGE IF EXISTS"},
};

static const char *routine_drop(const char *type)
{
	size_t i;

	for (i = 0; type && i < sizeof(routine_drops) / sizeof(routine_drops[0]); i++)
		if (strcmp(type, routine_drops[i].type) == 0)
			return routine_drops[i].drop;
	return NULL;
}

/* Runs the DROP statement in sql (naming n objects, the first `first`). */
static dbb_code drop_flush(MYSQL *my, const struct my_object_kind *k, char *sql, size_t *len,
                           unsigned *n, const char *first, struct dbb_error *err)
{
	dbb_code rc;

	if (*n == 0)
		return DBB_OK;
	rc = my_exec(my, sql, DBB_ERR_RESTORE_FAILED, err);
	if (rc && *n > 1)
		dbb_error_prefix(err,
		                 "cannot drop %s `%s` (or one of the %u others dropped with it)",
		                 k->what, first, *n - 1);
	else if (rc)
		dbb_error_prefix(err, "cannot drop %s `%s`", k->what, first);
	*n = 0;
	*len = 0;
	return rc;
}

/* Drops every object of one kind, several per statement where the kind
 * allows it; *found counts them. */
static dbb_code drop_kind(MYSQL *my, const struct dbb_config *cfg, const char *dblit,
                          const struct my_object_kind *k, unsigned long *found,
                          struct dbb_error *err)
{
	char query[1024], first[65] = "";
	char *sql = NULL;
	size_t len = 0;
	unsigned n = 0;
	const char *batch_drop = NULL;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	dbb_code rc;

	*found = 0;
	sql = malloc(DROP_BATCH_MAX);
	if (!sql)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	schema_query(query, sizeof(query), k->head, dblit, k->tail);
	rc = my_select(my, query, &res, DBB_ERR_RESTORE_FAILED, err);
	if (rc)
		goto out;
	while ((row = mysql_fetch_row(res))) {
		const char *drop = k->drop ? k->drop : routine_drop(row[1]);

		if (!row[0] || !drop)
			continue;
		(*found)++;
		/* a new statement when this one is full or is another DROP */
		if (n > 0 && (!k->batch || drop != batch_drop ||
		              len + DROP_ENTRY_MAX + strlen(row[0]) * 2 >= DROP_BATCH_MAX)) {
			rc = drop_flush(my, k, sql, &len, &n, first, err);
			if (rc)
				goto out;
		}
		if (n == 0) {
			len = (size_t)snprintf(sql, DROP_BATCH_MAX, "%s ", drop);
			snprintf(first, sizeof(first), "%s", row[0]);
			batch_drop = drop;
		} else {
			sql[len++] = ',';
			sql[len++] = ' ';
		}
		if (!quote_ident(sql, DROP_BATCH_MAX, &len, cfg->db_name) ||
		    len + 2 >= DROP_BATCH_MAX) {
			rc = dbb_fail(err, DBB_ERR_INTERNAL, "object name too long");
			goto out;
		}
		sql[len++] = '.';
		sql[len] = '\0';
		if (!quote_ident(sql, DROP_BATCH_MAX, &len, row[0])) {
			rc = dbb_fail(err, DBB_ERR_INTERNAL, "object name too long");
			goto out;
		}
		n++;
	}
	rc = drop_flush(my, k, sql, &len, &n, first, err);
out:
	if (res)
		mysql_free_result(res);
	free(sql);
	return rc;
}

static dbb_code mysql_clean(const struct dbb_driver_ctx *ctx, struct dbb_error *err)
{
	const struct dbb_config *cfg = ctx->cfg;
	char dblit[2 * sizeof(cfg->db_name) + 1];
	MYSQL *my = NULL;
	unsigned long found, total, dropped = 0;
	struct timespec t0;
	size_t i;
	int pass;
	dbb_code rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = my_connect(cfg, cfg->child_timeout, &my, err);
	if (rc)
		goto out;
	rc = my_db_literal(my, cfg, dblit, sizeof(dblit), err);
	if (rc)
		goto out;
	rc = my_exec(my, "SET SESSION FOREIGN_KEY_CHECKS = 0", DBB_ERR_RESTORE_FAILED, err);
	if (rc)
		goto out;
	/* The second pass finds nothing unless something was created meanwhile
	 * or a drop silently did nothing; then the third is an error. */
	for (pass = 0; pass < 3; pass++) {
		total = 0;
		for (i = 0; i < sizeof(object_kinds) / sizeof(object_kinds[0]); i++) {
			rc = drop_kind(my, cfg, dblit, &object_kinds[i], &found, err);
			if (rc)
				goto out;
			total += found;
		}
		dropped += total;
		if (total == 0)
			break;
	}
	if (pass == 3)
		rc = dbb_fail(err, DBB_ERR_RESTORE_FAILED,
		              "objects of database `%s` keep reappearing; cannot clean it",
		              cfg->db_name);
	else
		dbb_info("mysql: cleaned `%s` (%lu objects dropped) in %.2fs", cfg->db_name,
		         dropped, seconds_since(&t0));
out:
	if (rc)
		dbb_error_prefix(err, "cleaning the database failed");
	if (my)
		mysql_close(my);
	return rc;
}

/* ---- restore ---- */

/* Whether the client takes --sandbox (MariaDB 10.5.25, 10.6.18, 10.11.8,
 * 11.0.6 and later; not Oracle's mysql): asked of the client itself, which
 * refuses an option it does not know. */
static bool client_has_sandbox(const char *tool, unsigned timeout_s)
{
	const char *argv[] = {tool, "--no-defaults", "--sandbox", "--version", NULL};

	return dbb_tool_accepts(argv, timeout_s);
}

/* The client reads the dump as data, whatever it says: binary mode (no
 * client command but DELIMITER, \C and \-: `\!`, `system`, `source`,
 * `tee`, `pager`, `connect` are not commands there), the sandbox where the
 * client has it, no LOAD DATA LOCAL, no option file but ours, comments
 * stripped, and a session sql_mode the checker assumed (mysql_script.h). */
static dbb_code mysql_restore(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                              struct dbb_error *err)
{
	const struct dbb_config *cfg = ctx->cfg;
	struct my_optfile of = {0};
	struct my_argv a = {0};
	const char *tool = NULL;
	struct timespec t0;
	dbb_code rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = tool_prepare(ctx, client_tools, DBB_ERR_RESTORE_FAILED,
	                  "neither the mariadb nor the mysql client", &of, &a, &tool, err);
	if (rc)
		goto out;
	a.v[a.n++] = "--batch";
	a.v[a.n++] = "--skip-reconnect";
	a.v[a.n++] = "--binary-mode";
	a.v[a.n++] = "--local-infile=0";
	a.v[a.n++] = "--skip-named-commands";
	a.v[a.n++] = "--skip-comments";
	a.v[a.n++] = "--no-auto-rehash";
	if (client_has_sandbox(tool, MY_CONNECT_TIMEOUT_S))
		a.v[a.n++] = "--sandbox";
	a.v[a.n++] = "--init-command=" MY_SCRIPT_INIT_COMMAND;
	a.v[a.n++] = "--max-allowed-packet=1073741824";
	a.v[a.n++] = cfg->db_name;
	a.v[a.n] = NULL;
	/* the bytes go as they are: mysql_validate checked every one */
	rc = dbb_tool_restore(&(struct dbb_tool_run){.argv = a.v,
	                                             .timeout_s = cfg->child_timeout,
	                                             .fail_code = DBB_ERR_RESTORE_FAILED},
	                      in, NULL, err);
	if (!rc)
		dbb_info("mysql: %s restored the dump in %.2fs", tool, seconds_since(&t0));
out:
	optfile_remove(&of);
	return rc;
}

/* ---- stats ---- */

static int64_t cell_int(const char *v)
{
	return v ? (int64_t)strtoll(v, NULL, 10) : 0;
}

static dbb_code count_objects(MYSQL *my, const char *sql, int64_t *n, struct dbb_error *err)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	dbb_code rc;

	*n = 0;
	rc = my_select(my, sql, &res, DBB_ERR_INTERNAL, err);
	if (rc)
		return rc;
	row = mysql_fetch_row(res);
	if (row)
		*n = cell_int(row[0]);
	mysql_free_result(res);
	return DBB_OK;
}

static dbb_code mysql_size_estimate(const struct dbb_driver_ctx *ctx, uint64_t *bytes,
                                    struct dbb_error *err)
{
	const struct dbb_config *cfg = ctx->cfg;
	char dblit[2 * sizeof(cfg->db_name) + 1];
	char sql[512];
	MYSQL *my = NULL;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	*bytes = 0;
	dbb_code rc = my_connect(cfg, MY_QUERY_TIMEOUT_S, &my, err);
	if (!rc)
		rc = my_db_literal(my, cfg, dblit, sizeof(dblit), err);
	if (!rc) {
		schema_query(sql, sizeof(sql),
		             "SELECT COALESCE(SUM(DATA_LENGTH), 0) FROM information_schema.TABLES "
		             "WHERE TABLE_SCHEMA =",
		             dblit, "AND TABLE_TYPE = 'BASE TABLE'");
		rc = my_select(my, sql, &res, DBB_ERR_INTERNAL, err);
	}
	if (!rc && (row = mysql_fetch_row(res)) != NULL && cell_int(row[0]) > 0)
		*bytes = (uint64_t)cell_int(row[0]);
	if (res)
		mysql_free_result(res);
	if (my)
		mysql_close(my);
	return rc;
}

static dbb_code mysql_stats(const struct dbb_driver_ctx *ctx, struct dbb_stats *out,
                            struct dbb_error *err)
{
	const struct dbb_config *cfg = ctx->cfg;
	char dblit[2 * sizeof(cfg->db_name) + 1];
	char sql[1024];
	MYSQL *my = NULL;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int64_t size = 0, rows = 0, n;
	size_t i;
	dbb_code rc;
	static const struct {
		const char *key;
		const char *head;
		const char *tail;
	} counts[] = {
	    {"view_count", "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA =",
	     "AND TABLE_TYPE = 'VIEW'"},
	    {"routine_count",
	     "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA =", NULL},
	    {"trigger_count",
	     "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA =", NULL},
	    {"event_count",
	     "SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA =", NULL},
	};

	rc = my_connect(cfg, MY_QUERY_TIMEOUT_S, &my, err);
	if (rc)
		goto out;
	rc = my_db_literal(my, cfg, dblit, sizeof(dblit), err);
	if (rc)
		goto out;
	schema_query(sql, sizeof(sql),
	             "SELECT TABLE_NAME, TABLE_ROWS, COALESCE(DATA_LENGTH, 0) + "
	             "COALESCE(INDEX_LENGTH, 0), ENGINE FROM information_schema.TABLES "
	             "WHERE TABLE_SCHEMA =",
	             dblit,
	             "AND TABLE_TYPE NOT IN ('VIEW', 'SEQUENCE', 'TEMPORARY') ORDER BY TABLE_NAME");
	rc = my_select(my, sql, &res, DBB_ERR_INTERNAL, err);
	if (rc)
		goto out;
	while (!rc && (row = mysql_fetch_row(res))) {
		rc = dbb_stats_add_table(out, NULL, row[0] ? row[0] : "", cell_int(row[1]),
		                         cell_int(row[2]), row[3], err);
		rows += cell_int(row[1]);
		size += cell_int(row[2]);
	}
	mysql_free_result(res);
	res = NULL;
	if (!rc)
		rc = dbb_stats_text(&out->database, cfg->db_name, err);
	if (!rc)
		rc = dbb_stats_text(&out->server_version, mysql_get_server_info(my), err);
	if (rc)
		goto out;
	out->size_bytes = size;
	out->table_count = (int64_t)out->ntables;
	out->total_rows = rows;
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		schema_query(sql, sizeof(sql), counts[i].head, dblit, counts[i].tail);
		rc = count_objects(my, sql, &n, err);
		if (!rc)
			rc = dbb_stats_add_extra(out, counts[i].key, n, err);
		if (rc)
			goto out;
	}
out:
	if (res)
		mysql_free_result(res);
	if (my)
		mysql_close(my);
	return rc;
}

/* ---- verify (issue 20): a test-restore into a scratch schema ---- */

/* "DROP|CREATE DATABASE `name`" on a connection without a default schema. */
static dbb_code my_scratch_exec(MYSQL *my, const char *verb, const char *name,
                                struct dbb_error *err)
{
	char sql[512];
	size_t len = (size_t)snprintf(sql, sizeof(sql), "%s ", verb);
	if (!quote_ident(sql, sizeof(sql), &len, name))
		return dbb_fail(err, DBB_ERR_CONFIG, "VERIFY_DB_NAME is too long");
	return my_exec(my, sql, DBB_ERR_INTERNAL, err);
}

/* Every base table's exact row count in the scratch schema. */
static dbb_code my_count_tables(MYSQL *my, const char *schema, struct dbb_stats *counts,
                                struct dbb_error *err)
{
	char lit[2 * 128 + 1], sql[1024];
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int64_t total = 0;
	dbb_code rc = DBB_OK;

	mysql_real_escape_string(my, lit, schema, strlen(schema));
	snprintf(sql, sizeof(sql),
	         "SELECT table_name FROM information_schema.tables WHERE table_schema = '%s' "
	         "AND table_type = 'BASE TABLE' ORDER BY table_name",
	         lit);
	rc = my_select(my, sql, &res, DBB_ERR_INTERNAL, err);
	while (!rc && (row = mysql_fetch_row(res)) != NULL) {
		int64_t rows = 0;
		size_t len = (size_t)snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM ");
		if (!quote_ident(sql, sizeof(sql), &len, schema) || len + 1 >= sizeof(sql))
			rc = dbb_fail(err, DBB_ERR_INTERNAL, "table name too long");
		else {
			sql[len++] = '.';
			sql[len] = '\0';
			if (!quote_ident(sql, sizeof(sql), &len, row[0] ? row[0] : ""))
				rc = dbb_fail(err, DBB_ERR_INTERNAL, "table name too long");
		}
		if (!rc)
			rc = count_objects(my, sql, &rows, err);
		if (!rc) {
			total += rows;
			rc = dbb_stats_add_table(counts, NULL, row[0] ? row[0] : "", rows,
			                         DBB_STATS_UNKNOWN, NULL, err);
		}
	}
	if (res)
		mysql_free_result(res);
	counts->table_count = (int64_t)counts->ntables;
	counts->total_rows = total;
	counts->rows_exact = true;
	return rc;
}

/* The dump (validated by ops before) is restored by the restore's own
 * client into VERIFY_DB_NAME, a schema created for it (left over from a
 * crash: dropped first) and dropped again on every path. The live schema is
 * never connected to. */
static dbb_code mysql_verify(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                             struct dbb_stats *counts, struct dbb_error *err)
{
	struct dbb_config *vcfg = NULL;
	MYSQL *admin = NULL;
	bool created = false;
	dbb_code rc = dbb_verify_config(ctx->cfg, &vcfg, err);

	if (!rc)
		rc = my_connect_db(vcfg, NULL, 0, &admin, err);
	if (!rc)
		rc = my_scratch_exec(admin, "DROP DATABASE IF EXISTS", vcfg->db_name, err);
	if (!rc)
		rc = my_scratch_exec(admin, "CREATE DATABASE", vcfg->db_name, err);
	if (rc && admin && rc != DBB_ERR_CONFIG) {
		/* access denied on the schema comes as "unavailable": a privilege */
		dbb_error_prefix(err,
		                 "cannot make the scratch schema %s (VERIFY_DB_NAME; the user %s "
		                 "needs CREATE and DROP on it)",
		                 vcfg->db_name, vcfg->db_user);
		rc = dbb_error_recode(err, DBB_ERR_RESTORE_CONFLICT);
	}
	created = rc == DBB_OK;
	if (admin) /* a restore may outlast the server's wait_timeout: a new one after */
		mysql_close(admin);
	admin = NULL;
	if (!rc) {
		struct dbb_driver_ctx vctx = *ctx;
		vctx.cfg = vcfg;
		rc = mysql_restore(&vctx, in, err);
	}
	if (created) {
		struct dbb_error conn_err = {0};
		dbb_code crc = my_connect_db(vcfg, NULL, 0, &admin, rc ? &conn_err : err);
		if (!rc)
			rc = crc;
		if (!rc)
			rc = my_count_tables(admin, vcfg->db_name, counts, err);
	}
	if (created && admin) {
		struct dbb_error drop_err = {0};
		if (my_scratch_exec(admin, "DROP DATABASE IF EXISTS", vcfg->db_name, &drop_err))
			dbb_warn("mysql verify: the scratch schema %s was not dropped: %s",
			         vcfg->db_name, drop_err.message);
	} else if (created) {
		dbb_warn("mysql verify: the scratch schema %s was not dropped (no connection); "
		         "the next verification drops it",
		         vcfg->db_name);
	}
	if (admin)
		mysql_close(admin);
	dbb_verify_config_free(vcfg);
	return rc;
}

const struct dbb_driver dbb_driver_mysql = {
    .name = "mysql",
    .extension = "sql",
    .atomic_restore = false,
    .recognise = mysql_recognise,
    .check_config = mysql_check_config,
    .health = mysql_health,
    .dump = mysql_dump,
    .validate = mysql_validate,
    .clean = mysql_clean,
    .restore = mysql_restore,
    .stats = mysql_stats,
    .size_estimate = mysql_size_estimate,
    .verify = mysql_verify,
};
