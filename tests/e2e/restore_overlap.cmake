# Issue 22: the restore's validation beside the safety backup, and
# PostgreSQL's single-pass restore (docs/reliability.md, "What a restore
# does before it touches the database").
dbb_e2e_test(NAME fault.single_pass.postgresql SCRIPT fault_single_pass.sh LABELS fault postgresql
             SERVICES postgresql)
set_tests_properties(e2e.fault.single_pass.postgresql PROPERTIES RESOURCE_LOCK postgresql_db)
