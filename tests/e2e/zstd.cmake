# zstd backups (issue 15, section 4): one round trip per database, through
# the same script (tests/e2e/zstd_roundtrip.sh; ZSTD_DB names the database).
# Each holds the lock its driver's other tests hold on the shared database.
dbb_e2e_test(NAME zstd.sqlite SCRIPT zstd_roundtrip.sh LABELS "sqlite;zstd")
set_property(TEST e2e.zstd.sqlite APPEND PROPERTY ENVIRONMENT ZSTD_DB=sqlite)
set(DBB_ZSTD_LOCK_postgresql postgresql_db)
set(DBB_ZSTD_LOCK_mysql mysql_database)
set(DBB_ZSTD_LOCK_neo4j neo4j_db)
foreach(db postgresql mysql neo4j)
  dbb_e2e_test(NAME zstd.${db} SCRIPT zstd_roundtrip.sh LABELS zstd SERVICES ${db})
  set_property(TEST e2e.zstd.${db} APPEND PROPERTY ENVIRONMENT ZSTD_DB=${db})
  set_property(TEST e2e.zstd.${db} PROPERTY RESOURCE_LOCK ${DBB_ZSTD_LOCK_${db}})
endforeach()
