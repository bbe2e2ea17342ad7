/* Recognising a backup's format from its first bytes, so that a restore can
 * say what a wrong file is ("a MySQL dump", "an SQLite database") instead of
 * failing somewhere in the middle. The sniffer knows the formats of no
 * database: it asks every registered driver's `recognise` (driver.h), in
 * the registry's order, and knows only what is nobody's (empty, gzip, binary). */
#ifndef DBBACKUPD_SNIFF_H
#define DBBACKUPD_SNIFF_H

#include <stdbool.h>
#include <stddef.h>

struct dbb_driver;

/* How many first bytes the sniffer looks at. */
#define DBB_SNIFF_HEAD 4096

enum dbb_format_kind {
	DBB_FORMAT_UNKNOWN,
	DBB_FORMAT_EMPTY,
	DBB_FORMAT_GZIP, /* still compressed: a .gz inside a .gz */
	DBB_FORMAT_BINARY,
	DBB_FORMAT_DATABASE, /* a driver recognised it */
};

struct dbb_format {
	enum dbb_format_kind kind;
	const struct dbb_driver *driver; /* DBB_FORMAT_DATABASE: whose file it is */
	bool restorable;                 /* that driver can restore this form */
	const char *what;                /* "an SQLite database", "an empty file", ... */
};

/* Looks at the first bytes of a decompressed backup (up to DBB_SNIFF_HEAD). */
struct dbb_format dbb_sniff(const unsigned char *buf, size_t len);

/* For recognise hooks: the first of needles (NULL-terminated) found in
 * buf, NULL if none is. */
const char *dbb_sniff_find_any(const unsigned char *buf, size_t len, const char *const *needles);

/* True if f is a file drv itself can restore. */
bool dbb_format_is(const struct dbb_format *f, const struct dbb_driver *drv);

#endif
