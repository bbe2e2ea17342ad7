# Issue 17: schedules, retention and notifications against the real daemon.
# Each takes about three minutes (a schedule every minute).
dbb_service_fixture(smtp)
dbb_e2e_test(NAME sched.schedule SCRIPT sched_schedule.sh LABELS sched TIMEOUT 600)
dbb_e2e_test(NAME sched.failure SCRIPT sched_failure.sh LABELS sched SERVICES smtp TIMEOUT 600)
# The alert rule of docs/operations.md passes `promtool check rules`.
add_test(NAME sched.promtool_rules COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/sched/promtool_rules.sh)
set_tests_properties(sched.promtool_rules PROPERTIES LABELS sched TIMEOUT 600
  ENVIRONMENT "DBB_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp")
