#!/usr/bin/env bash
# Neo4j APOC export (?use_apoc=true): the same round trip through
# apoc.export.cypher.all, on the graph APOC 5.26 can carry (see n4j_seed
# apoc); schema names are not compared (APOC drops index names).
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service neo4j
. "$DBB_SOURCE_DIR/tests/e2e/neo4j_lib.sh"

n4j_wipe || exit 1
n4j_seed apoc || exit 1
n4j_canon "$WORK/original.txt" nonames || exit 1
e2e_start DB_TYPE=neo4j

api POST "/backup/create?compress=true&use_apoc=true" operator
expect_status 200 "APOC backup created"
expect_json '.filename | test("^backup_neo4j_[0-9]{8}_[0-9]{6}(_[0-9]+)?\\.cypher\\.gz$")' "contract file name"
f=$(jq -r .filename "$BODY")
check "it is APOC's export" bash -c "gunzip -c '$WORK/backups/$f' | head -n 1 | grep -q 'apoc export'"
check "it holds APOC's import label" bash -c "gunzip -c '$WORK/backups/$f' | grep -q 'UNIQUE IMPORT LABEL'"

api POST "/backup/create?use_apoc=maybe" operator
expect_error 400 invalid_parameter "use_apoc=maybe is refused"

n4j_q 'MATCH (n:Bulk) WHERE n.i > 100 DETACH DELETE n' >/dev/null
n4j_q 'CREATE (:AddedLater {x: 1})' >/dev/null
api POST "/backup/restore/$f" operator
expect_status 200 "restore of the APOC backup"
expect_json '.safety_backup_created == true' "with a safety backup"
n4j_canon "$WORK/restored.txt" nonames
check "the graph equals the original" cmp "$WORK/original.txt" "$WORK/restored.txt"
check "APOC's import label is gone" \
	test "$(n4j_q 'MATCH (n:`UNIQUE IMPORT LABEL`) RETURN count(n)' | jq -r '.data.values[0][0]._value')" = 0

e2e_stop

# a Neo4j without APOC: use_apoc=true is refused with the reason, the
# standard export still works
svc_state="$WORK/svc-noapoc"
if noapoc=$(DBB_SERVICE_STATE="$svc_state" NEO4J_WITH_APOC=0 bash "$DBB_SOURCE_DIR/tests/services/neo4j.sh" start); then
	url=$(sed -nE 's/.*NEO4J_URL=([^ ]*).*/\1/p' <<<"$noapoc")
	pw=$(sed -nE 's/.*NEO4J_PASSWORD=([^ ]*).*/\1/p' <<<"$noapoc")
	e2e_start DB_TYPE=neo4j NEO4J_URL="$url" NEO4J_PASSWORD="$pw"
	api POST "/backup/create?use_apoc=true" operator
	expect_error 503 database_unavailable "use_apoc=true without APOC: 503"
	expect_json '.message | test("APOC plugin")' "the message says APOC is missing"
	api POST "/backup/create" operator
	expect_status 200 "the standard export works without APOC"
	e2e_stop
	DBB_SERVICE_STATE="$svc_state" bash "$DBB_SOURCE_DIR/tests/services/neo4j.sh" stop
else
	fail "a Neo4j without APOC did not start"
fi

e2e_done
