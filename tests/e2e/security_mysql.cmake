# Issue 14 item 1: a MySQL/MariaDB restore never runs a client command or
# reads a local file, whatever the dump says (docs/reliability.md, "Threat
# model"). Both tests share the fixture's database with the other mysql
# tests, hence the lock.
dbb_e2e_test(NAME security_mysql_validation SCRIPT security_mysql_validation.sh
  LABELS security mysql SERVICES mysql)
dbb_e2e_test(NAME security_mysql_client SCRIPT security_mysql_client.sh
  LABELS security mysql SERVICES mysql)
set_tests_properties(e2e.security_mysql_validation e2e.security_mysql_client
  PROPERTIES RESOURCE_LOCK mysql_database)
