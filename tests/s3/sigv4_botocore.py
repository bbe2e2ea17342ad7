#!/usr/bin/env python3
"""Signs random S3 requests with botocore's S3SigV4Auth and with ours
(dbb-s3 sigv4) and compares the canonical requests and Authorization headers.

usage: sigv4_botocore.py DBB_S3_TOOL [COUNT [SEED]]

The requests mix methods, keys with reserved, non-ASCII, space, '//' and
'..' characters (S3 signs the path as it is, never normalised), repeated and
valueless query parameters, header names in any case, values with runs of
spaces and tabs, repeated headers, and bodies. The seed is printed, so a
failure can be replayed.
"""
import datetime
import hashlib
import random
import subprocess
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode

FIXED = datetime.datetime(2026, 11, 25, 21, 7, 3, tzinfo=datetime.timezone.utc)
AMZ_DATE = FIXED.strftime("%Y%m%dT%H%M%SZ")

KEY_CHARS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    "-._~!$&'()*+,;=:@ %/[]{}^`|\"<>#"
)
UNICODE = ["é", "ß", "ሴ", "日本", "😀", "Ω"]
VALUE_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/+=&%:;,!*'()@ "
TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
RESERVED_HEADERS = {
    "host", "x-amz-date", "x-amz-content-sha256", "authorization", "date",
    "x-amz-security-token", "expect", "connection", "keep-alive", "te", "baggage",
    "traceparent", "proxy-authenticate", "proxy-authorization", "trailer",
    "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
}


def rand_text(rng, chars, lo, hi):
    s = "".join(rng.choice(chars) for _ in range(rng.randint(lo, hi)))
    if rng.random() < 0.2:
        s += rng.choice(UNICODE)
    return s


def rand_request(rng):
    method = rng.choice(["GET", "PUT", "POST", "DELETE", "HEAD"])
    segs = [rand_text(rng, KEY_CHARS, 0, 12) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.2:
        segs.insert(rng.randint(0, len(segs)), rng.choice(["..", ".", ""]))
    path = "/" + "/".join(segs)
    params = []
    for _ in range(rng.randint(0, 5)):
        name = rand_text(rng, VALUE_CHARS, 1, 10)
        value = "" if rng.random() < 0.25 else rand_text(rng, VALUE_CHARS, 0, 16)
        params.append((name, value))
        if rng.random() < 0.15:  # the same name twice
            params.append((name, rand_text(rng, VALUE_CHARS, 0, 8)))
    headers = [("Host", rng.choice(["bucket.example.com", "127.0.0.1:8333", "s3.example:443"]))]
    for _ in range(rng.randint(0, 5)):
        name = rand_text(rng, TOKEN_CHARS, 1, 12).encode("ascii", "ignore").decode()
        if not name or name.lower() in RESERVED_HEADERS:
            continue
        words = [rand_text(rng, VALUE_CHARS.replace(" ", ""), 1, 8).encode("ascii", "ignore")
                 .decode() or "x" for _ in range(rng.randint(1, 3))]
        sep = lambda: rng.choice([" ", "  ", "\t", " \t "])
        value = rng.choice(["", " ", "\t"]) + sep().join(words) + rng.choice(["", " ", "  "])
        headers.append((name, value))
        if rng.random() < 0.15:
            headers.append((name.upper(), rng.choice(words)))
    body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    return method, path, params, headers, body


def botocore_sign(method, path, params, headers, body):
    request = AWSRequest(method=method, url="http://h" + percent_encode(path, safe="/~"),
                         data=body)
    request.params = params
    for name, value in headers:
        request.headers[name] = value  # HTTPHeaders: a repeated name is kept twice
    request.context["timestamp"] = AMZ_DATE
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    auth = botocore.auth.S3SigV4Auth(creds, "s3", "eu-central-1")
    botocore.auth.get_current_datetime = lambda: FIXED
    auth.add_auth(request)
    authz = request.headers["Authorization"]
    del request.headers["Authorization"]  # not part of what was signed
    return auth.canonical_request(request), authz


def our_block(method, path, params, headers, body):
    digest = hashlib.sha256(body).hexdigest()
    hx = lambda s: s.encode("utf-8").hex()
    lines = [f"method {method}", f"path {hx(path)}"]
    lines += [f"query {hx(n)} {hx(v)}" for n, v in params]
    all_headers = list(headers) + [("X-Amz-Date", AMZ_DATE), ("X-Amz-Content-SHA256", digest)]
    lines += [f"header {hx(n)} {hx(v)}" for n, v in all_headers]
    lines += [f"payload {digest}", f"date {AMZ_DATE}", "region eu-central-1", "service s3",
              f"key AKIDEXAMPLE {hx('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY')}", "end"]
    return "\n".join(lines) + "\n"


def main():
    tool = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else random.SystemRandom().randrange(1 << 30)
    print(f"seed {seed}, {count} requests")
    rng = random.Random(seed)
    reqs = [rand_request(rng) for _ in range(count)]
    proc = subprocess.run([tool, "sigv4"], input="".join(our_block(*r) for r in reqs),
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    ours, cur = [], {}
    for line in proc.stdout.splitlines():
        if line == "done":
            ours.append(cur)
            cur = {}
            continue
        k, _, v = line.partition(" ")
        cur[k] = bytes.fromhex(v).decode("utf-8") if k in ("creq", "sts") else v
    passed = failed = 0
    for req, got in zip(reqs, ours):
        creq, authz = botocore_sign(*req)
        if got.get("creq") == creq and got.get("authz") == authz:
            passed += 1
            continue
        failed += 1
        if failed <= 5:
            print(f"FAIL {req!r}\n  botocore: {creq!r}\n  {authz}\n  ours:     "
                  f"{got.get('creq')!r}\n  {got.get('authz') or got.get('error')}",
                  file=sys.stderr)
    if len(ours) != len(reqs):
        failed += 1
        print(f"FAIL: {len(ours)} answers for {len(reqs)} requests", file=sys.stderr)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
