#!/usr/bin/env python3
"""Helpers of the operability tests, run in the venv they create.

  yaml2json SPEC.yaml OUT.json   regenerate docs/openapi.json (committed)
  agree SPEC.yaml SPEC.json      the committed JSON is the YAML's conversion
  validate SPEC.json             valid OpenAPI 3.1 (openapi-spec-validator)
  routes SPEC.json ROUTES.txt    `dbbackupd routes` and the spec list the same
                                 operations with the same roles
  prom FILE [NAME=VALUE...]      FILE parses as Prometheus text; prints
                                 "name{labels} value" lines for the names given
  errors SPEC.json               every error response shows an example of each
                                 code its description names (and only those),
                                 every filename parameter has a pattern
"""
import json
import sys


def load_yaml(path):
    import yaml
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def yaml2json(src, dst):
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(load_yaml(src), f, indent=2, ensure_ascii=False)
        f.write("\n")


def agree(src, dst):
    with open(dst, encoding="utf-8") as f:
        committed = json.load(f)
    if load_yaml(src) != committed:
        print(f"{dst} is not the conversion of {src}: run\n"
              f"  python3 tests/e2e/operability_tools.py yaml2json {src} {dst}")
        return 1
    return 0


def validate(path):
    from openapi_spec_validator import validate as v
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    v(spec)
    if not spec.get("openapi", "").startswith("3.1"):
        print("not OpenAPI 3.1")
        return 1
    return 0


def routes(spec_path, routes_path):
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    in_spec = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "delete", "patch", "head", "options"):
                in_spec[(method.upper(), path)] = op.get("x-required-role")
    served = {}
    with open(routes_path, encoding="utf-8") as f:
        for line in f:
            method, path, role = line.split()
            served[(method, path)] = role
    rc = 0
    for k in sorted(served.keys() - in_spec.keys()):
        print(f"served but not in the spec: {k[0]} {k[1]}")
        rc = 1
    for k in sorted(in_spec.keys() - served.keys()):
        print(f"in the spec but not served: {k[0]} {k[1]}")
        rc = 1
    for k in sorted(served.keys() & in_spec.keys()):
        if served[k] != in_spec[k]:
            print(f"{k[0]} {k[1]}: role {served[k]} served, x-required-role {in_spec[k]}")
            rc = 1
        op = spec["paths"][k[1]][k[0].lower()]
        # public: no security, or an optional one ({} among the schemes:
        # /ready takes a token for its details)
        security = op.get("security")
        public = security == [] or (isinstance(security, list) and {} in security)
        if public != (served[k] == "public"):
            print(f"{k[0]} {k[1]}: security in the spec does not match role {served[k]}")
            rc = 1
        if f"Role: " not in op.get("description", ""):
            print(f"{k[0]} {k[1]}: the description does not name the role")
            rc = 1
    print(f"{len(served)} routes served, {len(in_spec)} operations in the spec")
    return rc


def prom(path, *names):
    from prometheus_client.parser import text_string_to_metric_families
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name in names:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                v = int(s.value) if float(s.value).is_integer() else s.value
                print(f"{s.name}{{{labels}}} {v}")
    return 0


def errors(spec_path):
    """Each response whose body may be an Error has an example (example or
    examples) for every `code` its description names, each example's error
    is a documented code named there, and every path parameter "filename"
    carries a pattern."""
    import re
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    codes = set(spec["components"]["schemas"]["Error"]["properties"]["error"]["enum"])
    err_ref = "#/components/schemas/Error"
    rc = 0

    def check(where, resp):
        nonlocal rc
        if "$ref" in resp:
            return
        body = resp.get("content", {}).get("application/json", {})
        schema = body.get("schema", {})
        refs = [schema.get("$ref")] + [s.get("$ref") for s in schema.get("oneOf", [])]
        if err_ref not in refs:
            return
        named = set(re.findall(r"`([a-z_]+)`", resp.get("description", ""))) & codes
        shown = []
        if "example" in body:
            shown.append(body["example"])
        for ex in body.get("examples", {}).values():
            shown.append(ex.get("value", {}))
        shown = {e.get("error") for e in shown if isinstance(e, dict) and "error" in e}
        if not shown:
            print(f"{where}: an error response without an example")
            rc = 1
        for c in sorted(shown - named):
            print(f"{where}: example error {c} is not named in the description")
            rc = 1
        for c in sorted(named - shown):
            print(f"{where}: {c} is named but has no example")
            rc = 1

    for name, resp in spec["components"]["responses"].items():
        check(f"components.responses.{name}", resp)
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            for status, resp in op.get("responses", {}).items():
                check(f"{method.upper()} {path} {status}", resp)
            for prm in op.get("parameters", []):
                if "$ref" in prm:
                    prm = spec["components"]["parameters"][prm["$ref"].rsplit("/", 1)[1]]
                if prm.get("name") == "filename" and "pattern" not in prm.get("schema", {}):
                    print(f"{method.upper()} {path}: filename without a pattern")
                    rc = 1
    return rc


def main(argv):
    cmd, args = argv[1], argv[2:]
    fn = {"yaml2json": yaml2json, "agree": agree, "validate": validate,
          "routes": routes, "prom": prom, "errors": errors}[cmd]
    return fn(*args) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
