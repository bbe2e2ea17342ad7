/* Unit tests of the MySQL dump checker (src/driver/mysql_script.c): what
 * mariadb-dump writes is accepted, client commands, file access, other
 * databases and desynchronising session changes are refused, wherever they
 * hide and wherever the chunks are cut. */
#include "check.h"

#include "driver/mysql_script.h"

static const size_t steps[] = {1, 2, 3, 5, 7, 64, 4096};

/* Checks text fed `step` bytes at a time; the message in err. */
static dbb_code run_step(const char *text, size_t len, size_t step, struct dbb_error *err)
{
	struct my_script *s = my_script_new("dbbtest");
	dbb_code rc = DBB_OK;
	size_t off;

	memset(err, 0, sizeof(*err));
	for (off = 0; off < len && !rc; off += step)
		rc = my_script_feed(s, text + off, len - off < step ? len - off : step, err);
	if (!rc)
		rc = my_script_finish(s, err);
	my_script_free(s);
	return rc;
}

/* The verdict and message must not depend on where the chunks are cut. */
static dbb_code run_all(const char *text, struct dbb_error *err)
{
	struct dbb_error first, other;
	dbb_code rc = run_step(text, strlen(text), steps[0], &first), rc2;
	size_t i;

	for (i = 1; i < sizeof(steps) / sizeof(steps[0]); i++) {
		rc2 = run_step(text, strlen(text), steps[i], &other);
		CHECK(rc2 == rc);
		if (rc2 != rc || strcmp(first.message, other.message) != 0) {
			fprintf(stderr, "step %zu differs: %s / %s\n", steps[i], first.message,
			        other.message);
			CHECK(0);
		}
	}
	*err = first;
	return rc;
}

static int accepts(const char *text)
{
	struct dbb_error err;
	dbb_code rc = run_all(text, &err);

	if (rc)
		fprintf(stderr, "refused: %s\n  for: %.200s\n", err.message, text);
	return rc == DBB_OK;
}

/* Refused with a message containing `why`. */
static int refuses(const char *text, const char *why)
{
	struct dbb_error err;
	dbb_code rc = run_all(text, &err);

	if (rc != DBB_ERR_INVALID_BACKUP) {
		fprintf(stderr, "accepted: %.200s\n", text);
		return 0;
	}
	if (!strstr(err.message, why)) {
		fprintf(stderr, "message \"%s\" lacks \"%s\"\n", err.message, why);
		return 0;
	}
	return 1;
}

/* What mariadb-dump 10.11 writes (shortened). */
static const char dump[] =
    "/*M!999999\\- enable the sandbox mode */ \n"
    "-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)\n"
    "--\n"
    "-- Host: 127.0.0.1    Database: dbbtest\n"
    "\n"
    "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n"
    "/*!40101 SET NAMES utf8mb4 */;\n"
    "/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;\n"
    "/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n"
    "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n"
    "/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;\n"
    "DROP TABLE IF EXISTS `c\\\\u``s`;\n"
    "/*!40101 SET @saved_cs_client     = @@character_set_client */;\n"
    "/*!40101 SET character_set_client = utf8mb4 */;\n"
    "CREATE TABLE `c\\\\u``s` (\n"
    "  `id` int(11) NOT NULL COMMENT 'it''s \\\\! not a command; -- nor # this',\n"
    "  PRIMARY KEY (`id`)\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n"
    "/*!40101 SET character_set_client = @saved_cs_client */;\n"
    "LOCK TABLES `c\\\\u``s` WRITE;\n"
    "/*!40000 ALTER TABLE `c\\\\u``s` DISABLE KEYS */;\n"
    "INSERT INTO `c\\\\u``s` VALUES (1,'O\\'Brien \\\\ \\\"x\\\" ;\\n\\\\! system tee'),"
    "(2,NULL),(3,'\xf0\x9f\x98\x80 ü \\0'),(4,0x00FF5C27),(5,\\N);\n"
    "UNLOCK TABLES;\n"
    "/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;\n"
    "/*!50003 SET sql_mode              = "
    "'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' "
    "*/ ;\n"
    "DELIMITER ;;\n"
    "/*!50003 CREATE*/ /*!50017 DEFINER=`dbbuser`@`%`*/ /*!50003 TRIGGER t AFTER INSERT ON x FOR "
    "EACH ROW\n"
    "BEGIN\n"
    "\tINSERT INTO audit (what) VALUES (CONCAT('a;b', NEW.id)); -- a; comment\n"
    "END */;;\n"
    "DELIMITER ;\n"
    "/*!50003 SET sql_mode              = @saved_sql_mode */ ;\n"
    "DELIMITER ;;\n"
    "/*!50003 SET @saved_cs_client      = @@character_set_client */ ;;\n"
    "/*!50106 CREATE*/ /*!50117 DEFINER=`u`@`%`*/ /*!50106 EVENT `e` ON SCHEDULE EVERY 1 DAY "
    "DO DELETE FROM audit WHERE id < 0 */ ;;\n"
    "/*!50003 SET character_set_client  = @saved_cs_client */ ;;\n"
    "DELIMITER ;\n"
    "DELIMITER ;;\n"
    "CREATE DEFINER=`u`@`%` PROCEDURE `p`(IN a INT)\n"
    "BEGIN\n"
    "  /* a \\! comment */ SELECT 'x;y' INTO @v; SET @w := a; # another\n"
    "END ;;\n"
    "DELIMITER ;\n"
    "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n"
    "/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;\n"
    "-- Dump completed on 2026-12-01 20:00:00\n";

static void test_dumps_accepted(void)
{
	char *crlf, *dump2, *p;
	const char *q;

	CHECK(accepts(dump));
	CHECK(accepts(dump + strlen("/*M!999999\\- enable the sandbox mode */ \n")));
	/* the first releases that wrote the sandbox line wrote it as /\*!999999 */
	dump2 = malloc(sizeof(dump));
	memcpy(dump2, dump, sizeof(dump));
	memmove(dump2 + 2, dump2 + 3, sizeof(dump) - 3);
	CHECK(strncmp(dump2, "/*!999999\\- enable", 18) == 0);
	CHECK(accepts(dump2));
	free(dump2);
	CHECK(accepts(""));
	CHECK(accepts("\xef\xbb\xbf"
	              "DELIMITER ;;\nSELECT 1;;\nDELIMITER ;\n"));
	CHECK(accepts("SELECT 1")); /* no newline at the end */
	CHECK(accepts("  delimiter ;;\nSELECT 1 ;;\n\tDELIMITER\t;\n"));
	CHECK(accepts("USE `dbbtest`;\nCREATE DATABASE /*!32312 IF NOT EXISTS*/ `dbbtest`;\n"));
	CHECK(accepts("ALTER DATABASE CHARACTER SET utf8mb4;\nALTER SCHEMA DEFAULT COLLATE x;\n"));
	CHECK(accepts("SELECT 1; -- \\! in a comment\n# \\! too\n/* \\! and */ SELECT 2;\n"));
	CHECK(accepts("--\\! at the start of a statement is a comment\nSELECT 1;\n"));
	CHECK(accepts("SELECT `a\\!`, \"b\\\"\\!\";\n"));
	CHECK(accepts("SELECT load_data, `load_file`, 'LOAD DATA', into_outfile FROM t;\n"));
	CHECK(accepts("INSERT INTO t VALUES ('INTO OUTFILE'), ('system touch /tmp/x');\n"));
	CHECK(accepts("SELECT 1;\\- SELECT 2;\n"));
	CHECK(accepts("SET @a = 'x', @b = @@time_zone;\nSET time_zone = @b;\n"));
	CHECK(accepts(
	    "SET NAMES 'utf8mb4' COLLATE 'utf8mb4_unicode_ci';\nSET CHARACTER SET latin1;\n"));
	CHECK(accepts(
	    "SET SESSION sql_mode = 'ANSI_QUOTES';\nSELECT \"a\\\";\nSET sql_mode = '';\n"));

	/* the same dump with CRLF line ends (DELIMITER ;;\r) */
	crlf = malloc(2 * sizeof(dump));
	for (p = crlf, q = dump; *q; q++) {
		if (*q == '\n')
			*p++ = '\r';
		*p++ = *q;
	}
	*p = '\0';
	CHECK(accepts(crlf));
	free(crlf);
}

static void test_client_commands(void)
{
	CHECK(refuses("\\! id > /tmp/x\n", "\"\\!\" is a mysql client command"));
	CHECK(refuses("SELECT 1;\n\\! id\n", "line 2"));
	CHECK(refuses("SELECT 1; \\! touch /tmp/x\n", "\\!"));
	CHECK(refuses("SELECT 1;\\! touch /tmp/x\n", "\\!"));
	CHECK(refuses("SELECT 1 \\! touch /tmp/x\n;", "\\!"));
	CHECK(refuses("system touch /tmp/y\n", "\"system\""));
	CHECK(refuses("SYSTEM touch /tmp/y;\n", "\"SYSTEM\""));
	CHECK(refuses("SELECT 1; system touch /tmp/y;\n", "system"));
	CHECK(refuses("SELECT 1;\n  sYsTeM\ttouch /tmp/y\n;\n", "sYsTeM"));
	CHECK(refuses("/* hidden */ system touch /tmp/y;\n", "system"));
	CHECK(refuses("/*!40101 \\! touch /tmp/x */;\n", "\\!"));
	CHECK(refuses("source /tmp/evil.sql\n", "source"));
	CHECK(refuses("\\. /tmp/evil.sql\n", "\\."));
	CHECK(refuses("tee /tmp/out\n", "tee"));
	CHECK(refuses("\\T /tmp/out\n", "\\T"));
	CHECK(refuses("pager touch /tmp/p\n", "pager"));
	CHECK(refuses("\\P touch /tmp/p\n", "\\P"));
	CHECK(refuses("connect other host\n", "connect"));
	CHECK(refuses("\\r other\n", "\\r"));
	CHECK(refuses("\\C gbk\n", "\\C"));
	CHECK(refuses("charset gbk;\n", "charset"));
	CHECK(refuses("help contents;\n", "help"));
	CHECK(refuses("? contents;\n", "?"));
	CHECK(refuses("SELECT 1 \\g", "\\g"));
	CHECK(refuses("SELECT 1;\nexit", "exit"));
	CHECK(refuses("quit;\n", "quit"));
	CHECK(refuses("status;\n", "status"));
	CHECK(refuses("SELECT 1; \\\n", "end of a line"));
	/* -- needs a blank after it, except at the start of a statement */
	CHECK(refuses("SELECT 1 --\\! x\n;", "\\!"));
	/* through DELIMITER */
	CHECK(refuses("DELIMITER ;;\nsystem touch /tmp/y;;\nDELIMITER ;\n", "system"));
	CHECK(refuses("DELIMITER ;;\nSELECT 1; \\! id;;\n", "\\!"));
	CHECK(refuses("DELIMITER $$\n", "DELIMITER command other than"));
	CHECK(refuses("DELIMITER //\n", "DELIMITER"));
	CHECK(refuses("DELIMITER ;; x\n", "DELIMITER"));
	CHECK(refuses("DELIMITERX ;;\n", "DELIMITER"));
	CHECK(refuses("DELIMITER\n", "DELIMITER"));
	CHECK(refuses("SELECT 1; DELIMITER ;;\n", "DELIMITER"));
	CHECK(refuses("SELECT 1; delimiter\n;;\n", "delimiter"));
	/* a DELIMITER line inside a statement is no command: the delimiter stays ; */
	CHECK(refuses("SELECT 1\nDELIMITER ;;\nsystem touch /tmp/y;;\n", "system"));
}

static void test_files(void)
{
	CHECK(
	    refuses("CREATE TABLE leak (l TEXT);\nLOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE "
	            "leak;\n",
	            "line 2: LOAD DATA"));
	CHECK(refuses("load   data infile '/etc/passwd' into table leak;\n", "LOAD DATA"));
	CHECK(refuses("LOAD /* x */ DATA INFILE 'f' INTO TABLE t;\n", "LOAD DATA"));
	CHECK(refuses("/*!50000 LOAD */ DATA INFILE 'f' INTO TABLE t;\n", "LOAD DATA"));
	CHECK(refuses("LOAD\nDATA INFILE 'f' INTO TABLE t;\n", "LOAD DATA"));
	CHECK(refuses("LOAD XML LOCAL INFILE 'f' INTO TABLE t;\n", "LOAD XML"));
	CHECK(refuses("INSERT INTO t VALUES (load_file('/etc/passwd'));\n", "LOAD_FILE"));
	CHECK(refuses("SELECT * FROM t INTO OUTFILE '/tmp/x';\n", "INTO OUTFILE"));
	CHECK(refuses("SELECT * FROM t INTO\n DUMPFILE '/tmp/x';\n", "INTO DUMPFILE"));
	CHECK(
	    refuses("DELIMITER ;;\nCREATE PROCEDURE p() BEGIN SELECT 1 INTO OUTFILE '/tmp/x'; END "
	            ";;\n",
	            "INTO OUTFILE"));
	CHECK(refuses("PREPARE s FROM @q;\n", "PREPARE"));
	CHECK(refuses("/*!50000 EXECUTE IMMEDIATE 'SELECT 1' */;\n", "EXECUTE"));
}

static void test_other_databases(void)
{
	CHECK(refuses("USE `mysql`;\n", "switches to database `mysql`"));
	CHECK(refuses("SELECT 1; use mysql;\n", "`mysql`"));
	CHECK(refuses("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `other`;\n", "creates database"));
	CHECK(refuses("/*!40000 DROP DATABASE IF EXISTS other */;\n", "drops database"));
	CHECK(refuses("ALTER SCHEMA `x` CHARACTER SET latin1;\n", "alters database"));
}

static void test_session_state(void)
{
	/* the client reads 'a\' as a whole string under NO_BACKSLASH_ESCAPES */
	CHECK(accepts("SELECT 'a\\'; \\! touch /tmp/x #';\n"));
	CHECK(refuses("SET sql_mode='NO_BACKSLASH_ESCAPES';\nSELECT 'a\\'; \\! touch /tmp/x #';\n",
	              "line 2: \"\\!\""));
	CHECK(refuses("SET @@SESSION.sql_mode = 'TRADITIONAL,no_backslash_escapes'; SELECT 'a\\'; "
	              "\\! x #';\n",
	              "\\!"));
	/* and "a\" under ANSI_QUOTES (or a mode that implies it) */
	CHECK(accepts("SELECT \"a\\\"; \\! touch /tmp/x #\";\n"));
	CHECK(refuses("SET sql_mode='ORACLE';\nSELECT \"a\\\"; \\! touch /tmp/x #\";\n", "\\!"));
	/* a saved mode comes back with its variable */
	CHECK(
	    refuses("SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_BACKSLASH_ESCAPES';\n"
	            "SET @keep = @@sql_mode;\nSET SQL_MODE=@OLD_SQL_MODE;\nSET sql_mode = @keep;\n"
	            "SELECT 'a\\'; \\! x #';\n",
	            "line 5"));
	CHECK(accepts("SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_BACKSLASH_ESCAPES';\n"
	              "SELECT 'a\\';\nSET SQL_MODE=@OLD_SQL_MODE;\nSELECT 'a\\'; \\! x #';\n"));
	/* what the checker cannot follow */
	CHECK(refuses("SET sql_mode = CONCAT('NO_BACKSLASH', '_ESCAPES');\n", "cannot follow"));
	CHECK(refuses("SET @m = 'x'; SET sql_mode = @unknown;\n", "cannot follow"));
	CHECK(refuses("SET @m = CONCAT('NO_', 'BACKSLASH_ESCAPES'); SET sql_mode = @m;\n",
	              "cannot follow"));
	CHECK(refuses("SET @a = 'ANSI_QUOTES', sql_mode = @a;\n", "cannot follow"));
	CHECK(refuses("SET sql_mode = 512;\n", "cannot follow"));
	CHECK(refuses("SET sql_mode = DEFAULT;\n", "cannot follow"));
	CHECK(refuses("SET GLOBAL sql_mode = '';\n", "cannot follow"));
	CHECK(refuses("SET STATEMENT sql_mode='NO_BACKSLASH_ESCAPES' FOR SELECT 1;\n",
	              "cannot follow"));
	CHECK(
	    refuses("SET @@`sql_mode` = 'NO_BACKSLASH_ESCAPES'; SELECT 'a\\'; \\! x #';\n", "\\!"));
	CHECK(refuses("SET `sql_mode` = CONCAT('A', 'NSI');\n", "cannot follow"));
	CHECK(refuses("/*!80000 SET sql_mode = 'NO_BACKSLASH_ESCAPES' */;\n", "cannot follow"));
	CHECK(refuses("/*M!100100 SET sql_mode = '' */;\n", "cannot follow"));
	CHECK(refuses("SELECT @@sql_mode;\n", "cannot follow"));
	/* character sets where a backslash can hide in a character */
	CHECK(refuses("SET NAMES gbk;\n", "gbk"));
	CHECK(refuses("/*!40101 SET NAMES sjis */;\n", "sjis"));
	CHECK(refuses("SET CHARACTER SET big5;\n", "big5"));
	CHECK(refuses("SET character_set_client = 'cp932';\n", "cp932"));
	CHECK(refuses("SET character_set_client = @nobody_saved_this;\n", "cannot follow"));
	CHECK(refuses("SET NAMES DEFAULT;\n", "cannot follow"));
	/* the client drops a \- between two halves of a word: the server reads
	 * one word, and so must the checker, however the chunks are cut */
	CHECK(refuses("SET sql\\-_mode = @unknown;\n", "cannot follow"));
	CHECK(refuses("SET @@session.character_set\\-_client = @x;\n", "cannot follow"));
	CHECK(accepts("SET @OLD_\\-CHARACTER_SET_CLIENT = 1;\n"));
}

static void test_broken(void)
{
	static const char nul[] = "SELECT 1;\nSELECT '\0';\n";
	struct dbb_error err;
	struct my_script *s = my_script_new("dbbtest");

	CHECK(refuses("SELECT 'unterminated;\n", "ends inside a quoted string opened at line 1"));
	CHECK(refuses("SELECT 1;\n/* unterminated\n",
	              "ends inside a /* comment */ opened at line 2"));
	CHECK(my_script_feed(s, nul, sizeof(nul) - 1, &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(strstr(err.message, "NUL bytes around line 2") != NULL);
	/* every later call gives the same error */
	CHECK(my_script_feed(s, "x", 1, &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(my_script_finish(s, &err) == DBB_ERR_INVALID_BACKUP);
	CHECK(strstr(err.message, "NUL") != NULL);
	my_script_free(s);
}

int main(void)
{
	test_dumps_accepted();
	test_client_commands();
	test_files();
	test_other_databases();
	test_session_state();
	test_broken();
	DONE();
}
