/* The clean before an in-place PostgreSQL restore: a census of user objects from the catalog, a
 * read-only check of it before anything is touched, and the DO block that drops them inside the
 * restore's transaction. */
#include "pg_clean.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The census: one row per top-level user object of the database.
 *
 * User objects are those pg_dump dumps: oid >= 16384 (FirstNormalObjectId:
 * built-in objects, including those initdb makes, are below), in a schema
 * whose name does not start with pg_ (pg_catalog, pg_toast, temporary
 * schemas) and is not information_schema, or in no schema at all. The
 * extension plpgsql is left alone: the clean itself is written in it, and
 * the dump's CREATE EXTENSION IF NOT EXISTS finds it.
 *
 * Top-level: objects that go with another one are left out (an index, a
 * partition, an identity or serial sequence, a table's row type, an array
 * type, a multirange, a range's constructors, an operator class made with
 * its family, an extension's members...): the catalog says so with an auto,
 * internal, extension or partition dependency on another object (pg_depend
 * deptype a, i, e, P, S; a partitioned table's internal dependency on its
 * own columns does not count).
 *
 * Columns: classid, objid; what (type and identity, for messages); owner
 * (a role name, NULL when only a superuser may drop it); ok (the connected
 * role may drop it: superuser, or it has the privileges of the owner, which
 * is what PostgreSQL's ownership checks ask); stmt (the statement that drops
 * it, for objects in public or in no schema; NULL for objects inside the
 * other schemas, which go with their schema); phase (the order of the
 * drops).
 *
 * The statements come from the catalog's own identities
 * (pg_identify_object: schema-qualified, quoted by the server), as DROP
 * <kind> <identity> CASCADE, except where that is not valid SQL:
 * - routines: DROP ROUTINE with the input argument types, each marked IN.
 *   ROUTINE takes functions, procedures and aggregates alike (a zero-argument
 *   aggregate is f(), where DROP AGGREGATE wants f(*)), and with a parameter
 *   mode written PostgreSQL matches input arguments only, so procedures that
 *   differ in OUT parameters are never ambiguous;
 * - statistics objects (DROP STATISTICS), transforms, large objects
 *   (lo_unlink) and subscriptions (disabled and detached from their slot
 *   first, so that DROP SUBSCRIPTION can run inside a transaction; the
 *   publisher's slot is left, and the dump's CREATE SUBSCRIPTION ...
 *   connect = false names it again). Subscriptions only when the role is a
 *   superuser: pg_dump dumps them for superusers only. */
static const char CENSUS_SQL[] =
    "WITH me AS (SELECT r.rolsuper AS su FROM pg_catalog.pg_roles r WHERE r.rolname =\n"
    " current_user),\n"
    " usr AS (SELECT n.oid, n.nspname, n.nspowner FROM pg_catalog.pg_namespace n\n"
    "  WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'),\n"
    " obj AS (\n"
    "  SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::oid AS classid, o.oid AS objid,\n"
    "   o.relnamespace AS nsp, o.relowner AS owner, NULL::text AS stmt\n"
    "   FROM pg_catalog.pg_class o WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass, o.oid, o.pronamespace,\n"
    "   o.proowner,\n"
    "   pg_catalog.format('DROP ROUTINE %I.%I(%s) CASCADE', n.nspname, o.proname,\n"
    "    (SELECT pg_catalog.string_agg('IN ' || pg_catalog.format_type(a.t, NULL), ', '\n"
    "      ORDER BY a.i)\n"
    "     FROM pg_catalog.unnest(o.proargtypes::pg_catalog.oid[]) WITH ORDINALITY AS a(t, i)))\n"
    "   FROM pg_catalog.pg_proc o JOIN pg_catalog.pg_namespace n ON n.oid = o.pronamespace\n"
    "   WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, o.oid, o.typnamespace,\n"
    "   o.typowner, NULL FROM pg_catalog.pg_type o WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_operator'::pg_catalog.regclass, o.oid, o.oprnamespace,\n"
    "   o.oprowner, NULL FROM pg_catalog.pg_operator o WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_opclass'::pg_catalog.regclass, o.oid, o.opcnamespace,\n"
    "   o.opcowner, NULL FROM pg_catalog.pg_opclass o WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_opfamily'::pg_catalog.regclass, o.oid, o.opfnamespace,\n"
    "   o.opfowner, NULL FROM pg_catalog.pg_opfamily o WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_collation'::pg_catalog.regclass, o.oid, o.collnamespace,\n"
    "   o.collowner, NULL FROM pg_catalog.pg_collation o WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_conversion'::pg_catalog.regclass, o.oid, o.connamespace,\n"
    "   o.conowner, NULL FROM pg_catalog.pg_conversion o WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass, o.oid,\n"
    "   o.stxnamespace,\n"
    "   o.stxowner, pg_catalog.format('DROP STATISTICS %I.%I CASCADE', n.nspname, o.stxname)\n"
    "   FROM pg_catalog.pg_statistic_ext o JOIN pg_catalog.pg_namespace n ON n.oid =\n"
    "    o.stxnamespace\n"
    "   WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_ts_config'::pg_catalog.regclass, o.oid, o.cfgnamespace,\n"
    "   o.cfgowner, NULL FROM pg_catalog.pg_ts_config o WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_ts_dict'::pg_catalog.regclass, o.oid, o.dictnamespace,\n"
    "   o.dictowner, NULL FROM pg_catalog.pg_ts_dict o WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_ts_parser'::pg_catalog.regclass, o.oid, o.prsnamespace,\n"
    "   NULL,\n"
    "   NULL FROM pg_catalog.pg_ts_parser o WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_ts_template'::pg_catalog.regclass, o.oid,\n"
    "   o.tmplnamespace,\n"
    "   NULL, NULL FROM pg_catalog.pg_ts_template o WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_namespace'::pg_catalog.regclass, u.oid, NULL,\n"
    "   u.nspowner, NULL\n"
    "   FROM usr u WHERE u.nspname <> 'public'\n"
    "  UNION ALL SELECT 'pg_catalog.pg_extension'::pg_catalog.regclass, o.oid, NULL,\n"
    "   o.extowner, NULL\n"
    "   FROM pg_catalog.pg_extension o WHERE o.oid >= 16384 AND o.extname <> 'plpgsql'\n"
    "  UNION ALL SELECT 'pg_catalog.pg_event_trigger'::pg_catalog.regclass, o.oid, NULL,\n"
    "   o.evtowner,\n"
    "   NULL FROM pg_catalog.pg_event_trigger o\n"
    "  UNION ALL SELECT 'pg_catalog.pg_publication'::pg_catalog.regclass, o.oid, NULL,\n"
    "   o.pubowner,\n"
    "   NULL FROM pg_catalog.pg_publication o\n"
    "  UNION ALL SELECT 'pg_catalog.pg_foreign_data_wrapper'::pg_catalog.regclass, o.oid, NULL,\n"
    "   o.fdwowner, NULL FROM pg_catalog.pg_foreign_data_wrapper o WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_foreign_server'::pg_catalog.regclass, o.oid, NULL,\n"
    "   o.srvowner, NULL FROM pg_catalog.pg_foreign_server o\n"
    "  UNION ALL SELECT 'pg_catalog.pg_language'::pg_catalog.regclass, o.oid, NULL,\n"
    "   o.lanowner, NULL\n"
    "   FROM pg_catalog.pg_language o WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_am'::pg_catalog.regclass, o.oid, NULL, NULL, NULL\n"
    "   FROM pg_catalog.pg_am o WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_cast'::pg_catalog.regclass, o.oid, NULL,\n"
    "   CASE WHEN pg_catalog.pg_has_role(s.typowner, 'USAGE') THEN s.typowner ELSE t.typowner\n"
    "    END,\n"
    "   NULL FROM pg_catalog.pg_cast o JOIN pg_catalog.pg_type s ON s.oid = o.castsource\n"
    "   JOIN pg_catalog.pg_type t ON t.oid = o.casttarget WHERE o.oid >= 16384\n"
    "  UNION ALL SELECT 'pg_catalog.pg_transform'::pg_catalog.regclass, o.oid, NULL,\n"
    "   t.typowner,\n"
    "   pg_catalog.format('DROP TRANSFORM FOR %s LANGUAGE %I CASCADE',\n"
    "    pg_catalog.format_type(o.trftype, NULL), l.lanname)\n"
    "   FROM pg_catalog.pg_transform o JOIN pg_catalog.pg_type t ON t.oid = o.trftype\n"
    "   JOIN pg_catalog.pg_language l ON l.oid = o.trflang\n"
    "  UNION ALL SELECT 'pg_catalog.pg_largeobject'::pg_catalog.regclass, o.oid, NULL,\n"
    "   o.lomowner,\n"
    "   pg_catalog.format('SELECT pg_catalog.lo_unlink(%s)', o.oid)\n"
    "   FROM pg_catalog.pg_largeobject_metadata o\n"
    "  UNION ALL SELECT 'pg_catalog.pg_subscription'::pg_catalog.regclass, o.oid, NULL,\n"
    "   o.subowner,\n"
    "   pg_catalog.format('ALTER SUBSCRIPTION %1$I DISABLE;'\n"
    "    ' ALTER SUBSCRIPTION %1$I SET (slot_name = NONE); DROP SUBSCRIPTION %1$I', o.subname)\n"
    "   FROM pg_catalog.pg_subscription o, me\n"
    "   WHERE me.su AND o.subdbid = (SELECT d.oid FROM pg_catalog.pg_database d\n"
    "    WHERE d.datname = pg_catalog.current_database())\n"
    " )\n"
    "SELECT o.classid, o.objid, i.type || ' ' || i.identity AS what,\n"
    " o.owner::pg_catalog.regrole::text AS owner,\n"
    " (me.su OR (o.owner IS NOT NULL AND pg_catalog.pg_has_role(o.owner, 'USAGE'))) AS ok,\n"
    " CASE WHEN o.nsp IS NULL OR o.nsp = (SELECT u.oid FROM usr u WHERE u.nspname = 'public')\n"
    "  THEN coalesce(o.stmt, pg_catalog.format('DROP %s %s CASCADE',\n"
    "   pg_catalog.upper(pg_catalog.replace(i.type, '-', ' ')), i.identity)) END AS stmt,\n"
    " CASE o.classid\n"
    "  WHEN 'pg_catalog.pg_subscription'::pg_catalog.regclass THEN 1\n"
    "  WHEN 'pg_catalog.pg_event_trigger'::pg_catalog.regclass THEN 2\n"
    "  WHEN 'pg_catalog.pg_publication'::pg_catalog.regclass THEN 3\n"
    "  WHEN 'pg_catalog.pg_extension'::pg_catalog.regclass THEN 4\n"
    "  WHEN 'pg_catalog.pg_namespace'::pg_catalog.regclass THEN 6\n"
    "  WHEN 'pg_catalog.pg_largeobject'::pg_catalog.regclass THEN 8\n"
    "  ELSE CASE WHEN o.nsp IS NULL THEN 5 ELSE 7 END END AS phase\n"
    "FROM obj o CROSS JOIN me\n"
    " CROSS JOIN LATERAL pg_catalog.pg_identify_object(o.classid, o.objid, 0) AS i\n"
    "WHERE (o.nsp IS NULL OR o.nsp IN (SELECT u.oid FROM usr u))\n"
    " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d\n"
    "  WHERE d.classid = o.classid AND d.objid = o.objid\n"
    "   AND d.deptype IN ('a', 'i', 'e', 'P', 'S')\n"
    "   AND NOT (d.refclassid = d.classid AND d.refobjid = d.objid))\n";

/* The clean, around two copies of the census: CLEAN_HEAD, census,
 * CLEAN_MIDDLE, census, CLEAN_TAIL. The plan is read whole before the first
 * drop (a row computed after a drop could name a type that is gone); an
 * object already dropped by the CASCADE of an earlier one is skipped, so
 * each statement that runs must succeed. search_path is empty while it
 * runs, so every name is schema-qualified, and is given back afterwards.
 * The census taken at the end must be empty: otherwise the error names what
 * is left and the transaction, with it the clean, rolls back. */
static const char CLEAN_HEAD[] =
    "DO $dbb_clean$\n"
    "DECLARE\n"
    "\told_path text := pg_catalog.current_setting('search_path');\n"
    "\tc oid[];\n"
    "\to oid[];\n"
    "\ts text[];\n"
    "\tn bigint;\n"
    "\tw text;\n"
    "BEGIN\n"
    "\tPERFORM pg_catalog.set_config('search_path', '', false);\n"
    "\tSELECT pg_catalog.array_agg(x.classid ORDER BY x.phase, x.objid),\n"
    "\t       pg_catalog.array_agg(x.objid ORDER BY x.phase, x.objid),\n"
    "\t       pg_catalog.array_agg(x.stmt ORDER BY x.phase, x.objid)\n"
    "\t  INTO c, o, s\n"
    "\t  FROM (\n";
static const char CLEAN_MIDDLE[] =
    ") AS x WHERE x.stmt IS NOT NULL;\n"
    "\tFOR i IN 1 .. coalesce(pg_catalog.array_length(s, 1), 0) LOOP\n"
    "\t\tIF (pg_catalog.pg_identify_object(c[i], o[i], 0)).identity IS NOT NULL THEN\n"
    "\t\t\tEXECUTE s[i];\n"
    "\t\tEND IF;\n"
    "\tEND LOOP;\n"
    "\tSELECT pg_catalog.count(*), pg_catalog.string_agg(x.what, ', ' ORDER BY x.phase, x.what)\n"
    "\t  INTO n, w\n"
    "\t  FROM (\n";
static const char CLEAN_TAIL[] =
    ") AS x;\n"
    "\tIF n > 0 THEN\n"
    "\t\tRAISE EXCEPTION 'dbbackupd: the clean left % object(s) behind: %', n,\n"
    "\t\t\tpg_catalog.left(w, 400);\n"
    "\tEND IF;\n"
    "\tPERFORM pg_catalog.set_config('search_path', old_path, false);\n"
    "END\n"
    "$dbb_clean$;\n";

/* The per-database catalogs with an oid column that the census covers, or
 * whose rows belong to an object it covers (defaults, constraints, triggers,
 * rules, policies, operators and functions of operator families, enum
 * labels, publication members, user mappings) or that the clean keeps
 * (default privileges). A catalog not in this list that holds user objects
 * is a kind of object this code does not know: refused, not left behind. */
static const char *const KNOWN_CATALOGS[] = {
    "pg_am",
    "pg_amop",
    "pg_amproc",
    "pg_attrdef",
    "pg_cast",
    "pg_class",
    "pg_collation",
    "pg_constraint",
    "pg_conversion",
    "pg_default_acl",
    "pg_enum",
    "pg_event_trigger",
    "pg_extension",
    "pg_foreign_data_wrapper",
    "pg_foreign_server",
    "pg_language",
    "pg_largeobject_metadata",
    "pg_namespace",
    "pg_opclass",
    "pg_operator",
    "pg_opfamily",
    "pg_policy",
    "pg_proc",
    "pg_publication",
    "pg_publication_namespace",
    "pg_publication_rel",
    "pg_rewrite",
    "pg_statistic_ext",
    "pg_transform",
    "pg_trigger",
    "pg_ts_config",
    "pg_ts_dict",
    "pg_ts_parser",
    "pg_ts_template",
    "pg_type",
    "pg_user_mapping",
};

#define BLOCKERS_SHOWN 8

void pg_message_one_line(const char *in, char *out, size_t cap)
{
	size_t k = 0;

	for (; in && *in && k + 1 < cap; in++)
		out[k++] = (*in == '\n' || *in == '\r' || *in == '\t') ? ' ' : *in;
	while (k > 0 && out[k - 1] == ' ')
		k--;
	out[k] = '\0';
}

static dbb_code query(PGconn *conn, const char *sql, PGresult **out, struct dbb_error *err)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	char msg[600];

	*out = NULL;
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		*out = res;
		return DBB_OK;
	}
	PQclear(res);
	pg_message_one_line(PQerrorMessage(conn), msg, sizeof(msg));
	if (PQstatus(conn) != CONNECTION_OK)
		return dbb_fail(
		    err, DBB_ERR_DB_UNAVAILABLE,
		    "PostgreSQL connection lost (checking what the clean must drop): %s", msg);
	return dbb_fail(err, DBB_ERR_INTERNAL,
	                "PostgreSQL query failed (checking what the clean must drop): %s", msg);
}

/* Appends s to buf (NUL-terminated, capacity cap), cutting at the end. */
static void append(char *buf, size_t cap, const char *s)
{
	size_t len = strlen(buf);

	if (len + 1 < cap)
		snprintf(buf + len, cap - len, "%s", s);
}

/* Catalogs outside KNOWN_CATALOGS that hold user objects: a refusal. */
static dbb_code check_unknown_catalogs(PGconn *conn, struct dbb_error *err)
{
	static const char list_sql[] =
	    "SELECT c.relname FROM pg_catalog.pg_class c"
	    " WHERE c.relnamespace = 'pg_catalog'::pg_catalog.regnamespace AND c.relkind = 'r'"
	    "  AND NOT c.relisshared"
	    "  AND pg_catalog.has_table_privilege(c.oid, 'SELECT')"
	    "  AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid"
	    "   AND a.attname = 'oid' AND a.attnum > 0 AND NOT a.attisdropped)"
	    " ORDER BY 1";
	PGresult *res = NULL, *rows = NULL;
	char found[400] = "";
	dbb_code rc;

	rc = query(conn, list_sql, &res, err);
	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(res) && !rc; i++) {
		const char *name = PQgetvalue(res, i, 0);
		char sql[200];
		size_t k;

		for (k = 0; k < sizeof(KNOWN_CATALOGS) / sizeof(KNOWN_CATALOGS[0]); k++)
			if (strcmp(name, KNOWN_CATALOGS[k]) == 0)
				break;
		if (k < sizeof(KNOWN_CATALOGS) / sizeof(KNOWN_CATALOGS[0]))
			continue;
		/* the names come from pg_class and are plain identifiers */
		snprintf(sql, sizeof(sql),
		         "SELECT 1 FROM pg_catalog.\"%s\" WHERE oid >= 16384 LIMIT 1", name);
		rc = query(conn, sql, &rows, err);
		if (!rc && PQntuples(rows) > 0) {
			append(found, sizeof(found), found[0] ? ", " : "");
			append(found, sizeof(found), name);
		}
		PQclear(rows);
		rows = NULL;
	}
	PQclear(res);
	if (!rc && found[0])
		rc = dbb_fail(err, DBB_ERR_RESTORE_CONFLICT,
		              "the database holds objects of a kind the clean does not know "
		              "(catalog %s), so it could not empty the database for the restore",
		              found);
	return rc;
}

/* The census's objects that the role may not drop: a refusal naming them. */
static dbb_code check_census(PGconn *conn, struct dbb_error *err)
{
	static const char head[] = "SELECT x.what, x.owner FROM (\n";
	static const char tail[] = ") AS x WHERE NOT x.ok ORDER BY x.phase, x.what";
	size_t cap = sizeof(head) + sizeof(CENSUS_SQL) + sizeof(tail);
	char *sql = malloc(cap);
	PGresult *res = NULL;
	char list[700] = "", item[300];
	int n;
	dbb_code rc;

	if (!sql)
		return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
	snprintf(sql, cap, "%s%s%s", head, CENSUS_SQL, tail);
	rc = query(conn, sql, &res, err);
	free(sql);
	if (rc)
		return rc;
	n = PQntuples(res);
	for (int i = 0; i < n && i < BLOCKERS_SHOWN; i++) {
		if (PQgetisnull(res, i, 1))
			snprintf(item, sizeof(item), "%s%s (only a superuser may drop it)",
			         i ? "; " : "", PQgetvalue(res, i, 0));
		else
			snprintf(item, sizeof(item), "%s%s (owner %s)", i ? "; " : "",
			         PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
		append(list, sizeof(list), item);
	}
	if (n > BLOCKERS_SHOWN) {
		snprintf(item, sizeof(item), "; and %d more", n - BLOCKERS_SHOWN);
		append(list, sizeof(list), item);
	}
	if (n > 0)
		rc = dbb_fail(err, DBB_ERR_RESTORE_CONFLICT,
		              "the restore must first drop every object in the database, and "
		              "role \"%s\" cannot drop %d of them: %s. It may drop only what it "
		              "owns (a superuser: anything), and the dump re-creates everything "
		              "as its own",
		              PQuser(conn), n, list);
	PQclear(res);
	return rc;
}

dbb_code pg_clean_check(PGconn *conn, struct dbb_error *err)
{
	PGresult *res = NULL;
	dbb_code rc;

	if (PQserverVersion(conn) < PG_CLEAN_MIN_SERVER)
		return dbb_fail(err, DBB_ERR_RESTORE_CONFLICT,
		                "an in-place restore needs PostgreSQL 11 or later; this server is "
		                "%d.%d",
		                PQserverVersion(conn) / 10000, PQserverVersion(conn) / 100 % 100);
	/* One snapshot for every query, and nothing written. */
	rc = query(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", &res, err);
	PQclear(res);
	res = NULL;
	if (rc)
		return rc;
	rc = query(conn, "SELECT 1 FROM pg_catalog.pg_language WHERE lanname = 'plpgsql'", &res,
	           err);
	if (!rc && PQntuples(res) == 0)
		rc = dbb_fail(err, DBB_ERR_RESTORE_CONFLICT,
		              "the clean before an in-place restore runs in PL/pgSQL, and the "
		              "database has no plpgsql language (CREATE EXTENSION plpgsql)");
	PQclear(res);
	res = NULL;
	if (!rc)
		rc = check_census(conn, err);
	if (!rc)
		rc = check_unknown_catalogs(conn, err);
	if (PQstatus(conn) == CONNECTION_OK)
		PQclear(PQexec(conn, "ROLLBACK"));
	return rc;
}

dbb_code pg_clean_write(struct dbb_sink *out, struct dbb_error *err)
{
	const char *const parts[] = {CLEAN_HEAD, CENSUS_SQL, CLEAN_MIDDLE, CENSUS_SQL, CLEAN_TAIL};
	dbb_code rc = DBB_OK;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && !rc; i++)
		rc = dbb_sink_write(out, parts[i], strlen(parts[i]), err);
	return rc;
}
