/* The MySQL/MariaDB dump checker: a lexer that follows the mariadb/mysql
 * command-line client's own reading of a script (client/mysql.cc,
 * read_and_execute and add_line, as the daemon runs it: batch and binary
 * mode, comments stripped, utf8mb4) and refuses, before anything is
 * touched, a file that would make the client or the server do something a
 * dump never does:
 *
 *  - any client command: a backslash command (`\!`, `\.`, `\T`, `\C`, ...)
 *    outside a quoted string, except `\-` (the sandbox switch mariadb-dump
 *    writes on its first line) and `\N` (NULL); a statement starting with a
 *    command's name (`system`, `source`, `tee`, `pager`, `connect`, ...);
 *    a DELIMITER line other than `DELIMITER ;` and `DELIMITER ;;` alone on
 *    their line, and DELIMITER anywhere else;
 *  - reading or writing files: LOAD DATA, LOAD XML, LOAD_FILE, SELECT ...
 *    INTO OUTFILE / DUMPFILE, anywhere outside strings and comments;
 *  - dynamic SQL at the top level (PREPARE, EXECUTE): it would run text the
 *    checker never saw as code;
 *  - a statement that switches to, creates, drops or alters another
 *    database than the configured one (USE, CREATE/DROP/ALTER DATABASE);
 *  - session changes that would make the client read the rest differently
 *    than this lexer: sql_mode set to anything but a literal or a variable
 *    saved from @@sql_mode (NO_BACKSLASH_ESCAPES and ANSI_QUOTES are
 *    followed, as the client follows them), and a client character set in
 *    which a multi-byte character can hide a backslash or a quote (big5,
 *    cp932, gbk, gb18030, sjis);
 *  - NUL bytes, lines longer than MY_SCRIPT_LINE_MAX (the client would
 *    split them), and a file that ends inside a string or a comment.
 *
 * The lexer assumes the session starts without NO_BACKSLASH_ESCAPES and
 * ANSI_QUOTES: the driver's restore makes that true (--init-command).
 * Bytes may be fed in chunks of any size. Not thread-safe per object. */
#ifndef DBBACKUPD_DRIVER_MYSQL_SCRIPT_H
#define DBBACKUPD_DRIVER_MYSQL_SCRIPT_H

#include <stddef.h>

#include "dbbackupd/error.h"

/* Longest line accepted: the client reads a line whole into a buffer of at
 * most 1 GiB and splits longer ones, which would start new statements. */
#define MY_SCRIPT_LINE_MAX (512ULL * 1024 * 1024)

struct my_script;

/* A checker for a dump to be restored into database `db_name`; NULL when
 * out of memory. */
struct my_script *my_script_new(const char *db_name);
void my_script_free(struct my_script *s);

/* Checks the next n bytes. DBB_ERR_INVALID_BACKUP (line number and reason
 * in the message) at the first thing refused; every later call returns the
 * same error. */
dbb_code my_script_feed(struct my_script *s, const void *buf, size_t n, struct dbb_error *err);

/* The end of the file: checks what was held back and the final state. */
dbb_code my_script_finish(struct my_script *s, struct dbb_error *err);

/* The SQL the restore client runs first (--init-command): the session's
 * sql_mode without NO_BACKSLASH_ESCAPES and ANSI_QUOTES (nor the modes that
 * imply it), so the client reads the dump the way this checker did. */
#define MY_SCRIPT_INIT_COMMAND                                                                     \
	"SET SESSION sql_mode = TRIM(BOTH ',' FROM "                                               \
	"REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE("                         \
	"CONCAT(',', @@SESSION.sql_mode, ','), ',NO_BACKSLASH_ESCAPES,', ','), ',ANSI_QUOTES,', "  \
	"','), "                                                                                   \
	"',ANSI,', ','), ',ORACLE,', ','), ',DB2,', ','), ',MSSQL,', ','), ',POSTGRESQL,', ','), " \
	"',MAXDB,', ','))"

#endif
