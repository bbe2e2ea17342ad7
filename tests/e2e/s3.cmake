# The S3 client of offsite copies (issue 18 groundwork): SigV4 against AWS's
# published vectors and botocore, the client against a real SeaweedFS
# (tests/services/s3.sh) checked by an independent client (the AWS CLI and
# boto3, tests/s3/pyenv.sh). dbb-s3 (tests/s3/dbb_s3.c) drives the client.
add_executable(dbb-s3 ${CMAKE_SOURCE_DIR}/tests/s3/dbb_s3.c)
target_link_libraries(dbb-s3 PRIVATE dbbcore)

dbb_service_fixture(s3)
# a cold start builds SeaweedFS from source (10 to 30 minutes on 2 cores)
set_tests_properties(service.s3.start PROPERTIES TIMEOUT 3600)

# AWS's SigV4 test suite, from botocore's source distribution (cached)
add_test(NAME s3.sigv4_suite COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/s3_sigv4.sh suite)
add_test(NAME s3.sigv4_botocore COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/s3_sigv4.sh botocore)
set_tests_properties(s3.sigv4_suite s3.sigv4_botocore PROPERTIES LABELS "s3;sigv4" TIMEOUT 900
  ENVIRONMENT "DBB_S3_TOOL=$<TARGET_FILE:dbb-s3>;DBB_SOURCE_DIR=${CMAKE_SOURCE_DIR}")

foreach(t smoke client faults offsite)
  dbb_e2e_test(NAME s3.${t} SCRIPT s3_${t}.sh LABELS s3 SERVICES s3)
  set_property(TEST e2e.s3.${t} APPEND PROPERTY ENVIRONMENT "DBB_S3_TOOL=$<TARGET_FILE:dbb-s3>")
  # one server, paused by the fault test: never two of them at once
  set_tests_properties(e2e.s3.${t} PROPERTIES RESOURCE_LOCK s3_server)
endforeach()
# the daemon's offsite copies: several throttled uploads, a store paused twice
set_tests_properties(e2e.s3.offsite PROPERTIES TIMEOUT 1500)
