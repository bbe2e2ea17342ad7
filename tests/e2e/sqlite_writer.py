#!/usr/bin/env python3
"""A steady writer for tests/e2e/sqlite_writer.sh: commits small transactions
to an SQLite database until SIGTERM, as an application would while a backup
runs.

    sqlite_writer.py DB STATUS_FILE [ROWS_PER_TXN] [BUSY_TIMEOUT_MS] [PAUSE_MS]

Each transaction inserts ROWS_PER_TXN (10) rows into w(txn, k, pad), all
with the transaction's number txn (1, 2, 3... in commit order), so a backup
holds whole transactions when every txn it has has exactly ROWS_PER_TXN
rows, and a consistent state when its txn numbers are 1..max without a gap.
The database keeps its journal mode (the test sets it).

STATUS_FILE is rewritten (atomically) after every transaction, as
"committed=N errors=E max_commit_ms=M": errors counts transactions that
failed, i.e. that waited for a lock longer than the busy timeout
(BUSY_TIMEOUT_MS, default 2000) and got SQLITE_BUSY; max_commit_ms is the
longest time one transaction took, waits included.
"""
import os
import signal
import sqlite3
import sys
import time


def main():
    db, status = sys.argv[1], sys.argv[2]
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    busy_ms = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
    pause = (int(sys.argv[5]) if len(sys.argv) > 5 else 2) / 1000.0

    stop = False

    def on_term(signum, frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    conn = sqlite3.connect(db, timeout=busy_ms / 1000.0, isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS w(txn INTEGER NOT NULL, k INTEGER NOT NULL, pad TEXT)")
    txn = conn.execute("SELECT coalesce(max(txn), 0) FROM w").fetchone()[0]
    errors = 0
    max_ms = 0.0
    pad = "x" * 100

    def report():
        tmp = status + ".tmp"
        with open(tmp, "w") as f:
            f.write("committed=%d errors=%d max_commit_ms=%.0f\n" % (txn, errors, max_ms))
        os.replace(tmp, status)

    report()
    while not stop:
        t0 = time.monotonic()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO w(txn, k, pad) VALUES (?, ?, ?)",
                             [(txn + 1, k, pad) for k in range(rows)])
            conn.execute("COMMIT")
            txn += 1
        except sqlite3.OperationalError as e:
            errors += 1
            print("sqlite_writer: transaction %d failed: %s" % (txn + 1, e), file=sys.stderr)
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        max_ms = max(max_ms, (time.monotonic() - t0) * 1000.0)
        report()
        time.sleep(pause)
    conn.close()
    report()


if __name__ == "__main__":
    main()
