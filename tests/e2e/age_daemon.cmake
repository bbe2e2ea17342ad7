# Issue 19: the age encryption wired into the daemon (docs/encryption.md):
# one script (tests/e2e/age_daemon.sh; E2E_AGE_DB names the database) against
# Debian's `age`, per database. Each holds the lock its driver's other tests
# hold on the shared database.
dbb_e2e_test(NAME age.sqlite SCRIPT age_daemon.sh LABELS "sqlite;age")
set_property(TEST e2e.age.sqlite APPEND PROPERTY ENVIRONMENT E2E_AGE_DB=sqlite)
dbb_e2e_test(NAME age.postgresql SCRIPT age_daemon.sh LABELS age SERVICES postgresql)
set_property(TEST e2e.age.postgresql APPEND PROPERTY ENVIRONMENT E2E_AGE_DB=postgresql)
set_property(TEST e2e.age.postgresql PROPERTY RESOURCE_LOCK postgresql_db)
dbb_e2e_test(NAME age.mysql SCRIPT age_daemon.sh LABELS age SERVICES mysql)
set_property(TEST e2e.age.mysql APPEND PROPERTY ENVIRONMENT E2E_AGE_DB=mysql)
set_property(TEST e2e.age.mysql PROPERTY RESOURCE_LOCK mysql_database)
