#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Regenerates the permission table in docs/security.md from the route table (`mltrackd routes --json`).
Usage: scripts/gen_security_table.py [--check] [--bin build/mltrackd]. --check exits 1 when the committed table
differs from what the binary's route table says (tests/compat/test_auth_docs.py runs it)."""
import argparse
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(REPO, "docs", "security.md")
BEGIN = "<!-- BEGIN PERMISSION TABLE (scripts/gen_security_table.py) -->"
END = "<!-- END PERMISSION TABLE -->"

WHO = {
    "PUBLIC": "anyone, no credentials",
    "AUTHENTICATED": "any user (handler: self or admin where it names a user)",
    "READ": "READ on the resource",
    "USE": "USE on the resource",
    "EDIT": "EDIT on the resource",
    "MANAGE": "MANAGE on the resource",
    "ADMIN": "admins",
}


def prefixes(paths, pattern):
    out = [p[: -len(pattern)] or "/" for p in paths]
    return ", ".join(out)


def table(routes):
    lines = ["| methods | path | served under | resource (id from) | needs |", "|---|---|---|---|---|"]
    for r in routes:
        res = r["resource"] + (f" (`{r['resource_id']}`)" if r["resource_id"] else "")
        need = WHO.get(r["permission"], r["permission"])
        if not r["implemented"]:
            need += " (not implemented: 501 after the check)"
        lines.append(f"| {' '.join(r['methods'])} | `{r['pattern']}` | {prefixes(r['paths'], r['pattern'])} | {res} | {need} |")
    return "\n".join(lines) + "\n"


def render(doc, routes):
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + BEGIN + "\n" + table(routes) + END + tail


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--bin", default=os.environ.get("MLTRACKD_BIN", os.path.join(REPO, "build", "mltrackd")))
    a = ap.parse_args()
    routes = json.loads(subprocess.run([a.bin, "routes", "--json"], check=True, capture_output=True, text=True).stdout)
    with open(DOC) as f:
        doc = f.read()
    new = render(doc, routes)
    if a.check:
        if new != doc:
            print("docs/security.md's permission table is stale: run scripts/gen_security_table.py", file=sys.stderr)
            return 1
        return 0
    with open(DOC, "w") as f:
        f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
