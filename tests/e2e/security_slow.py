#!/usr/bin/env python3
"""Slow clients for tests/e2e/security_slow_clients.sh (issue 14, item 3).

Opens COUNT connections to 127.0.0.1:PORT from the given loopback source
addresses (round robin) and trickles one byte every INTERVAL seconds:

  head: "GET /health HTTP/1.1\\r\\nHost: x\\r\\nX-Slow: " and then the
        header value a byte at a time (the head never ends);
  body: a whole head with "Content-Length: 1000000000" (and the bearer token
        in $SLOW_TOKEN, when set) for PATH, then the body a byte at a time.

With --reconnect a connection the server closed is opened again (after
--reconnect-delay), so COUNT connections keep trying for the whole run.
After SECONDS it writes a JSON report to REPORT and exits:

  {"opened": n, "refused": n, "closed_by_server": n, "alive": n, "held": n,
   "closed_after": [seconds of each first-generation connection closed]}

"held": connections open at the end that had been open for 2 s or more.

"refused" counts connections the server closed before anything was read
from them or that could not connect.
"""
import argparse
import json
import os
import selectors
import socket
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", choices=["head", "body"], required=True)
    ap.add_argument("--path", default="/health")
    ap.add_argument("--method", default="GET")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--sources", default="127.0.0.1",
                    help="comma-separated source addresses, or A.B.C.D+N for N consecutive ones")
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--reconnect", action="store_true")
    ap.add_argument("--reconnect-delay", type=float, default=0.2)
    ap.add_argument("--report", required=True)
    a = ap.parse_args()

    sources = []
    for part in a.sources.split(","):
        if "+" in part:
            base, n = part.split("+")
            o = [int(x) for x in base.split(".")]
            start = (o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]
            for i in range(int(n)):
                v = start + i
                sources.append("%d.%d.%d.%d" % (v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255))
        else:
            sources.append(part)

    token = os.environ.get("SLOW_TOKEN", "")
    if a.mode == "head":
        first = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "
    else:
        auth = ("Authorization: Bearer %s\r\n" % token).encode() if token else b""
        first = (("%s %s HTTP/1.1\r\nHost: x\r\n" % (a.method, a.path)).encode() + auth +
                 b"Content-Type: multipart/form-data; boundary=dbbslowboundary\r\n"
                 b"Content-Length: 1000000000\r\n\r\n--dbbslowboundary\r\n"
                 b"Content-Disposition: form-data; name=\"file\"; filename=\"x.db\"\r\n\r\n")

    sel = selectors.DefaultSelector()
    t0 = time.monotonic()
    stats = {"opened": 0, "refused": 0, "closed_by_server": 0, "alive": 0, "held": 0,
             "closed_after": []}
    conns = {}  # sock -> dict(gen0, opened_at, got_data)
    pending = []  # (when, slot) reconnects

    def open_one(slot, gen0):
        src = sources[slot % len(sources)]
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((src, 0))
            s.settimeout(2)
            s.connect(("127.0.0.1", a.port))
            s.sendall(first)
            s.setblocking(False)
        except OSError:
            s.close()
            stats["refused"] += 1
            if a.reconnect:
                pending.append((time.monotonic() + a.reconnect_delay, slot))
            return
        stats["opened"] += 1
        conns[s] = {"slot": slot, "gen0": gen0, "at": time.monotonic()}
        sel.register(s, selectors.EVENT_READ)

    def closed(s, refused):
        info = conns.pop(s)
        sel.unregister(s)
        s.close()
        if refused:
            stats["refused"] += 1
        else:
            stats["closed_by_server"] += 1
        if info["gen0"]:
            stats["closed_after"].append(round(time.monotonic() - t0, 2))
        if a.reconnect:
            pending.append((time.monotonic() + a.reconnect_delay, info["slot"]))

    for i in range(a.count):
        open_one(i, True)
    next_tick = time.monotonic() + a.interval
    while time.monotonic() - t0 < a.seconds:
        now = time.monotonic()
        for ev, _ in sel.select(timeout=0.05):
            s = ev.fileobj
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                closed(s, refused=time.monotonic() - conns[s]["at"] < 0.05)
            # an answer (a body refused at once): read on until the server closes
        if pending:
            due = [p for p in pending if p[0] <= now]
            pending[:] = [p for p in pending if p[0] > now]
            for _, slot in due:
                open_one(slot, False)
        if now >= next_tick:
            next_tick = now + a.interval
            for s in list(conns):
                try:
                    s.send(b"a")
                except OSError:
                    closed(s, refused=False)
    stats["alive"] = len(conns)
    stats["held"] = sum(1 for i in conns.values() if time.monotonic() - i["at"] >= 2)
    for s in list(conns):
        s.close()
    with open(a.report, "w") as f:
        json.dump(stats, f)


if __name__ == "__main__":
    main()
