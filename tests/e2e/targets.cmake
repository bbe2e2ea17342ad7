# Issue 16: several targets in one daemon (tests/e2e/targets.sh): an SQLite
# default target, a PostgreSQL and a MariaDB target. It uses both services'
# databases, so it holds both of their locks.
dbb_e2e_test(NAME targets SCRIPT targets.sh LABELS targets postgresql mysql SERVICES postgresql mysql)
set_tests_properties(e2e.targets PROPERTIES RESOURCE_LOCK "postgresql_db;mysql_database")
