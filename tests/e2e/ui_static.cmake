# The dashboard's static files, headers and sign-in settings (issue 21);
# the browser tests of the dashboard itself are in tests/ui/. A build
# without the dashboard (-DDBB_UI=OFF) has nothing to test here.
dbb_e2e_test(NAME ui.static SCRIPT ui_static.sh LABELS operability TIMEOUT 300)
if(NOT DBB_UI)
  set_tests_properties(e2e.ui.static PROPERTIES DISABLED TRUE)
endif()
