# Asynchronous jobs (issue 20): ?async=true, GET/DELETE /jobs/{id}, events.
dbb_e2e_test(NAME jobs.sqlite SCRIPT jobs_sqlite.sh LABELS sqlite)
dbb_e2e_test(NAME jobs.postgresql SCRIPT jobs_postgresql.sh LABELS postgresql SERVICES postgresql TIMEOUT 900)
set_tests_properties(e2e.jobs.postgresql PROPERTIES RESOURCE_LOCK postgresql_db)
dbb_e2e_test(NAME jobs.mysql SCRIPT jobs_mysql.sh LABELS mysql SERVICES mysql TIMEOUT 900)
set_tests_properties(e2e.jobs.mysql PROPERTIES RESOURCE_LOCK mysql_database)
# nginx from Debian in front (installed with apt when missing, as root)
dbb_e2e_test(NAME jobs.proxy SCRIPT jobs_proxy.sh LABELS postgresql SERVICES postgresql TIMEOUT 900)
set_tests_properties(e2e.jobs.proxy PROPERTIES RESOURCE_LOCK postgresql_db)
