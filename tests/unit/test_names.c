/* Unit tests for storage/names.c: the file-name whitelist. */
#include "check.h"
#include "dbbackupd/storage.h"

int main(void)
{
	static const char *const good[] = {
	    "backup_postgresql_20241110_120000.sql.gz",
	    "backup_postgresql_20241110_120000.sql",
	    "safety_backup_postgresql_20251111_143022.sql.gz",
	    "backup_sqlite_20241110_120000.db.gz",
	    "backup_neo4j_20241110_120000.cypher",
	    "backup_mysql_20241110_120000_2.sql.gz",
	    "backup_postgresql_20241110_120000.sql.zst",
	    "safety_backup_mysql_20241110_120000_3.sql.zst",
	    /* issue 19: age-encrypted */
	    "backup_postgresql_20241110_120000.sql.gz.age",
	    "backup_postgresql_20241110_120000.sql.zst.age",
	    "backup_postgresql_20241110_120000.sql.age",
	    "safety_backup_sqlite_20241110_120000_2.db.zst.age",
	};
	static const char *const bad[] = {
	    "",
	    "../etc/passwd",
	    "backup_postgresql_20241110_120000.sql.gz/..",
	    "/backup_postgresql_20241110_120000.sql.gz",
	    "backup_postgresql_20241110_120000.sql.gz.sha256",
	    "backup_PostgreSQL_20241110_120000.sql",
	    "backup_postgresql_2024111_120000.sql",
	    "backup_postgresql_20241310_120000.sql",
	    "backup_postgresql_20241110_250000.sql",
	    "backup_postgresql_20241110_120000",
	    "backup_postgresql_20241110_120000.",
	    "backup_postgresql_20241110_120000.sql.gz.gz",
	    "backup_postgresql_20241110_120000.sql.zst.gz",
	    "backup_postgresql_20241110_120000.sql.gz.zst",
	    "backup_postgresql_20241110_120000.sql.zstd",
	    "backup_postgresql_20241110_120000.sql.zs",
	    "backup_postgresql_20241110_120000.sql.zst.sha256",
	    "backup_postgresql_20241110_120000_0.sql",
	    "backup_postgresql_20241110_120000_12345.sql",
	    "backup__20241110_120000.sql",
	    ".tmp-123-1",
	    "backup_postgresql_20241110_120000.sql\n",
	    "backup_postgresql_20241110_120000.s\"ql",
	    "safety_safety_backup_x_20241110_120000.sql",
	    "xbackup_postgresql_20241110_120000.sql",
	    "backup_postgresql_20241110_120000.sql%00",
	    "backup_p\xc3\xa9_20241110_120000.sql",
	    "backup_postgresql_20241110_120000.sql.age.gz",
	    "backup_postgresql_20241110_120000.sql.gz.age.age",
	    "backup_postgresql_20241110_120000.sql.gz.age.sha256",
	    "backup_postgresql_20241110_120000.sql.gzage",
	    "backup_postgresql_20241110_120000.sql.gz.ag",
	    "backup_postgresql_20241110_120000.age",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(dbb_name_is_valid(good[i]));
		if (!dbb_name_is_valid(good[i]))
			fprintf(stderr, "  rejected %s\n", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(!dbb_name_is_valid(bad[i]));
		if (dbb_name_is_valid(bad[i]))
			fprintf(stderr, "  accepted %s\n", bad[i]);
	}
	CHECK(!dbb_name_is_valid(NULL));
	CHECK(dbb_name_is_encrypted("backup_postgresql_20241110_120000.sql.gz.age"));
	CHECK(dbb_name_is_encrypted("backup_postgresql_20241110_120000.sql.age"));
	CHECK(!dbb_name_is_encrypted("backup_postgresql_20241110_120000.sql.gz"));
	/* the codec a name says, under any .age (remote objects, age files) */
	CHECK_STR(dbb_name_compression("backup_postgresql_20241110_120000.sql.gz.age"), "gzip");
	CHECK_STR(dbb_name_compression("backup_postgresql_20241110_120000.sql.zst.age"), "zstd");
	CHECK_STR(dbb_name_compression("backup_postgresql_20241110_120000.sql.age"), "none");
	CHECK_STR(dbb_name_compression("backup_postgresql_20241110_120000.sql.zst"), "zstd");
	CHECK_STR(dbb_name_compression("backup_sqlite_20241110_120000.db.gz"), "gzip");
	CHECK_STR(dbb_name_compression("backup_sqlite_20241110_120000.db"), "none");
	CHECK(!dbb_name_is_encrypted("x.age"));
	CHECK(!dbb_name_is_encrypted(NULL));
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memcpy(longname, "backup_", 7);
	CHECK(!dbb_name_is_valid(longname));

	time_t t;
	CHECK(dbb_name_timestamp("backup_sqlite_20241110_120000.db", &t));
	CHECK(t == 1731240000);
	CHECK(dbb_name_timestamp("safety_backup_sqlite_19700101_000001_3.db.gz", &t));
	CHECK(t == 1);
	DONE();
}
