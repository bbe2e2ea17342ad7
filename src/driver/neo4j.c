/* Neo4j driver: lossless Cypher export over the Query API (or APOC's), streaming restore, clean and
 * stats. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dbbackupd/driver.h"
#include "dbbackupd/sniff.h"
#include "driver/neo4j_internal.h"

/* Rows per UNWIND statement, and the text size at which a page is written
 * out early (large properties). */
#define PAGE_ROWS        1000
#define PAGE_BYTES       (2u * 1024 * 1024)
#define GROUP_MAX        (N4J_STATEMENT_MAX / 2)
#define HEALTH_TIMEOUT_S 5L

static const char *dbname(const struct dbb_config *cfg)
{
	return n4j_settings(cfg)->database[0] ? n4j_settings(cfg)->database : "neo4j";
}

/* NEO4J_*: read by config.c into struct n4j_settings when DB_TYPE=neo4j. */
static const struct dbb_setting n4j_setting_table[] = {
    DBB_SETTING_STRING(struct n4j_settings, "NEO4J_URL", url, "http://localhost:7474", false),
    DBB_SETTING_STRING(struct n4j_settings, "NEO4J_USER", user, "neo4j", false),
    DBB_SETTING_STRING(struct n4j_settings, "NEO4J_PASSWORD", password, "", true),
    DBB_SETTING_STRING(struct n4j_settings, "NEO4J_DATABASE", database, "neo4j", false),
};

/* Cypher: this driver's header, or statements no SQL dump has. */
static const char *neo4j_recognise(const unsigned char *head, size_t len, bool *restorable)
{
	static const char *const marks[] = {
	    "dbbackupd neo4j", "UNWIND ", "CREATE CONSTRAINT", ":begin",           "CREATE (",
	    "MERGE (",         "MATCH (", "CALL apoc.",        "CREATE INDEX FOR", NULL,
	};

	*restorable = true;
	return dbb_sniff_find_any(head, len, marks) ? "a Neo4j Cypher script" : NULL;
}

_Static_assert(sizeof(struct n4j_settings) <= DBB_DRIVER_SETTINGS_MAX,
               "the Neo4j settings fit in struct dbb_config");

static dbb_code oom(struct dbb_error *err)
{
	return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
}

static dbb_code sink_str(struct dbb_sink *out, const char *s, struct dbb_error *err)
{
	return dbb_sink_write(out, s, strlen(s), err);
}

/* ---- check_config, health ---- */

static dbb_code neo4j_check_config(const struct dbb_config *cfg, struct dbb_error *err)
{
	char url[DBB_CFG_STR];

	n4j_url_display(n4j_settings(cfg)->url, url, sizeof(url));
	if (strncmp(n4j_settings(cfg)->url, "http://", 7) &&
	    strncmp(n4j_settings(cfg)->url, "https://", 8))
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "NEO4J_URL must be the http:// or https:// address of Neo4j's HTTP "
		                "endpoint (e.g. http://localhost:7474), got '%s'",
		                url);
	if (!n4j_settings(cfg)->user[0] && n4j_settings(cfg)->password[0])
		return dbb_fail(err, DBB_ERR_CONFIG,
		                "NEO4J_USER is empty but NEO4J_PASSWORD is set");
	return DBB_OK;
}

static dbb_code neo4j_health(const struct dbb_driver_ctx *ctx, struct dbb_error *err)
{
	struct n4j_conn c;
	dbb_code rc;

	rc = n4j_open(&c, ctx->cfg, HEALTH_TIMEOUT_S, err);
	if (rc)
		return rc;
	rc = n4j_run(&c, "RETURN 1", NULL, NULL, NULL, DBB_ERR_DB_UNAVAILABLE, err);
	n4j_close(&c);
	return rc;
}

/* ---- standard export ----
 * Rows are grouped within a page by label set (nodes) or type
 * (relationships). Each group becomes one statement whose text names the
 * labels or type as literals and whose rows come in the parameter line
 * before it, in the Query API's typed JSON, exactly as Neo4j gave them:
 *   // dbb:params {"rows":{"$type":"List","_value":[<[id,{props}] as typed List>,...]}}
 *   UNWIND $rows AS r CREATE (n:`__DbbImport`:`L` {`__dbb_id`: r[0]}) SET n += r[1];
 * Every type keeps its type, and the statement text repeats, so Neo4j plans
 * it once (a literal batch costs a parse and a plan each: ten times slower). */

/* Typed JSON has no bare arrays: a list is {"$type":"List","_value":[...]}. */
#define LIST_OPEN  "{\"$type\":\"List\",\"_value\":["
#define LIST_CLOSE "]}"

struct group {
	char *key;
	char *statement; /* "UNWIND $rows AS r ...;\n" */
	struct n4j_buf rows;
	size_t count;
};

struct dump {
	struct dbb_sink *out;
	struct group *groups;
	size_t ngroups;
	size_t cap;
	size_t page_rows;
	size_t page_bytes;
	unsigned long long nodes;
	unsigned long long rels;
	struct n4j_buf scratch;
};

static void group_free(struct group *g)
{
	free(g->key);
	free(g->statement);
	n4j_buf_free(&g->rows);
}

static void dump_free_groups(struct dump *d)
{
	size_t i;

	for (i = 0; i < d->ngroups; i++)
		group_free(&d->groups[i]);
	d->ngroups = 0;
	d->page_rows = 0;
	d->page_bytes = 0;
}

static dbb_code dump_flush(struct dump *d, struct dbb_error *err)
{
	size_t i;
	dbb_code rc = DBB_OK;

	for (i = 0; i < d->ngroups && !rc; i++) {
		struct group *g = &d->groups[i];

		rc = sink_str(d->out, N4J_PARAMS "{\"rows\":" LIST_OPEN, err);
		rc = rc ? rc : dbb_sink_write(d->out, g->rows.data, g->rows.len, err);
		rc = rc ? rc : sink_str(d->out, LIST_CLOSE "}\n", err);
		rc = rc ? rc : sink_str(d->out, g->statement, err);
	}
	dump_free_groups(d);
	return rc;
}

/* Finds or adds the group for key (the raw JSON of the label list or type);
 * the caller sets the statement of a new group (*created). */
static struct group *dump_group(struct dump *d, const char *key, size_t key_len, bool *created)
{
	struct group *g;
	size_t i;

	*created = false;
	for (i = 0; i < d->ngroups; i++)
		if (strlen(d->groups[i].key) == key_len && !memcmp(d->groups[i].key, key, key_len))
			return &d->groups[i];
	if (d->ngroups == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct group *p = realloc(d->groups, cap * sizeof(*p));

		if (!p)
			return NULL;
		d->groups = p;
		d->cap = cap;
	}
	g = &d->groups[d->ngroups];
	memset(g, 0, sizeof(*g));
	g->key = strndup(key, key_len);
	if (!g->key)
		return NULL;
	n4j_buf_init(&g->rows, GROUP_MAX);
	d->ngroups++;
	*created = true;
	return g;
}

/* Appends one row, the raw typed JSON of a List as Neo4j sent it. */
static dbb_code dump_add_row(struct dump *d, struct group *g, const char *row, size_t len,
                             struct dbb_error *err)
{
	size_t before = g->rows.len;

	if ((g->count && n4j_buf_addc(&g->rows, ',')) || n4j_buf_add(&g->rows, row, len))
		return dbb_fail(err, DBB_ERR_BACKUP_FAILED, "a batch of rows is larger than %u MiB",
		                (unsigned)(GROUP_MAX >> 20));
	g->count++;
	d->page_rows++;
	d->page_bytes += g->rows.len - before;
	if (d->page_rows >= PAGE_ROWS || d->page_bytes >= PAGE_BYTES)
		return dump_flush(d, err);
	return DBB_OK;
}

/* The statement that creates the nodes of one label set. */
static dbb_code node_statement(struct dump *d, struct group *g, struct dbb_error *err)
{
	json_t *labels = json_loadb(g->key, strlen(g->key), 0, NULL);
	json_t *list = n4j_value(labels), *l;
	size_t i;
	dbb_code rc = DBB_OK;

	if (!json_is_array(list)) {
		rc = dbb_fail(err, DBB_ERR_BACKUP_FAILED, "unexpected label list from Neo4j");
		goto out;
	}
	n4j_buf_reset(&d->scratch);
	n4j_buf_adds(&d->scratch, "UNWIND $rows AS r CREATE (n:");
	n4j_cy_ident(&d->scratch, N4J_IMPORT_LABEL);
	json_array_foreach(list, i, l)
	{
		if (!n4j_str(l)) {
			rc = dbb_fail(err, DBB_ERR_BACKUP_FAILED, "unexpected label from Neo4j");
			goto out;
		}
		n4j_buf_addc(&d->scratch, ':');
		n4j_cy_ident(&d->scratch, n4j_str(l));
	}
	n4j_buf_adds(&d->scratch, " {");
	n4j_cy_ident(&d->scratch, N4J_IMPORT_KEY);
	if (n4j_buf_adds(&d->scratch, ": r[0]}) SET n += r[1];\n") ||
	    !(g->statement = strdup(d->scratch.data)))
		rc = oom(err);
out:
	json_decref(labels);
	return rc;
}

/* The statement that creates the relationships of one type. */
static dbb_code rel_statement(struct dump *d, struct group *g, struct dbb_error *err)
{
	json_t *type = json_loadb(g->key, strlen(g->key), 0, NULL);
	dbb_code rc = DBB_OK;

	if (!n4j_str(type)) {
		rc =
		    dbb_fail(err, DBB_ERR_BACKUP_FAILED, "unexpected relationship type from Neo4j");
		goto out;
	}
	n4j_buf_reset(&d->scratch);
	n4j_buf_adds(&d->scratch, "UNWIND $rows AS r MATCH (a:");
	n4j_cy_ident(&d->scratch, N4J_IMPORT_LABEL);
	n4j_buf_adds(&d->scratch, " {");
	n4j_cy_ident(&d->scratch, N4J_IMPORT_KEY);
	n4j_buf_adds(&d->scratch, ": r[0]}) MATCH (b:");
	n4j_cy_ident(&d->scratch, N4J_IMPORT_LABEL);
	n4j_buf_adds(&d->scratch, " {");
	n4j_cy_ident(&d->scratch, N4J_IMPORT_KEY);
	n4j_buf_adds(&d->scratch, ": r[1]}) CREATE (a)-[x:");
	n4j_cy_ident(&d->scratch, n4j_str(type));
	if (n4j_buf_adds(&d->scratch, "]->(b) SET x += r[2];\n") ||
	    !(g->statement = strdup(d->scratch.data)))
		rc = oom(err);
out:
	json_decref(type);
	return rc;
}

/* Raw row [key, row]: key is the label list (nodes) or the type
 * (relationships), row the typed List [id, props] or [start, end, props]
 * that goes into the backup unchanged: no parse, no re-encoding. */
static dbb_code on_row(struct dump *d, const char *raw, size_t len, bool rels,
                       struct dbb_error *err)
{
	const char *key, *row;
	size_t key_len, row_len;
	struct group *g;
	bool created;
	dbb_code rc;

	if (n4j_row_split(raw, len, &key, &key_len, &row, &row_len))
		return dbb_fail(err, DBB_ERR_BACKUP_FAILED, "unexpected row from Neo4j: %.100s",
		                raw);
	g = dump_group(d, key, key_len, &created);
	if (!g)
		return oom(err);
	if (created) {
		rc = rels ? rel_statement(d, g, err) : node_statement(d, g, err);
		if (rc)
			return rc;
	}
	if (rels)
		d->rels++;
	else
		d->nodes++;
	return dump_add_row(d, g, row, row_len, err);
}

static dbb_code on_node(void *ud, const char *raw, size_t len, struct dbb_error *err)
{
	return on_row(ud, raw, len, false, err);
}

static dbb_code on_rel(void *ud, const char *raw, size_t len, struct dbb_error *err)
{
	return on_row(ud, raw, len, true, err);
}

/* "CREATE ... `name` FOR ..." -> "CREATE ... `name` IF NOT EXISTS FOR ..." */
static dbb_code write_schema_statement(struct dump *d, const char *create, struct dbb_error *err)
{
	const char *p = strchr(create, '`');
	dbb_code rc;

	if (!p)
		return dbb_fail(err, DBB_ERR_BACKUP_FAILED,
		                "unexpected schema statement from Neo4j: %.100s", create);
	for (p++; *p; p++) {
		if (*p == '`' && p[1] == '`')
			p++;
		else if (*p == '`')
			break;
	}
	if (!*p)
		return dbb_fail(err, DBB_ERR_BACKUP_FAILED,
		                "unexpected schema statement from Neo4j: %.100s", create);
	p++;
	rc = dbb_sink_write(d->out, create, (size_t)(p - create), err);
	rc = rc ? rc : sink_str(d->out, " IF NOT EXISTS", err);
	rc = rc ? rc : sink_str(d->out, p, err);
	return rc ? rc : sink_str(d->out, ";\n", err);
}

/* row: [name, createStatement] */
static dbb_code on_schema(void *ud, json_t *row, struct dbb_error *err)
{
	const char *name = n4j_str(json_array_get(row, 0));
	const char *create = n4j_str(json_array_get(row, 1));

	if (!name || !create)
		return dbb_fail(err, DBB_ERR_BACKUP_FAILED, "unexpected schema row from Neo4j");
	if (!strcmp(name, N4J_IMPORT_CONSTRAINT))
		return DBB_OK; /* left over from an interrupted restore */
	return write_schema_statement(ud, create, err);
}

static const char *const schema_queries[] = {
    "SHOW CONSTRAINTS YIELD name, createStatement RETURN name, createStatement ORDER BY name",
    "SHOW INDEXES YIELD name, type, owningConstraint, createStatement "
    "WHERE owningConstraint IS NULL AND type <> 'LOOKUP' "
    "RETURN name, createStatement ORDER BY name",
};

static dbb_code dump_standard(struct n4j_conn *c, struct dump *d, struct dbb_error *err)
{
	size_t i;
	dbb_code rc = DBB_OK;

	n4j_buf_reset(&d->scratch);
	n4j_buf_addf(&d->scratch,
	             N4J_HEADER " (standard export) of database '%s'\n"
	                        "// Each statement ends with ';' at the end of a line; strings "
	                        "never hold a raw newline.\n"
	                        "// A '" N4J_PARAMS
	                        "{...}' line gives the next statement its parameters in\n"
	                        "// Neo4j's typed JSON (Query API, application/vnd.neo4j.query).\n",
	             dbname(c->cfg));
	rc = sink_str(d->out, d->scratch.data, err);
	for (i = 0; i < sizeof(schema_queries) / sizeof(schema_queries[0]) && !rc; i++)
		rc = n4j_run(c, schema_queries[i], NULL, on_schema, d, DBB_ERR_BACKUP_FAILED, err);
	if (rc)
		return rc;
	n4j_buf_reset(&d->scratch);
	n4j_buf_adds(&d->scratch, "CREATE CONSTRAINT ");
	n4j_cy_ident(&d->scratch, N4J_IMPORT_CONSTRAINT);
	n4j_buf_adds(&d->scratch, " IF NOT EXISTS FOR (n:");
	n4j_cy_ident(&d->scratch, N4J_IMPORT_LABEL);
	n4j_buf_adds(&d->scratch, ") REQUIRE n.");
	n4j_cy_ident(&d->scratch, N4J_IMPORT_KEY);
	if (n4j_buf_adds(&d->scratch, " IS UNIQUE;\n"))
		return oom(err);
	rc = sink_str(d->out, d->scratch.data, err);
	if (rc)
		return rc;

	rc = n4j_run_raw(c, "MATCH (n) RETURN labels(n) AS l, [id(n), properties(n)] AS r", on_node,
	                 d, DBB_ERR_BACKUP_FAILED, err);
	rc = rc ? rc : dump_flush(d, err);
	rc = rc ? rc
	        : n4j_run_raw(c,
	                      "MATCH (a)-[r]->(b) RETURN type(r) AS t, "
	                      "[id(a), id(b), properties(r)] AS r",
	                      on_rel, d, DBB_ERR_BACKUP_FAILED, err);
	rc = rc ? rc : dump_flush(d, err);
	if (rc)
		return rc;

	n4j_buf_reset(&d->scratch);
	n4j_buf_adds(&d->scratch, "MATCH (n:");
	n4j_cy_ident(&d->scratch, N4J_IMPORT_LABEL);
	n4j_buf_adds(&d->scratch, ") CALL { WITH n REMOVE n:");
	n4j_cy_ident(&d->scratch, N4J_IMPORT_LABEL);
	n4j_buf_adds(&d->scratch, " REMOVE n.");
	n4j_cy_ident(&d->scratch, N4J_IMPORT_KEY);
	n4j_buf_adds(&d->scratch, " } IN TRANSACTIONS OF 10000 ROWS;\nDROP CONSTRAINT ");
	n4j_cy_ident(&d->scratch, N4J_IMPORT_CONSTRAINT);
	if (n4j_buf_addf(&d->scratch,
	                 " IF EXISTS;\nCALL db.awaitIndexes(600);\n" N4J_TRAILER
	                 ": %llu nodes, %llu "
	                 "relationships\n",
	                 d->nodes, d->rels))
		return oom(err);
	return sink_str(d->out, d->scratch.data, err);
}

/* ---- APOC export ---- */

static dbb_code on_apoc(void *ud, json_t *row, struct dbb_error *err)
{
	struct dump *d = ud;
	json_t *v = n4j_value(json_array_get(row, 0));

	if (!json_is_string(v))
		return DBB_OK; /* null: nothing in this batch */
	return dbb_sink_write(d->out, json_string_value(v), json_string_length(v), err);
}

static dbb_code dump_apoc(struct n4j_conn *c, struct dump *d, struct dbb_error *err)
{
	dbb_code rc;

	n4j_buf_reset(&d->scratch);
	if (n4j_buf_addf(&d->scratch,
	                 N4J_HEADER
	                 " (apoc export) of database '%s'\n"
	                 "// Written by apoc.export.cypher.all (format plain, UNWIND batches).\n",
	                 dbname(c->cfg)))
		return oom(err);
	rc = sink_str(d->out, d->scratch.data, err);
	if (rc)
		return rc;
	rc = n4j_run(c,
	             "CALL apoc.export.cypher.all(null, {stream: true, format: 'plain', "
	             "useOptimizations: {type: 'UNWIND_BATCH', unwindBatchSize: 500}, "
	             "batchSize: 10000}) YIELD cypherStatements RETURN cypherStatements",
	             NULL, on_apoc, d, DBB_ERR_BACKUP_FAILED, err);
	if (rc && err && strstr(err->message, "ProcedureNotFound"))
		return dbb_fail(
		    err, DBB_ERR_DB_UNAVAILABLE,
		    "use_apoc=true needs the APOC plugin, which is not installed in Neo4j "
		    "(apoc.export.cypher.all is unknown)");
	if (rc)
		return rc;
	return sink_str(d->out, "\n" N4J_TRAILER " (apoc export)\n", err);
}

static dbb_code neo4j_dump(const struct dbb_driver_ctx *ctx, const struct dbb_dump_options *opt,
                           struct dbb_sink *out, struct dbb_error *err)
{
	struct n4j_conn c;
	struct dump d;
	dbb_code rc;

	memset(&d, 0, sizeof(d));
	d.out = out;
	n4j_buf_init(&d.scratch, 1024 * 1024);
	rc = n4j_open(&c, ctx->cfg, (long)ctx->cfg->child_timeout, err);
	if (rc)
		goto out_buf;
	if (opt && opt->use_apoc)
		rc = dump_apoc(&c, &d, err);
	else
		rc = dump_standard(&c, &d, err);
	n4j_close(&c);
out_buf:
	dump_free_groups(&d);
	free(d.groups);
	n4j_buf_free(&d.scratch);
	return rc;
}

/* ---- validate, restore ---- */

static dbb_code neo4j_validate(const struct dbb_driver_ctx *ctx __attribute__((unused)),
                               struct dbb_source *in, struct dbb_error *err)
{
	struct n4j_reader *r = malloc(sizeof(*r));
	const char *stmt, *params;
	dbb_code rc;

	if (!r)
		return oom(err);
	n4j_reader_init(r, in, true);
	do
		rc = n4j_reader_next(r, &stmt, &params, err);
	while (!rc && stmt);
	n4j_reader_free(r);
	free(r);
	return rc;
}

/* A test-restore (issue 20) without a scratch database (Community has one
 * database): a full parse, every parameter line included (validate), and
 * a structural check: the rows of the statements that create nodes and
 * relationships add up to the totals of the trailer (a dump of this
 * driver's; an APOC export has none). The database is never contacted. */
static dbb_code neo4j_verify(const struct dbb_driver_ctx *ctx __attribute__((unused)),
                             struct dbb_source *in, struct dbb_stats *counts, struct dbb_error *err)
{
	static const char node_stmt[] = "UNWIND $rows AS r CREATE (n:";
	static const char rel_stmt[] = "UNWIND $rows AS r MATCH (a:";
	struct n4j_reader *r = malloc(sizeof(*r));
	const char *stmt, *params;
	unsigned long long nodes = 0, rels = 0, statements = 0;
	dbb_code rc;

	if (!r)
		return oom(err);
	n4j_reader_init(r, in, true);
	while (!(rc = n4j_reader_next(r, &stmt, &params, err)) && stmt) {
		bool is_node = !strncmp(stmt, node_stmt, sizeof(node_stmt) - 1);
		bool is_rel = !strncmp(stmt, rel_stmt, sizeof(rel_stmt) - 1);
		statements++;
		if (!is_node && !is_rel)
			continue;
		json_t *p = params ? json_loads(params, 0, NULL) : NULL;
		json_t *rows = json_object_get(p, "rows");
		if (json_is_object(rows)) /* typed JSON: {"$type":"List","_value":[...]} */
			rows = json_object_get(rows, "_value");
		if (!json_is_array(rows))
			rc = dbb_fail(err, DBB_ERR_INVALID_BACKUP,
			              "line %lu: a %s statement without its rows", r->stmt_line,
			              is_node ? "node" : "relationship");
		else if (is_node)
			nodes += json_array_size(rows);
		else
			rels += json_array_size(rows);
		json_decref(p);
		if (rc)
			break;
	}
	if (!rc && r->trailer_counts && (nodes != r->trailer_nodes || rels != r->trailer_rels))
		rc = dbb_fail(err, DBB_ERR_INVALID_BACKUP,
		              "the backup's trailer says %llu nodes and %llu relationships, its "
		              "statements create %llu and %llu",
		              r->trailer_nodes, r->trailer_rels, nodes, rels);
	n4j_reader_free(r);
	free(r);
	if (!rc)
		rc = dbb_stats_add_table(counts, NULL, "nodes", (int64_t)nodes, DBB_STATS_UNKNOWN,
		                         NULL, err);
	if (!rc)
		rc = dbb_stats_add_table(counts, NULL, "relationships", (int64_t)rels,
		                         DBB_STATS_UNKNOWN, NULL, err);
	if (!rc)
		rc = dbb_stats_add_table(counts, NULL, "statements", (int64_t)statements,
		                         DBB_STATS_UNKNOWN, NULL, err);
	counts->table_count = (int64_t)counts->ntables;
	counts->total_rows = (int64_t)(nodes + rels);
	counts->rows_exact = true;
	return rc;
}

static dbb_code neo4j_restore(const struct dbb_driver_ctx *ctx, struct dbb_source *in,
                              struct dbb_error *err)
{
	struct n4j_reader *r = malloc(sizeof(*r));
	struct n4j_conn c;
	const char *stmt, *params;
	dbb_code rc;

	if (!r)
		return oom(err);
	n4j_reader_init(r, in, false);
	rc = n4j_open(&c, ctx->cfg, (long)ctx->cfg->child_timeout, err);
	if (rc)
		goto out_reader;
	for (;;) {
		rc = n4j_reader_next(r, &stmt, &params, err);
		if (rc) {
			if (rc == DBB_ERR_INVALID_BACKUP)
				rc = DBB_ERR_RESTORE_FAILED;
			if (err)
				err->code = rc;
			break;
		}
		if (!stmt)
			break;
		rc = n4j_run(&c, stmt, params, NULL, NULL, DBB_ERR_RESTORE_FAILED, err);
		if (rc) {
			dbb_error_prefix(err, "statement %lu (line %lu) failed", r->statements,
			                 r->stmt_line);
			break;
		}
	}
	n4j_close(&c);
out_reader:
	n4j_reader_free(r);
	free(r);
	return rc;
}

/* ---- clean ---- */

static dbb_code collect_names(void *ud, json_t *row, struct dbb_error *err)
{
	const char *name = n4j_str(json_array_get(row, 0));

	if (name && json_array_append_new(ud, json_string(name)))
		return oom(err);
	return DBB_OK;
}

/* Runs "DROP <what> `name` IF EXISTS" for every name the query returns. */
static dbb_code drop_all(struct n4j_conn *c, const char *query, const char *what,
                         struct dbb_error *err)
{
	json_t *names = json_array(), *n;
	struct n4j_buf sql;
	size_t i;
	dbb_code rc;

	n4j_buf_init(&sql, 64 * 1024);
	if (!names)
		return oom(err);
	rc = n4j_run(c, query, NULL, collect_names, names, DBB_ERR_RESTORE_FAILED, err);
	json_array_foreach(names, i, n)
	{
		if (rc)
			break;
		n4j_buf_reset(&sql);
		if (n4j_buf_addf(&sql, "DROP %s ", what) ||
		    n4j_cy_ident(&sql, json_string_value(n)) || n4j_buf_adds(&sql, " IF EXISTS")) {
			rc = oom(err);
			break;
		}
		rc = n4j_run(c, sql.data, NULL, NULL, NULL, DBB_ERR_RESTORE_FAILED, err);
	}
	n4j_buf_free(&sql);
	json_decref(names);
	return rc;
}

static dbb_code neo4j_clean(const struct dbb_driver_ctx *ctx, struct dbb_error *err)
{
	struct n4j_conn c;
	dbb_code rc;

	rc = n4j_open(&c, ctx->cfg, (long)ctx->cfg->child_timeout, err);
	if (rc)
		return rc;
	rc = n4j_run(&c, "MATCH ()-[r]->() CALL { WITH r DELETE r } IN TRANSACTIONS OF 10000 ROWS",
	             NULL, NULL, NULL, DBB_ERR_RESTORE_FAILED, err);
	rc = rc ? rc
	        : n4j_run(&c,
	                  "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
	                  NULL, NULL, NULL, DBB_ERR_RESTORE_FAILED, err);
	rc = rc ? rc : drop_all(&c, "SHOW CONSTRAINTS YIELD name RETURN name", "CONSTRAINT", err);
	rc = rc ? rc
	        : drop_all(&c, "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name",
	                   "INDEX", err);
	if (rc)
		dbb_error_prefix(err, "cleaning Neo4j database '%s'", dbname(ctx->cfg));
	n4j_close(&c);
	return rc;
}

/* ---- stats ---- */

static dbb_code on_count(void *ud, json_t *row, struct dbb_error *err)
{
	long long *n = ud;

	if (!n4j_int(json_array_get(row, 0), n))
		return dbb_fail(err, DBB_ERR_INTERNAL, "unexpected count from Neo4j");
	return DBB_OK;
}

static dbb_code count_of(struct n4j_conn *c, const char *query, long long *n, struct dbb_error *err)
{
	*n = 0;
	return n4j_run(c, query, NULL, on_count, n, DBB_ERR_INTERNAL, err);
}

/* For every name the query returns, counts with pattern (name quoted), into
 * the stats map key. */
static dbb_code count_each(struct n4j_conn *c, const char *names_query, const char *before,
                           const char *after, struct dbb_stats *st, const char *key,
                           struct dbb_error *err)
{
	json_t *names = json_array(), *n;
	struct n4j_buf q;
	long long count;
	size_t i;
	dbb_code rc;

	if (!names)
		return oom(err);
	n4j_buf_init(&q, 64 * 1024);
	rc = n4j_run(c, names_query, NULL, collect_names, names, DBB_ERR_INTERNAL, err);
	json_array_foreach(names, i, n)
	{
		if (rc)
			break;
		n4j_buf_reset(&q);
		if (n4j_buf_adds(&q, before) || n4j_cy_ident(&q, json_string_value(n)) ||
		    n4j_buf_adds(&q, after)) {
			rc = oom(err);
			break;
		}
		rc = count_of(c, q.data, &count, err);
		if (!rc)
			rc = dbb_stats_add_count(st, key, json_string_value(n), count, err);
	}
	n4j_buf_free(&q);
	json_decref(names);
	return rc;
}

/* A string cell, or NULL (null or another type). */
static const char *cell_text(json_t *row, size_t i)
{
	json_t *v = n4j_plain(json_array_get(row, i));
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	json_decref(v); /* n4j_plain's string is a reference to the row's own */
	return s;
}

/* A list-of-strings cell; null stays null (present false). */
static dbb_code cell_strings(json_t *row, size_t i, struct dbb_stats_strings *out,
                             struct dbb_error *err)
{
	json_t *v = n4j_plain(json_array_get(row, i)), *e;
	size_t k;
	dbb_code rc = DBB_OK;

	out->present = json_is_array(v);
	json_array_foreach(v, k, e)
	{
		if (!rc)
			rc = dbb_stats_strings_add(
			    out, json_is_string(e) ? json_string_value(e) : "", err);
	}
	json_decref(v);
	return rc;
}

/* A row of SHOW CONSTRAINTS / SHOW INDEXES: name, type, entityType,
 * labelsOrTypes, properties[, state]. */
static dbb_code collect_object(void *ud, json_t *row, struct dbb_error *err)
{
	struct dbb_stats_object *o;
	dbb_code rc = dbb_stats_add_object(ud, &o, err);

	rc = rc ? rc : dbb_stats_text(&o->name, cell_text(row, 0), err);
	rc = rc ? rc : dbb_stats_text(&o->type, cell_text(row, 1), err);
	rc = rc ? rc : dbb_stats_text(&o->entity_type, cell_text(row, 2), err);
	rc = rc ? rc : cell_strings(row, 3, &o->labels_or_types, err);
	rc = rc ? rc : cell_strings(row, 4, &o->properties, err);
	if (!rc && json_array_size(row) > 5)
		rc = dbb_stats_text(&o->state, cell_text(row, 5), err);
	return rc;
}

static dbb_code list_of(struct n4j_conn *c, const char *query, struct dbb_stats *st,
                        const char *key, struct dbb_error *err)
{
	struct dbb_stats_objects *list;
	dbb_code rc = dbb_stats_list(st, key, &list, err);

	return rc ? rc : n4j_run(c, query, NULL, collect_object, list, DBB_ERR_INTERNAL, err);
}

static dbb_code neo4j_stats(const struct dbb_driver_ctx *ctx, struct dbb_stats *out,
                            struct dbb_error *err)
{
	struct n4j_conn c;
	long long nodes = 0, rels = 0;
	struct dbb_stats_map *map;
	dbb_code rc;

	rc = n4j_open(&c, ctx->cfg, 60, err);
	if (rc)
		return rc;
	rc = count_of(&c, "MATCH (n) RETURN count(n)", &nodes, err);
	rc = rc ? rc : count_of(&c, "MATCH ()-[r]->() RETURN count(r)", &rels, err);
	rc = rc ? rc : dbb_stats_add_extra(out, "node_count", nodes, err);
	rc = rc ? rc : dbb_stats_add_extra(out, "relationship_count", rels, err);
	/* made first, so they show as {} when the database has none */
	rc = rc ? rc : dbb_stats_map(out, "labels", &map, err);
	rc = rc ? rc : dbb_stats_map(out, "relationship_types", &map, err);
	rc = rc ? rc
	        : count_each(&c, "CALL db.labels() YIELD label RETURN label ORDER BY label",
	                     "MATCH (n:", ") RETURN count(n)", out, "labels", err);
	rc = rc ? rc
	        : count_each(
	              &c,
	              "CALL db.relationshipTypes() YIELD relationshipType AS t RETURN t ORDER BY t",
	              "MATCH ()-[r:", "]->() RETURN count(r)", out, "relationship_types", err);
	rc =
	    rc ? rc
	       : list_of(&c,
	                 "SHOW CONSTRAINTS YIELD name, type, entityType, labelsOrTypes, properties "
	                 "RETURN name, type, entityType, labelsOrTypes, properties ORDER BY name",
	                 out, "constraints", err);
	rc = rc ? rc
	        : list_of(
	              &c,
	              "SHOW INDEXES YIELD name, type, entityType, labelsOrTypes, properties, state "
	              "RETURN name, type, entityType, labelsOrTypes, properties, state ORDER BY "
	              "name",
	              out, "indexes", err);
	n4j_close(&c);
	if (!rc)
		rc = dbb_stats_text(&out->database, dbname(ctx->cfg), err);
	return rc;
}

const struct dbb_driver dbb_driver_neo4j = {
    .name = "neo4j",
    .extension = "cypher",
    .atomic_restore = false,
    .verify_validates = true,
    .settings = n4j_setting_table,
    .settings_count = sizeof(n4j_setting_table) / sizeof(n4j_setting_table[0]),
    .settings_size = sizeof(struct n4j_settings),
    .recognise = neo4j_recognise,
    .check_config = neo4j_check_config,
    .health = neo4j_health,
    .dump = neo4j_dump,
    .validate = neo4j_validate,
    .clean = neo4j_clean,
    .restore = neo4j_restore,
    .stats = neo4j_stats,
    .verify = neo4j_verify,
};
