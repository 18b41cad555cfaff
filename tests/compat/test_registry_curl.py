# SPDX-License-Identifier: Apache-2.0
"""Runs the curl examples of docs/registry-curl.md as written: every `curl -s` line that starts a line must answer
200 unless its comment names another status (then that status and error code). The registry sections run on both
servers, the promotion section (mltrackd only) on mltrackd."""
import pathlib
import re
import subprocess

import pytest

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "registry-curl.md"
MARK = "@@STATUS "


def _sections():
    """(heading, [sh blocks]) in document order; the text before the first heading is the setup."""
    heading, out = "", []
    blocks, cur = [], None
    for line in DOC.read_text().splitlines():
        if cur is not None:
            if line.startswith("```"):
                blocks.append("\n".join(cur))
                cur = None
            else:
                cur.append(line)
        elif line.startswith("```sh"):
            cur = []
        elif line.startswith("## "):
            out.append((heading, blocks))
            heading, blocks = line[3:], []
    out.append((heading, blocks))
    return out


def _expected(script):
    """The status each top-level curl line should answer, and the error code its comment names."""
    exp = []
    for line in script.splitlines():
        if not line.startswith("curl -s"):
            continue
        m = re.search(r"#\s*(\d{3})\s+([A-Z_]+)", line)
        exp.append((int(m.group(1)), m.group(2)) if m else (200, None))
    return exp


def test_registry_curl_examples(server, is_reference, unique):
    parts = []
    for heading, blocks in _sections():
        if is_reference and "mltrackd only" in heading:
            continue
        parts.extend(blocks)
    script = "\n".join(parts)
    assert script.count("curl -s") > 30
    # every top-level curl prints its status on a line of its own after the body
    instrumented = "\n".join(
        line.replace("curl -s", f"curl -s -w '\\n{MARK}%{{http_code}}\\n'", 1) if line.startswith("curl -s") else line
        for line in script.splitlines())
    env = {"H": server.url, "M": unique, "PATH": "/usr/bin:/bin"}
    res = subprocess.run(["bash", "-euo", "pipefail", "-c", instrumented], env=env, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    got, body = [], []
    for line in res.stdout.splitlines():
        if line.startswith(MARK):
            got.append((int(line[len(MARK):]), "\n".join(body)))
            body = []
        else:
            body.append(line)
    exp = _expected(script)
    assert len(got) == len(exp)
    for i, ((status, text), (want, code)) in enumerate(zip(got, exp)):
        assert status == want, f"curl #{i + 1}: {status} {text[:300]}"
        if code:
            assert f'"error_code": "{code}"' in text or f'"error_code":"{code}"' in text, text[:300]
