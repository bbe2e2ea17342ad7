# End-to-end tests of the PostgreSQL driver against a real throw-away cluster.
# They share one database, so they run one at a time (RESOURCE_LOCK).
dbb_service_fixture(postgresql)
foreach(t roundtrip upload failure bad_input outage)
  dbb_e2e_test(NAME postgresql.${t} SCRIPT postgresql_${t}.sh LABELS postgresql SERVICES postgresql)
  set_tests_properties(e2e.postgresql.${t} PROPERTIES RESOURCE_LOCK postgresql_db)
endforeach()
