# MySQL/MariaDB driver tests against a real throw-away MariaDB
# (tests/services/mysql.sh). The tests that share the fixture's database
# take a lock so they never run at the same time; mysql_down runs its own
# server.
dbb_service_fixture(mysql)

dbb_e2e_test(NAME mysql_roundtrip SCRIPT mysql_roundtrip.sh LABELS mysql SERVICES mysql)
dbb_e2e_test(NAME mysql_upload SCRIPT mysql_upload.sh LABELS mysql SERVICES mysql)
dbb_e2e_test(NAME mysql_invalid SCRIPT mysql_invalid.sh LABELS mysql SERVICES mysql)
dbb_e2e_test(NAME mysql_rollback SCRIPT mysql_rollback.sh LABELS mysql fault SERVICES mysql)
dbb_e2e_test(NAME mysql_busy SCRIPT mysql_busy.sh LABELS mysql SERVICES mysql)
dbb_e2e_test(NAME mysql_down SCRIPT mysql_down.sh LABELS mysql fault)

set_tests_properties(e2e.mysql_roundtrip e2e.mysql_upload e2e.mysql_invalid e2e.mysql_rollback
  e2e.mysql_busy PROPERTIES RESOURCE_LOCK mysql_database)
