# PostgreSQL restores as one transaction whatever transaction control a dump
# holds (issue 13 section 1; tests/e2e/postgresql_txn.sh). Shares the
# postgresql fixture's database with the other PostgreSQL tests.
dbb_e2e_test(NAME postgresql.txn SCRIPT postgresql_txn.sh LABELS postgresql SERVICES postgresql)
set_tests_properties(e2e.postgresql.txn PROPERTIES RESOURCE_LOCK postgresql_db)
