#!/usr/bin/env bash
# The OpenAPI document: valid OpenAPI 3.1, the committed JSON is the YAML's
# conversion, every route the daemon serves is in it (with its role) and
# vice versa, and the daemon serves it at /openapi.json and Swagger UI at
# /docs from any working directory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operability_lib.sh"
e2e_init
op_venv

SPEC_YAML="$DBB_SOURCE_DIR/docs/openapi.yaml"
SPEC_JSON="$DBB_SOURCE_DIR/docs/openapi.json"

check "openapi.yaml is valid OpenAPI 3.1 (openapi-spec-validator)" \
	"$OP_PY" "$OP_TOOLS" validate "$SPEC_JSON"
check "docs/openapi.json is the conversion of docs/openapi.yaml" \
	"$OP_PY" "$OP_TOOLS" agree "$SPEC_YAML" "$SPEC_JSON"
check "every error response shows its own codes; filename parameters have a pattern" \
	"$OP_PY" "$OP_TOOLS" errors "$SPEC_JSON"
"$DBBACKUPD" routes >"$WORK/routes.txt"
check "dbbackupd routes lists routes" test "$(wc -l <"$WORK/routes.txt")" -ge 10
check "every served route is in the spec with its role, and vice versa" \
	"$OP_PY" "$OP_TOOLS" routes "$SPEC_JSON" "$WORK/routes.txt"

# The daemon runs from / : the document and the UI are in the binary.
e2e_sqlite_demo
cd / || exit 1
e2e_start SQLITE_PATH="$SQLITE_DB"

api GET /openapi.json none
expect_status 200 "GET /openapi.json without a token"
check "/openapi.json is the committed document" \
	cmp -s <(jq -S . "$BODY") <(jq -S . "$SPEC_JSON")

ctype() { curl -sS -o /dev/null -w '%{content_type}' "$BASE$1"; }
api GET /docs none
expect_status 200 "GET /docs without a token"
check "/docs is the Swagger UI page" grep -q 'docs/swagger-ui-bundle.js' "$BODY"
check "  ... started by /docs/init.js (no inline script: the page's CSP)" \
	bash -c "grep -q 'docs/init.js' '$BODY' && curl -sS '$BASE/docs/init.js' | grep -q SwaggerUIBundle"
check "/docs is HTML" test "$(ctype /docs)" = "text/html; charset=utf-8"
for f in swagger-ui.css swagger-ui-bundle.js swagger-ui-standalone-preset.js favicon-32x32.png; do
	api GET "/docs/$f" none
	expect_status 200 "GET /docs/$f"
	check "/docs/$f is not empty" test -s "$BODY"
done
check "the bundle is Swagger UI's" grep -q 'SwaggerUIBundle' <(curl -sS "$BASE/docs/swagger-ui-bundle.js")
check "the bundle is JavaScript" test "$(ctype /docs/swagger-ui-bundle.js)" = "text/javascript; charset=utf-8"
api GET /docs/index.html none
expect_error 404 not_found "/docs/index.html is not a second copy"
api GET /docs/../keys/private.pem none --path-as-is
expect_error 404 not_found "no file outside the embedded set"
api GET /docs/nothing.js none
expect_error 404 not_found "unknown asset"
api POST /docs none
expect_error 405 method_not_allowed "POST /docs"
api GET /docs/ none
expect_error 404 not_found "GET /docs/ (no asset name)"

e2e_done
