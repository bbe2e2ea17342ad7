# Browser tests of the /ui dashboard (issue 21): Debian's Chromium driven by
# puppeteer-core, accessibility by axe-core, both from npm pinned by
# tests/ui/package-lock.json. Plain node scripts (tests/ui/*.mjs) that start
# the real daemon (tests/ui/lib/daemon.mjs) and print "N passed, N failed".
# The fixture ui.deps (tests/ui/deps.sh) installs chromium with apt and the npm
# packages into ${CMAKE_BINARY_DIR}/ui-tests when missing. Screenshots go to
# ${CMAKE_CURRENT_BINARY_DIR}/ui-artifacts; `cmake --build build --target
# ui-screenshots` copies the main views' into docs/ui/.
# Included from tests/CMakeLists.txt after the e2e fragments. Labels: ui and
# e2e (not sqlite, though the daemon runs on SQLite: setup/test.sh's first
# `-L 'unit|sqlite'` pass runs beside a background Go build, no place for a
# browser and a timing; they run in its full pass on the sanitizer build);
# the two bounds also `measurement`, the Keycloak one `keycloak`.

set(DBB_UI_DIR ${CMAKE_BINARY_DIR}/ui-tests)
set(DBB_UI_ARTIFACTS ${CMAKE_CURRENT_BINARY_DIR}/ui-artifacts)

add_test(NAME ui.deps COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/ui/deps.sh ${DBB_UI_DIR})
set_tests_properties(ui.deps PROPERTIES FIXTURES_SETUP ui_deps LABELS "ui" TIMEOUT 1200)

# dbb_ui_test(NAME n SCRIPT file.mjs [LABELS l...] [SERVICES s...] [TIMEOUT t])
function(dbb_ui_test)
  cmake_parse_arguments(T "" "NAME;SCRIPT;TIMEOUT" "LABELS;SERVICES" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  # the script's own watchdog fires first, so its cleanups (daemon, browser) run
  math(EXPR inner "${T_TIMEOUT} - 30")
  add_test(NAME ui.${T_NAME} COMMAND node ${CMAKE_CURRENT_SOURCE_DIR}/ui/${T_SCRIPT})
  set(fixtures ui_deps)
  foreach(s ${T_SERVICES})
    list(APPEND fixtures svc_${s})
  endforeach()
  set_tests_properties(ui.${T_NAME} PROPERTIES
    LABELS "ui;e2e;${T_LABELS};${T_SERVICES}"
    TIMEOUT ${T_TIMEOUT}
    FIXTURES_REQUIRED "${fixtures}"
    ENVIRONMENT "DBBACKUPD=$<TARGET_FILE:dbbackupd>;DBB_SOURCE_DIR=${CMAKE_SOURCE_DIR};DBB_SERVICES_DIR=${DBB_SERVICES_DIR};DBB_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;DBB_SERVICE_STATE=${DBB_SERVICE_STATE};DBB_UI_NODE_MODULES=${DBB_UI_DIR}/node_modules;DBB_UI_ARTIFACTS=${DBB_UI_ARTIFACTS};DBB_UI_TIMEOUT=${inner}")
  # the dashboard's tests run the daemon on SQLite, and need the pages
  # (-DDBB_UI=OFF: no /ui; -DDBB_DOCS_UI=OFF: no /docs for the harness)
  set(page_option DBB_UI)
  if(T_NAME STREQUAL "harness")
    set(page_option DBB_DOCS_UI)
  endif()
  if(NOT sqlite IN_LIST DBB_DRIVERS OR (DEFINED ${page_option} AND NOT ${page_option}))
    set_tests_properties(ui.${T_NAME} PROPERTIES DISABLED TRUE)
  endif()
endfunction()

# The harness itself (Chromium, daemon with two targets, tokens, console
# errors, axe under a CSP, screenshots) on /docs, which needs no dashboard.
dbb_ui_test(NAME harness SCRIPT harness.mjs)

# The dashboard (issue 21), dev keys, two SQLite targets (app and shop)
dbb_ui_test(NAME dev SCRIPT dev.mjs TIMEOUT 900)
dbb_ui_test(NAME viewer SCRIPT viewer.mjs)
dbb_ui_test(NAME upload SCRIPT upload.mjs)
dbb_ui_test(NAME retention SCRIPT retention.mjs)
# axe-core, console errors and screenshots of every view at both widths
dbb_ui_test(NAME views SCRIPT views.mjs TIMEOUT 900)
# Measurements (issue 21's bounds), each its own test: the gzipped size of
# the UI's own files, and the first paint on loopback (run alone: a timing)
dbb_ui_test(NAME measure.size SCRIPT size.mjs LABELS measurement)
dbb_ui_test(NAME measure.first_paint SCRIPT first_paint.mjs LABELS measurement)
set_tests_properties(ui.measure.first_paint PROPERTIES RUN_SERIAL TRUE)
# A real login through Keycloak's own page. It changes the realm's
# dbbackupd-ui client (its redirect URIs, restored at the end), so it holds
# the keycloak tests' lock, and runs before the rotation and down tests.
dbb_ui_test(NAME keycloak SCRIPT keycloak.mjs LABELS keycloak SERVICES keycloak TIMEOUT 600)
set_tests_properties(ui.keycloak PROPERTIES RESOURCE_LOCK keycloak_shared)
if(TEST e2e.keycloak.rotation)
  set_property(TEST e2e.keycloak.rotation e2e.keycloak.down APPEND PROPERTY DEPENDS ui.keycloak)
endif()

# cmake --build <build> --target ui-screenshots: the screenshots of the main
# views from the last ui.views (and ui.keycloak) run into docs/ui/, to commit.
add_custom_target(ui-screenshots
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/ui/copy-screenshots.sh ${DBB_UI_ARTIFACTS} ${CMAKE_SOURCE_DIR}/docs/ui
  COMMENT "Copying the dashboard's screenshots into docs/ui/"
  VERBATIM)
