# Offsite copies per target (tests/e2e/s3_targets.sh): three SQLite targets,
# two of them copying to the real SeaweedFS with their own settings.
dbb_e2e_test(NAME s3.targets SCRIPT s3_targets.sh LABELS s3 targets SERVICES s3)
set_property(TEST e2e.s3.targets APPEND PROPERTY ENVIRONMENT "DBB_S3_TOOL=$<TARGET_FILE:dbb-s3>")
set_tests_properties(e2e.s3.targets PROPERTIES RESOURCE_LOCK s3_server TIMEOUT 900)
