# Security tests of issue 14 for tokens, keys, configuration and child tools
# (docs/reliability.md, "Tokens, keys and configuration"): label security.
dbb_e2e_test(NAME security.auth SCRIPT security_auth.sh LABELS security sqlite)
# the unit tests that hold the same guarantees
set_property(TEST unit.auth unit.trust unit.config unit.child APPEND PROPERTY LABELS security)
# a child tool's environment while a backup and a restore run (item 12): the
# drivers that run one, on their shared database (the locks of faults.cmake)
dbb_e2e_test(NAME security.child_env.postgresql SCRIPT security_child_env.sh
  LABELS security SERVICES postgresql)
dbb_e2e_test(NAME security.child_env.mysql SCRIPT security_child_env.sh
  LABELS security SERVICES mysql)
foreach(drv postgresql mysql)
  set_property(TEST e2e.security.child_env.${drv} APPEND PROPERTY ENVIRONMENT "FAULT_DB=${drv}")
endforeach()
set_property(TEST e2e.security.child_env.postgresql PROPERTY RESOURCE_LOCK postgresql_db)
set_property(TEST e2e.security.child_env.mysql PROPERTY RESOURCE_LOCK mysql_database)
