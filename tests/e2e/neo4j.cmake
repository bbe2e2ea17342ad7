# End-to-end tests of the Neo4j driver against a real Neo4j Community with
# APOC (tests/services/neo4j.sh). They share one database, so they never run
# at the same time.
dbb_service_fixture(neo4j)
dbb_e2e_test(NAME neo4j.roundtrip SCRIPT neo4j_roundtrip.sh LABELS neo4j SERVICES neo4j)
set_tests_properties(e2e.neo4j.roundtrip PROPERTIES RESOURCE_LOCK neo4j_db)
dbb_e2e_test(NAME neo4j.apoc SCRIPT neo4j_apoc.sh LABELS neo4j SERVICES neo4j)
set_tests_properties(e2e.neo4j.apoc PROPERTIES RESOURCE_LOCK neo4j_db)
dbb_e2e_test(NAME neo4j.failures SCRIPT neo4j_failures.sh LABELS neo4j SERVICES neo4j)
set_tests_properties(e2e.neo4j.failures PROPERTIES RESOURCE_LOCK neo4j_db)
set_tests_properties(unit.neo4j_script PROPERTIES LABELS "unit;neo4j")
