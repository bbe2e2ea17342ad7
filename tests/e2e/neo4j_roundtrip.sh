#!/usr/bin/env bash
# Neo4j standard export round trip: a graph holding every property type and
# shape of issue 7 is backed up, changed, and restored (from the list and by
# upload, compressed and plain); a canonical typed-JSON dump of all nodes,
# relationships, constraints and indexes must be identical afterwards.
. "$DBB_SOURCE_DIR/tests/e2e/lib.sh"
e2e_init
e2e_use_service neo4j
. "$DBB_SOURCE_DIR/tests/e2e/neo4j_lib.sh"

n4j_wipe || exit 1
n4j_seed full || exit 1
n4j_canon "$WORK/original.txt" || exit 1
e2e_start DB_TYPE=neo4j

api POST "/backup/create?compress=true" operator
expect_status 200 "backup created"
expect_json '(.filename | test("^backup_neo4j_[0-9]{8}_[0-9]{6}(_[0-9]+)?\\.cypher\\.gz$")) and .success == true' "contract file name and fields"
gz=$(jq -r .filename "$BODY")
api POST "/backup/create?compress=false" operator
expect_status 200 "uncompressed backup created"
plain=$(jq -r .filename "$BODY")
check "plain backup is named .cypher" bash -c "[[ '$plain' == backup_neo4j_*.cypher ]]"
check "the script starts with the header" bash -c "head -n 1 '$WORK/backups/$plain' | grep -q '^// dbbackupd neo4j backup v1'"
check "index names are kept" grep -q 'CREATE TEXT INDEX `text idx` IF NOT EXISTS' "$WORK/backups/$plain"
check "constraint names with backticks are kept" grep -q 'CREATE CONSTRAINT `odd ``constraint``` IF NOT EXISTS' "$WORK/backups/$plain"
check "no string holds a raw newline: every line is a comment or ends a statement" \
	bash -c "! grep -v -e '^//' -e ';\$' '$WORK/backups/$plain' | grep -q ."
check "the script ends with the end marker" bash -c "tail -n 1 '$WORK/backups/$plain' | grep -q '^// dbbackupd end of backup: 2506 nodes, 2510 relationships'"

api GET /backup/stats viewer
expect_status 200 "stats"
expect_json '.success == true and .database_type == "neo4j" and .node_count == 2506 and .relationship_count == 2510' "stats counts"
expect_json '.labels.Bulk == 2500 and .labels["with`tick"] == 1 and .labels.Person == 2 and .relationship_types.NEXT == 2500 and .relationship_types.LIKES == 2' "stats per label and type"
expect_json '([.constraints[].name] | index("person_email") != null) and ([.indexes[].name] | index("text idx") != null)' "stats lists constraints and indexes"

# change everything: data, properties, schema
n4j_q 'MATCH (n:Bulk) WHERE n.i % 3 = 0 DETACH DELETE n' >/dev/null
n4j_q 'MATCH (p:Person) SET p.name = "changed", p.extra = 1 REMOVE p.age' >/dev/null
n4j_q 'CREATE (:AddedLater {x: 1})-[:NEW]->(:AddedLater {x: 2})' >/dev/null
n4j_q 'DROP INDEX `text idx`' >/dev/null
n4j_q 'CREATE CONSTRAINT added_later FOR (n:AddedLater) REQUIRE n.x IS UNIQUE' >/dev/null
n4j_canon "$WORK/changed.txt"
check "the graph changed" bash -c "! cmp -s '$WORK/original.txt' '$WORK/changed.txt'"

api POST "/backup/restore/$gz" operator
expect_status 200 "restore from the list"
expect_json ".success == true and .safety_backup_created == true and (.safety_backup_filename | test(\"^safety_backup_neo4j_.*\\\\.cypher\\\\.zst$\"))" "restore reply names the safety backup"
safety=$(jq -r .safety_backup_filename "$BODY")
n4j_canon "$WORK/restored.txt"
check "the graph equals the original (every value, type, label, relationship, constraint, index)" \
	cmp "$WORK/original.txt" "$WORK/restored.txt"
check "nodes created after the backup are gone" \
	test "$(n4j_q 'MATCH (n:AddedLater) RETURN count(n)' | jq -r '.data.values[0][0]._value')" = 0
check "no import label or key is left" \
	test "$(n4j_q 'MATCH (n) WHERE n:__DbbImport OR n.__dbb_id IS NOT NULL RETURN count(n)' | jq -r '.data.values[0][0]._value')" = 0

# the safety backup holds the changed graph
api POST "/backup/restore/$safety?create_safety_backup=false" operator
expect_status 200 "restore the safety backup"
n4j_canon "$WORK/again.txt"
check "the safety backup held the changed graph" cmp "$WORK/changed.txt" "$WORK/again.txt"

# upload-restore, plain and compressed
for f in "$plain" "$gz"; do
	cp "$WORK/backups/$f" "$WORK/upload-$f"
	api POST "/backup/restore-upload?create_safety_backup=false" operator -F "file=@$WORK/upload-$f"
	expect_status 200 "upload-restore of $f"
	n4j_canon "$WORK/up.txt"
	check "upload-restore of $f gives the original graph" cmp "$WORK/original.txt" "$WORK/up.txt"
	n4j_q 'CREATE (:AddedLater {x: 3})' >/dev/null
done

# an empty graph round-trips too
n4j_wipe
n4j_canon "$WORK/empty.txt"
api POST "/backup/create" operator
expect_status 200 "backup of an empty graph"
empty=$(jq -r .filename "$BODY")
n4j_q 'CREATE (:X)' >/dev/null
api POST "/backup/restore/$empty?create_safety_backup=false" operator
expect_status 200 "restore of an empty graph"
n4j_canon "$WORK/empty2.txt"
check "the empty graph is empty again" cmp "$WORK/empty.txt" "$WORK/empty2.txt"

e2e_done
