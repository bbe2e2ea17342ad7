#!/usr/bin/env python3
"""Runs AWS's Signature V4 test suite (aws-sig-v4-test-suite, as botocore's
source distribution ships it: tests/s3/pyenv.sh suite) through our signer
(dbb-s3 sigv4) and compares the canonical request, the string to sign and
the Authorization header of every case.

usage: sigv4_suite.py DBB_S3_TOOL SUITE_DIR

Each .req is parsed as a raw HTTP request: the path and the query are
percent-decoded into raw bytes (our signer takes raw bytes and encodes them
itself), folded header lines are unfolded, the body's SHA-256 is the payload
hash; a session token (x-amz-security-token in the expected canonical
request) is passed as that header, as botocore's runner does.

The normalize-path cases assume the generic services' path normalisation
("//", "." and ".." segments removed), which S3 does not do: S3 keys may
contain them. For those, the expected canonical request is checked with its
URI line replaced by the S3 form (the raw path, each segment encoded once),
so all but that line must still match, and the signature is not compared.
"""
import hashlib
import os
import re
import subprocess
import sys
from urllib.parse import quote, unquote_to_bytes

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
SERVICE = "service"

# The cases whose expected canonical URI is a normalised path (not S3's).
NORMALISING = {
    "normalize-path/get-relative",
    "normalize-path/get-relative-relative",
    "normalize-path/get-slash",
    "normalize-path/get-slash-dot-slash",
    "normalize-path/get-slash-pointless-dot",
    "normalize-path/get-slashes",
}


def hx(b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return b.hex()


def parse_req(raw):
    text = raw.replace("\r\n", "\n")
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    first = lines[0]
    method, rest = first.split(" ", 1)
    target = rest.rsplit(" ", 1)[0]  # the path may hold a space (get-space)
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        if line[:1] in (" ", "\t") and headers:  # a folded line
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
            continue
        name, _, value = line.partition(":")
        headers.append((name, value))
    path, _, query = target.partition("?")
    params = []
    if query:
        for pair in query.split("&"):
            name, _, value = pair.partition("=")
            params.append((unquote_to_bytes(name), unquote_to_bytes(value)))
    return method, unquote_to_bytes(path), params, headers, body.encode("utf-8")


def block(case, method, path, params, headers, body):
    date = next(v for n, v in headers if n.lower() == "x-amz-date")
    out = [f"method {method}", f"path {hx(path)}"]
    for n, v in params:
        out.append(f"query {hx(n)} {hx(v)}")
    for n, v in headers:
        out.append(f"header {hx(n)} {hx(v)}")
    out += [
        f"payload {hashlib.sha256(body).hexdigest()}",
        f"date {date.strip()}",
        f"region {REGION}",
        f"service {SERVICE}",
        f"key {ACCESS_KEY} {hx(SECRET_KEY)}",
        "end",
    ]
    return "\n".join(out) + "\n"


def main():
    tool, suite = sys.argv[1], sys.argv[2]
    cases = []
    for dirpath, _, files in sorted(os.walk(suite)):
        for f in sorted(files):
            if f.endswith(".req"):
                cases.append(os.path.relpath(dirpath, suite))
    cases.sort()
    inputs, expected = [], []
    for case in cases:
        base = os.path.join(suite, case, os.path.basename(case))

        def read(ext):
            with open(base + ext, encoding="utf-8") as fh:
                return fh.read().replace("\r", "")

        method, path, params, headers, body = parse_req(read(".req"))
        creq, sts, authz = read(".creq"), read(".sts"), read(".authz")
        token = re.search(r"^x-amz-security-token:(.*)$", creq, re.M)
        headers = [(n, v) for n, v in headers if n.lower() != "x-amz-security-token"]
        if token:
            headers.append(("X-Amz-Security-Token", token.group(1)))
        inputs.append(block(case, method, path, params, headers, body))
        expected.append((case, path, creq, sts, authz))

    proc = subprocess.run([tool, "sigv4"], input="".join(inputs), capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    results, cur = [], {}
    for line in proc.stdout.splitlines():
        if line == "done":
            results.append(cur)
            cur = {}
            continue
        k, _, v = line.partition(" ")
        cur[k] = bytes.fromhex(v).decode("utf-8") if k in ("creq", "sts") else v

    passed = failed = 0

    def check(ok, case, what, got, want):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {case}: {what}\n  got:  {got!r}\n  want: {want!r}", file=sys.stderr)

    check(len(cases) >= 30, "suite", "number of cases", len(cases), ">= 30")
    check(len(results) == len(cases), "suite", "answers", len(results), len(cases))
    for (case, path, creq, sts, authz), got in zip(expected, results):
        if "error" in got:
            check(False, case, "signing", got["error"], "a signature")
            continue
        if case in NORMALISING:
            s3_uri = quote(path, safe="/~")
            lines = creq.split("\n")
            check(lines[1] != s3_uri, case, "expects normalisation", lines[1], "not " + s3_uri)
            lines[1] = s3_uri
            check(got["creq"] == "\n".join(lines), case, "canonical request (S3 path)",
                  got["creq"], "\n".join(lines))
            print(f"skip signature {case}: the vector assumes path normalisation, S3 does none")
            continue
        check(got["creq"] == creq, case, "canonical request", got["creq"], creq)
        check(got["sts"] == sts, case, "string to sign", got["sts"], sts)
        check(got["authz"] == authz, case, "authorization", got["authz"], authz)
    print(f"{len(cases)} cases ({len(NORMALISING)} assume path normalisation)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
