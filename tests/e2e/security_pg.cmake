# Security tests of the PostgreSQL restore input (issue 14 item 2): no psql
# client command runs from an uploaded dump, wherever psql would read one,
# and no restore script goes to a psql without \restrict. They share the
# postgresql fixture's database with the other PostgreSQL tests.
dbb_e2e_test(NAME security.pg_client_commands SCRIPT security_pg.sh
  LABELS security SERVICES postgresql)
set_tests_properties(e2e.security.pg_client_commands PROPERTIES RESOURCE_LOCK postgresql_db)
