# Operability: the OpenAPI document and /docs, schemathesis against the live
# daemon, Prometheus metrics, probes and TLS, graceful shutdown. They
# install their own tools (a venv from PyPI under the build directory;
# chromium and python3-venv with apt when missing).
dbb_e2e_test(NAME operability.spec SCRIPT operability_spec.sh LABELS operability TIMEOUT 600)
dbb_e2e_test(NAME operability.schemathesis SCRIPT operability_schemathesis.sh LABELS operability TIMEOUT 900)
dbb_e2e_test(NAME operability.docs_browser SCRIPT operability_docs_browser.sh LABELS operability TIMEOUT 900)
dbb_e2e_test(NAME operability.metrics SCRIPT operability_metrics.sh LABELS operability TIMEOUT 600)
dbb_e2e_test(NAME operability.probes_tls SCRIPT operability_probes_tls.sh LABELS operability TIMEOUT 600)
dbb_e2e_test(NAME operability.shutdown SCRIPT operability_shutdown.sh LABELS operability TIMEOUT 600)
dbb_e2e_test(NAME operability.deploy_lint SCRIPT operability_deploy_lint.sh LABELS operability TIMEOUT 600)
dbb_e2e_test(NAME operability.logs SCRIPT operability_logs.sh LABELS operability TIMEOUT 600)
