# Issue 14, item 5: SQLite files with hostile schemas (docs/reliability.md,
# "Threat model"; docs/driver-sqlite.md, "Validation").
dbb_e2e_test(NAME security.sqlite_schema SCRIPT security_sqlite_schema.sh LABELS "security;sqlite")
dbb_e2e_test(NAME security.sqlite_deadline SCRIPT security_sqlite_deadline.sh LABELS "security;sqlite")
