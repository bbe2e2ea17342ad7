# Issue 16, deployment: the files a new user installs (setup/, docker/) as
# the three .env parsers and systemd read them, and the behaviour those
# files promise (deletes wait briefly, then 409 with Retry-After).
dbb_e2e_test(NAME deploy.delete_wait SCRIPT deploy_delete_wait.sh LABELS sqlite deploy)
dbb_e2e_test(NAME deploy.sqlite_not_db SCRIPT deploy_sqlite_not_db.sh LABELS sqlite deploy)
dbb_e2e_test(NAME deploy.systemd SCRIPT deploy_systemd.sh LABELS sqlite deploy)
dbb_e2e_test(NAME deploy.docker SCRIPT deploy_docker.sh LABELS sqlite deploy)
