# SPDX-License-Identifier: Apache-2.0
"""Runs, params and tags through the real client, and their errors on the wire."""
import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from helpers import assert_error


@pytest.fixture
def exp(client, unique):
    return client.create_experiment(unique)


def test_fluent_run_lifecycle(tracking_uri, client, unique):
    mlflow.set_experiment(unique)
    with mlflow.start_run(run_name="first") as run:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"layers": 3, "act": "relu"})
        mlflow.set_tag("team", "ml")
        mlflow.set_tags({"a": "1", "b": "2"})
        with mlflow.start_run(nested=True) as child:
            mlflow.log_param("inner", "x")
    r = client.get_run(run.info.run_id)
    assert r.info.run_name == "first"
    assert r.info.status == "FINISHED"
    assert r.info.end_time is not None and r.info.end_time >= r.info.start_time
    assert r.info.lifecycle_stage == "active"
    assert r.info.artifact_uri == f"mlflow-artifacts:/{r.info.experiment_id}/{run.info.run_id}/artifacts"
    assert r.data.params == {"lr": "0.01", "layers": "3", "act": "relu"}
    assert r.data.tags["team"] == "ml" and r.data.tags["a"] == "1" and r.data.tags["b"] == "2"
    assert r.data.tags["mlflow.runName"] == "first"
    c = client.get_run(child.info.run_id)
    assert c.data.tags["mlflow.parentRunId"] == run.info.run_id
    assert c.data.params == {"inner": "x"}


def test_create_run_defaults(client, exp):
    run = client.create_run(exp)
    assert len(run.info.run_id) == 32 and run.info.run_id == run.info.run_id.lower()
    assert run.info.status == "RUNNING"
    assert run.info.run_name and run.data.tags["mlflow.runName"] == run.info.run_name
    assert run.info.end_time is None


def test_run_name_and_tag_conflict(rest, exp):
    r = rest.post("/api/2.0/mlflow/runs/create", {"experiment_id": exp, "run_name": "a",
                                                  "tags": [{"key": "mlflow.runName", "value": "b"}]})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Both 'run_name' argument and 'mlflow.runName' tag")


def test_update_rename_and_status(client, exp):
    run = client.create_run(exp, run_name="before")
    client.update_run(run.info.run_id, status="KILLED", name="after")
    r = client.get_run(run.info.run_id)
    assert r.info.status == "KILLED"
    assert r.info.run_name == "after"
    assert r.data.tags["mlflow.runName"] == "after"
    client.set_tag(run.info.run_id, "mlflow.runName", "via-tag")
    assert client.get_run(run.info.run_id).info.run_name == "via-tag"


def test_delete_restore(client, rest, exp):
    run = client.create_run(exp)
    rid = run.info.run_id
    client.delete_run(rid)
    assert client.get_run(rid).info.lifecycle_stage == "deleted"
    assert rest.post("/api/2.0/mlflow/runs/delete", {"run_id": rid}).json() == {}  # idempotent
    assert_error(rest.post("/api/2.0/mlflow/runs/log-parameter", {"run_id": rid, "key": "k", "value": "v"}), 400,
                 "INVALID_PARAMETER_VALUE", "must be in the 'active' state")
    client.restore_run(rid)
    assert client.get_run(rid).info.lifecycle_stage == "active"
    client.log_param(rid, "k", "v")


def test_deleting_experiment_deletes_its_runs(client, exp):
    run = client.create_run(exp)
    client.delete_experiment(exp)
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    client.restore_experiment(exp)
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "active"


def test_params_are_immutable(client, rest, exp):
    rid = client.create_run(exp).info.run_id
    client.log_param(rid, "p", "1")
    client.log_param(rid, "p", "1")  # same value: no-op
    with pytest.raises(MlflowException) as exc:
        client.log_param(rid, "p", "2")
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Changing param values is not allowed" in exc.value.message
    r = rest.post("/api/2.0/mlflow/runs/log-batch", {"run_id": rid, "params": [{"key": "q", "value": "1"},
                                                                             {"key": "p", "value": "9"}]})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Changing param values is not allowed")
    # the rejected batch wrote nothing, not even the new param
    assert client.get_run(rid).data.params == {"p": "1"}


def test_long_values(client, rest, exp):
    rid = client.create_run(exp).info.run_id
    client.log_param(rid, "long", "x" * 7000)
    assert len(client.get_run(rid).data.params["long"]) == 6000  # truncated, as the reference does
    client.set_tag(rid, "longtag", "y" * 9000)
    assert len(client.get_run(rid).data.tags["longtag"]) == 8000
    assert_error(rest.post("/api/2.0/mlflow/runs/log-parameter", {"run_id": rid, "key": "k" * 251, "value": "v"}),
                 400, "INVALID_PARAMETER_VALUE")


def test_tags(client, rest, exp):
    rid = client.create_run(exp).info.run_id
    client.set_tag(rid, "k", "v1")
    client.set_tag(rid, "k", "v2")
    assert client.get_run(rid).data.tags["k"] == "v2"
    client.delete_tag(rid, "k")
    assert "k" not in client.get_run(rid).data.tags
    assert_error(rest.post("/api/2.0/mlflow/runs/delete-tag", {"run_id": rid, "key": "k"}), 404,
                 "RESOURCE_DOES_NOT_EXIST", "No tag with name: k")
    assert_error(rest.post("/api/2.0/mlflow/runs/set-tag", {"run_id": rid, "key": "bad*key", "value": "v"}), 400,
                 "INVALID_PARAMETER_VALUE")


def test_run_wire_errors(rest, exp):
    assert_error(rest.get("/api/2.0/mlflow/runs/get", run_id="0" * 32), 404, "RESOURCE_DOES_NOT_EXIST",
                 "Run with id=")
    assert_error(rest.get("/api/2.0/mlflow/runs/get"), 400, "INVALID_PARAMETER_VALUE",
                 "Missing value for required parameter 'run_id'")
    assert_error(rest.post("/api/2.0/mlflow/runs/create", {"experiment_id": "987654321"}), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(rest.post("/api/2.0/mlflow/runs/log-parameter", {"run_id": 5, "key": "k", "value": "v"}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(rest.post("/api/2.0/mlflow/runs/log-parameter", {"run_id": "0" * 32, "key": "k", "value": "v"}),
                 404, "RESOURCE_DOES_NOT_EXIST")


def test_run_get_shape(rest, client, exp):
    rid = client.create_run(exp, start_time=1000).info.run_id
    client.log_batch(rid, metrics=[Metric("m", 1.5, 5, 1)], params=[Param("p", "1")], tags=[RunTag("t", "x")])
    run = rest.get("/api/2.0/mlflow/runs/get", run_id=rid).json()["run"]
    assert run["info"]["run_id"] == run["info"]["run_uuid"] == rid
    assert run["info"]["experiment_id"] == exp
    assert run["info"]["start_time"] == 1000
    assert "end_time" not in run["info"]
    assert run["data"]["metrics"] == [{"key": "m", "value": 1.5, "timestamp": 5, "step": 1}]
    assert run["data"]["params"] == [{"key": "p", "value": "1"}]
    assert {"key": "t", "value": "x"} in run["data"]["tags"]
    assert run["inputs"] == {}


def test_create_keeps_odd_tag_keys_and_omits_outputs(rest, exp):
    # create_run stores its tags without the key-name rule that set-tag applies
    body = rest.post("/api/2.0/mlflow/runs/create", {"experiment_id": exp, "run_name": "odd",
                                                     "tags": [{"key": "a*b", "value": "1"}]}).json()
    run = body["run"]
    assert {"key": "a*b", "value": "1"} in run["data"]["tags"]
    assert {"key": "mlflow.runName", "value": "odd"} in run["data"]["tags"]
    assert run["inputs"] == {} and "outputs" not in run
    got = rest.get("/api/2.0/mlflow/runs/get", run_id=run["info"]["run_id"]).json()["run"]
    assert got["outputs"] == {} and got["inputs"] == {}
    assert_error(rest.post("/api/2.0/mlflow/runs/set-tag", {"run_id": run["info"]["run_id"], "key": "a*b",
                                                           "value": "2"}), 400, "INVALID_PARAMETER_VALUE")


def test_writes_to_a_deleted_run_are_refused(client, rest, exp):
    rid = client.create_run(exp).info.run_id
    client.delete_run(rid)
    for path, body in [("runs/set-tag", {"key": "k", "value": "v"}), ("runs/delete-tag", {"key": "mlflow.runName"}),
                       ("runs/update", {"status": "FINISHED"}),
                       ("runs/log-metric", {"key": "m", "value": 1, "timestamp": 1}),
                       ("runs/log-batch", {"params": [{"key": "p", "value": "1"}]})]:
        assert_error(rest.post(f"/api/2.0/mlflow/{path}", {"run_id": rid, **body}), 400, "INVALID_PARAMETER_VALUE",
                     f"The run {rid} must be in the 'active' state")
    run = client.get_run(rid)
    assert run.info.status == "RUNNING" and run.data.metrics == {} and run.data.params == {}
    assert run.data.tags["mlflow.runName"] == run.info.run_name and "k" not in run.data.tags


def test_client_update_delete_restore_and_tags(client, exp):
    run = client.create_run(exp, tags={"keep": "1"})
    rid = run.info.run_id
    client.set_terminated(rid, status="FAILED", end_time=12345)
    r = client.get_run(rid)
    assert r.info.status == "FAILED" and r.info.end_time == 12345
    client.delete_tag(rid, "keep")
    with pytest.raises(MlflowException) as exc:
        client.delete_tag(rid, "keep")
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    client.delete_run(rid)
    r = client.get_run(rid)
    assert r.info.lifecycle_stage == "deleted"
    client.restore_run(rid)
    assert client.get_run(rid).info.lifecycle_stage == "active"
    with pytest.raises(MlflowException) as exc:
        client.get_run("f" * 32)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_log_model_history(client, rest, unique):
    """runs/log-model (legacy, MLflow 2.x clients and some flavors): the model's summary is appended to the run's
    mlflow.log-model.history tag, stored byte for byte as the reference's json.dumps writes it."""
    import json

    import mlflow
    from mlflow.models import Model

    exp = client.create_experiment(unique)
    rid = client.create_run(exp).info.run_id
    flavors = {"python_function": {"loader_module": "mlflow.sklearn", "env": {"conda": "conda.yaml"},
                                   "python_version": "3.11.7", "ratio": 0.1, "n": 3, "ok": True, "none": None,
                                   "text": "caf\u00e9 \U0001F600 \"q\"\n", "config": {"dropped": 1}},
               "sklearn": {"pickled_model": "model.pkl", "config": {"x": 1}}}
    models = [Model(artifact_path="m1", run_id=rid, flavors=flavors, model_uuid="u1",
                    utc_time_created="2026-11-25 07:00:00.000001"),
              Model(artifact_path="m2", run_id=rid, flavors={"sklearn": {"pickled_model": "a.pkl"}},
                    model_uuid="u2", utc_time_created="2026-11-25 07:00:01.000002")]
    for m in models:
        mlflow.tracking.fluent._record_logged_model(m, rid)
    tag = client.get_run(rid).data.tags["mlflow.log-model.history"]
    assert tag == json.dumps([m.get_tags_dict() for m in models])
    assert [h["artifact_path"] for h in json.loads(tag)] == ["m1", "m2"]
    assert "config" not in json.loads(tag)[0]["flavors"]["sklearn"]

    url = "/api/2.0/mlflow/runs/log-model"
    no_uuid = {"artifact_path": "m3", "flavors": {}, "utc_time_created": "t", "run_id": rid}
    assert rest.post(url, {"run_id": rid, "model_json": json.dumps(no_uuid)}).json() == {}
    third = json.loads(client.get_run(rid).data.tags["mlflow.log-model.history"])[2]
    assert third["model_uuid"] is None and third["artifact_path"] == "m3"
    assert_error(rest.post(url, {"run_id": rid, "model_json": "{not json"}), 400, "INVALID_PARAMETER_VALUE",
                 "is not a valid JSON")
    r = assert_error(rest.post(url, {"run_id": rid, "model_json": json.dumps({"run_id": rid, "flavors": {}})}), 400,
                     "INVALID_PARAMETER_VALUE", "Model json is missing mandatory fields: {")
    assert "'artifact_path'" in r["message"] and "'utc_time_created'" in r["message"]
    assert_error(rest.post(url, {"run_id": rid}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(rest.post(url, {"run_id": "0" * 32, "model_json": json.dumps(no_uuid)}), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    client.delete_run(rid)
    assert_error(rest.post(url, {"run_id": rid, "model_json": json.dumps(no_uuid)}), 400, "INVALID_PARAMETER_VALUE")
    assert len(json.loads(client.get_run(rid).data.tags["mlflow.log-model.history"])) == 3
