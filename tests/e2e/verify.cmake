# Test-restores (issue 20, POST /backup/verify/{file}; docs/operations.md
# "Test restores"): each database's scratch place, a good and a corrupted
# backup, the live database never touched.
dbb_e2e_test(NAME verify.sqlite SCRIPT verify_sqlite.sh LABELS sqlite)
dbb_e2e_test(NAME verify.postgresql SCRIPT verify_postgresql.sh LABELS postgresql SERVICES postgresql)
set_tests_properties(e2e.verify.postgresql PROPERTIES RESOURCE_LOCK postgresql_db)
dbb_e2e_test(NAME verify.mysql SCRIPT verify_mysql.sh LABELS mysql SERVICES mysql)
set_tests_properties(e2e.verify.mysql PROPERTIES RESOURCE_LOCK mysql_database)
dbb_e2e_test(NAME verify.neo4j SCRIPT verify_neo4j.sh LABELS neo4j SERVICES neo4j)
set_tests_properties(e2e.verify.neo4j PROPERTIES RESOURCE_LOCK neo4j_db)
