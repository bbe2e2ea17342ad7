# End-to-end tests of the daemon itself on the embedded SQLite driver.
dbb_e2e_test(NAME sqlite.api SCRIPT sqlite_api.sh LABELS sqlite)
dbb_e2e_test(NAME sqlite.restore SCRIPT sqlite_restore.sh LABELS sqlite)
dbb_e2e_test(NAME sqlite.bad_input SCRIPT sqlite_bad_input.sh LABELS sqlite)
dbb_e2e_test(NAME sqlite.concurrency SCRIPT sqlite_concurrency.sh LABELS sqlite)
dbb_e2e_test(NAME rotation SCRIPT rotation.sh LABELS sqlite)
dbb_e2e_test(NAME cli SCRIPT cli.sh LABELS sqlite)
dbb_e2e_test(NAME sqlite.writer SCRIPT sqlite_writer.sh LABELS sqlite)
