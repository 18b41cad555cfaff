# SPDX-License-Identifier: Apache-2.0
"""One server per port and one process per database: a second server on a taken port exits instead of sharing
it, and (mltrackd) a second server, `gc`, `import` or `restore` on a database a server has open is refused
before anything changes."""
import os
import subprocess

import pytest
import requests
from mlflow import MlflowClient

from conftest import Server


def second(command, timeout=120):
    """Runs a second server (or command) to completion; a server that does not exit fails the test."""
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{command[:3]}... did not exit: it shares the resource instead of refusing it")


def test_second_server_on_a_taken_port_exits(fresh_server, server_kind, is_reference, unique):
    client = MlflowClient(fresh_server.url)
    exp = client.create_experiment(unique)
    other = Server(server_kind)  # its own, empty data directory
    other.port = fresh_server.port
    try:
        out = second(other.command(), timeout=180 if is_reference else 30)
        assert "address already in use" in out.stderr, out.stderr
        # deviation: mlflow server 3.17.2 (uvicorn) logs the error and exits with status 0; mltrackd exits with 1
        assert out.returncode == (0 if is_reference else 1)
    finally:
        other.cleanup()
    # every new connection still reaches the first server, which holds the experiment
    for _ in range(40):
        r = requests.get(fresh_server.url + "/api/2.0/mlflow/experiments/get", params={"experiment_id": exp},
                         headers={"Connection": "close"}, timeout=10)
        assert r.status_code == 200, r.text
        assert r.json()["experiment"]["name"] == unique


def test_one_process_per_database(fresh_server, is_reference, tmp_path, unique):
    if is_reference:
        pytest.skip("mltrackd's database lock (mlflow server takes none)")
    client = MlflowClient(fresh_server.url)
    exp = client.create_experiment(unique)
    run = client.create_run(exp).info.run_id
    client.log_metric(run, "loss", 0.5, step=1)
    client.delete_run(run)
    binary = fresh_server.command()[0]
    db = os.path.join(fresh_server.dir, "db.sqlite")
    flags = ["--backend-store-uri", f"sqlite:///{db}",
             "--artifacts-destination", os.path.join(fresh_server.dir, "artifacts")]
    pid = str(fresh_server.proc.pid)

    def refused(out, who):
        assert out.returncode == 1, (who, out.stdout, out.stderr)
        assert "in use by another mltrackd process (pid " + pid + ")" in out.stderr, (who, out.stderr)

    # a second server on the same database, on another port
    other = Server("mltrackd")
    refused(second([binary, "--host", "127.0.0.1", "--port", str(other.port), *flags], timeout=30), "server")
    other.cleanup()
    # gc would hard-delete the run under the server's caches
    refused(second([binary, "gc", "--older-than", "0", *flags], timeout=30), "gc")
    # backup is online and allowed; restore --force of it over the live database is not
    dest = str(tmp_path / "backup")
    out = second([binary, "backup", dest, *flags], timeout=60)
    assert out.returncode == 0, out.stderr
    refused(second([binary, "restore", dest, "--force", *flags], timeout=30), "restore")
    assert os.path.exists(db + "-wal"), "restore removed the live database's WAL"
    # import into the live database
    refused(second([binary, "import", "--from-mlflow", f"sqlite:///{os.path.join(dest, 'mltrackd.db')}", *flags],
                   timeout=30), "import")
    # nothing changed: the deleted run is still there (not collected) and the server still writes
    assert client.get_run(run).info.lifecycle_stage == "deleted"
    client.restore_run(run)
    client.log_metric(run, "loss", 0.25, step=2)
    assert [m.value for m in client.get_metric_history(run, "loss")] == [0.5, 0.25]
    # once the server has stopped, the same commands run
    fresh_server.stop()
    out = second([binary, "gc", "--older-than", "0", *flags], timeout=60)
    assert out.returncode == 0, out.stderr
    fresh_server.restart()  # waits for /health
    assert client.get_run(run).info.lifecycle_stage == "active"
