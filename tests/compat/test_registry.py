# SPDX-License-Identifier: Apache-2.0
"""The model registry through the real client (and raw HTTP for wire details): registered models, versions,
stages, aliases, tags, search, download URIs and the error codes of bad input, against both servers."""
import pytest
from mlflow.exceptions import MlflowException

from helpers import assert_error

# stages and get_latest_versions are deprecated in the client, and still served
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

API = "/api/2.0/mlflow/"


def _run(client, unique):
    eid = client.create_experiment(unique + "-exp")
    return client.create_run(eid).info


def _version(client, name, run):
    return client.create_model_version(name, f"runs:/{run.run_id}/model", run_id=run.run_id)


def test_create_get_update_delete(client, unique):
    m = client.create_registered_model(unique, tags={"team": "ml", "k.v": "x y"}, description="first")
    assert m.name == unique
    assert m.description == "first"
    assert m.tags == {"team": "ml", "k.v": "x y"}
    assert m.creation_timestamp > 0 and m.last_updated_timestamp == m.creation_timestamp
    got = client.get_registered_model(unique)
    assert got.name == unique and got.tags == m.tags and got.latest_versions == []
    upd = client.update_registered_model(unique, description="second")
    assert upd.description == "second"
    assert upd.last_updated_timestamp >= m.last_updated_timestamp
    assert client.get_registered_model(unique).description == "second"
    client.delete_registered_model(unique)
    with pytest.raises(MlflowException) as exc:
        client.get_registered_model(unique)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_duplicate_unknown_and_bad_names(client, rest, unique):
    client.create_registered_model(unique)
    with pytest.raises(MlflowException) as exc:
        client.create_registered_model(unique)
    assert exc.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert_error(rest.post(API + "registered-models/create", {"name": unique}), 400, "RESOURCE_ALREADY_EXISTS",
                 f"Registered Model (name={unique}) already exists.")
    assert_error(rest.get(API + "registered-models/get", name=unique + "-no"), 404, "RESOURCE_DOES_NOT_EXIST",
                 f"Registered Model with name={unique}-no not found")
    assert_error(rest.post(API + "registered-models/create", {"name": "a/b"}), 400, "INVALID_PARAMETER_VALUE",
                 "Names cannot contain '/' or ':'")
    assert_error(rest.post(API + "registered-models/create", {"name": ""}), 400, "INVALID_PARAMETER_VALUE")
    r = rest.call("DELETE", API + "registered-models/delete", json={"name": unique + "-no"})
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")


def test_versions_numbering_and_status(client, unique):
    run = _run(client, unique)
    client.create_registered_model(unique)
    v1 = _version(client, unique, run)
    assert v1.version == "1"
    assert v1.status == "READY"
    assert v1.current_stage == "None"
    assert v1.run_id == run.run_id
    assert v1.source == f"runs:/{run.run_id}/model"
    v2 = client.create_model_version(unique, f"runs:/{run.run_id}/model", run_id=run.run_id,
                                     tags={"t": "1"}, description="two")
    assert v2.version == "2" and v2.tags == {"t": "1"} and v2.description == "two"
    # creating a version updates the model's last_updated_timestamp
    m = client.get_registered_model(unique)
    assert m.last_updated_timestamp == v2.creation_timestamp
    got = client.get_model_version(unique, "2")
    assert got.version == "2" and got.description == "two"
    # a deleted version's number is never handed out again
    client.delete_model_version(unique, "2")
    with pytest.raises(MlflowException) as exc:
        client.get_model_version(unique, "2")
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    v3 = _version(client, unique, run)
    assert v3.version == "3"
    upd = client.update_model_version(unique, "3", description="three")
    assert upd.description == "three"
    assert client.get_model_version_download_uri(unique, "1") == f"runs:/{run.run_id}/model"


def test_version_errors(client, rest, unique):
    run = _run(client, unique)
    client.create_registered_model(unique)
    _version(client, unique, run)
    assert_error(rest.get(API + "model-versions/get", name=unique, version="9"), 404, "RESOURCE_DOES_NOT_EXIST",
                 f"Model Version (name={unique}, version=9) not found")
    assert_error(rest.get(API + "model-versions/get", name=unique, version="x"), 400, "INVALID_PARAMETER_VALUE",
                 "Parameter 'version' must be an integer, got 'x'.")
    body = {"name": unique + "-no", "source": "s3://bucket/m"}
    assert_error(rest.post(API + "model-versions/create", body), 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize("source, run_id, message", [
    ("file:///etc/passwd", None, "To use a local path as a model version source"),
    ("/etc/passwd", None, "To use a local path as a model version source"),
    ("s3://bucket/a/../../etc", None, "without relative path references"),
    ("s3://bucket/a/%2e%2e/etc", None, "without relative path references"),
    ("http://169.254.169.254/latest", None, "cannot use the 'http' scheme"),
    ("mlflow-artifacts:/0/elsewhere/artifacts/model", None, "The run_id request parameter must identify"),
    ("runs:/0123456789abcdef0123456789abcdef/model", None, "The run_id request parameter must identify"),
    ("models:/m-0123456789abcdef", None, "The model_id request parameter must identify"),
])
def test_bad_sources_write_nothing(client, rest, unique, source, run_id, message):
    client.create_registered_model(unique)
    body = {"name": unique, "source": source}
    if run_id:
        body["run_id"] = run_id
    assert_error(rest.post(API + "model-versions/create", body), 400, "INVALID_PARAMETER_VALUE", message)
    assert client.search_model_versions(f"name = '{unique}'") == []
    # the model's timestamp did not move either
    m = client.get_registered_model(unique)
    assert m.last_updated_timestamp == m.creation_timestamp


def test_sources_accepted(client, rest, unique):
    run = _run(client, unique)
    client.create_registered_model(unique)
    # an artifact URI under the run's own artifact root, with its run_id
    src = f"{run.artifact_uri}/model"
    v = client.create_model_version(unique, src, run_id=run.run_id)
    assert v.source == src and v.run_id == run.run_id
    # an object-store URI needs no run
    r = rest.post(API + "model-versions/create", {"name": unique, "source": "s3://bucket/models/m"})
    assert r.status_code == 200, r.text
    mv = r.json()["model_version"]
    assert mv["version"] == "2" and mv["run_id"] == "" and mv["status"] == "READY"
    assert client.get_model_version_download_uri(unique, "2") == "s3://bucket/models/m"
    # models:/<name>/<version> copies the source version's lineage and storage
    r = rest.post(API + "model-versions/create", {"name": unique, "source": f"models:/{unique}/1"})
    assert r.status_code == 200, r.text
    mv = r.json()["model_version"]
    assert mv["source"] == f"models:/{unique}/1" and mv["run_id"] == run.run_id
    assert client.get_model_version_download_uri(unique, mv["version"]) == src


def test_stages_and_archiving(client, rest, unique):
    run = _run(client, unique)
    client.create_registered_model(unique)
    for _ in range(3):
        _version(client, unique, run)
    p1 = client.transition_model_version_stage(unique, "1", "production")
    assert p1.current_stage == "Production"
    client.transition_model_version_stage(unique, "3", "Staging")
    p2 = client.transition_model_version_stage(unique, "2", "Production", archive_existing_versions=True)
    assert p2.current_stage == "Production"
    stages = {v.version: v.current_stage for v in client.search_model_versions(f"name = '{unique}'")}
    assert stages == {"1": "Archived", "2": "Production", "3": "Staging"}
    latest = client.get_latest_versions(unique, stages=["Production"])
    assert [v.version for v in latest] == ["2"]
    latest_all = {v.current_stage: v.version for v in client.get_latest_versions(unique)}
    assert latest_all == {"Archived": "1", "Production": "2", "Staging": "3"}
    m = client.get_registered_model(unique)
    assert sorted((v.current_stage, v.version) for v in m.latest_versions) == [
        ("Archived", "1"), ("Production", "2"), ("Staging", "3")]
    body = {"name": unique, "version": "1", "stage": "bogus", "archive_existing_versions": False}
    assert_error(rest.post(API + "model-versions/transition-stage", body), 400, "INVALID_PARAMETER_VALUE",
                 "Invalid Model Version stage: bogus")


def test_archive_error_code(rest, client, unique, is_reference):
    run = _run(client, unique)
    client.create_registered_model(unique)
    _version(client, unique, run)
    body = {"name": unique, "version": "1", "stage": "Archived", "archive_existing_versions": True}
    r = rest.post(API + "model-versions/transition-stage", body)
    if is_reference:
        assert_error(r, 500, "INTERNAL_ERROR", "cannot archive existing model versions")
    else:
        assert_error(r, 400, "INVALID_PARAMETER_VALUE", "cannot archive existing model versions")
    assert client.get_model_version(unique, "1").current_stage == "None"


def test_aliases(client, rest, unique):
    run = _run(client, unique)
    client.create_registered_model(unique)
    _version(client, unique, run)
    _version(client, unique, run)
    client.set_registered_model_alias(unique, "champion", "1")
    client.set_registered_model_alias(unique, "b-side", "1")
    mv = client.get_model_version_by_alias(unique, "champion")
    assert mv.version == "1"
    assert mv.aliases == ["b-side", "champion"]
    assert client.get_registered_model(unique).aliases == {"champion": "1", "b-side": "1"}
    # re-setting moves the alias
    client.set_registered_model_alias(unique, "champion", "2")
    assert client.get_model_version_by_alias(unique, "champion").version == "2"
    assert client.get_model_version(unique, "1").aliases == ["b-side"]
    # "latest" is the newest version
    r = rest.get(API + "registered-models/alias", name=unique, alias="LATEST")
    assert r.status_code == 200 and r.json()["model_version"]["version"] == "2"
    client.delete_registered_model_alias(unique, "champion")
    assert_error(rest.get(API + "registered-models/alias", name=unique, alias="champion"), 400,
                 "INVALID_PARAMETER_VALUE", "Registered model alias champion not found.")
    with pytest.raises(MlflowException) as exc:
        client.get_model_version_by_alias(unique, "champion")
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    for bad, msg in [("latest", "'latest' alias name (case insensitive) is reserved."),
                     ("v12", "Version alias name 'v12' is reserved."),
                     ("bad alias", "Invalid alias name: 'bad alias'.")]:
        r = rest.post(API + "registered-models/alias", {"name": unique, "alias": bad, "version": "1"})
        assert_error(r, 400, "INVALID_PARAMETER_VALUE", msg)
    r = rest.post(API + "registered-models/alias", {"name": unique, "alias": "ok", "version": "9"})
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST", f"Model Version (name={unique}, version=9) not found")
    # deleting a version drops its aliases
    client.delete_model_version(unique, "1")
    assert client.get_registered_model(unique).aliases == {}


def test_tags(client, unique):
    run = _run(client, unique)
    client.create_registered_model(unique)
    _version(client, unique, run)
    client.set_registered_model_tag(unique, "z", "1")
    client.set_registered_model_tag(unique, "a", "2")
    client.set_registered_model_tag(unique, "z", "3")
    assert client.get_registered_model(unique).tags == {"z": "3", "a": "2"}
    client.delete_registered_model_tag(unique, "z")
    client.delete_registered_model_tag(unique, "never-set")  # not an error, as MLflow
    assert client.get_registered_model(unique).tags == {"a": "2"}
    client.set_model_version_tag(unique, "1", "validated", "true")
    client.set_model_version_tag(unique, "1", "long", "x" * 100000)
    assert client.get_model_version(unique, "1").tags["validated"] == "true"
    client.delete_model_version_tag(unique, "1", "long")
    assert client.get_model_version(unique, "1").tags == {"validated": "true"}
    with pytest.raises(MlflowException) as exc:
        client.set_model_version_tag(unique, "1", "too-long", "x" * 100001)
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as exc:
        client.set_registered_model_tag(unique, "../up", "v")
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"


def test_rename_keeps_versions_tags_aliases(client, unique):
    run = _run(client, unique)
    client.create_registered_model(unique, tags={"k": "v"})
    _version(client, unique, run)
    client.set_model_version_tag(unique, "1", "vt", "1")
    client.set_registered_model_alias(unique, "prod", "1")
    new = unique + "-renamed"
    client.rename_registered_model(unique, new)
    m = client.get_registered_model(new)
    assert m.tags == {"k": "v"} and m.aliases == {"prod": "1"}
    assert [v.name for v in m.latest_versions] == [new]
    mv = client.get_model_version_by_alias(new, "prod")
    assert mv.name == new and mv.tags == {"vt": "1"}
    with pytest.raises(MlflowException) as exc:
        client.get_registered_model(unique)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    client.create_registered_model(unique)
    with pytest.raises(MlflowException) as exc:
        client.rename_registered_model(new, unique)
    assert exc.value.error_code == "RESOURCE_ALREADY_EXISTS"
    # delete takes versions, tags and aliases with it; the name is free again, numbering restarts
    client.delete_registered_model(new)
    assert client.search_model_versions(f"name = '{new}'") == []
    client.create_registered_model(new)
    assert _version(client, new, run).version == "1"
    assert client.get_registered_model(new).aliases == {}


def test_search_registered_models(client, rest, unique):
    names = [f"{unique}-{c}" for c in "abcde"]
    for i, n in enumerate(names):
        client.create_registered_model(n, tags={"idx": str(i), "group": "odd" if i % 2 else "even"})
    got = client.search_registered_models(f"name LIKE '{unique}-%'")
    assert [m.name for m in got] == names
    got = client.search_registered_models(f"name ILIKE '{unique.upper()}-%'", order_by=["name DESC"])
    assert [m.name for m in got] == names[::-1]
    got = client.search_registered_models(f"name LIKE '{unique}-%' AND tags.group = 'odd'")
    assert [m.name for m in got] == [names[1], names[3]]
    got = client.search_registered_models(f"name IN ('{names[0]}', '{names[4]}')")
    assert [m.name for m in got] == [names[0], names[4]]
    got = client.search_registered_models(f"name = '{names[2]}'")
    assert len(got) == 1 and got[0].tags == {"idx": "2", "group": "even"}
    # paging
    page1 = client.search_registered_models(f"name LIKE '{unique}-%'", max_results=2)
    assert [m.name for m in page1] == names[:2] and page1.token
    page2 = client.search_registered_models(f"name LIKE '{unique}-%'", max_results=2, page_token=page1.token)
    page3 = client.search_registered_models(f"name LIKE '{unique}-%'", max_results=2, page_token=page2.token)
    assert [m.name for m in page2] == names[2:4]
    assert [m.name for m in page3] == names[4:] and not page3.token
    # order by last update: touch the second model
    client.update_registered_model(names[1], description="touched")
    got = client.search_registered_models(f"name LIKE '{unique}-%'", order_by=["last_updated_timestamp DESC"])
    assert got[0].name == names[1]
    for flt, msg in [("creation_timestamp > 0", "Invalid attribute key 'creation_timestamp'"),
                     ("params.x = 'y'", "Invalid entity type 'params'"),
                     ("name = 'a' OR name = 'b'", "Invalid clause(s) in filter string")]:
        assert_error(rest.get(API + "registered-models/search", filter=flt), 400, "INVALID_PARAMETER_VALUE", msg)
    assert_error(rest.get(API + "registered-models/search", order_by="creation_timestamp"), 400,
                 "INVALID_PARAMETER_VALUE", "Invalid order by key 'creation_timestamp'")
    assert_error(rest.get(API + "registered-models/search", max_results="1001"), 400, "INVALID_PARAMETER_VALUE")


def test_prompts_hidden_from_search(client, rest, unique):
    client.create_registered_model(unique + "-model")
    r = rest.post(API + "registered-models/create",
                  {"name": unique + "-prompt", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]})
    assert r.status_code == 200, r.text
    got = client.search_registered_models(f"name LIKE '{unique}-%'")
    assert [m.name for m in got] == [unique + "-model"]
    got = client.search_registered_models(f"name LIKE '{unique}-%' AND tags.`mlflow.prompt.is_prompt` = 'true'")
    assert [m.name for m in got] == [unique + "-prompt"]
    got = client.search_registered_models(f"name LIKE '{unique}-%' AND tags.`mlflow.prompt.is_prompt` = 'false'")
    assert [m.name for m in got] == [unique + "-model"]


def test_search_model_versions(client, rest, unique):
    r1, r2 = _run(client, unique), _run(client, unique + "b")
    client.create_registered_model(unique)
    for run in (r1, r1, r2):
        _version(client, unique, run)
    client.set_model_version_tag(unique, "2", "validated", "true")
    got = client.search_model_versions(f"name = '{unique}'")
    # default order: last_updated_timestamp DESC, then name, then version DESC
    assert [v.version for v in got] == ["3", "2", "1"]
    got = client.search_model_versions(f"name = '{unique}' and tags.validated = 'true'")
    assert [v.version for v in got] == ["2"]
    got = client.search_model_versions(f"run_id IN ('{r2.run_id}')")
    assert [(v.name, v.version) for v in got] == [(unique, "3")]
    got = client.search_model_versions(f"name = '{unique}' AND version_number > 1", order_by=["version_number ASC"])
    assert [v.version for v in got] == ["2", "3"]
    got = client.search_model_versions(f"name = '{unique}' AND source_path LIKE 'runs:/{r1.run_id}/%'")
    assert sorted(v.version for v in got) == ["1", "2"]
    got = client.search_model_versions(f"name = '{unique}'", max_results=2, order_by=["version_number DESC"])
    assert [v.version for v in got] == ["3", "2"] and got.token
    more = client.search_model_versions(f"name = '{unique}'", max_results=2, order_by=["version_number DESC"],
                                        page_token=got.token)
    assert [v.version for v in more] == ["1"] and not more.token
    for flt, msg in [("current_stage = 'None'", "Invalid attribute key 'current_stage'"),
                     ("source_path IN ('a')", "Only ['name', 'run_id'] attributes support comparison"),
                     ("version_number = 2.5", "Invalid value for numeric attribute 'version_number'")]:
        assert_error(rest.get(API + "model-versions/search", filter=flt), 400, "INVALID_PARAMETER_VALUE", msg)
    assert_error(rest.get(API + "model-versions/search", max_results="0"), 400, "INVALID_PARAMETER_VALUE")


def test_get_latest_versions_post_and_get(rest, client, unique):
    run = _run(client, unique)
    client.create_registered_model(unique)
    _version(client, unique, run)
    r = rest.post(API + "registered-models/get-latest-versions", {"name": unique, "stages": ["none"]})
    assert r.status_code == 200 and [v["version"] for v in r.json()["model_versions"]] == ["1"]
    r = rest.get(API + "registered-models/get-latest-versions", name=unique, stages="Production")
    assert r.status_code == 200 and r.json() == {}
    assert_error(rest.post(API + "registered-models/get-latest-versions", {"name": unique, "stages": ["x"]}), 400,
                 "INVALID_PARAMETER_VALUE", "Invalid Model Version stage: x")


def test_log_model_register_and_load(tracking_uri, client, unique):
    """Issue 5 acceptance: register through log_model, then load by alias, stage and version."""
    import mlflow
    import numpy as np
    from sklearn.linear_model import LinearRegression

    mlflow.set_experiment(unique)
    X = np.array([[1.0], [2.0], [3.0]])
    model = LinearRegression().fit(X, np.array([2.0, 4.0, 6.0]))
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name=unique)
    assert str(info.registered_model_version) == "1"
    mv = client.get_model_version(unique, "1")
    assert mv.status == "READY"
    assert mv.source == f"models:/{info.model_id}"
    assert mv.run_id == info.run_id
    # the logged model learns which versions came from it: the server adds the entry with the version as a
    # number, then the fluent client appends it once more with the version as a string
    import json
    lm = client.get_logged_model(info.model_id)
    entries = json.loads(lm.tags["mlflow.modelVersions"])
    assert entries == [{"name": unique, "version": 1}, {"name": unique, "version": "1"}]
    assert client.get_model_version_download_uri(unique, "1") == lm.artifact_location
    client.set_registered_model_alias(unique, "champion", "1")
    client.transition_model_version_stage(unique, "1", "Production")
    for uri in (f"models:/{unique}@champion", f"models:/{unique}/Production", f"models:/{unique}/1"):
        loaded = mlflow.pyfunc.load_model(uri)
        assert list(loaded.predict(np.array([[4.0]]))) == pytest.approx([8.0])
