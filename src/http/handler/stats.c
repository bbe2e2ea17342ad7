/* GET /backup/stats: statistics of the live database, with the same field
 * names for every database (dbb_stats in driver.h):
 *
 *   success, database_type, database, server_version,
 *   database_size_bytes, database_size ("12 MB", as pg_size_pretty),
 *   table_count, total_row_estimate, tables_truncated,
 *   tables: [{schema, name, row_estimate, rows (an exact count), size_bytes,
 *             engine}]
 *
 * then the database's extras (view_count, node_count, labels, indexes...).
 * A field a database does not know is left out. */
#include <inttypes.h>
#include <stdio.h>

#include "http/internal.h"

/* pg_size_pretty's rounding: bytes below 10 kB, then kB, MB, GB, TB with
 * halves rounded away from zero. */
static void size_pretty(int64_t size, char *buf, size_t cap)
{
	static const char *const units[] = {"kB", "MB", "GB", "TB", "PB"};
	const int64_t limit = 10 * 1024, limit2 = limit * 2 - 1;
	if (size < limit) {
		snprintf(buf, cap, "%" PRId64 " bytes", size);
		return;
	}
	size /= 1 << 9; /* one extra bit for rounding */
	size_t u = 0;
	while (size >= limit2 && u + 1 < sizeof(units) / sizeof(units[0])) {
		size /= 1 << 10;
		u++;
	}
	snprintf(buf, cap, "%" PRId64 " %s", (size + 1) / 2, units[u]);
}

static json_t *set_int(json_t *o, const char *key, int64_t v)
{
	if (o && v != DBB_STATS_UNKNOWN)
		json_object_set_new(o, key, json_integer((json_int_t)v));
	return o;
}

static json_t *set_text(json_t *o, const char *key, const char *v)
{
	if (o && v)
		json_object_set_new(o, key, dbb_json_text(v));
	return o;
}

static json_t *table_json(const struct dbb_stats *st, const struct dbb_stats_table *t)
{
	json_t *o = json_object();
	set_text(o, "schema", t->schema);
	set_text(o, "name", t->name);
	set_int(o, "row_estimate", t->rows);
	if (st->rows_exact)
		set_int(o, "rows", t->rows);
	set_int(o, "size_bytes", t->size_bytes);
	set_text(o, "engine", t->engine);
	return o;
}

static json_t *strings_json(const struct dbb_stats_strings *s)
{
	if (!s->present)
		return json_null();
	json_t *a = json_array();
	for (size_t i = 0; a && i < s->n; i++)
		json_array_append_new(a, dbb_json_text(s->v[i]));
	return a;
}

static json_t *object_json(const struct dbb_stats_object *x)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "name", x->name ? dbb_json_text(x->name) : json_null());
	json_object_set_new(o, "type", x->type ? dbb_json_text(x->type) : json_null());
	json_object_set_new(o, "entity_type",
	                    x->entity_type ? dbb_json_text(x->entity_type) : json_null());
	json_object_set_new(o, "labels_or_types", strings_json(&x->labels_or_types));
	json_object_set_new(o, "properties", strings_json(&x->properties));
	set_text(o, "state", x->state);
	return o;
}

static json_t *stats_json(const char *type, const struct dbb_stats *st)
{
	json_t *body = json_pack("{s:b, s:s}", "success", 1, "database_type", type);
	set_text(body, "database", st->database);
	set_text(body, "server_version", st->server_version);
	set_int(body, "database_size_bytes", st->size_bytes);
	if (body && st->size_bytes != DBB_STATS_UNKNOWN) {
		char pretty[32];
		size_pretty(st->size_bytes, pretty, sizeof(pretty));
		json_object_set_new(body, "database_size", json_string(pretty));
	}
	set_int(body, "table_count", st->table_count);
	set_int(body, "total_row_estimate", st->total_rows);
	if (body && st->table_count != DBB_STATS_UNKNOWN) {
		json_t *tables = json_array();
		for (size_t i = 0; tables && i < st->ntables; i++)
			json_array_append_new(tables, table_json(st, &st->tables[i]));
		json_object_set_new(body, "tables", tables);
	}
	if (body && st->tables_truncated)
		json_object_set_new(body, "tables_truncated", json_true());
	for (size_t i = 0; i < st->nextras; i++)
		set_int(body, st->extras[i].name, st->extras[i].value);
	for (size_t i = 0; body && i < st->nmaps; i++) {
		json_t *m = json_object();
		for (size_t j = 0; m && j < st->maps[i].n; j++)
			json_object_set_new(m, st->maps[i].items[j].name,
			                    json_integer((json_int_t)st->maps[i].items[j].value));
		json_object_set_new(body, st->maps[i].key, m);
	}
	for (size_t i = 0; body && i < st->nlists; i++) {
		json_t *a = json_array();
		for (size_t j = 0; a && j < st->lists[i].n; j++)
			json_array_append_new(a, object_json(&st->lists[i].items[j]));
		json_object_set_new(body, st->lists[i].key, a);
	}
	return body;
}

enum MHD_Result dbb_handle_stats(struct dbb_request *req)
{
	struct dbb_error err = {0};
	struct dbb_stats st;
	dbb_code rc = dbb_ops_stats(req->srv->ops, &st, &err);
	json_t *body = rc ? NULL : stats_json(dbb_ops_database_type(req->srv->ops), &st);
	dbb_stats_free(&st);
	if (rc)
		return dbb_reply_err(req, &err);
	return dbb_reply_json(req, 200, body);
}
