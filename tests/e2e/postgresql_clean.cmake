# The in-place restore's clean (issue 13 §2): one test per kind of object
# that broke the old clean, the refusal up front, and PostgreSQL's own
# regression suite as a database nobody here wrote. They use the shared
# server (and the regression suite creates roles), so they take the same
# lock as the other PostgreSQL tests.
dbb_e2e_test(NAME postgresql.clean SCRIPT postgresql_clean.sh LABELS postgresql SERVICES postgresql)
dbb_e2e_test(NAME postgresql.regress SCRIPT postgresql_regress.sh LABELS postgresql SERVICES postgresql TIMEOUT 2400)
set_tests_properties(e2e.postgresql.clean e2e.postgresql.regress PROPERTIES RESOURCE_LOCK postgresql_db)
