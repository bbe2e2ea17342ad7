/* The table of database drivers: the only place that lists them. */
#include "dbbackupd/driver.h"

#include <stdio.h>
#include <string.h>

extern const struct dbb_driver dbb_driver_sqlite;
extern const struct dbb_driver dbb_driver_postgresql;
extern const struct dbb_driver dbb_driver_mysql;
extern const struct dbb_driver dbb_driver_neo4j;

/* The built ones (CMake's DBB_WITH_<DB> options), in the order the format
 * sniffer asks them (sniff.h). */
static const struct dbb_driver *const drivers[] = {
#ifdef DBB_WITH_SQLITE
    &dbb_driver_sqlite,
#endif
#ifdef DBB_WITH_POSTGRESQL
    &dbb_driver_postgresql,
#endif
#ifdef DBB_WITH_MYSQL
    &dbb_driver_mysql,
#endif
#ifdef DBB_WITH_NEO4J
    &dbb_driver_neo4j,
#endif
};

#define DRIVER_COUNT (sizeof(drivers) / sizeof(drivers[0]))

const struct dbb_driver *dbb_driver_find(const char *name)
{
	for (size_t i = 0; i < DRIVER_COUNT; i++)
		if (strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	return NULL;
}

const struct dbb_driver *dbb_driver_at(size_t i)
{
	return i < DRIVER_COUNT ? drivers[i] : NULL;
}

const char *dbb_driver_names(void)
{
	static char names[256];
	static int once;
	if (!once) {
		/* first called from main() before any thread starts */
		size_t off = 0;
		for (size_t i = 0; i < DRIVER_COUNT && off < sizeof(names); i++)
			off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s",
			                        i ? ", " : "", drivers[i]->name);
		once = 1;
	}
	return names;
}
