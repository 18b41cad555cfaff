# SPDX-License-Identifier: Apache-2.0
"""`mltrackd import --from-mlflow`: a data set made by the real client against the reference `mlflow server`
(SQLite + proxied artifacts) reads back the same from mltrackd after the import; a second import changes nothing."""
import os
import re
import subprocess

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

from conftest import REPO, Server


def binary():
    return os.environ.get("MLTRACKD_BIN", os.path.join(REPO, "build", "mltrackd"))


def build_dataset(url, tmp_path):
    """Several experiments, nested runs, 10,000 points, params, tags, artifacts, a dataset input, a logged model,
    a registered model with two versions, an alias and a stage."""
    from sklearn.linear_model import LogisticRegression

    c = MlflowClient(url)
    mlflow.set_tracking_uri(url)
    e1 = c.create_experiment("imp-a", tags={"team": "ml"})
    e2 = c.create_experiment("imp-b")
    parent = c.create_run(e1, run_name="parent")
    child = c.create_run(e1, run_name="child", tags={"mlflow.parentRunId": parent.info.run_id})
    other = c.create_run(e2, run_name="other")
    for start in range(0, 10000, 1000):
        c.log_batch(parent.info.run_id, metrics=[Metric("loss", 1 / (1 + s), 1700000000000 + s, s)
                                                 for s in range(start, start + 1000)])
    c.log_batch(child.info.run_id, metrics=[Metric("acc", 0.5, 1, 0), Metric("acc", 0.9, 2, 1)],
                params=[Param("lr", "0.01"), Param("depth", "3")], tags=[RunTag("stage", "dev")])
    c.log_param(other.info.run_id, "x", "1")
    (tmp_path / "notes.txt").write_text("hello import\n")
    c.log_artifact(child.info.run_id, str(tmp_path / "notes.txt"), "docs")
    c.set_terminated(other.info.run_id)
    c.delete_run(other.info.run_id)
    mlflow.set_experiment("imp-a")
    X = np.random.default_rng(0).random((20, 3))
    y = (X[:, 0] > 0.5).astype(int)
    with mlflow.start_run(run_name="train") as run:
        mlflow.log_input(mlflow.data.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), name="train"),
                         context="training")
        info = mlflow.sklearn.log_model(LogisticRegression().fit(X, y), name="m", registered_model_name="imp-model")
        mlflow.log_metric("final", 0.75)
    c.create_model_version("imp-model", f"runs:/{run.info.run_id}/m", run.info.run_id, description="second")
    c.set_registered_model_alias("imp-model", "champion", "1")
    c.transition_model_version_stage("imp-model", "2", "Production")
    c.set_model_version_tag("imp-model", "1", "validated", "true")
    c.set_registered_model_tag("imp-model", "owner", "ml")
    return {"experiments": [e1, e2], "runs": [parent.info.run_id, child.info.run_id, other.info.run_id,
                                              run.info.run_id], "model_id": info.model_id}


def snapshot(url, ids, tmp_path, tag):
    """What the real client reads back, in comparable form."""
    c = MlflowClient(url)
    mlflow.set_tracking_uri(url)
    out = {}
    out["experiments"] = sorted((e.experiment_id, e.name, e.lifecycle_stage, tuple(sorted(e.tags.items())),
                                 e.artifact_location) for e in c.search_experiments(view_type=3))
    runs = []
    for rid in ids["runs"]:
        r = c.get_run(rid)
        runs.append((r.info.run_id, r.info.experiment_id, r.info.run_name, r.info.status, r.info.lifecycle_stage,
                     r.info.start_time, r.info.end_time, r.info.artifact_uri, tuple(sorted(r.data.params.items())),
                     tuple(sorted(r.data.metrics.items())),
                     tuple(sorted((k, v) for k, v in r.data.tags.items())),
                     tuple(sorted((d.dataset.name, d.dataset.digest, tuple(sorted((t.key, t.value) for t in d.tags)))
                                  for d in r.inputs.dataset_inputs)),
                     tuple(o.model_id for o in (r.outputs.model_outputs if r.outputs else []))))
    out["runs"] = runs
    out["search"] = [r.info.run_id for r in c.search_runs(ids["experiments"], order_by=["attributes.start_time"])]
    hist = c.get_metric_history(ids["runs"][0], "loss")
    out["history"] = [(m.step, m.timestamp, m.value) for m in hist]
    dl = c.download_artifacts(ids["runs"][1], "docs/notes.txt", str(tmp_path / f"dl-{tag}"))
    out["artifact"] = open(dl).read()
    lm = c.get_logged_model(ids["model_id"])
    out["logged_model"] = (lm.model_id, lm.name, lm.status, lm.artifact_location, tuple(sorted(lm.tags.items())),
                           tuple((m.key, m.value) for m in lm.metrics))
    rm = c.get_registered_model("imp-model")
    out["registered"] = (rm.name, tuple(sorted(rm.tags.items())), tuple(sorted(rm.aliases.items())))
    out["versions"] = sorted((v.version, v.current_stage, v.source, v.run_id, v.description,
                              tuple(sorted(v.tags.items())))
                             for v in c.search_model_versions("name = 'imp-model'"))
    model = mlflow.pyfunc.load_model("models:/imp-model@champion") if tag == "mltrackd" else None
    return out, model


@pytest.fixture
def restore_fluent_state():
    yield
    import mlflow.tracking.fluent as fluent

    fluent._active_experiment_id = None  # build_dataset's set_experiment must not leak into later tests


def test_import_from_mlflow(server_kind, tmp_path, restore_fluent_state):
    if server_kind == "reference":
        pytest.skip("imports into mltrackd (the data set is made against the reference server in this test)")
    ref = Server("reference").start(timeout=120)
    try:
        ids = build_dataset(ref.url, tmp_path)
        want, _ = snapshot(ref.url, ids, tmp_path, "reference")
    finally:
        ref.stop()
    mlflow_db = os.path.join(ref.dir, "db.sqlite")
    ours = Server("mltrackd")
    args = [binary(), "import", "--from-mlflow", f"sqlite:///{mlflow_db}", "--artifacts",
            os.path.join(ref.dir, "artifacts"), "--backend-store-uri",
            f"sqlite:///{os.path.join(ours.dir, 'db.sqlite')}", "--artifacts-destination",
            os.path.join(ours.dir, "artifacts")]
    first = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert re.search(r"metric points\s+10003 imported of 10003", first.stdout), first.stdout
    ours.start()
    try:
        got, model = snapshot(ours.url, ids, tmp_path, "mltrackd")
        assert got == want
        assert model.predict(np.zeros((1, 3))).shape == (1,)
    finally:
        ours.stop()
    second = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    counts = [int(x) for x in re.findall(r"\s(\d+) imported", second.stdout)]
    assert counts and not any(counts), second.stdout
    assert "0 imported (0 bytes)" in second.stdout
    ours.start()
    try:
        again, _ = snapshot(ours.url, ids, tmp_path, "again")
        assert again == want
    finally:
        ours.stop()
