# Backups that live only in the object store (issue 18, tests/e2e/s3_remote.sh):
# list, download and restore from the real SeaweedFS, the AWS CLI as checker.
dbb_e2e_test(NAME s3.remote SCRIPT s3_remote.sh LABELS s3 SERVICES s3)
set_property(TEST e2e.s3.remote APPEND PROPERTY ENVIRONMENT "DBB_S3_TOOL=$<TARGET_FILE:dbb-s3>")
# one server, paused by this test and the fault tests: never two of them at once
set_tests_properties(e2e.s3.remote PROPERTIES RESOURCE_LOCK s3_server TIMEOUT 900)
