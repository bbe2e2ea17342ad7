#!/usr/bin/env bash
# Test-restores on Neo4j (issue 20): Community has one database, so a
# verification is a full parse and a structural check, never a restore:
# the rows of the node and relationship statements must add up to the
# totals of the backup's trailer. A good backup passes with the graph's
# counts; one whose trailer disagrees with its statements fails and is
# recorded; the graph is unchanged.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service neo4j
. "$DBB_SOURCE_DIR/tests/e2e/neo4j_lib.sh"

n4j_wipe || exit 1
n4j_seed full || exit 1
n4j_count() { n4j_q "$1" | jq '.data.values[0][0] | if type == "object" then ._value else . end | tonumber'; }
nodes=$(n4j_count 'MATCH (n) RETURN count(n)')
rels=$(n4j_count 'MATCH ()-[r]->() RETURN count(r)')
n4j_canon "$WORK/before.txt"
e2e_start DB_TYPE=neo4j

api POST "/backup/create?compress=true" operator
expect_status 200 "backup created"
gz=$(jq -r .filename "$BODY")
api POST "/backup/verify/$gz" operator
expect_status 200 "verify of a good backup"
expect_json ".verify_ok == true and .counts.tables.nodes == $nodes and .counts.tables.relationships == $rels and .counts.tables.statements > 0" \
	"the counts are the graph's ($nodes nodes, $rels relationships)"

# the same backup with a trailer that disagrees with its statements
gunzip -c "$WORK/backups/$gz" >"$WORK/dump.cypher"
check "the trailer carries the totals" grep -q "^// dbbackupd end of backup: $nodes nodes, $rels relationships" "$WORK/dump.cypher"
sed -i "s|^// dbbackupd end of backup: $nodes nodes|// dbbackupd end of backup: $((nodes + 1)) nodes|" "$WORK/dump.cypher"
gzip -c "$WORK/dump.cypher" >"$WORK/backups/$gz"
(cd "$WORK/backups" && sha256sum "$gz" >"$gz.sha256")
api POST "/backup/verify/$gz" operator
expect_error 422 verify_failed "a backup whose statements do not add up fails"
expect_json '.verify_ok == false and .recorded == true and (.message | test("trailer says"))' "recorded, saying why"
api GET /backup/list viewer
expect_json "[.backups[] | select(.filename == \"$gz\") | .verify_ok] == [false]" "the list shows it"
n4j_canon "$WORK/after.txt"
check "the graph is unchanged" cmp -s "$WORK/before.txt" "$WORK/after.txt"
e2e_done
