# SPDX-License-Identifier: Apache-2.0
"""The model registry through the real client: registered models, versions, stages, aliases, tags,
search, latest versions, download URIs, and loading a model by alias and by stage."""
import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from helpers import assert_error


@pytest.fixture
def run_id(client, unique):
    exp = client.create_experiment(unique)
    return client.create_run(exp).info.run_id


def test_registered_model_crud(client, unique):
    m = client.create_registered_model(unique, tags={"team": "ml"}, description="first")
    assert m.name == unique and m.description == "first" and m.tags == {"team": "ml"}
    with pytest.raises(MlflowException) as exc:
        client.create_registered_model(unique)
    assert exc.value.error_code == "RESOURCE_ALREADY_EXISTS"
    client.update_registered_model(unique, description="second")
    assert client.get_registered_model(unique).description == "second"
    client.set_registered_model_tag(unique, "k", "v")
    client.delete_registered_model_tag(unique, "team")
    assert client.get_registered_model(unique).tags == {"k": "v"}
    client.rename_registered_model(unique, unique + "-new")
    assert client.get_registered_model(unique + "-new").tags == {"k": "v"}
    with pytest.raises(MlflowException) as exc:
        client.get_registered_model(unique)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    client.delete_registered_model(unique + "-new")
    with pytest.raises(MlflowException):
        client.get_registered_model(unique + "-new")


def test_versions_stages_aliases(client, unique, run_id):
    client.create_registered_model(unique)
    v1 = client.create_model_version(unique, f"runs:/{run_id}/model", run_id=run_id, tags={"a": "1"})
    v2 = client.create_model_version(unique, f"runs:/{run_id}/model", run_id=run_id, description="v2")
    assert (v1.version, v2.version) == ("1", "2")
    assert v1.status == "READY" and v1.current_stage == "None" and v1.tags == {"a": "1"}
    assert v2.description == "v2"
    client.transition_model_version_stage(unique, "1", "production")
    assert client.get_model_version(unique, "1").current_stage == "Production"
    client.transition_model_version_stage(unique, "2", "Production", archive_existing_versions=True)
    assert client.get_model_version(unique, "1").current_stage == "Archived"
    assert [v.version for v in client.get_latest_versions(unique, stages=["Production"])] == ["2"]
    client.set_registered_model_alias(unique, "champion", "1")
    assert client.get_model_version_by_alias(unique, "champion").version == "1"
    client.set_registered_model_alias(unique, "champion", "2")  # moves
    mv = client.get_model_version_by_alias(unique, "champion")
    assert mv.version == "2" and mv.aliases == ["champion"]
    assert client.get_registered_model(unique).aliases == {"champion": "2"}
    client.delete_registered_model_alias(unique, "champion")
    with pytest.raises(MlflowException) as exc:
        client.get_model_version_by_alias(unique, "champion")
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    client.set_model_version_tag(unique, "2", "k", "v")
    client.delete_model_version_tag(unique, "1", "a")
    assert client.get_model_version(unique, "2").tags == {"k": "v"}
    assert client.get_model_version(unique, "1").tags == {}
    client.update_model_version(unique, "1", description="old")
    assert client.get_model_version(unique, "1").description == "old"
    uri = client.get_model_version_download_uri(unique, "1")
    assert uri == f"runs:/{run_id}/model"  # the reference answers a runs:/ source as is
    client.delete_model_version(unique, "1")
    with pytest.raises(MlflowException):
        client.get_model_version(unique, "1")
    v3 = client.create_model_version(unique, f"runs:/{run_id}/model", run_id=run_id)
    assert v3.version == "3"  # numbers are never reused


def test_search(client, unique, run_id):
    for suffix in ("a", "b", "c"):
        client.create_registered_model(f"{unique}-{suffix}", tags={"s": suffix})
        client.create_model_version(f"{unique}-{suffix}", f"runs:/{run_id}/model", run_id=run_id)
    found = client.search_registered_models(filter_string=f"name LIKE '{unique}-%'")
    assert [m.name for m in found] == [f"{unique}-{s}" for s in "abc"]
    found = client.search_registered_models(filter_string=f"name LIKE '{unique}-%' and tags.s = 'b'")
    assert [m.name for m in found] == [f"{unique}-b"]
    page = client.search_registered_models(filter_string=f"name LIKE '{unique}-%'", max_results=2,
                                           order_by=["name DESC"])
    assert [m.name for m in page] == [f"{unique}-c", f"{unique}-b"] and page.token
    versions = client.search_model_versions(f"name = '{unique}-a'")
    assert [(v.name, v.version) for v in versions] == [(f"{unique}-a", "1")]
    versions = client.search_model_versions(f"run_id = '{run_id}'")
    assert len(versions) == 3


def test_errors(rest, client, unique):
    assert_error(rest.get("/api/2.0/mlflow/registered-models/get", name=unique), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(rest.post("/api/2.0/mlflow/registered-models/create", {}), 400, "INVALID_PARAMETER_VALUE")
    client.create_registered_model(unique)
    assert_error(rest.get("/api/2.0/mlflow/model-versions/get", name=unique, version="7"), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(rest.post("/api/2.0/mlflow/model-versions/transition-stage",
                           {"name": unique, "version": "1", "stage": "Bogus", "archive_existing_versions": False}),
                 400, "INVALID_PARAMETER_VALUE")
    assert_error(rest.post("/api/2.0/mlflow/registered-models/alias", {"name": unique, "alias": "latest",
                                                                       "version": "1"}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(rest.get("/api/2.0/mlflow/registered-models/alias", name=unique, alias="nope"), 400,
                 "INVALID_PARAMETER_VALUE")


def test_register_and_load_by_alias_and_stage(tracking_uri, client, unique):
    from sklearn.linear_model import LinearRegression

    X = np.arange(20, dtype=float).reshape(10, 2)
    y = X[:, 0] * 2 + 1
    model = LinearRegression().fit(X, y)
    mlflow.set_experiment(unique)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="m", registered_model_name=unique)
    assert str(info.registered_model_version) == "1"
    client.set_registered_model_alias(unique, "champion", "1")
    client.transition_model_version_stage(unique, "1", "Staging")
    for uri in (f"models:/{unique}@champion", f"models:/{unique}/1", f"models:/{unique}/Staging",
                f"models:/{unique}/latest"):
        loaded = mlflow.pyfunc.load_model(uri)
        assert np.allclose(loaded.predict(X), model.predict(X)), uri
    mv = client.get_model_version(unique, "1")
    assert mv.run_id  # filled from the logged model (the client does not read model_id back: MLflow TODO)
