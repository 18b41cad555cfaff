# SPDX-License-Identifier: Apache-2.0
"""MLflow 3 logged models, dataset inputs and model outputs through the real client."""
import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import LoggedModelStatus, Metric
from mlflow.exceptions import MlflowException

from helpers import assert_error


@pytest.fixture
def exp(client, unique):
    return client.create_experiment(unique)


def test_create_get_finalize(client, exp):
    run = client.create_run(exp)
    m = client.create_logged_model(exp, name="clf", source_run_id=run.info.run_id, params={"depth": "3"},
                                   tags={"team": "ml"}, model_type="classifier")
    assert m.model_id.startswith("m-") and len(m.model_id) == 34
    assert m.status == LoggedModelStatus.PENDING
    assert m.artifact_location == f"mlflow-artifacts:/{exp}/models/{m.model_id}/artifacts"
    assert m.params == {"depth": "3"} and m.tags == {"team": "ml"}
    assert m.model_type == "classifier" and m.source_run_id == run.info.run_id
    m2 = client.finalize_logged_model(m.model_id, LoggedModelStatus.READY)
    assert m2.status == LoggedModelStatus.READY
    got = client.get_logged_model(m.model_id)
    assert got.name == "clf" and got.status == LoggedModelStatus.READY
    assert got.last_updated_timestamp >= got.creation_timestamp


def test_tags_params_delete(client, rest, exp):
    m = client.create_logged_model(exp)
    assert m.name  # generated
    client.set_logged_model_tags(m.model_id, {"a": "1", "b": "2"})
    client.delete_logged_model_tag(m.model_id, "a")
    client.log_model_params(m.model_id, {"p": "v"})
    got = client.get_logged_model(m.model_id)
    assert got.tags == {"b": "2"} and got.params == {"p": "v"}
    client.delete_logged_model(m.model_id)
    with pytest.raises(MlflowException) as exc:
        client.get_logged_model(m.model_id)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    r = rest.get(f"/api/2.0/mlflow/logged-models/{m.model_id}", allow_deleted="true")
    assert r.status_code == 200 and r.json()["model"]["info"]["model_id"] == m.model_id


def test_logged_model_errors(rest, exp):
    assert_error(rest.get("/api/2.0/mlflow/logged-models/m-00000000000000000000000000000000"), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(rest.post("/api/2.0/mlflow/logged-models", {}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(rest.post("/api/2.0/mlflow/logged-models", {"experiment_id": exp, "name": "bad/name"}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(rest.post("/api/2.0/mlflow/logged-models", {"experiment_id": "987654321"}), 404,
                 "RESOURCE_DOES_NOT_EXIST")


def test_metrics_linked_to_model(client, exp):
    run = client.create_run(exp)
    m = client.create_logged_model(exp, source_run_id=run.info.run_id)
    client.log_batch(run.info.run_id, metrics=[Metric("acc", 0.8, 1, 0, model_id=m.model_id)])
    got = client.get_logged_model(m.model_id)
    assert [(x.key, x.value, x.run_id) for x in got.metrics] == [("acc", 0.8, run.info.run_id)]


def test_search_logged_models(client, exp):
    run = client.create_run(exp)
    ids = {}
    for name, acc in (("a", 0.5), ("b", 0.9), ("c", 0.7)):
        m = client.create_logged_model(exp, name=name, source_run_id=run.info.run_id)
        client.log_batch(run.info.run_id, metrics=[Metric("acc", acc, 1, 0, model_id=m.model_id)])
        ids[name] = m.model_id
    found = mlflow.search_logged_models(experiment_ids=[exp], filter_string="name = 'b'", output_format="list")
    assert [m.model_id for m in found] == [ids["b"]]
    found = mlflow.search_logged_models(experiment_ids=[exp], filter_string="metrics.acc > 0.6",
                                        order_by=[{"field_name": "metrics.acc", "ascending": False}],
                                        output_format="list")
    assert [m.name for m in found] == ["b", "c"]
    found = client.search_logged_models([exp], max_results=2)
    assert len(found) == 2 and found.token
    assert [m.name for m in found] == ["c", "b"]  # newest first


def test_log_input_dataset(tracking_uri, client, unique):
    mlflow.set_experiment(unique)
    df = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    ds = mlflow.data.from_pandas(df, name="train")
    with mlflow.start_run() as run:
        mlflow.log_input(ds, context="training")
    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset.name == "train"
    assert inputs[0].dataset.digest == ds.digest
    assert {t.key: t.value for t in inputs[0].tags}["mlflow.data.context"] == "training"


def test_outputs_on_run(client, rest, exp):
    run = client.create_run(exp)
    m = client.create_logged_model(exp, source_run_id=run.info.run_id)
    r = rest.post("/api/2.0/mlflow/runs/outputs", {"run_id": run.info.run_id, "models": [{"model_id": m.model_id,
                                                                                          "step": 3}]})
    assert r.json() == {}
    outs = client.get_run(run.info.run_id).outputs.model_outputs
    assert [(o.model_id, o.step) for o in outs] == [(m.model_id, 3)]


def test_search_runs_by_dataset(tracking_uri, client, unique):
    mlflow.set_experiment(unique)
    df = pd.DataFrame({"x": [1.0, 2.0]})
    with mlflow.start_run() as with_ds:
        mlflow.log_input(mlflow.data.from_pandas(df, name="train"), context="training")
    with mlflow.start_run():
        pass
    eid = with_ds.info.experiment_id
    for flt in ("datasets.name = 'train'", "dataset.context = 'training'", "datasets.name IN ('train', 'x')"):
        assert [r.info.run_id for r in client.search_runs([eid], flt)] == [with_ds.info.run_id], flt
    assert client.search_runs([eid], "datasets.name = 'other'") == []
