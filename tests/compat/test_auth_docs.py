# SPDX-License-Identifier: Apache-2.0
"""docs/security.md's permission table is the route table: regenerating it from `mltrackd routes --json`
changes nothing (mltrackd only: the reference has no route table to print)."""
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_permission_table_is_current(is_reference):
    if is_reference:
        pytest.skip("mltrackd-only: generated from mltrackd's route table")
    binary = os.environ.get("MLTRACKD_BIN", os.path.join(REPO, "build", "mltrackd"))
    r = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "gen_security_table.py"), "--check",
                        "--bin", binary], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
