/* Recognising a backup's format from its first bytes, so that a restore can
 * say what a wrong file is ("a MySQL dump", "an SQLite database") instead of
 * failing somewhere in the middle. */
#ifndef DBBACKUPD_SNIFF_H
#define DBBACKUPD_SNIFF_H

#include <stddef.h>

enum dbb_format {
	DBB_FORMAT_UNKNOWN,
	DBB_FORMAT_EMPTY,
	DBB_FORMAT_SQLITE,
	DBB_FORMAT_POSTGRESQL_SQL,
	DBB_FORMAT_POSTGRESQL_CUSTOM,
	DBB_FORMAT_MYSQL_SQL,
	DBB_FORMAT_CYPHER,
	DBB_FORMAT_GZIP, /* still compressed: a .gz inside a .gz */
	DBB_FORMAT_BINARY,
};

/* Looks at the first bytes of a decompressed backup (up to 4 KiB is enough). */
enum dbb_format dbb_sniff(const unsigned char *buf, size_t len);

/* "an SQLite database", "a PostgreSQL SQL dump", ... for messages. */
const char *dbb_format_describe(enum dbb_format f);

#endif
