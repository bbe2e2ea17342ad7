# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(unit.auth "/work/main/build/tests/test_auth")
set_tests_properties(unit.auth PROPERTIES  ENVIRONMENT "DBB_TEST_TMP=/work/main/build/tests/tmp" LABELS "unit" TIMEOUT "120" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;17;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(unit.child "/work/main/build/tests/test_child")
set_tests_properties(unit.child PROPERTIES  ENVIRONMENT "DBB_TEST_TMP=/work/main/build/tests/tmp" LABELS "unit" TIMEOUT "120" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;17;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(unit.config "/work/main/build/tests/test_config")
set_tests_properties(unit.config PROPERTIES  ENVIRONMENT "DBB_TEST_TMP=/work/main/build/tests/tmp" LABELS "unit" TIMEOUT "120" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;17;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(unit.gzip "/work/main/build/tests/test_gzip")
set_tests_properties(unit.gzip PROPERTIES  ENVIRONMENT "DBB_TEST_TMP=/work/main/build/tests/tmp" LABELS "unit" TIMEOUT "120" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;17;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(unit.names "/work/main/build/tests/test_names")
set_tests_properties(unit.names PROPERTIES  ENVIRONMENT "DBB_TEST_TMP=/work/main/build/tests/tmp" LABELS "unit" TIMEOUT "120" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;17;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(unit.range "/work/main/build/tests/test_range")
set_tests_properties(unit.range PROPERTIES  ENVIRONMENT "DBB_TEST_TMP=/work/main/build/tests/tmp" LABELS "unit" TIMEOUT "120" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;17;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(unit.storage "/work/main/build/tests/test_storage")
set_tests_properties(unit.storage PROPERTIES  ENVIRONMENT "DBB_TEST_TMP=/work/main/build/tests/tmp" LABELS "unit" TIMEOUT "120" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;17;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(e2e.sqlite.api "bash" "/work/main/tests/e2e/sqlite_api.sh")
set_tests_properties(e2e.sqlite.api PROPERTIES  ENVIRONMENT "DBBACKUPD=/work/main/build/dbbackupd;DBB_SOURCE_DIR=/work/main;DBB_SERVICES_DIR=/work/main/build/services;DBB_TEST_TMP=/work/main/build/tests/tmp" FIXTURES_REQUIRED "" LABELS "e2e;sqlite;" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;39;add_test;/work/main/tests/e2e/core.cmake;2;dbb_e2e_test;/work/main/tests/e2e/core.cmake;0;;/work/main/tests/CMakeLists.txt;53;include;/work/main/tests/CMakeLists.txt;0;")
add_test(e2e.sqlite.restore "bash" "/work/main/tests/e2e/sqlite_restore.sh")
set_tests_properties(e2e.sqlite.restore PROPERTIES  ENVIRONMENT "DBBACKUPD=/work/main/build/dbbackupd;DBB_SOURCE_DIR=/work/main;DBB_SERVICES_DIR=/work/main/build/services;DBB_TEST_TMP=/work/main/build/tests/tmp" FIXTURES_REQUIRED "" LABELS "e2e;sqlite;" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;39;add_test;/work/main/tests/e2e/core.cmake;3;dbb_e2e_test;/work/main/tests/e2e/core.cmake;0;;/work/main/tests/CMakeLists.txt;53;include;/work/main/tests/CMakeLists.txt;0;")
add_test(e2e.sqlite.bad_input "bash" "/work/main/tests/e2e/sqlite_bad_input.sh")
set_tests_properties(e2e.sqlite.bad_input PROPERTIES  ENVIRONMENT "DBBACKUPD=/work/main/build/dbbackupd;DBB_SOURCE_DIR=/work/main;DBB_SERVICES_DIR=/work/main/build/services;DBB_TEST_TMP=/work/main/build/tests/tmp" FIXTURES_REQUIRED "" LABELS "e2e;sqlite;" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;39;add_test;/work/main/tests/e2e/core.cmake;4;dbb_e2e_test;/work/main/tests/e2e/core.cmake;0;;/work/main/tests/CMakeLists.txt;53;include;/work/main/tests/CMakeLists.txt;0;")
add_test(e2e.sqlite.concurrency "bash" "/work/main/tests/e2e/sqlite_concurrency.sh")
set_tests_properties(e2e.sqlite.concurrency PROPERTIES  ENVIRONMENT "DBBACKUPD=/work/main/build/dbbackupd;DBB_SOURCE_DIR=/work/main;DBB_SERVICES_DIR=/work/main/build/services;DBB_TEST_TMP=/work/main/build/tests/tmp" FIXTURES_REQUIRED "" LABELS "e2e;sqlite;" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;39;add_test;/work/main/tests/e2e/core.cmake;5;dbb_e2e_test;/work/main/tests/e2e/core.cmake;0;;/work/main/tests/CMakeLists.txt;53;include;/work/main/tests/CMakeLists.txt;0;")
add_test(e2e.rotation "bash" "/work/main/tests/e2e/rotation.sh")
set_tests_properties(e2e.rotation PROPERTIES  ENVIRONMENT "DBBACKUPD=/work/main/build/dbbackupd;DBB_SOURCE_DIR=/work/main;DBB_SERVICES_DIR=/work/main/build/services;DBB_TEST_TMP=/work/main/build/tests/tmp" FIXTURES_REQUIRED "" LABELS "e2e;sqlite;" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;39;add_test;/work/main/tests/e2e/core.cmake;6;dbb_e2e_test;/work/main/tests/e2e/core.cmake;0;;/work/main/tests/CMakeLists.txt;53;include;/work/main/tests/CMakeLists.txt;0;")
add_test(e2e.cli "bash" "/work/main/tests/e2e/cli.sh")
set_tests_properties(e2e.cli PROPERTIES  ENVIRONMENT "DBBACKUPD=/work/main/build/dbbackupd;DBB_SOURCE_DIR=/work/main;DBB_SERVICES_DIR=/work/main/build/services;DBB_TEST_TMP=/work/main/build/tests/tmp" FIXTURES_REQUIRED "" LABELS "e2e;sqlite;" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;39;add_test;/work/main/tests/e2e/core.cmake;7;dbb_e2e_test;/work/main/tests/e2e/core.cmake;0;;/work/main/tests/CMakeLists.txt;53;include;/work/main/tests/CMakeLists.txt;0;")
