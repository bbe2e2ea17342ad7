# Issues 16-18: schedules, retention and offsite settings per target
# (tests/e2e/targets_sched.sh): two SQLite targets, one scheduled every
# minute; about 70 s.
dbb_e2e_test(NAME targets.sched SCRIPT targets_sched.sh LABELS targets sched TIMEOUT 300)
