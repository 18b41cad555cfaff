# SPDX-License-Identifier: Apache-2.0
"""mltrackd gc: removes exactly the deleted runs and experiments, with their artifact folders."""
import os
import subprocess

import pytest
from mlflow import MlflowClient


def test_gc_removes_exactly_the_deleted(fresh_server, is_reference, tmp_path):
    if is_reference:
        pytest.skip("mltrackd's own command (the reference has `mlflow gc`, with other flags)")
    client = MlflowClient(fresh_server.url)
    keep_exp = client.create_experiment("keep")
    gone_exp = client.create_experiment("gone")
    keep_run = client.create_run(keep_exp).info.run_id
    gone_run = client.create_run(keep_exp).info.run_id
    in_gone_exp = client.create_run(gone_exp).info.run_id
    f = tmp_path / "f.txt"
    f.write_text("x")
    for rid in (keep_run, gone_run, in_gone_exp):
        client.log_artifact(rid, str(f))
        client.log_metric(rid, "m", 1.0)
    client.delete_run(gone_run)
    client.delete_experiment(gone_exp)
    arts = os.path.join(fresh_server.dir, "artifacts")
    assert os.path.exists(os.path.join(arts, keep_exp, gone_run))
    fresh_server.stop()
    binary = fresh_server.command()[0]
    out = subprocess.run([binary, "gc", "--backend-store-uri", f"sqlite:///{fresh_server.dir}/db.sqlite",
                          "--artifacts-destination", arts], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert f"removed run {gone_run}" in out.stdout and f"removed experiment {gone_exp}" in out.stdout
    assert keep_run not in out.stdout
    fresh_server.log = open(fresh_server.log_path, "ab")
    fresh_server.restart()
    client = MlflowClient(fresh_server.url)
    assert client.get_run(keep_run).data.metrics == {"m": 1.0}
    for rid in (gone_run, in_gone_exp):
        with pytest.raises(Exception):
            client.get_run(rid)
    with pytest.raises(Exception):
        client.get_experiment(gone_exp)
    assert os.path.exists(os.path.join(arts, keep_exp, keep_run, "artifacts", "f.txt"))
    assert not os.path.exists(os.path.join(arts, keep_exp, gone_run))
    assert not os.path.exists(os.path.join(arts, gone_exp))
