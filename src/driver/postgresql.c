/* PostgreSQL driver: pg_dump and psql as child tools for the data, libpq for introspection, health
 * and stats. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/rand.h>

#include "dbbackupd/driver.h"
#include "dbbackupd/log.h"
#include "dbbackupd/sniff.h"
#include "dbbackupd/tool.h"
#include "driver/pg_script.h"

#include "pg_clean.h"

#define PG_DEFAULT_PORT      5432
#define PG_CONNECT_TIMEOUT_S "10"
#define PG_APPNAME           "dbbackupd"
#define PG_STATS_MAX_TABLES  1000

const struct dbb_driver dbb_driver_postgresql;

/* ---- connection parameters shared by libpq and the child tools ---- */

/* libpq's non-secret connection settings that the daemon's own libpq
 * connections read from its environment: pg_dump and psql get them too (and
 * nothing else of the daemon's environment but the base of child.h), so
 * that, say, PGSSLMODE=verify-full holds for the tools as well. Host, port,
 * user and database are on their command line; the password is PGPASSWORD. */
static const char *const pg_env_pass[] = {"PGSSLMODE",
                                          "PGSSLROOTCERT",
                                          "PGSSLCERT",
                                          "PGSSLKEY",
                                          "PGSSLCRL",
                                          "PGSSLCRLDIR",
                                          "PGSSLSNI",
                                          "PGREQUIRESSL",
                                          "PGSSLMINPROTOCOLVERSION",
                                          "PGSSLMAXPROTOCOLVERSION",
                                          "PGGSSENCMODE",
                                          "PGKRBSRVNAME",
                                          "PGGSSLIB",
                                          "PGREQUIREAUTH",
                                          "PGCHANNELBINDING",
                                          "PGSERVICE",
                                          "PGSERVICEFILE",
                                          "PGSYSCONFDIR",
                                          "PGPASSFILE",
                                          "PGTARGETSESSIONATTRS",
                                          "PGLOADBALANCEHOSTS",
                                          NULL};

struct pg_params {
	char port[16];
	char conninfo_db[512];  /* "dbname='...'" for the tools' --dbname */
	char env_password[300]; /* "PGPASSWORD=..." */
	const char *env[6];
	const char *conn_args[6]; /* --host --port --username --dbname --no-password NULL */
	char arg_host[300];
	char arg_port[32];
	char arg_user[160];
	char arg_db[540];
};

static void pg_params_init(struct pg_params *p, const struct dbb_config *cfg)
{
	size_t k = 0, e = 0, i;

	memset(p, 0, sizeof(*p));
	snprintf(p->port, sizeof(p->port), "%u", cfg->db_port ? cfg->db_port : PG_DEFAULT_PORT);

	/* The tools take --dbname as a connection string when it holds '=':
	 * always pass one, with the name quoted, so no name is misread. */
	k = (size_t)snprintf(p->conninfo_db, sizeof(p->conninfo_db), "dbname='");
	for (i = 0; cfg->db_name[i] && k + 4 < sizeof(p->conninfo_db); i++) {
		if (cfg->db_name[i] == '\'' || cfg->db_name[i] == '\\')
			p->conninfo_db[k++] = '\\';
		p->conninfo_db[k++] = cfg->db_name[i];
	}
	p->conninfo_db[k++] = '\'';
	p->conninfo_db[k] = '\0';

	k = 0;
	if (cfg->db_host[0]) {
		snprintf(p->arg_host, sizeof(p->arg_host), "--host=%s", cfg->db_host);
		p->conn_args[k++] = p->arg_host;
	}
	snprintf(p->arg_port, sizeof(p->arg_port), "--port=%s", p->port);
	p->conn_args[k++] = p->arg_port;
	snprintf(p->arg_user, sizeof(p->arg_user), "--username=%s", cfg->db_user);
	p->conn_args[k++] = p->arg_user;
	snprintf(p->arg_db, sizeof(p->arg_db), "--dbname=%s", p->conninfo_db);
	p->conn_args[k++] = p->arg_db;
	p->conn_args[k++] = "--no-password";
	p->conn_args[k] = NULL;

	/* The password reaches the tools through their environment only. */
	if (cfg->db_password[0]) {
		snprintf(p->env_password, sizeof(p->env_password), "PGPASSWORD=%s",
		         cfg->db_password);
		p->env[e++] = p->env_password;
	}
	p->env[e++] = "PGCONNECT_TIMEOUT=" PG_CONNECT_TIMEOUT_S;
	p->env[e++] = "PGAPPNAME=" PG_APPNAME;
	p->env[e] = NULL;
}

/* Adds one "NAME=value" (a literal) to the tools' environment. */
static void pg_params_add_env(struct pg_params *p, const char *entry)
{
	size_t e = 0;

	while (p->env[e])
		e++;
	if (e + 1 < sizeof(p->env) / sizeof(p->env[0])) {
		p->env[e] = entry;
		p->env[e + 1] = NULL;
	}
}

static void pg_params_wipe(struct pg_params *p)
{
	explicit_bzero(p->env_password, sizeof(p->env_password));
}

/* Builds argv = tool, fixed options, connection options, NULL. */
static void build_argv(const char **argv, size_t cap, const char *const *fixed,
                       const struct pg_params *p)
{
	size_t k = 0;

	for (; *fixed && k + 1 < cap; fixed++)
		argv[k++] = *fixed;
	for (size_t i = 0; p->conn_args[i] && k + 1 < cap; i++)
		argv[k++] = p->conn_args[i];
	argv[k] = NULL;
}

static bool is_auth_failure(PGconn *conn, const char *msg)
{
	return PQconnectionNeedsPassword(conn) || strstr(msg, "password authentication failed") ||
	       strstr(msg, "authentication failed") || strstr(msg, "no password supplied") ||
	       (strstr(msg, "role \"") && strstr(msg, "does not exist"));
}

/* pg_error(): a failed connection as DBB_ERR_DB_UNAVAILABLE with the reason. */
static dbb_code pg_conn_error(const struct dbb_config *cfg, const char *port, PGconn *conn,
                              struct dbb_error *err)
{
	char msg[600];

	pg_message_one_line(conn ? PQerrorMessage(conn) : "out of memory", msg, sizeof(msg));
	if (conn && is_auth_failure(conn, msg))
		return dbb_fail(err, DBB_ERR_DB_UNAVAILABLE,
		                "PostgreSQL authentication failed for user \"%s\" at %s:%s: %s",
		                cfg->db_user, cfg->db_host[0] ? cfg->db_host : "local socket", port,
		                msg);
	return dbb_fail(err, DBB_ERR_DB_UNAVAILABLE, "PostgreSQL at %s:%s is unavailable: %s",
	                cfg->db_host[0] ? cfg->db_host : "local socket", port, msg);
}

static dbb_code pg_connect_db(const struct dbb_config *cfg, const char *dbname, PGconn **out,
                              struct dbb_error *err);

static dbb_code pg_connect(const struct dbb_config *cfg, PGconn **out, struct dbb_error *err)
{
	return pg_connect_db(cfg, cfg->db_name, out, err);
}

/* A connection to dbname on cfg's server, as cfg's user. */
static dbb_code pg_connect_db(const struct dbb_config *cfg, const char *dbname, PGconn **out,
                              struct dbb_error *err)
{
	char port[16];
	const char *keys[8], *vals[8];
	size_t k = 0;
	PGconn *conn;
	dbb_code rc;

	snprintf(port, sizeof(port), "%u", cfg->db_port ? cfg->db_port : PG_DEFAULT_PORT);
	if (cfg->db_host[0]) {
		keys[k] = "host";
		vals[k++] = cfg->db_host;
	}
	keys[k] = "port";
	vals[k++] = port;
	keys[k] = "dbname";
	vals[k++] = dbname;
	keys[k] = "user";
	vals[k++] = cfg->db_user;
	if (cfg->db_password[0]) {
		keys[k] = "password";
		vals[k++] = cfg->db_password;
	}
	keys[k] = "connect_timeout";
	vals[k++] = PG_CONNECT_TIMEOUT_S;
	keys[k] = "application_name";
	vals[k++] = PG_APPNAME;
	keys[k] = NULL;
	vals[k] = NULL;

	*out = NULL;
	conn = PQconnectdbParams(keys, vals, 0);
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		rc = pg_conn_error(cfg, port, conn, err);
		PQfinish(conn);
		return rc;
	}
	*out = conn;
	return DBB_OK;
}

/* A query's failure; a lost connection counts as the database being unavailable. */
static dbb_code pg_query_error(PGconn *conn, const char *what, struct dbb_error *err)
{
	char msg[600];

	pg_message_one_line(PQerrorMessage(conn), msg, sizeof(msg));
	if (PQstatus(conn) != CONNECTION_OK)
		return dbb_fail(err, DBB_ERR_DB_UNAVAILABLE, "PostgreSQL connection lost (%s): %s",
		                what, msg);
	return dbb_fail(err, DBB_ERR_INTERNAL, "PostgreSQL query failed (%s): %s", what, msg);
}

static dbb_code pg_exec(PGconn *conn, const char *sql, const char *what, PGresult **out,
                        struct dbb_error *err)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		dbb_code rc = pg_query_error(conn, what, err);

		PQclear(res);
		*out = NULL;
		return rc;
	}
	*out = res;
	return DBB_OK;
}

/* ---- versions of the child tools ---- */

/* Runs `tool --version` and parses "tool (PostgreSQL) 15.20 ..." into
 * major (15) and minor (20). Fails with fail_code. */
static dbb_code tool_version(const char *tool, unsigned timeout_s, dbb_code fail_code, int *major,
                             int *minor, struct dbb_error *err)
{
	char out[256];
	const char *p;
	dbb_code rc = dbb_tool_version(tool, timeout_s, fail_code, out, sizeof(out), err);

	if (rc)
		return rc;
	p = strstr(out, ") ");
	if (!p || !isdigit((unsigned char)p[2]))
		return dbb_fail(err, fail_code, "cannot read the version of %s from '%.60s'", tool,
		                out);
	*major = (int)strtol(p + 2, NULL, 10);
	p = strchr(p + 2, '.');
	*minor = p ? (int)strtol(p + 1, NULL, 10) : 0;
	return DBB_OK;
}

/* psql refuses every meta-command but \unrestrict after \restrict, from
 * these releases on; the daemon uses it so an uploaded file can never run
 * shell commands (\!) or read files through psql. */
static bool psql_has_restrict(int major, int minor)
{
	switch (major) {
	case 13:
		return minor >= 22;
	case 14:
		return minor >= 19;
	case 15:
		return minor >= 14;
	case 16:
		return minor >= 10;
	case 17:
		return minor >= 6;
	default:
		return major > 17;
	}
}

/* ---- check_config, health ---- */

static dbb_code pg_check_config(const struct dbb_config *cfg, struct dbb_error *err)
{
	if (!cfg->db_name[0])
		return dbb_fail(err, DBB_ERR_CONFIG, "DB_NAME must be set for DB_TYPE=postgresql");
	if (!cfg->db_user[0])
		return dbb_fail(err, DBB_ERR_CONFIG, "DB_USER must be set for DB_TYPE=postgresql");
	if (cfg->db_port > 65535)
		return dbb_fail(err, DBB_ERR_CONFIG, "DB_PORT must be a TCP port (1-65535)");
	return DBB_OK;
}

static dbb_code pg_health(const struct dbb_driver_ctx *ctx, struct dbb_error *err)
{
	PGconn *conn = NULL;
	PGresult *res = NULL;
	dbb_code rc;

	rc = pg_connect(ctx->cfg, &conn, err);
	if (rc)
		goto out;
	rc = pg_exec(conn, "SELECT 1", "health check", &res, err);
	if (rc && rc != DBB_ERR_DB_UNAVAILABLE)
		rc = dbb_error_recode(err, DBB_ERR_DB_UNAVAILABLE);
out:
	PQclear(res);
	PQfinish(conn);
	return rc;
}

/* ---- dump ---- */

/* 150020 → 15; 90624 → 9 (pre-10 servers are older than any pg_dump here). */
static int server_major(PGconn *conn)
{
	return PQserverVersion(conn) / 10000;
}

/* What a run needs of its tool's version (the caller says why not). */
typedef bool (*pg_tool_enough)(int smajor, int major, int minor);

static bool dump_enough(int smajor, int major, int minor)
{
	(void)minor;
	return major >= smajor;
}

static bool restore_enough(int smajor, int major, int minor)
{
	(void)smajor;
	return psql_has_restrict(major, minor);
}

/* The tool's version, which `enough` judges against the server's major
 * (smajor). The version is cached (dbb_tool_version); one that is not
 * enough is asked again, uncached: the same wrapper may run a newer client
 * since it was cached. */
static dbb_code pg_tool_version(const struct dbb_config *cfg, const char *tool, dbb_code fail_code,
                                pg_tool_enough enough, int smajor, int *major, int *minor,
                                struct dbb_error *err)
{
	dbb_code rc = tool_version(tool, cfg->child_timeout, fail_code, major, minor, err);

	if (!rc && !enough(smajor, *major, *minor)) {
		dbb_tool_version_forget(tool);
		rc = tool_version(tool, cfg->child_timeout, fail_code, major, minor, err);
	}
	return rc;
}

/* libpq answers first (reachability and credentials in its own words), then
 * the tool, which must be at least as new as the server. (A restore needs
 * no server version: check_restore has just connected, and psql says in
 * its own words if it cannot.) */
static dbb_code pg_dump_ready(const struct dbb_config *cfg, int *smajor, int *major, int *minor,
                              struct dbb_error *err)
{
	PGconn *conn = NULL;
	dbb_code rc = pg_connect(cfg, &conn, err);

	if (rc)
		return rc;
	*smajor = server_major(conn);
	PQfinish(conn);
	return pg_tool_version(cfg, "pg_dump", DBB_ERR_BACKUP_FAILED, dump_enough, *smajor, major,
	                       minor, err);
}

static dbb_code pg_dump_fn(const struct dbb_driver_ctx *ctx, const struct dbb_dump_options *opt,
                           struct dbb_sink *out, struct dbb_error *err)
{
	static const char *const fixed[] = {"pg_dump",  "--format=plain",  "--no-owner",
	                                    "--no-acl", "--encoding=UTF8", NULL};
	const char *argv[16];
	struct pg_params p;
	int smajor, dmajor = 0, dminor = 0;
	dbb_code rc;

	(void)opt;
	pg_params_init(&p, ctx->cfg);
	rc = pg_dump_ready(ctx->cfg, &smajor, &dmajor, &dminor, err);
	if (rc)
		goto out;
	if (!dump_enough(smajor, dmajor, dminor)) {
		rc = dbb_fail(
		    err, DBB_ERR_BACKUP_FAILED,
		    "pg_dump %d.%d is older than the PostgreSQL %d server and cannot dump it:"
		    " install the PostgreSQL %d client tools (postgresql-client-%d)",
		    dmajor, dminor, smajor, smajor, smajor);
		goto out;
	}
	build_argv(argv, sizeof(argv) / sizeof(argv[0]), fixed, &p);
	rc = dbb_tool_dump(&(struct dbb_tool_run){.argv = argv,
	                                          .env_extra = p.env,
	                                          .env_pass = pg_env_pass,
	                                          .timeout_s = ctx->cfg->child_timeout,
	                                          .fail_code = DBB_ERR_BACKUP_FAILED},
	                   out, err);
out:
	pg_params_wipe(&p);
	return rc;
}

/* ---- validate ---- */

#define SNIFF_MAX DBB_SNIFF_HEAD

/* pg_dump's plain format: markers of its first lines. */
static const char *pg_recognise(const unsigned char *head, size_t len, bool *restorable)
{
	static const char *const marks[] = {"PostgreSQL database dump", "\\restrict ",
	                                    "SET client_encoding", "pg_catalog.set_config", NULL};

	*restorable = !(len >= 5 && memcmp(head, "PGDMP", 5) == 0);
	if (!*restorable)
		return "a PostgreSQL custom-format archive (use pg_restore, or a plain pg_dump)";
	return dbb_sniff_find_any(head, len, marks) ? "a PostgreSQL SQL dump" : NULL;
}

/* A file that is recognisably something else: what it is, else NULL. */
static const char *foreign_format(const char *head, size_t len)
{
	struct dbb_format f = dbb_sniff((const unsigned char *)head, len);

	if (f.kind == DBB_FORMAT_UNKNOWN || f.kind == DBB_FORMAT_EMPTY ||
	    dbb_format_is(&f, &dbb_driver_postgresql))
		return NULL;
	return f.what;
}

/* The verdict once the whole file was read: what it is when it is not a
 * plain pg_dump file first, then the lexer's refusal, then completeness. */
static dbb_code pg_verdict(const struct pg_script *scan, const char *head, size_t head_len,
                           dbb_code lex_rc, const struct dbb_error *lex_err, struct dbb_error *err)
{
	const char *what;

	if (head_len == 0)
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP, "the file is empty");
	what = foreign_format(head, head_len);
	if (what)
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		                "the file is %s, not a plain PostgreSQL dump", what);
	if (scan->facts.nul_byte || memchr(head, '\0', head_len))
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		                "the file holds binary data (NUL bytes): not a plain SQL dump");
	if (scan->facts.header_cluster)
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		                "the file is a pg_dumpall cluster dump; restore a single-database "
		                "plain pg_dump");
	if (!scan->facts.header_pg)
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		                "the file is not a plain-SQL PostgreSQL dump (no '-- PostgreSQL "
		                "database dump' header)");
	if (lex_rc) {
		if (err)
			*err = *lex_err;
		return lex_rc;
	}
	if (!scan->facts.complete)
		return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		                "the PostgreSQL dump is incomplete (truncated: no '-- PostgreSQL "
		                "database dump complete' trailer)");
	return DBB_OK;
}

/* Validation: the whole file through the psql script lexer (pg_script.h),
 * plus what it is when it is not a plain pg_dump file. The lexer's verdict
 * comes after "this is not a PostgreSQL dump at all", which says more. */
static dbb_code pg_validate(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                            struct dbb_error *err)
{
	struct pg_script scan;
	struct dbb_error lex_err = {0};
	dbb_code lex_rc = DBB_OK;
	unsigned char *buf = NULL;
	char head[SNIFF_MAX + 1];
	size_t head_len = 0, got;
	const char *what;
	dbb_code rc = DBB_OK;

	(void)ctx;
	buf = malloc(DBB_STREAM_CHUNK);
	if (!buf)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	pg_script_init(&scan, NULL);
	for (;;) {
		rc = dbb_source_read(in, buf, DBB_STREAM_CHUNK, &got, err);
		if (rc || got == 0)
			break;
		if (head_len < SNIFF_MAX) {
			size_t n = got < SNIFF_MAX - head_len ? got : SNIFF_MAX - head_len;

			memcpy(head + head_len, buf, n);
			head_len += n;
			what = head_len == SNIFF_MAX ? foreign_format(head, head_len) : NULL;
			if (what) {
				rc = dbb_fail(err, DBB_ERR_INVALID_BACKUP,
				              "the file is %s, not a plain PostgreSQL dump", what);
				goto out;
			}
		}
		if (!lex_rc)
			lex_rc = pg_script_feed(&scan, buf, got, &lex_err);
		else if (head_len == SNIFF_MAX)
			break; /* refused: the head is all that may still say more */
	}
	if (rc)
		goto out;
	if (!lex_rc)
		lex_rc = pg_script_finish(&scan, &lex_err);
	head[head_len] = '\0';
	rc = pg_verdict(&scan, head, head_len, lex_rc, &lex_err, err);
out:
	free(buf);
	return rc;
}

/* ---- clean + restore ---- */

/* Before the safety backup: can the clean empty this database? (pg_clean.h) */
static dbb_code pg_check_restore(const struct dbb_driver_ctx *ctx, struct dbb_error *err)
{
	PGconn *conn = NULL;
	dbb_code rc;

	rc = pg_connect(ctx->cfg, &conn, err);
	if (!rc)
		rc = pg_clean_check(conn, err);
	PQfinish(conn);
	return rc;
}

/* What psql gets around the dump (dbb_tool_filter of tool.h). The file
 * gets every check pg_validate makes in the same pass (the driver's
 * restore_validates): the lexer as it goes, the head's format as soon as
 * it is read, and pg_verdict before the COMMIT. */
struct pg_feed {
	struct pg_script scan;
	char head[SNIFF_MAX + 1];
	size_t head_len;
};

/* \restrict with a fresh key (no meta-command of the file runs after it),
 * BEGIN, the clean script. */
static dbb_code pg_feed_begin(void *arg, struct dbb_sink *psql, struct dbb_error *err)
{
	static const char pre[] = "BEGIN;\nSET client_min_messages = warning;\n";
	struct pg_feed *f = arg;
	unsigned char key_raw[16];
	char key[33], line[64];
	dbb_code rc;

	f->head_len = 0;
	if (RAND_bytes(key_raw, sizeof(key_raw)) != 1)
		return dbb_fail(err, DBB_ERR_INTERNAL, "no random bytes for the restrict key");
	for (size_t i = 0; i < sizeof(key_raw); i++)
		snprintf(key + 2 * i, 3, "%02x", key_raw[i]);
	snprintf(line, sizeof(line), "\\restrict %s\n", key);
	rc = dbb_sink_write(psql, line, strlen(line), err);
	if (!rc)
		rc = dbb_sink_write(psql, pre, sizeof(pre) - 1, err);
	if (!rc)
		rc = pg_clean_write(psql, err);
	/* The dump through the same lexer as validation: it drops pg_dump's
	 * BEGIN;/COMMIT;/\restrict/\unrestrict lines and stops at anything
	 * validation would have refused (a file changed since). */
	pg_script_init(&f->scan, psql);
	return rc;
}

static dbb_code pg_feed_chunk(void *arg, struct dbb_sink *psql, const void *buf, size_t len,
                              struct dbb_error *err)
{
	struct pg_feed *f = arg;

	(void)psql;
	if (f->head_len < SNIFF_MAX) {
		size_t n = len < SNIFF_MAX - f->head_len ? len : SNIFF_MAX - f->head_len;
		const char *what;

		memcpy(f->head + f->head_len, buf, n);
		f->head_len += n;
		what = f->head_len == SNIFF_MAX ? foreign_format(f->head, f->head_len) : NULL;
		if (what)
			return dbb_fail(err, DBB_ERR_INVALID_BACKUP,
			                "the file is %s, not a plain PostgreSQL dump", what);
	}
	return pg_script_feed(&f->scan, buf, len, err);
}

/* COMMIT, only once the whole dump was sent, ends between statements and
 * passed every check of pg_validate. */
static dbb_code pg_feed_end(void *arg, struct dbb_sink *psql, struct dbb_error *err)
{
	/* a statement of its own: the newline ends a last line without one */
	static const char commit[] = "\nCOMMIT;\n";
	struct pg_feed *f = arg;
	struct dbb_error lex_err = {0};
	dbb_code lex_rc = pg_script_finish(&f->scan, &lex_err);
	dbb_code rc;

	f->head[f->head_len] = '\0';
	rc = pg_verdict(&f->scan, f->head, f->head_len, lex_rc, &lex_err, err);
	return rc ? rc : dbb_sink_write(psql, commit, sizeof(commit) - 1, err);
}

/* Restore: ONE psql fed through its stdin with BEGIN, the clean script, the
 * dump and, only once the whole dump was sent, COMMIT. psql stops at the
 * first error and the transaction rolls back: the database is then exactly
 * as it was. The COMMIT is ours, not --single-transaction's: with that, psql
 * commits when its input ends, so a daemon killed mid-restore (its end of
 * the pipe closed by the kernel) would commit a partial restore. Nothing in
 * the dump may end that transaction: pg_script drops pg_dump's own BEGIN;
 * and COMMIT; lines (around large objects) and refuses every other form.
 * The runner kills psql whenever our side fails (nothing is committed). */
static dbb_code pg_restore_fn(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                              struct dbb_error *err)
{
	static const char *const fixed[] = {
	    "psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--file=-", NULL};
	const char *argv[16];
	struct pg_params p;
	struct pg_feed feed;
	int vmajor = 0, vminor = 0;
	dbb_code rc;

	pg_params_init(&p, ctx->cfg);
	/* The session psql starts in, as pg_script assumes it: the lexer's
	 * reading of quotes depends on both. */
	pg_params_add_env(&p, "PGCLIENTENCODING=UTF8");
	pg_params_add_env(&p, "PGOPTIONS=-c standard_conforming_strings=on");
	rc = pg_tool_version(ctx->cfg, "psql", DBB_ERR_RESTORE_FAILED, restore_enough, 0, &vmajor,
	                     &vminor, err);
	if (rc)
		goto out;
	if (!restore_enough(0, vmajor, vminor)) {
		/* Validation follows psql's lexer, but psql reads each line with
		 * the session's client_encoding and standard_conforming_strings,
		 * which SQL in the file can change at run time in ways no reading
		 * of the file can see: only psql's own \restrict holds then. */
		rc = dbb_fail(err, DBB_ERR_RESTORE_FAILED,
		              "psql %d.%d has no \\restrict (it came with 13.22, 14.19, 15.14, "
		              "16.10 and 17.6): refusing to feed it a restore script, which "
		              "could run shell commands through it; install a current "
		              "postgresql-client",
		              vmajor, vminor);
		goto out;
	}
	build_argv(argv, sizeof(argv) / sizeof(argv[0]), fixed, &p);
	rc = dbb_tool_restore(
	    &(struct dbb_tool_run){.argv = argv,
	                           .env_extra = p.env,
	                           .env_pass = pg_env_pass,
	                           .timeout_s = ctx->cfg->child_timeout,
	                           .fail_code = DBB_ERR_RESTORE_FAILED},
	    in,
	    &(struct dbb_tool_filter){
	        .begin = pg_feed_begin, .feed = pg_feed_chunk, .end = pg_feed_end, .arg = &feed},
	    err);
out:
	pg_params_wipe(&p);
	return rc;
}

/* ---- stats ---- */

static dbb_code pg_size_estimate(const struct dbb_driver_ctx *ctx, uint64_t *bytes,
                                 struct dbb_error *err)
{
	PGconn *conn = NULL;
	PGresult *res = NULL;
	*bytes = 0;
	dbb_code rc = pg_connect(ctx->cfg, &conn, err);
	if (!rc)
		rc = pg_exec(conn, "SELECT pg_catalog.pg_database_size(current_database())",
		             "database size", &res, err);
	if (!rc) {
		long long v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		*bytes = v > 0 ? (uint64_t)v : 0;
	}
	PQclear(res);
	PQfinish(conn);
	return rc;
}

static dbb_code pg_stats(const struct dbb_driver_ctx *ctx, struct dbb_stats *out,
                         struct dbb_error *err)
{
	static const char db_sql[] =
	    "SELECT current_database(), pg_catalog.pg_database_size(current_database()),"
	    " pg_catalog.current_setting('server_version')";
	static const char tables_sql[] =
	    "SELECT n.nspname, c.relname,"
	    " (CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint"
	    "  ELSE COALESCE(s.n_live_tup, 0) END),"
	    " pg_catalog.pg_total_relation_size(c.oid)"
	    " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
	    " LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = c.oid"
	    " WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema')"
	    " AND n.nspname !~ '^pg_' ORDER BY 1, 2";
	PGconn *conn = NULL;
	PGresult *res = NULL;
	long long total_rows = 0;
	int ntables;
	dbb_code rc;

	rc = pg_connect(ctx->cfg, &conn, err);
	if (rc)
		goto out;
	rc = pg_exec(conn, db_sql, "database size", &res, err);
	if (rc)
		goto out;
	out->size_bytes = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	rc = dbb_stats_text(&out->database, PQgetvalue(res, 0, 0), err);
	if (!rc)
		rc = dbb_stats_text(&out->server_version, PQgetvalue(res, 0, 2), err);
	PQclear(res);
	res = NULL;
	if (rc)
		goto out;

	rc = pg_exec(conn, tables_sql, "table statistics", &res, err);
	if (rc)
		goto out;
	ntables = PQntuples(res);
	for (int i = 0; i < ntables && !rc; i++) {
		long long rows = strtoll(PQgetvalue(res, i, 2), NULL, 10);

		total_rows += rows;
		if (i < PG_STATS_MAX_TABLES)
			rc = dbb_stats_add_table(out, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
			                         rows, strtoll(PQgetvalue(res, i, 3), NULL, 10),
			                         NULL, err);
	}
	out->table_count = ntables;
	out->total_rows = total_rows;
	out->tables_truncated = ntables > PG_STATS_MAX_TABLES;
out:
	PQclear(res);
	PQfinish(conn);
	return rc;
}

/* ---- verify (issue 20): a test-restore into a scratch database ---- */

/* Where the scratch database is created and dropped from: the server's
 * maintenance database (template1 where there is none), never the live
 * one. */
#define PG_VERIFY_MAINTENANCE_DB "postgres"

/* "DROP|CREATE DATABASE <name> ..." on the maintenance connection. */
static dbb_code pg_scratch_exec(PGconn *conn, const char *verb, const char *name, const char *tail,
                                const char *what, struct dbb_error *err)
{
	char *id = PQescapeIdentifier(conn, name, strlen(name));
	PGresult *res = NULL;
	dbb_code rc;

	if (!id)
		return pg_query_error(conn, what, err);
	size_t cap = strlen(verb) + strlen(id) + strlen(tail) + 4;
	char *sql = malloc(cap);
	if (!sql) {
		PQfreemem(id);
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	}
	snprintf(sql, cap, "%s %s%s", verb, id, tail);
	rc = pg_exec(conn, sql, what, &res, err);
	PQclear(res);
	free(sql);
	PQfreemem(id);
	return rc;
}

/* Drops the scratch database (a stray session of it included, 13+). */
static dbb_code pg_scratch_drop(PGconn *conn, const char *name, struct dbb_error *err)
{
	return pg_scratch_exec(conn, "DROP DATABASE IF EXISTS", name,
	                       PQserverVersion(conn) >= 130000 ? " WITH (FORCE)" : "",
	                       "dropping the scratch database", err);
}

/* Every table's exact row count in the scratch database. */
static dbb_code pg_count_tables(const struct dbb_config *vcfg, struct dbb_stats *counts,
                                struct dbb_error *err)
{
	static const char tables_sql[] =
	    "SELECT n.nspname, c.relname,"
	    " pg_catalog.format('SELECT count(*) FROM %I.%I', n.nspname, c.relname)"
	    " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
	    " WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema')"
	    " AND n.nspname !~ '^pg_' ORDER BY 1, 2";
	PGconn *conn = NULL;
	PGresult *res = NULL;
	int64_t total = 0;
	dbb_code rc = pg_connect(vcfg, &conn, err);

	if (!rc)
		rc = pg_exec(conn, tables_sql, "listing the restored tables", &res, err);
	for (int i = 0; !rc && i < PQntuples(res); i++) {
		PGresult *cnt = NULL;
		rc = pg_exec(conn, PQgetvalue(res, i, 2), "counting rows", &cnt, err);
		if (!rc) {
			int64_t rows = strtoll(PQgetvalue(cnt, 0, 0), NULL, 10);
			total += rows;
			rc = dbb_stats_add_table(counts, PQgetvalue(res, i, 0),
			                         PQgetvalue(res, i, 1), rows, DBB_STATS_UNKNOWN,
			                         NULL, err);
		}
		PQclear(cnt);
	}
	counts->table_count = (int64_t)counts->ntables;
	counts->total_rows = total;
	counts->rows_exact = true;
	PQclear(res);
	PQfinish(conn);
	return rc;
}

/* The dump is restored, by the restore's own path (one psql, one
 * transaction, every check of pg_validate), into VERIFY_DB_NAME: created
 * from template0 (left over from a crash: dropped first) and dropped again
 * on every path, from the maintenance database. The live database is never
 * connected to. */
static dbb_code pg_verify(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                          struct dbb_stats *counts, struct dbb_error *err)
{
	struct dbb_config *vcfg = NULL;
	PGconn *admin = NULL;
	bool created = false;
	dbb_code rc = dbb_verify_config(ctx->cfg, &vcfg, err);

	if (!rc) {
		rc = pg_connect_db(vcfg, PG_VERIFY_MAINTENANCE_DB, &admin, err);
		if (rc == DBB_ERR_DB_UNAVAILABLE && strstr(err->message, "does not exist"))
			rc = pg_connect_db(vcfg, "template1", &admin, err); /* no "postgres" */
	}
	if (!rc)
		rc = pg_scratch_drop(admin, vcfg->db_name, err);
	if (!rc) {
		rc = pg_scratch_exec(admin, "CREATE DATABASE", vcfg->db_name, " TEMPLATE template0",
		                     "creating the scratch database", err);
		if (rc == DBB_ERR_INTERNAL) {
			dbb_error_prefix(
			    err,
			    "cannot create the scratch database %s (VERIFY_DB_NAME; the "
			    "role %s needs CREATEDB)",
			    vcfg->db_name, vcfg->db_user);
			rc = dbb_error_recode(err, DBB_ERR_RESTORE_CONFLICT);
		}
		created = rc == DBB_OK;
	}
	if (!rc) {
		struct dbb_driver_ctx vctx = *ctx;
		vctx.cfg = vcfg;
		rc = pg_restore_fn(&vctx, in, err);
	}
	if (!rc)
		rc = pg_count_tables(vcfg, counts, err);
	if (created) {
		struct dbb_error drop_err = {0};
		if (pg_scratch_drop(admin, vcfg->db_name, &drop_err))
			dbb_warn("postgresql verify: the scratch database %s was not dropped: %s",
			         vcfg->db_name, drop_err.message);
	}
	PQfinish(admin);
	dbb_verify_config_free(vcfg);
	return rc;
}

const struct dbb_driver dbb_driver_postgresql = {
    .name = "postgresql",
    .extension = "sql",
    .atomic_restore = true,
    .restore_validates = true,
    .verify_validates = true,
    .recognise = pg_recognise,
    .check_config = pg_check_config,
    .health = pg_health,
    .dump = pg_dump_fn,
    .validate = pg_validate,
    .check_restore = pg_check_restore,
    .clean = NULL, /* the restore cleans, in its own transaction */
    .restore = pg_restore_fn,
    .stats = pg_stats,
    .size_estimate = pg_size_estimate,
    .verify = pg_verify,
};
