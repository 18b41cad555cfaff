# SPDX-License-Identifier: Apache-2.0
"""`mltrackd backup` while 8 clients log, then `mltrackd restore` into a new directory: the restored server holds
every write acknowledged before the backup started and answers the client's reads as the original did."""
import os
import subprocess
import threading
import time

import pytest
import requests
from mlflow import MlflowClient

from conftest import REPO, Server

pytestmark = pytest.mark.usefixtures("server_kind")


def binary():
    return os.environ.get("MLTRACKD_BIN", os.path.join(REPO, "build", "mltrackd"))


def paths(d):
    return ["--backend-store-uri", f"sqlite:///{os.path.join(d, 'db.sqlite')}",
            "--artifacts-destination", os.path.join(d, "artifacts")]


def test_backup_while_logging_then_restore(fresh_server, is_reference, tmp_path, unique):
    if is_reference:
        pytest.skip("mltrackd's own backup/restore commands (mlflow server has none)")
    src = fresh_server
    client = MlflowClient(src.url)
    exp = client.create_experiment(unique)
    runs = [client.create_run(exp).info.run_id for _ in range(8)]
    client.log_text(runs[0], "model card\n" * 1000, "docs/card.txt")
    client.log_param(runs[1], "lr", "0.01")
    acked = {r: [] for r in runs}  # (step, monotonic time of the 200)
    stop = threading.Event()
    errors = []

    def writer(run_id):
        s = requests.Session()
        step = 0
        while not stop.is_set():
            r = s.post(src.url + "/api/2.0/mlflow/runs/log-metric",
                       json={"run_id": run_id, "key": "loss", "value": step / 7, "timestamp": 1000 + step,
                             "step": step})
            if r.status_code != 200:
                errors.append(r.text[:200])
                return
            acked[run_id].append((step, time.monotonic()))
            step += 1

    threads = [threading.Thread(target=writer, args=(r,)) for r in runs]
    for t in threads:
        t.start()
    time.sleep(1.5)
    dest = str(tmp_path / "backup")
    started = time.monotonic()
    out = subprocess.run([binary(), "backup", dest, *paths(src.dir)], capture_output=True, text=True, timeout=120)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    assert out.returncode == 0, out.stderr
    assert not errors, errors
    assert sorted(os.listdir(dest)) == ["BACKUP.txt", "artifacts", "mltrackd.db"]
    # a backup never lands on an existing backup
    again = subprocess.run([binary(), "backup", dest, *paths(src.dir)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "not empty" in again.stderr

    dst = Server("mltrackd")
    out = subprocess.run([binary(), "restore", dest, *paths(dst.dir)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    # a second restore over it is refused without --force, and changes nothing
    again = subprocess.run([binary(), "restore", dest, *paths(dst.dir)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "--force" in again.stderr
    dst.start()
    try:
        restored = MlflowClient(dst.url)
        assert restored.get_experiment(exp).name == unique
        found = restored.search_runs([exp], max_results=100)
        assert sorted(r.info.run_id for r in found) == sorted(runs)
        assert restored.get_run(runs[1]).data.params == {"lr": "0.01"}
        for run_id in runs:
            before = {step for step, t in acked[run_id] if t < started}
            assert len(before) > 0
            have = {int(m.step) for m in restored.get_metric_history(run_id, "loss")}
            assert before <= have, f"{len(before - have)} acknowledged points lost for {run_id}"
            # nothing invented: every restored point was logged (and the history reads as on the original)
            orig = {int(m.step): m.value for m in client.get_metric_history(run_id, "loss")}
            for m in restored.get_metric_history(run_id, "loss"):
                assert orig[int(m.step)] == m.value
        local = restored.download_artifacts(runs[0], "docs/card.txt", str(tmp_path / "dl"))
        with open(local) as f:
            assert f.read() == "model card\n" * 1000
        assert [a.path for a in restored.list_artifacts(runs[0], "docs")] == ["docs/card.txt"]
    finally:
        dst.stop()
