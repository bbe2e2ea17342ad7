# The dashboard's static files, headers and sign-in settings (issue 21);
# the browser tests of the dashboard itself are in tests/ui/.
dbb_e2e_test(NAME ui.static SCRIPT ui_static.sh LABELS operability TIMEOUT 300)
