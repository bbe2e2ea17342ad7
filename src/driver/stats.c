/* The statistics struct drivers fill (driver.h): growth and release. */
#include <stdlib.h>
#include <string.h>

#include "dbbackupd/driver.h"

static dbb_code oom(struct dbb_error *err)
{
	return dbb_fail(err, DBB_ERR_INTERNAL, "out of memory");
}

/* Room for one more element of size sz in *v (n used, *cap allocated). */
static dbb_code grow(void **v, size_t n, size_t *cap, size_t sz, struct dbb_error *err)
{
	if (n < *cap)
		return DBB_OK;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p = realloc(*v, ncap * sz);
	if (!p)
		return oom(err);
	*v = p;
	*cap = ncap;
	return DBB_OK;
}

void dbb_stats_init(struct dbb_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size_bytes = DBB_STATS_UNKNOWN;
	st->table_count = DBB_STATS_UNKNOWN;
	st->total_rows = DBB_STATS_UNKNOWN;
}

static void strings_free(struct dbb_stats_strings *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

static void object_free(struct dbb_stats_object *o)
{
	free(o->name);
	free(o->type);
	free(o->entity_type);
	free(o->state);
	strings_free(&o->labels_or_types);
	strings_free(&o->properties);
}

void dbb_stats_free(struct dbb_stats *st)
{
	if (!st)
		return;
	free(st->database);
	free(st->server_version);
	for (size_t i = 0; i < st->ntables; i++) {
		free(st->tables[i].schema);
		free(st->tables[i].name);
		free(st->tables[i].engine);
	}
	free(st->tables);
	for (size_t i = 0; i < st->nextras; i++)
		free(st->extras[i].name);
	free(st->extras);
	for (size_t i = 0; i < st->nmaps; i++) {
		for (size_t j = 0; j < st->maps[i].n; j++)
			free(st->maps[i].items[j].name);
		free(st->maps[i].items);
		free(st->maps[i].key);
	}
	free(st->maps);
	for (size_t i = 0; i < st->nlists; i++) {
		for (size_t j = 0; j < st->lists[i].n; j++)
			object_free(&st->lists[i].items[j]);
		free(st->lists[i].items);
		free(st->lists[i].key);
	}
	free(st->lists);
	dbb_stats_init(st);
}

dbb_code dbb_stats_text(char **field, const char *value, struct dbb_error *err)
{
	free(*field);
	*field = NULL;
	if (value && !(*field = strdup(value)))
		return oom(err);
	return DBB_OK;
}

dbb_code dbb_stats_add_table(struct dbb_stats *st, const char *schema, const char *name,
                             int64_t rows, int64_t size_bytes, const char *engine,
                             struct dbb_error *err)
{
	if (grow((void **)&st->tables, st->ntables, &st->tables_cap, sizeof(*st->tables), err))
		return DBB_ERR_INTERNAL;
	struct dbb_stats_table *t = &st->tables[st->ntables];
	memset(t, 0, sizeof(*t));
	t->rows = rows;
	t->size_bytes = size_bytes;
	st->ntables++; /* counted now, so dbb_stats_free frees what was copied */
	if (dbb_stats_text(&t->schema, schema, err) ||
	    dbb_stats_text(&t->name, name ? name : "", err) ||
	    dbb_stats_text(&t->engine, engine, err))
		return DBB_ERR_INTERNAL;
	return DBB_OK;
}

static dbb_code add_count(struct dbb_stats_count **v, size_t *n, size_t *cap, const char *name,
                          int64_t value, struct dbb_error *err)
{
	if (grow((void **)v, *n, cap, sizeof(**v), err))
		return DBB_ERR_INTERNAL;
	struct dbb_stats_count *c = &(*v)[*n];
	c->name = strdup(name ? name : "");
	if (!c->name)
		return oom(err);
	c->value = value;
	(*n)++;
	return DBB_OK;
}

dbb_code dbb_stats_add_extra(struct dbb_stats *st, const char *name, int64_t value,
                             struct dbb_error *err)
{
	return add_count(&st->extras, &st->nextras, &st->extras_cap, name, value, err);
}

dbb_code dbb_stats_map(struct dbb_stats *st, const char *key, struct dbb_stats_map **out,
                       struct dbb_error *err)
{
	for (size_t i = 0; i < st->nmaps; i++)
		if (strcmp(st->maps[i].key, key) == 0) {
			*out = &st->maps[i];
			return DBB_OK;
		}
	struct dbb_stats_map *p = realloc(st->maps, (st->nmaps + 1) * sizeof(*p));
	if (!p)
		return oom(err);
	st->maps = p;
	struct dbb_stats_map *m = &st->maps[st->nmaps];
	memset(m, 0, sizeof(*m));
	if (!(m->key = strdup(key)))
		return oom(err);
	st->nmaps++;
	*out = m;
	return DBB_OK;
}

dbb_code dbb_stats_add_count(struct dbb_stats *st, const char *key, const char *name, int64_t value,
                             struct dbb_error *err)
{
	struct dbb_stats_map *m;
	if (dbb_stats_map(st, key, &m, err))
		return DBB_ERR_INTERNAL;
	return add_count(&m->items, &m->n, &m->cap, name, value, err);
}

dbb_code dbb_stats_list(struct dbb_stats *st, const char *key, struct dbb_stats_objects **out,
                        struct dbb_error *err)
{
	for (size_t i = 0; i < st->nlists; i++)
		if (strcmp(st->lists[i].key, key) == 0) {
			*out = &st->lists[i];
			return DBB_OK;
		}
	struct dbb_stats_objects *p = realloc(st->lists, (st->nlists + 1) * sizeof(*p));
	if (!p)
		return oom(err);
	st->lists = p;
	struct dbb_stats_objects *l = &st->lists[st->nlists];
	memset(l, 0, sizeof(*l));
	if (!(l->key = strdup(key)))
		return oom(err);
	st->nlists++;
	*out = l;
	return DBB_OK;
}

dbb_code dbb_stats_add_object(struct dbb_stats_objects *list, struct dbb_stats_object **out,
                              struct dbb_error *err)
{
	if (grow((void **)&list->items, list->n, &list->cap, sizeof(*list->items), err))
		return DBB_ERR_INTERNAL;
	*out = &list->items[list->n++];
	memset(*out, 0, sizeof(**out));
	return DBB_OK;
}

dbb_code dbb_stats_strings_add(struct dbb_stats_strings *s, const char *value,
                               struct dbb_error *err)
{
	char **p = realloc(s->v, (s->n + 1) * sizeof(*p));
	if (!p)
		return oom(err);
	s->v = p;
	s->present = true;
	if (!(s->v[s->n] = strdup(value ? value : "")))
		return oom(err);
	s->n++;
	return DBB_OK;
}
