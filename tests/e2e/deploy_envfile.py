#!/usr/bin/env python3
"""setup/.env.template as its three readers read it (issue 16).

The template is installed as systemd's EnvironmentFile= (setup/dbbackupd.service),
read by the daemon itself as ./.env (src/config.c, envfile_load), and given to
`docker compose --env-file` (docker/docker-compose.yml). This module parses an
env file by the documented rules of the first and the last, each written from
its documentation (not from the code):

  systemd  systemd.exec(5), "EnvironmentFile=" (systemd 252, Debian 12)
  compose  docs.docker.com, Compose "Interpolation", ".env file syntax"

Where a documentation leaves a construct unspecified (text after a closing
quote, "export", spaces around '=', '$' in a value compose would interpolate),
the parser refuses it with the line number: a file all readers must read alike
may not use it. The daemon's reading is taken from the daemon itself
(`dbbackupd --check-config` prints the effective values).

  deploy_envfile.py selftest                  the rules on known cases
  deploy_envfile.py parse systemd|compose F   the variables as JSON
  deploy_envfile.py template F DBBACKUPD DIR  the three readings of F agree
  deploy_envfile.py env-lines F               systemd's reading, one NAME=value a line
"""
import json
import os
import re
import subprocess
import sys

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class Unclear(ValueError):
    """A construct the rules do not settle, or that the readers take apart."""


# ---- systemd.exec(5), EnvironmentFile= ----------------------------------
#
# "Empty lines, lines without an "=" separator, or lines starting with ";"
# or "#" will be ignored." Unquoted: POSIX-shell backslash escapes, interior
# whitespace kept, quotes after the first non-whitespace character kept,
# leading/trailing space, tab, CR discarded, a trailing backslash continues
# the line. '...': verbatim, may span lines, no escapes. "...": may span
# lines; \" \\ \` \$ give the character, backslash-newline continues, any
# other backslash is kept with its character. Whitespace outside the quotes
# is discarded.
WS = " \t\r"


def systemd_parse(text):
    out = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        lineno = i + 1
        line = lines[i]
        i += 1
        s = line.lstrip(WS)
        if not s or s[0] in "#;" or "=" not in s:
            continue
        key, rest = s.split("=", 1)
        if key != key.rstrip(WS) or not NAME.match(key):
            raise Unclear(f"line {lineno}: {key!r} is not a plain variable name")
        rest = rest.lstrip(WS)
        if rest[:1] == "'":
            body = rest[1:]
            while "'" not in body:
                if i >= len(lines):
                    raise Unclear(f"line {lineno}: unterminated single quote")
                body += "\n" + lines[i]
                i += 1
            value, after = body.split("'", 1)
        elif rest[:1] == '"':
            value, after, i = _systemd_double(rest[1:], lines, i, lineno)
        else:
            value = ""
            while True:
                stripped = rest.rstrip(WS)
                if stripped.endswith("\\") and not _escaped_backslash(stripped):
                    value += _unescape_shell(stripped[:-1])
                    if i >= len(lines):
                        break
                    rest = lines[i]
                    i += 1
                    continue
                value += _unescape_shell(stripped)
                break
            after = ""
        if after.strip(WS):
            raise Unclear(f"line {lineno}: text after the closing quote: {after!r}")
        out[key] = value
    return out


def _escaped_backslash(s):
    n = len(s) - len(s.rstrip("\\"))
    return n % 2 == 0


def _unescape_shell(s):
    r, k = [], 0
    while k < len(s):
        if s[k] == "\\" and k + 1 < len(s):
            r.append(s[k + 1])
            k += 2
        else:
            r.append(s[k])
            k += 1
    return "".join(r)


def _systemd_double(body, lines, i, lineno):
    r, k = [], 0
    while True:
        if k >= len(body):
            if i >= len(lines):
                raise Unclear(f"line {lineno}: unterminated double quote")
            r.append("\n")
            body, k = lines[i], 0
            i += 1
            continue
        c = body[k]
        if c == '"':
            return "".join(r), body[k + 1:], i
        if c == "\\":
            if k + 1 >= len(body):  # backslash-newline: continuation
                if i >= len(lines):
                    raise Unclear(f"line {lineno}: unterminated double quote")
                body, k = lines[i], 0
                i += 1
                continue
            nxt = body[k + 1]
            r.append(nxt if nxt in '"\\`$' else "\\" + nxt)
            k += 2
            continue
        r.append(c)
        k += 1


# ---- Docker Compose .env ---------------------------------------------------
#
# "Lines beginning with # are processed as comments and ignored. Blank lines
# are ignored. Unquoted and double-quoted (") values have interpolation
# applied. Each line represents a key-value pair. Values can optionally be
# quoted." VAR=VAL -> VAL; VAR="VAL" -> VAL; VAR='VAL' -> VAL. "Inline
# comments for unquoted values must be preceded with a space":
# VAR=VAL # comment -> VAL, VAR=VAL# not a comment -> VAL# not a comment.
# "Inline comments for quoted values must follow the closing quote":
# VAR="VAL # not a comment" -> VAL # not a comment; VAR="VAL" # comment -> VAL.
# "Single-quoted (') values are used literally": VAR='$OTHER' -> $OTHER.
# "Quotes can be escaped with \": VAR='Let\'s go!' -> Let's go!. "Common
# shell escape sequences including \n, \r, \t, and \\ are supported in
# double-quoted values".
def compose_parse(text):
    out = {}
    for lineno, line in enumerate(text.split("\n"), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if "=" not in s:
            raise Unclear(f"line {lineno}: not VAR=VAL")
        key, rest = s.split("=", 1)
        if not NAME.match(key):
            raise Unclear(f"line {lineno}: {key!r} is not a plain variable name")
        if rest.startswith("'"):
            m = re.match(r"'((?:[^'\\]|\\.)*)'(.*)\Z", rest)
            if not m:
                raise Unclear(f"line {lineno}: unterminated single quote")
            value = re.sub(r"\\'", "'", m.group(1))
            after = m.group(2)
        elif rest.startswith('"'):
            m = re.match(r'"((?:[^"\\]|\\.)*)"(.*)\Z', rest)
            if not m:
                raise Unclear(f"line {lineno}: unterminated double quote")
            esc = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"'}
            value = re.sub(r"\\(.)", lambda e: esc.get(e.group(1), "\\" + e.group(1)), m.group(1))
            if "$" in value:
                raise Unclear(f"line {lineno}: '$' is interpolated by compose")
            after = m.group(2)
        else:
            value = re.split(r"[ \t]#", rest, 1)[0].rstrip()
            if "$" in value:
                raise Unclear(f"line {lineno}: '$' is interpolated by compose")
            after = ""
        after = after.strip()
        if after and not after.startswith("#"):
            raise Unclear(f"line {lineno}: text after the closing quote: {after!r}")
        out[key] = value
    return out


RULES = {"systemd": systemd_parse, "compose": compose_parse}


def selftest():
    cases = [
        # (rules, text, expected or None for Unclear)
        ("systemd", "A=127.0.0.1        # IPv4\n", {"A": "127.0.0.1        # IPv4"}),
        ("compose", "A=127.0.0.1        # IPv4\n", {"A": "127.0.0.1"}),
        ("systemd", "# c\n; c\n\nnot an assignment\n  A = x\n", None),
        ("systemd", "A=  a b  \nB='x y'\nC=\"q\\\"r\\$s\\n\"\nD=a\\\\b\nE=x\\\n y\n",
         {"A": "a b", "B": "x y", "C": 'q"r$s\\n', "D": "a\\b", "E": "x y"}),
        ("systemd", "A='multi\nline'\n", {"A": "multi\nline"}),
        ("systemd", "A='x' y\n", None),
        ("systemd", "A=it's\n", {"A": "it's"}),
        ("compose", "A=VAL# not a comment\nB=\"VAL # not\" # c\nC='$X'\nD=\"a\\tb\"\n",
         {"A": "VAL# not a comment", "B": "VAL # not", "C": "$X", "D": "a\tb"}),
        ("compose", "A=$HOME\n", None),
        ("compose", "A='Let\\'s go'\n", {"A": "Let's go"}),
        ("compose", "A=\n", {"A": ""}),
        ("systemd", "A=\n", {"A": ""}),
    ]
    bad = 0
    for rules, text, want in cases:
        try:
            got = RULES[rules](text)
        except Unclear as e:
            got = None
            why = str(e)
        else:
            why = ""
        if got != want:
            bad += 1
            print(f"selftest FAIL {rules} {text!r}: got {got!r} {why}, want {want!r}")
    print(f"selftest: {len(cases) - bad}/{len(cases)} cases as documented")
    return 1 if bad else 0


def to_bytes(v):
    m = re.fullmatch(r"(\d+)([KMGT]?)(i?B)?", v, re.I)
    if not m:
        return None
    return int(m.group(1)) << (10 * " KMGT".index((m.group(2) or " ").upper()))


def check_config(dbbackupd, cwd, env):
    p = subprocess.run([dbbackupd, "--check-config"], cwd=cwd, env=env,
                       capture_output=True, text=True)
    if p.returncode != 0 or "configuration OK" not in p.stdout:
        raise SystemExit(f"--check-config failed ({p.returncode}): {p.stderr.strip()}")
    vals = {}
    for line in p.stdout.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            vals[k] = v
    return vals, p.stderr


def template(path, dbbackupd, work):
    """The template read by systemd's rules, compose's rules and the daemon
    (as ./.env, and as an environment built by each set of rules) gives the
    same value for every variable; every variable it sets is one the daemon
    knows, and every variable the daemon knows is in it."""
    text = open(path, encoding="utf-8").read()
    failed = 0

    def check(ok, what):
        nonlocal failed
        print(("ok - " if ok else "FAIL - ") + what)
        failed += 0 if ok else 1

    readings = {}
    for rules, fn in RULES.items():
        try:
            readings[rules] = fn(text)
            check(True, f"{rules} rules read the template without an unclear construct")
        except Unclear as e:
            check(False, f"{rules} rules: {e}")
            return 1
    check(readings["systemd"] == readings["compose"],
          "systemd and compose rules read the same variables and values")
    for k in sorted(set(readings["systemd"]) | set(readings["compose"])):
        a, b = readings["systemd"].get(k), readings["compose"].get(k)
        if a != b:
            print(f"  {k}: systemd {a!r}, compose {b!r}")
    tpl = readings["systemd"]
    check(len(tpl) >= 30, f"the template sets {len(tpl)} variables")

    # the daemon, reading the template as ./.env; a JWKS file from the
    # environment (the template's auth is empty: the daemon would refuse)
    os.makedirs(os.path.join(work, "data"), exist_ok=True)
    open(os.path.join(work, "data", "app.db"), "a").close()
    keys = os.path.join(work, "keys")
    subprocess.run([dbbackupd, "dev-keys", keys], check=True, capture_output=True)
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AUTH_JWKS_FILE": os.path.join(keys, "jwks.json")}
    dotenv = os.path.join(work, ".env")
    with open(dotenv, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(dotenv, 0o600)
    daemon, warnings = check_config(dbbackupd, work, dict(base))
    check("is not a dbbackupd setting" not in warnings,
          "--check-config warns about no variable of the template")
    os.unlink(dotenv)
    overridden = set(base)
    unknown = sorted(k for k in tpl if k not in daemon)
    check(not unknown, "every variable of the template is a setting " + " ".join(unknown))
    missing = sorted(k for k in daemon if k not in tpl)
    check(not missing, "every setting is in the template " + " ".join(missing))
    derived = {
        # 0 means 10 x MAX_UPLOAD_BYTES (the template's comment says so)
        "MAX_RESTORE_BYTES": lambda v: str(10 * to_bytes(tpl["MAX_UPLOAD_BYTES"]))
        if v == "0" else v,
        # empty means DB_TYPE (the template's comment says so)
        "TARGET_NAME": lambda v: v or tpl["DB_TYPE"],
    }
    differ = []
    for k, v in tpl.items():
        if k in overridden or k not in daemon:
            continue
        want = derived[k](v) if k in derived else v
        if want != daemon[k] and to_bytes(want) is not None and daemon[k].isdigit():
            want = str(to_bytes(want))
        if want != daemon[k]:
            differ.append(f"{k}: template {v!r}, daemon {daemon[k]!r}")
    check(not differ, "the daemon's .env reader reads every value as the rules do")
    for d in differ:
        print("  " + d)

    # the daemon given each reading as its environment (no .env): as
    # systemd and compose would start it
    for rules, env in readings.items():
        got, _ = check_config(dbbackupd, work, {**env, **base})
        check(got == daemon, f"the environment built by {rules}'s rules gives the daemon "
              "the same settings as its own .env reader")
    return 1 if failed else 0


def main(argv):
    if argv[1:2] == ["selftest"]:
        return selftest()
    if argv[1:2] == ["parse"] and len(argv) == 4:
        print(json.dumps(RULES[argv[2]](open(argv[3], encoding="utf-8").read()), indent=1))
        return 0
    if argv[1:2] == ["env-lines"] and len(argv) == 3:
        for k, v in systemd_parse(open(argv[2], encoding="utf-8").read()).items():
            if "\n" in v:
                raise SystemExit(f"{k}: a value with a line break cannot go through env(1)")
            print(f"{k}={v}")
        return 0
    if argv[1:2] == ["template"] and len(argv) == 5:
        return template(argv[2], os.path.abspath(argv[3]), os.path.abspath(argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
