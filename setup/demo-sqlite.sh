#!/usr/bin/env bash
# Creates a small demo SQLite database at PATH (default ./data/app.db) for the
# quick start and the tests: a few tables, an index, a view, unicode text,
# blobs and NULLs. Leaves an existing database alone unless --force.
set -euo pipefail
force=0
if [ "${1:-}" = "--force" ]; then
	force=1
	shift
fi
db=${1:-./data/app.db}
rows=${2:-200}
if [ -e "$db" ] && [ "$force" -eq 0 ]; then
	echo "demo database $db exists; leaving it as it is" >&2
	exit 0
fi
mkdir -p "$(dirname "$db")"
rm -f "$db"
sqlite3 "$db" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE, note TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
                     total REAL NOT NULL, placed_at TEXT NOT NULL, receipt BLOB);
CREATE INDEX orders_by_customer ON orders(customer_id);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO customers (id, name, email, note)
SELECT i, 'Customer ' || i || ' — Zoë ✓', 'c' || i || '@example.test',
       CASE WHEN i % 7 = 0 THEN NULL ELSE 'note "' || i || '"' END FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows * 3)
INSERT INTO orders (customer_id, total, placed_at, receipt)
SELECT 1 + (i % $rows), (i * 37 % 1000) / 3.0, datetime(1700000000 + i * 3600, 'unixepoch'),
       randomblob(32) FROM n;
SQL
echo "created demo database $db" >&2
