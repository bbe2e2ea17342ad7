# End-to-end tests against a real Keycloak started once per run by
# tests/services/keycloak.sh (Maven Central download on first use).
dbb_service_fixture(keycloak)
dbb_e2e_test(NAME keycloak.roles SCRIPT keycloak_roles.sh LABELS keycloak SERVICES keycloak)
