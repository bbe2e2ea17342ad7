#!/usr/bin/env python3
"""A local webhook receiver for the notification tests.

sched_webhook.py SECRET_FILE EVENTS_FILE PORT_FILE: listens on a free
loopback port (written to PORT_FILE), and appends each POSTed body to
EVENTS_FILE as one JSON line with "signature_ok": whether the
X-Dbbackupd-Signature header is sha256=<hex HMAC-SHA-256 of the body> with
the key in SECRET_FILE."""
import hashlib
import hmac
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

secret = open(sys.argv[1], "rb").read().strip()
events_file = sys.argv[2]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        got = self.headers.get("X-Dbbackupd-Signature", "")
        try:
            event = json.loads(body)
        except ValueError:
            event = {"unparsable": body.decode("utf-8", "replace")}
        event["signature_ok"] = hmac.compare_digest(want, got)
        with open(events_file, "a") as f:
            f.write(json.dumps(event) + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[3] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os  # noqa: E402

os.replace(sys.argv[3] + ".tmp", sys.argv[3])
server.serve_forever()
