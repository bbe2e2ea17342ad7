# Security tests of issue 14 for tokens, keys, configuration and child tools
# (docs/reliability.md, "Tokens, keys and configuration"): label security.
dbb_e2e_test(NAME security.auth SCRIPT security_auth.sh LABELS security sqlite)
# the unit tests that hold the same guarantees
set_property(TEST unit.auth unit.trust unit.config unit.child APPEND PROPERTY LABELS security)
