# Asynchronous jobs (issue 20): ?async=true, GET/DELETE /jobs/{id}, events.
dbb_e2e_test(NAME jobs.sqlite SCRIPT jobs_sqlite.sh LABELS sqlite)
