/* Format recognition from a backup's first bytes. */
#include "dbbackupd/sniff.h"

#include <string.h>

static const char *find(const unsigned char *buf, size_t len, const char *needle)
{
	return memmem(buf, len, needle, strlen(needle));
}

enum dbb_format dbb_sniff(const unsigned char *buf, size_t len)
{
	if (len == 0)
		return DBB_FORMAT_EMPTY;
	if (len >= 16 && memcmp(buf, "SQLite format 3", 16) == 0)
		return DBB_FORMAT_SQLITE;
	if (len >= 5 && memcmp(buf, "PGDMP", 5) == 0)
		return DBB_FORMAT_POSTGRESQL_CUSTOM;
	if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
		return DBB_FORMAT_GZIP;
	size_t head = len < 4096 ? len : 4096;
	if (find(buf, head, "PostgreSQL database dump") || find(buf, head, "\\restrict ") ||
	    find(buf, head, "SET client_encoding") || find(buf, head, "pg_catalog.set_config"))
		return DBB_FORMAT_POSTGRESQL_SQL;
	if (find(buf, head, "MySQL dump") || find(buf, head, "MariaDB dump") ||
	    find(buf, head, "/*!40101 SET") || find(buf, head, "/*M!"))
		return DBB_FORMAT_MYSQL_SQL;
	if (find(buf, head, "dbbackupd neo4j") || find(buf, head, "UNWIND ") ||
	    find(buf, head, "CREATE CONSTRAINT") || find(buf, head, ":begin"))
		return DBB_FORMAT_CYPHER;
	for (size_t i = 0; i < head; i++)
		if (buf[i] == 0)
			return DBB_FORMAT_BINARY;
	return DBB_FORMAT_UNKNOWN;
}

const char *dbb_format_describe(enum dbb_format f)
{
	switch (f) {
	case DBB_FORMAT_EMPTY:
		return "an empty file";
	case DBB_FORMAT_SQLITE:
		return "an SQLite database";
	case DBB_FORMAT_POSTGRESQL_SQL:
		return "a PostgreSQL SQL dump";
	case DBB_FORMAT_POSTGRESQL_CUSTOM:
		return "a PostgreSQL custom-format archive (use pg_restore, or a plain pg_dump)";
	case DBB_FORMAT_MYSQL_SQL:
		return "a MySQL/MariaDB SQL dump";
	case DBB_FORMAT_CYPHER:
		return "a Neo4j Cypher script";
	case DBB_FORMAT_GZIP:
		return "a gzip file inside a gzip file";
	case DBB_FORMAT_BINARY:
		return "a binary file of unknown format";
	case DBB_FORMAT_UNKNOWN:
		break;
	}
	return "a file of unknown format";
}
