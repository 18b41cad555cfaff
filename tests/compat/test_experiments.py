# SPDX-License-Identifier: Apache-2.0
"""Experiments through the real client: create, get, get-by-name, set_experiment, and their errors."""
import mlflow
import pytest
from mlflow.exceptions import MlflowException

from helpers import assert_error


def test_default_experiment_exists(client):
    e = client.get_experiment("0")
    assert e.name == "Default"
    assert e.lifecycle_stage == "active"
    assert e.artifact_location == "mlflow-artifacts:/0"


def test_create_and_get(client, unique):
    eid = client.create_experiment(unique, tags={"team": "ml", "k.v": "x y"})
    assert eid.isdigit()
    e = client.get_experiment(eid)
    assert e.name == unique
    assert e.experiment_id == eid
    assert e.tags == {"team": "ml", "k.v": "x y"}
    assert e.artifact_location == f"mlflow-artifacts:/{eid}"
    assert e.creation_time > 0 and e.last_update_time >= e.creation_time
    by_name = client.get_experiment_by_name(unique)
    assert by_name.experiment_id == eid


def test_explicit_artifact_location(client, unique, tmp_path):
    loc = str(tmp_path / "arts")
    eid = client.create_experiment(unique, artifact_location=loc)
    assert client.get_experiment(eid).artifact_location.endswith("arts")


def test_set_experiment_creates_then_reuses(tracking_uri, unique):
    e1 = mlflow.set_experiment(unique)
    e2 = mlflow.set_experiment(unique)
    assert e1.experiment_id == e2.experiment_id
    assert mlflow.get_experiment_by_name(unique).experiment_id == e1.experiment_id


def test_get_by_name_missing_is_none(client, unique):
    assert client.get_experiment_by_name(unique + "-missing") is None


def test_duplicate_name(client, unique):
    client.create_experiment(unique)
    with pytest.raises(MlflowException) as exc:
        client.create_experiment(unique)
    assert exc.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_unknown_experiment_id(client):
    with pytest.raises(MlflowException) as exc:
        client.get_experiment("987654321")
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_wire_errors(rest, unique):
    assert_error(rest.get("/api/2.0/mlflow/experiments/get", experiment_id="987654321"), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(rest.get("/api/2.0/mlflow/experiments/get", experiment_id="not-a-number"), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(rest.get("/api/2.0/mlflow/experiments/get"), 400, "INVALID_PARAMETER_VALUE",
                 "Missing value for required parameter 'experiment_id'")
    assert_error(rest.post("/api/2.0/mlflow/experiments/create", {"name": 5}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(rest.post("/api/2.0/mlflow/experiments/create", {}), 400, "INVALID_PARAMETER_VALUE",
                 "Missing value for required parameter 'name'")
    assert_error(rest.post("/api/2.0/mlflow/experiments/create", {"name": unique, "artifact_location": "runs:/x"}),
                 400, "INVALID_PARAMETER_VALUE")
    assert_error(rest.post("/api/2.0/mlflow/experiments/create", {"name": "x" * 501}), 400,
                 "INVALID_PARAMETER_VALUE")
    r = rest.post("/api/2.0/mlflow/experiments/create", {"name": unique})
    assert r.status_code == 200
    assert_error(rest.post("/api/2.0/mlflow/experiments/create", {"name": unique}), 400, "RESOURCE_ALREADY_EXISTS")
    assert_error(rest.get("/api/2.0/mlflow/experiments/get-by-name", experiment_name=unique + "-nope"), 404,
                 "RESOURCE_DOES_NOT_EXIST")


def test_bad_tag_key_rejected_and_nothing_written(rest, unique):
    r = rest.post("/api/2.0/mlflow/experiments/create",
                  {"name": unique, "tags": [{"key": "bad*key", "value": "v"}]})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert rest.get("/api/2.0/mlflow/experiments/get-by-name", experiment_name=unique).status_code == 404


def test_rename(client, unique):
    eid = client.create_experiment(unique)
    before = client.get_experiment(eid).last_update_time
    client.rename_experiment(eid, unique + "-renamed")
    e = client.get_experiment(eid)
    assert e.name == unique + "-renamed"
    assert e.last_update_time >= before
    assert client.get_experiment_by_name(unique) is None


def test_rename_errors(rest, client, unique):
    a = client.create_experiment(unique + "-a")
    client.create_experiment(unique + "-b")
    # Taking another experiment's name is a 400 (the reference's code is BAD_REQUEST with SQL text in the
    # message; ours is RESOURCE_ALREADY_EXISTS with a clean message: see docs/api-coverage.md).
    r = rest.post("/api/2.0/mlflow/experiments/update", {"experiment_id": a, "new_name": unique + "-b"})
    assert r.status_code == 400
    assert_error(rest.post("/api/2.0/mlflow/experiments/update", {"experiment_id": a}), 400,
                 "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'new_name'")
    assert_error(rest.post("/api/2.0/mlflow/experiments/update", {"experiment_id": "987654321", "new_name": "z"}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    client.delete_experiment(a)
    assert_error(rest.post("/api/2.0/mlflow/experiments/update", {"experiment_id": a, "new_name": unique + "-c"}),
                 500, "INVALID_STATE", "Cannot rename a non-active experiment")


def test_delete_and_restore(client, unique):
    eid = client.create_experiment(unique)
    client.delete_experiment(eid)
    e = client.get_experiment(eid)
    assert e.lifecycle_stage == "deleted"
    # get-by-name still finds a deleted experiment; its name stays taken
    assert client.get_experiment_by_name(unique).lifecycle_stage == "deleted"
    with pytest.raises(MlflowException) as exc:
        client.create_experiment(unique)
    assert exc.value.error_code == "RESOURCE_ALREADY_EXISTS"
    client.restore_experiment(eid)
    assert client.get_experiment(eid).lifecycle_stage == "active"


def test_delete_restore_errors(rest, client, unique):
    eid = client.create_experiment(unique)
    assert_error(rest.post("/api/2.0/mlflow/experiments/restore", {"experiment_id": eid}), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert rest.post("/api/2.0/mlflow/experiments/delete", {"experiment_id": eid}).json() == {}
    assert_error(rest.post("/api/2.0/mlflow/experiments/delete", {"experiment_id": eid}), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(rest.post("/api/2.0/mlflow/experiments/delete", {"experiment_id": "987654321"}), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(rest.post("/api/2.0/mlflow/experiments/delete", {}), 400, "INVALID_PARAMETER_VALUE")


def test_deleted_experiment_cannot_be_set_active(tracking_uri, client, unique):
    eid = client.create_experiment(unique)
    client.delete_experiment(eid)
    with pytest.raises(MlflowException):
        mlflow.set_experiment(unique)


def test_experiment_tags(client, rest, unique):
    eid = client.create_experiment(unique)
    client.set_experiment_tag(eid, "stage", "dev")
    client.set_experiment_tag(eid, "stage", "prod")  # upsert
    client.set_experiment_tag(eid, "note", "")
    assert client.get_experiment(eid).tags == {"stage": "prod", "note": ""}
    client.delete_experiment_tag(eid, "stage")
    assert client.get_experiment(eid).tags == {"note": ""}
    assert_error(rest.post("/api/2.0/mlflow/experiments/delete-experiment-tag", {"experiment_id": eid, "key": "nope"}),
                 404, "RESOURCE_DOES_NOT_EXIST", "No tag with name: nope")
    assert_error(rest.post("/api/2.0/mlflow/experiments/set-experiment-tag",
                           {"experiment_id": eid, "key": "bad*key", "value": "v"}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(rest.post("/api/2.0/mlflow/experiments/set-experiment-tag",
                           {"experiment_id": eid, "key": "k" * 251, "value": "v"}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(rest.post("/api/2.0/mlflow/experiments/set-experiment-tag", {"experiment_id": eid, "value": "v"}),
                 400, "INVALID_PARAMETER_VALUE")
    client.delete_experiment(eid)
    assert_error(rest.post("/api/2.0/mlflow/experiments/set-experiment-tag",
                           {"experiment_id": eid, "key": "k", "value": "v"}),
                 400, "INVALID_PARAMETER_VALUE", "must be in the 'active' state")
    assert client.get_experiment(eid).tags == {"note": ""}
