# Issue 19: the age layers (src/age/) against the community test vectors
# (C2SP CCTV, fetched with the Go module proxy) and against Debian's `age`
# command. Both need something from outside the tree (Go and a download, the
# age package: setup/install-deps.sh --test installs it), so they have their
# own label, `age`, not `unit`; the full run (setup/test.sh, CI) runs them.
add_executable(age_tool ${CMAKE_CURRENT_SOURCE_DIR}/age/age_tool.c)
target_link_libraries(age_tool PRIVATE dbbcore)
foreach(t cctv interop)
  add_test(NAME age.${t} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/age/${t}.sh)
  set_tests_properties(age.${t} PROPERTIES LABELS age TIMEOUT 900
    ENVIRONMENT "AGE_TOOL=$<TARGET_FILE:age_tool>;DBB_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp")
endforeach()
