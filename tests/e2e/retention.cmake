# Issue 17: the retention policy agrees with restic (the oracle). It needs
# Debian's restic (setup/install-deps.sh --test installs it), so it has its
# own label, `retention`, not `unit`; the full run (setup/test.sh, CI) runs it.
add_executable(retention_oracle ${CMAKE_CURRENT_SOURCE_DIR}/retention/retention_oracle.c)
target_link_libraries(retention_oracle PRIVATE dbbcore)
add_test(NAME retention.restic_oracle
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/retention/restic_oracle.sh)
set_tests_properties(retention.restic_oracle PROPERTIES LABELS retention TIMEOUT 900
  ENVIRONMENT "RETENTION_ORACLE=$<TARGET_FILE:retention_oracle>;DBB_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp")
