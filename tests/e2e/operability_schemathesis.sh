#!/usr/bin/env bash
# Schemathesis (PyPI) against the live daemon with docs/openapi.json and a
# token per role (and none): no 5xx, every status, content type, header and
# body as documented, 401 without a token, 405 for undocumented methods.
# Bounded: a fixed number of examples per operation, a fixed seed, and a
# time limit per run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/operability_lib.sh"
e2e_init
op_venv

e2e_sqlite_demo
# a small upload limit, so generated uploads over it meet the 413 path
e2e_start SQLITE_PATH="$SQLITE_DB" MAX_UPLOAD_BYTES=64K
before=$(sqlite_sum)

# the checks, and the one operation that differs: tests/e2e/schemathesis.toml
run_role() {
	local role=$1 auth=()
	[ "$role" = none ] || auth=(-H "Authorization: Bearer $(token "$role" 3600)")
	(cd "$WORK" && timeout 300 "$OP_VENV/bin/schemathesis" \
		--config-file "$DBB_SOURCE_DIR/tests/e2e/schemathesis.toml" run "$DBB_SOURCE_DIR/docs/openapi.json" \
		--url "$BASE" "${auth[@]}" \
		--max-examples "${OP_EXAMPLES:-30}" --seed 20261125 --workers 1 \
		--generation-database none --no-color --request-timeout 30 \
		--report junit --report-junit-path "$OP_ARTIFACTS/schemathesis-$role.xml") \
		>"$WORK/st-$role.log" 2>&1
}
for role in admin operator viewer none; do
	if run_role "$role"; then
		ok "schemathesis as $role: $(grep -Eo '[0-9]+ generated[^=]*' "$WORK/st-$role.log" | tail -n 1)"
	else
		fail "schemathesis as $role"
		sed -n '/FAILURES\|Failures\|❌/,$p' "$WORK/st-$role.log" | head -80 >&2
	fi
done
check "no 5xx in the daemon's log" bash -c "! grep -Eq '^[^ ]+ info [A-Z]+ [^ ]+ 5[0-9][0-9] ' '$DAEMON_LOG'"
api GET /health none
expect_status 200 "the daemon is still up"

# Every generated restore was of a random name or random bytes: refused
# before the database was touched.
check "the database is unchanged after the whole run" test "$(sqlite_sum)" = "$before"

e2e_done
