# End-to-end tests against a real Keycloak started once per run by
# tests/services/keycloak.sh (Maven Central download and build on first use).
dbb_service_fixture(keycloak)
dbb_e2e_test(NAME keycloak.roles SCRIPT keycloak_roles.sh LABELS keycloak SERVICES keycloak)
dbb_e2e_test(NAME keycloak.forged SCRIPT keycloak_forged.sh LABELS keycloak SERVICES keycloak)
dbb_e2e_test(NAME keycloak.cron SCRIPT keycloak_cron.sh LABELS keycloak SERVICES keycloak)
# issue 16: rotate-backups.sh and cron-backup.sh with their own tokens
dbb_e2e_test(NAME keycloak.rotate_scripts SCRIPT deploy_rotate_keycloak.sh LABELS keycloak deploy SERVICES keycloak)
# Rotation replaces the realm's keys and "down" stops Keycloak: they run
# last, one after the other, never beside the others.
dbb_e2e_test(NAME keycloak.rotation SCRIPT keycloak_rotation.sh LABELS keycloak SERVICES keycloak)
dbb_e2e_test(NAME keycloak.down SCRIPT keycloak_down.sh LABELS keycloak SERVICES keycloak)
set_tests_properties(e2e.keycloak.rotation PROPERTIES
  DEPENDS "e2e.keycloak.roles;e2e.keycloak.forged;e2e.keycloak.cron;e2e.keycloak.rotate_scripts")
set_tests_properties(e2e.keycloak.down PROPERTIES
  DEPENDS "e2e.keycloak.roles;e2e.keycloak.forged;e2e.keycloak.cron;e2e.keycloak.rotate_scripts;e2e.keycloak.rotation")
set_tests_properties(e2e.keycloak.roles e2e.keycloak.forged e2e.keycloak.cron e2e.keycloak.rotate_scripts PROPERTIES
  RESOURCE_LOCK keycloak_shared)
set_tests_properties(e2e.keycloak.rotation e2e.keycloak.down PROPERTIES
  RESOURCE_LOCK keycloak_shared)
