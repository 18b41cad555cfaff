# SPDX-License-Identifier: Apache-2.0
"""`mltrackd import --from-mlflow` on MLflow 2.x schemas: databases migrated by the pinned package's own alembic
scripts to older revisions (no logged models, no inputs.step, no storage_location...), filled by plain SQL, read
back through mltrackd with the real client. No reference server is involved (3.17.2 refuses an old schema)."""
import os
import pty
import re
import sqlite3
import subprocess

import pytest
from mlflow import MlflowClient

from conftest import REPO, Server

# Revisions of mlflow/store/db_migrations: the last one before logged models (MLflow 2.2x) and the last one before
# model_versions.storage_location (MLflow 2.8-ish; datasets and aliases exist already).
REVISIONS = ["0584bdc529eb", "2d6e25af4d3e"]


def binary():
    return os.environ.get("MLTRACKD_BIN", os.path.join(REPO, "build", "mltrackd"))


def make_old_db(path, revision):
    from alembic import command
    from sqlalchemy import create_engine

    from mlflow.store.db.utils import _get_alembic_config
    from mlflow.store.tracking.dbmodels.initial_models import Base as InitialBase

    url = f"sqlite:///{path}"
    engine = create_engine(url)
    InitialBase.metadata.create_all(engine)
    config = _get_alembic_config(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    engine.dispose()


def cols(db, table):
    return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def insert(db, table, **row):
    row = {k: v for k, v in row.items() if k in cols(db, table)}
    if not row:
        return False  # no such table at this revision
    db.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


def fill(path, art_root):
    db = sqlite3.connect(path)
    run = "a" * 32
    child = "b" * 32
    db.execute("DELETE FROM experiments")  # the migrations' Default experiment is left to our own
    insert(db, "experiments", experiment_id=7, name="old-exp", artifact_location=f"file://{art_root}/7",
           lifecycle_stage="active", creation_time=1600000000000, last_update_time=1600000000001)
    insert(db, "experiment_tags", key="team", value="ml", experiment_id=7)
    for rid, name, tags in ((run, "old-parent", {}), (child, "old-child", {"mlflow.parentRunId": run})):
        insert(db, "runs", run_uuid=rid, name=name, source_type="LOCAL", source_name="", entry_point_name="",
               user_id="alice", status="FINISHED", start_time=1600000000100, end_time=1600000000200,
               source_version="", lifecycle_stage="active", artifact_uri=f"file://{art_root}/7/{rid}/artifacts",
               experiment_id=7, deleted_time=None)
        for k, v in {"mlflow.runName": name, **tags}.items():
            insert(db, "tags", key=k, value=v, run_uuid=rid)
    insert(db, "params", key="lr", value="0.1", run_uuid=run)
    for step in range(50):
        insert(db, "metrics", key="loss", value=1.0 / (step + 1), timestamp=1600000000000 + step, run_uuid=run,
               step=step, is_nan=False)
    insert(db, "latest_metrics", key="loss", value=1.0 / 50, timestamp=1600000000049, step=49, is_nan=False,
           run_uuid=run)
    insert(db, "datasets", dataset_uuid="d" * 32, experiment_id=7, name="train", digest="abc123",
           dataset_source_type="local", dataset_source='{"uri": "/tmp/x.csv"}', dataset_schema=None,
           dataset_profile=None)
    insert(db, "inputs", input_uuid="i" * 32, source_type="DATASET", source_id="d" * 32, destination_type="RUN",
           destination_id=run)
    insert(db, "input_tags", input_uuid="i" * 32, name="mlflow.data.context", value="training")
    insert(db, "registered_models", name="old-model", creation_time=1600000000300, last_updated_time=1600000000400,
           description="from 2.x")
    for v in (1, 2):
        insert(db, "model_versions", name="old-model", version=v, creation_time=1600000000300 + v,
               last_updated_time=1600000000300 + v, description=None, user_id=None,
               current_stage="Production" if v == 2 else "None",
               source=f"runs:/{run}/model" if v == 1 else f"file://{art_root}/7/{run}/artifacts/model", run_id=run,
               status="READY", status_message=None, run_link=None, storage_location=None)
    insert(db, "registered_model_aliases", name="old-model", alias="champion", version=1)
    insert(db, "registered_model_tags", key="owner", value="ml", name="old-model")
    # a trace: MLflow data with no place here, named in the summary
    traced = insert(db, "trace_info", request_id="tr-1", experiment_id=7, timestamp_ms=1600000000500,
                    execution_time_ms=5, status="OK")
    db.commit()
    db.close()
    os.makedirs(f"{art_root}/7/{run}/artifacts/docs")
    with open(f"{art_root}/7/{run}/artifacts/docs/notes.txt", "w") as f:
        f.write("old artifact\n")
    return run, child, traced is not False


@pytest.mark.parametrize("revision", REVISIONS)
def test_import_old_schema(server_kind, tmp_path, revision):
    if server_kind == "reference":
        pytest.skip("imports into mltrackd (3.17.2's server refuses an old schema)")
    src = str(tmp_path / "mlflow.db")
    art_root = str(tmp_path / "mlruns")
    make_old_db(src, revision)
    run, child, traced = fill(src, art_root)
    ours = Server("mltrackd")
    args = [binary(), "import", "--from-mlflow", f"sqlite:///{src}", "--artifacts", art_root, "--backend-store-uri",
            f"sqlite:///{os.path.join(ours.dir, 'db.sqlite')}", "--artifacts-destination",
            os.path.join(ours.dir, "artifacts")]
    first = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "importing" not in first.stderr and "\r" not in first.stderr  # progress only on a terminal
    assert re.search(r"logged models\s+skipped: not in this MLflow schema", first.stdout), first.stdout
    assert not traced or re.search(r"traces\s+skipped: 1 rows not imported: mltrackd has no trace store",
                                   first.stdout), first.stdout
    assert re.search(r"metric points\s+50 imported of 50\n", first.stdout), first.stdout
    ours.start()
    try:
        c = MlflowClient(ours.url)
        e = c.get_experiment("7")
        assert (e.name, e.tags, e.creation_time) == ("old-exp", {"team": "ml"}, 1600000000000)
        r = c.get_run(run)
        assert (r.info.run_name, r.info.status, r.info.user_id, r.info.start_time, r.info.end_time) == (
            "old-parent", "FINISHED", "alice", 1600000000100, 1600000000200)
        assert r.data.params == {"lr": "0.1"} and r.data.metrics == {"loss": 1.0 / 50}
        hist = c.get_metric_history(run, "loss")
        assert [(m.step, m.timestamp, m.value) for m in hist] == [
            (s, 1600000000000 + s, 1.0 / (s + 1)) for s in range(50)]
        assert [(d.dataset.name, d.dataset.digest, [(t.key, t.value) for t in d.tags])
                for d in r.inputs.dataset_inputs] == [("train", "abc123", [("mlflow.data.context", "training")])]
        assert c.get_run(child).data.tags["mlflow.parentRunId"] == run
        assert [x.info.run_id for x in c.search_runs(["7"], "params.lr = '0.1'")] == [run]
        # file: locations under --artifacts become mlflow-artifacts:/ ones, served by our proxy from the copied tree
        assert e.artifact_location == "mlflow-artifacts:/7"
        assert r.info.artifact_uri == f"mlflow-artifacts:/7/{run}/artifacts"
        assert [f.path for f in c.list_artifacts(run, "docs")] == ["docs/notes.txt"]
        got = c.download_artifacts(run, "docs/notes.txt", str(tmp_path / "dl"))
        assert open(got).read() == "old artifact\n"
        rm = c.get_registered_model("old-model")
        assert (rm.description, rm.tags, rm.aliases) == ("from 2.x", {"owner": "ml"}, {"champion": "1"})
        vs = sorted((v.version, v.current_stage, v.source) for v in c.search_model_versions("name = 'old-model'"))
        assert vs == [("1", "None", f"runs:/{run}/model"),
                      ("2", "Production", f"mlflow-artifacts:/7/{run}/artifacts/model")]
    finally:
        ours.stop()
    second = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    counts = [int(x) for x in re.findall(r"\s(\d+) imported", second.stdout)]
    assert counts and not any(counts), second.stdout
    # on a terminal, stderr shows the table being copied (stdout, the summary, stays the same)
    primary, secondary = pty.openpty()
    try:
        tty_run = subprocess.run(args, stdout=subprocess.PIPE, stderr=secondary, text=True, timeout=120)
        os.close(secondary)
        secondary = -1
        progress = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            progress += chunk
    finally:
        os.close(primary)
        if secondary >= 0:
            os.close(secondary)
    assert tty_run.returncode == 0, tty_run.stdout
    assert b"\rimporting metric points (50 rows)..." in progress, progress
    assert tty_run.stdout == second.stdout.replace(re.search(r"done in \d+ ms", second.stdout).group(0),
                                                   re.search(r"done in \d+ ms", tty_run.stdout).group(0))
    # a short artifact file (an interrupted earlier import) is copied again, through a temporary name
    ours_file = os.path.join(ours.dir, "artifacts", "7", run, "artifacts", "docs", "notes.txt")
    with open(ours_file, "w") as f:
        f.write("old")
    third = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert third.returncode == 0, third.stdout + third.stderr
    assert re.search(r"artifact files\s+1 imported", third.stdout), third.stdout
    assert open(ours_file).read() == "old artifact\n"
    assert sorted(os.listdir(os.path.dirname(ours_file))) == ["notes.txt"]
