# Helpers for the Neo4j end-to-end tests (sourced, after lib.sh and
# e2e_use_service neo4j): talk to Neo4j directly over its Query API, seed a
# graph holding every property type and shape the backup must keep, and
# write a canonical, sorted typed-JSON dump of a graph to compare.

# n4j_q STATEMENT [PARAMS_JSON]: runs one statement, prints the JSON answer;
# fails (and prints Neo4j's error on stderr) if Neo4j reports one.
n4j_q() {
	local out
	out=$(jq -cn --arg s "$1" --argjson p "${2:-{\}}" '{statement: $s, parameters: $p}' |
		curl -sS -u "$NEO4J_USER:$NEO4J_PASSWORD" \
			-H 'Content-Type: application/vnd.neo4j.query' -H 'Accept: application/vnd.neo4j.query' \
			--data-binary @- "$NEO4J_URL/db/${NEO4J_DATABASE:-neo4j}/query/v2") || return 1
	if jq -e '.errors | length > 0' <<<"$out" >/dev/null 2>&1 || ! jq -e .data <<<"$out" >/dev/null 2>&1; then
		echo "neo4j: $1: $out" >&2
		return 1
	fi
	printf '%s\n' "$out"
}

# n4j_wipe: empties the database: data, constraints, indexes (not LOOKUP).
n4j_wipe() {
	local name
	n4j_q 'MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS' >/dev/null || return 1
	for name in $(n4j_q 'SHOW CONSTRAINTS YIELD name RETURN name' | jq -r '.data.values[][0]._value | @base64'); do
		n4j_q "DROP CONSTRAINT \`$(base64 -d <<<"$name" | sed 's/`/``/g')\`" >/dev/null || return 1
	done
	for name in $(n4j_q "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name" | jq -r '.data.values[][0]._value | @base64'); do
		n4j_q "DROP INDEX \`$(base64 -d <<<"$name" | sed 's/`/``/g')\`" >/dev/null || return 1
	done
}

# n4j_seed [full|apoc]: every property type and graph shape of issue 7.
# Byte arrays have no Cypher literal: they are sent as typed parameters.
# "apoc" leaves out what APOC 5.26's export cannot carry (docs/driver-neo4j.md):
# byte arrays (written as lists of integers), backticks inside names (left
# unescaped, so the script does not parse) and a full-text analyzer (dropped).
n4j_seed() {
	local mode=${1:-full} bparams ftopt=' OPTIONS {indexConfig: {`fulltext.analyzer`: "english"}}'
	bparams='{"b1":{"$type":"Base64","_value":"AAECA/+AfwA="},"b2":{"$type":"Base64","_value":""}}'
	if [ "$mode" = apoc ]; then
		bparams='{"b1":{"$type":"String","_value":"bytes"},"b2":{"$type":"String","_value":""}}'
		ftopt=''
	fi
	# in apoc mode, a doubled backtick (an escaped one inside a name) goes
	_seed_q() {
		if [ "$mode" = apoc ]; then n4j_q "${1//\`\`/}" "${2:-{\}}"; else n4j_q "$@"; fi
	}
	_seed_q 'CREATE CONSTRAINT person_email FOR (p:Person) REQUIRE p.email IS UNIQUE' >/dev/null &&
		_seed_q 'CREATE CONSTRAINT `odd ``constraint``` FOR (n:`Odd Label`) REQUIRE (n.`we"ird key`, n.k2) IS UNIQUE' >/dev/null &&
		_seed_q 'CREATE CONSTRAINT rel_uid FOR ()-[r:KNOWS]-() REQUIRE r.uid IS UNIQUE' >/dev/null &&
		_seed_q 'CREATE INDEX person_name_age FOR (p:Person) ON (p.name, p.age)' >/dev/null &&
		_seed_q 'CREATE TEXT INDEX `text idx` FOR (n:Doc) ON (n.body)' >/dev/null &&
		_seed_q 'CREATE POINT INDEX place_loc FOR (n:Place) ON (n.loc)' >/dev/null &&
		_seed_q 'CREATE FULLTEXT INDEX doc_ft FOR (n:Doc|Person) ON EACH [n.body, n.name]'"$ftopt" >/dev/null &&
		_seed_q 'CREATE INDEX knows_since FOR ()-[r:KNOWS]-() ON (r.since)' >/dev/null || return 1

	_seed_q 'CREATE (a:Person {email: "ann@example.org",
	    name: "Zoë \"quoted\" '\''single'\'' back\\slash\nnew line\ttab\r\u0001 𝄞 😀 ;\n// not a comment",
	    age: 42, height: 1.0, ratio: 0.1, tiny: 1.0E-300, huge: 1.7976931348623157E308, negz: -0.0,
	    nan: toFloat("NaN"), inf: toFloat("Infinity"), ninf: toFloat("-Infinity"),
	    maxint: 9223372036854775807, minint: -9223372036854775808, zero: 0,
	    yes: true, no: false,
	    d: date("2024-02-29"), oldd: date("-0044-03-15"),
	    t: time("12:34:56.123456789+05:30"), lt: localtime("23:59:59.999999999"),
	    dt: datetime("2024-02-29T12:34:56.123456789+05:30"),
	    dz: datetime("2021-03-28T02:30:00[Europe/Paris]"), dzutc: datetime("2020-01-01T00:00Z"),
	    ldt: localdatetime("1999-12-31T23:59:59.5"),
	    du: duration("P1Y2M3DT4H5M6.007S"), dneg: duration({seconds: -1, nanoseconds: 5}),
	    dmix: duration({months: 14, days: -3, seconds: 100000}),
	    p2: point({x: 1.5, y: -2.25}), p3: point({x: 1, y: 2, z: 3}),
	    g2: point({longitude: 12.5, latitude: 55.75}), g3: point({longitude: -0.1, latitude: 51.5, height: 35.0}),
	    bytes: $b1, nobytes: $b2,
	    li: [1, -2, 9223372036854775807], lf: [1.0, 2.5, -0.0], ls: ["a", "b\nc", "\"", ""], lb: [true, false],
	    ld: [date("2020-01-01"), date("2020-12-31")], lt2: [time("01:02:03Z")], llt: [localtime("04:05")],
	    ldt2: [datetime("2020-01-01T00:00:00+01:00[Europe/Berlin]")], lldt: [localdatetime("2020-01-01T00:00")],
	    ldu: [duration("PT1S"), duration("P-1D")], lp: [point({x: 1, y: 2}), point({x: 3, y: 4})],
	    lg: [point({longitude: 1, latitude: 2, height: 3})], empty: []}),
	  (b:Person:Employee:`Odd Label`:`with``tick`:`123`:ünï {email: "bob@example.org", name: "Bob",
	    `we"ird key`: "w", k2: 2, `has space`: 1, ```tick```: "t", `ключ`: "значение"}),
	  (c),
	  (d:Doc {body: "the quick brown fox"}),
	  (e:Place {loc: point({longitude: 2.35, latitude: 48.85}), bytes: $b1}),
	  (f:Doc {body: "the quick brown fox"}),
	  (a)-[:KNOWS {uid: 1, since: date("2001-01-01"), w: 0.5, tags: ["x", "y"], bytes: $b1}]->(b),
	  (a)-[:KNOWS {uid: 2}]->(b),
	  (a)-[:LIKES]->(b), (a)-[:LIKES]->(b),
	  (b)-[:`HAS SPACE` {`we"ird key`: "\\"}]->(b),
	  (a)-[:SELF {n: 1}]->(a), (a)-[:SELF {n: 1}]->(a),
	  (c)-[:`with``tick`]->(d), (d)-[:NEAR {at: datetime("2020-01-01T00:00:00Z"), p: point({x: 0, y: 0, z: 0})}]->(e),
	  (f)-[:NEAR]->(c)' "$bparams" >/dev/null || return 1
	# A little bulk so more than one page and batch are written.
	n4j_q 'UNWIND range(1, 2500) AS i CREATE (:Bulk {i: i, s: "row " + toString(i), f: toFloat(i) / 3})' >/dev/null &&
		n4j_q 'MATCH (a:Bulk), (b:Bulk) WHERE b.i = a.i % 97 + 1 CREATE (a)-[:NEXT {k: a.i}]->(b)' >/dev/null
}

# n4j_canon FILE [names]: writes a canonical, sorted typed-JSON dump of all
# nodes, relationships, constraints and indexes to FILE. Node identity is
# its labels and properties (element ids change on restore); labels are
# sorted; map keys are sorted by jq -S. Without "names" the names of schema
# objects are left out (APOC's export does not keep index names).
n4j_canon() {
	local out=$1 names=${2:-names} tmp
	tmp=$(mktemp)
	{
		n4j_q 'MATCH (n) RETURN "node" AS k, labels(n) AS l, properties(n) AS p' | jq -c '.data.values[]'
		n4j_q 'MATCH (a)-[r]->(b) RETURN "rel" AS k, labels(a), properties(a), type(r), properties(r), labels(b), properties(b)' | jq -c '.data.values[]'
		n4j_q 'SHOW CONSTRAINTS YIELD name, type, entityType, labelsOrTypes, properties, options RETURN "constraint", name, type, entityType, labelsOrTypes, properties, options' | jq -c '.data.values[]'
		n4j_q 'SHOW INDEXES YIELD name, type, entityType, labelsOrTypes, properties, options, owningConstraint RETURN "index", name, type, entityType, labelsOrTypes, properties, options, owningConstraint' | jq -c '.data.values[]'
	} >"$tmp" || {
		rm -f "$tmp"
		return 1
	}
	jq -S -c --arg names "$names" '
		map(if .["$type"] == "List" then ._value |= sort_by(tojson) else . end)
		| if ($names != "names") and (.[0]._value == "constraint" or .[0]._value == "index")
		  then .[1] = null | (if .[0]._value == "index" then .[7] = null else . end) else . end' "$tmp" | LC_ALL=C sort >"$out"
	rm -f "$tmp"
}
