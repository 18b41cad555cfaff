# SPDX-License-Identifier: Apache-2.0
"""Governed promotion and the rest of issue 5's acceptance: transition requests and comments in Databricks' REST
shapes (mltrackd extensions: MLflow OSS has neither, so those tests skip on the reference), copy_model_version and
registered-model search paging across 250 models with the same assertions on both servers."""
import time

import pytest
import requests
from mlflow.exceptions import MlflowException

from helpers import assert_error

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

API = "/api/2.0/mlflow/"
EXTENSION = "mltrackd extension: Databricks' transition requests and comments are not in MLflow OSS"


@pytest.fixture
def mltrackd_only(is_reference):
    if is_reference:
        pytest.skip(EXTENSION)


def _versions(client, name, n):
    client.create_registered_model(name)
    for i in range(n):
        client.create_model_version(name, f"s3://bucket/{name}/{i}")


def _stage(client, name, version):
    return client.get_model_version(name, version).current_stage


# ---- transition requests (mltrackd extension) ----

def test_transition_request_create_list_approve(mltrackd_only, client, rest, unique):
    _versions(client, unique, 2)
    client.transition_model_version_stage(unique, "1", "Production")
    r = rest.post(API + "transition-requests/create",
                  {"name": unique, "version": "2", "stage": "production", "comment": "ship it"})
    assert r.status_code == 200, r.text
    req = r.json()["request"]
    assert req["to_stage"] == "Production" and req["comment"] == "ship it"
    assert req["activity_type"] == "REQUESTED_TRANSITION" and req["from_stage"] == "None"
    assert "user_id" not in req  # auth off: nobody
    assert req["creation_timestamp"] > 0
    assert set(req["available_actions"]) == {"APPROVE_TRANSITION_REQUEST", "REJECT_TRANSITION_REQUEST",
                                             "CANCEL_TRANSITION_REQUEST"}
    # asking again for the same stage while it is open
    again = rest.post(API + "transition-requests/create", {"name": unique, "version": "2", "stage": "Production"})
    assert_error(again, 400, "RESOURCE_ALREADY_EXISTS")
    listed = rest.get(API + "transition-requests/list", name=unique, version="2").json()["requests"]
    assert [(x["id"], x["to_stage"], x["comment"]) for x in listed] == [(req["id"], "Production", "ship it")]
    # the stage has not moved yet
    assert _stage(client, unique, "2") == "None"
    # archive_existing_versions is required by Databricks' API
    assert_error(rest.post(API + "transition-requests/approve", {"name": unique, "version": "2", "stage": "Production"}),
                 400, "INVALID_PARAMETER_VALUE", "archive_existing_versions")
    r = rest.post(API + "transition-requests/approve", {"name": unique, "version": "2", "stage": "Production",
                                                         "archive_existing_versions": True, "comment": "approved"})
    assert r.status_code == 200, r.text
    act = r.json()["activity"]
    assert act["activity_type"] == "APPROVED_REQUEST" and act["to_stage"] == "Production"
    assert act["from_stage"] == "None" and act["comment"] == "approved"
    # approval performed the transition and archived the old Production version
    stages = {v.version: v.current_stage for v in client.search_model_versions(f"name = '{unique}'")}
    assert stages == {"1": "Archived", "2": "Production"}
    assert rest.get(API + "transition-requests/list", name=unique, version="2").json() == {}
    # nothing left to approve
    r = rest.post(API + "transition-requests/approve", {"name": unique, "version": "2", "stage": "Production",
                                                         "archive_existing_versions": False})
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "No open transition request to stage 'Production'")


def test_transition_request_reject_and_delete(mltrackd_only, client, rest, unique):
    _versions(client, unique, 1)
    r = rest.post(API + "transition-requests/create", {"name": unique, "version": "1", "stage": "Staging"})
    assert r.status_code == 200, r.text
    r = rest.post(API + "transition-requests/reject",
                  {"name": unique, "version": "1", "stage": "Staging", "comment": "not yet"})
    assert r.status_code == 200, r.text
    assert r.json()["activity"]["activity_type"] == "REJECTED_REQUEST"
    assert _stage(client, unique, "1") == "None"
    assert rest.get(API + "transition-requests/list", name=unique, version="1").json() == {}
    # delete (cancel), with the fields in the query string as Databricks' SDKs send them
    rest.post(API + "transition-requests/create", {"name": unique, "version": "1", "stage": "Archived"})
    r = rest.call("DELETE", API + "transition-requests/delete",
                  params={"name": unique, "version": "1", "stage": "Archived", "creator": ""})
    assert r.status_code == 200, r.text
    assert r.json()["activity"]["activity_type"] == "CANCELLED_REQUEST"
    assert _stage(client, unique, "1") == "None"
    # ...and in a JSON body
    rest.post(API + "transition-requests/create", {"name": unique, "version": "1", "stage": "Archived"})
    r = rest.call("DELETE", API + "transition-requests/delete", json={"name": unique, "version": "1",
                                                                      "stage": "Archived"})
    assert r.status_code == 200, r.text
    assert rest.get(API + "transition-requests/list", name=unique, version="1").json() == {}
    acts = rest.get(API + "activities/list", name=unique, version="1").json()["activities"]
    assert [a["activity_type"] for a in acts] == ["REQUESTED_TRANSITION", "REJECTED_REQUEST", "REQUESTED_TRANSITION",
                                                  "CANCELLED_REQUEST", "REQUESTED_TRANSITION", "CANCELLED_REQUEST"]
    assert acts[1]["comment"] == "not yet"


def test_transition_request_bad_input(mltrackd_only, client, rest, unique):
    _versions(client, unique, 1)
    assert_error(rest.post(API + "transition-requests/create", {"name": unique, "version": "9", "stage": "Staging"}),
                 404, "RESOURCE_DOES_NOT_EXIST", f"Model Version (name={unique}, version=9) not found")
    assert_error(rest.post(API + "transition-requests/create", {"name": unique, "version": "1", "stage": "Prod"}),
                 400, "INVALID_PARAMETER_VALUE", "Invalid Model Version stage: Prod")
    assert_error(rest.post(API + "transition-requests/create", {"name": unique, "version": "1"}),
                 400, "INVALID_PARAMETER_VALUE", "stage")
    body = {"name": unique, "version": "1", "stage": "Archived", "archive_existing_versions": True}
    rest.post(API + "transition-requests/create", body)
    assert_error(rest.post(API + "transition-requests/approve", body), 400, "INVALID_PARAMETER_VALUE",
                 "cannot archive existing model versions")
    assert_error(rest.post(API + "transition-requests/reject", {"name": unique, "version": "1", "stage": "Staging"}),
                 404, "RESOURCE_DOES_NOT_EXIST")
    assert _stage(client, unique, "1") == "None"


def test_databricks_transition_stage_is_recorded(mltrackd_only, client, rest, unique):
    _versions(client, unique, 2)
    # MLflow's transition-stage is recorded too
    client.transition_model_version_stage(unique, "1", "Staging")
    r = rest.post(API + "databricks/model-versions/transition-stage",
                  {"name": unique, "version": "2", "stage": "staging", "archive_existing_versions": True,
                   "comment": "hotfix"})
    assert r.status_code == 200, r.text
    mv = r.json()["model_version_databricks"]
    assert (mv["name"], mv["version"], mv["current_stage"]) == (unique, "2", "Staging")
    assert _stage(client, unique, "1") == "Archived"
    acts = rest.get(API + "activities/list", name=unique, version="2").json()["activities"]
    assert [(a["activity_type"], a["from_stage"], a["to_stage"], a.get("comment")) for a in acts] == [
        ("APPLIED_TRANSITION", "None", "Staging", "hotfix")]
    acts = rest.get(API + "activities/list", name=unique, version="1").json()["activities"]
    assert [(a["activity_type"], a["to_stage"]) for a in acts] == [("APPLIED_TRANSITION", "Staging"),
                                                                   ("SYSTEM_TRANSITION", "Archived")]
    assert acts[1]["system_comment"] == "Archived by the transition of version 2 to Staging"
    body = {"name": unique, "version": "2", "stage": "Production"}
    assert_error(rest.post(API + "databricks/model-versions/transition-stage", body), 400, "INVALID_PARAMETER_VALUE",
                 "archive_existing_versions")


# ---- comments (mltrackd extension) ----

def test_comments_create_update_delete(mltrackd_only, client, rest, unique):
    _versions(client, unique, 1)
    r = rest.post(API + "comments/create", {"name": unique, "version": "1", "comment": "looks good"})
    assert r.status_code == 200, r.text
    c = r.json()["comment"]
    assert c["comment"] == "looks good" and len(c["id"]) == 32
    assert c["creation_timestamp"] == c["last_updated_timestamp"] > 0
    assert set(c["available_actions"]) == {"EDIT_COMMENT", "DELETE_COMMENT"}
    time.sleep(0.01)
    r = rest.call("PATCH", API + "comments/update", json={"id": c["id"], "comment": "edited"})
    assert r.status_code == 200, r.text
    u = r.json()["comment"]
    assert u["id"] == c["id"] and u["comment"] == "edited"
    assert u["creation_timestamp"] == c["creation_timestamp"] and u["last_updated_timestamp"] > c["creation_timestamp"]
    acts = rest.get(API + "activities/list", name=unique, version="1").json()["activities"]
    assert [(a["id"], a["activity_type"], a["comment"]) for a in acts] == [(c["id"], "NEW_COMMENT", "edited")]
    r = rest.call("DELETE", API + "comments/delete", params={"id": c["id"]})
    assert r.status_code == 200 and r.json() == {}
    assert rest.get(API + "activities/list", name=unique, version="1").json() == {}
    assert_error(rest.call("DELETE", API + "comments/delete", json={"id": c["id"]}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(rest.call("PATCH", API + "comments/update", json={"id": c["id"], "comment": "x"}), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    # bad input
    assert_error(rest.post(API + "comments/create", {"name": unique, "version": "1", "comment": ""}), 400,
                 "INVALID_PARAMETER_VALUE", "comment")
    assert_error(rest.post(API + "comments/create", {"name": unique, "version": "2", "comment": "x"}), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(rest.post(API + "comments/create", {"name": unique, "version": "1", "comment": "x" * 65536}), 400,
                 "INVALID_PARAMETER_VALUE", "comment")


def test_comments_follow_rename_and_go_with_the_version(mltrackd_only, client, rest, unique):
    _versions(client, unique, 1)
    c = rest.post(API + "comments/create", {"name": unique, "version": "1", "comment": "hi"}).json()["comment"]
    client.rename_registered_model(unique, unique + "-r")
    acts = rest.get(API + "activities/list", name=unique + "-r", version="1").json()["activities"]
    assert [a["id"] for a in acts] == [c["id"]]
    client.delete_model_version(unique + "-r", "1")
    assert_error(rest.call("PATCH", API + "comments/update", json={"id": c["id"], "comment": "x"}), 404,
                 "RESOURCE_DOES_NOT_EXIST")


def test_promotion_endpoints_on_the_reference(is_reference, rest):
    """Documents the difference: the reference does not serve these endpoints at all."""
    if not is_reference:
        pytest.skip("the reference's answer to Databricks-only endpoints")
    r = rest.get(API + "transition-requests/list", name="x", version="1")
    assert r.status_code == 404


# ---- copy_model_version (both servers) ----

def test_copy_model_version(client, unique):
    eid = client.create_experiment(unique)
    run = client.create_run(eid).info
    client.create_registered_model(unique)
    src = client.create_model_version(unique, f"runs:/{run.run_id}/model", run_id=run.run_id,
                                      tags={"k": "v"}, description="the source")
    client.set_registered_model_alias(unique, "champ", src.version)
    dst = unique + "-dst"
    copy = client.copy_model_version(f"models:/{unique}@champ", dst)
    assert (copy.name, copy.version) == (dst, "1")
    assert copy.source == f"models:/{unique}/1"
    assert copy.run_id == run.run_id
    assert copy.tags == {"k": "v"} and copy.description == "the source"
    assert copy.status == "READY"
    # the destination exists now: a second copy is its version 2
    again = client.copy_model_version(f"models:/{unique}/1", dst)
    assert again.version == "2"
    assert client.get_model_version_download_uri(dst, "2") == client.get_model_version_download_uri(unique, "1")
    with pytest.raises(MlflowException):
        client.copy_model_version(f"runs:/{run.run_id}/model", dst)
    with pytest.raises(MlflowException):
        client.copy_model_version(f"models:/{unique}/7", dst)
    assert [v.version for v in client.search_model_versions(f"name = '{dst}'")] == ["2", "1"]


def test_acceptance_copies_load_by_version(tracking_uri, client, unique):
    """Issue 5: a version registered from log_model, copied twice in the same model: models:/m/3 loads."""
    import mlflow
    import numpy as np
    from sklearn.linear_model import LinearRegression

    mlflow.set_experiment(unique)
    model = LinearRegression().fit(np.array([[1.0], [2.0]]), np.array([3.0, 6.0]))
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name=unique)
    src = client.get_model_version(unique, "1")
    assert src.source == f"models:/{info.model_id}"
    for expected in ("2", "3"):
        mv = client.copy_model_version(f"models:/{unique}/1", unique)
        # both servers answer the copy's model_id as they answer the source version's
        assert mv.version == expected and mv.model_id == src.model_id
        assert mv.source == f"models:/{unique}/1" and mv.run_id == info.run_id
    loaded = mlflow.pyfunc.load_model(f"models:/{unique}/3")
    assert list(loaded.predict(np.array([[4.0]]))) == pytest.approx([12.0])


# ---- search paging across 250 models (both servers) ----

def _create_models(base, names):
    s = requests.Session()
    for n in names:
        r = s.post(base + API + "registered-models/create", json={"name": n}, timeout=60)
        assert r.status_code == 200, r.text


def _pages(client, flt, order_by, size):
    out, token, sizes = [], None, []
    while True:
        page = client.search_registered_models(flt, max_results=size, order_by=order_by, page_token=token)
        out.extend(page)
        sizes.append(len(page))
        token = page.token
        if not token:
            return out, sizes


def test_search_registered_models_paging_250(tracking_uri, client, unique):
    """Issue 5 acceptance: paging across 250 models gives the same results and order as the reference."""
    # zero-padded numbers, with a mix of cases so LIKE (case-sensitive) and ILIKE differ
    names = [f"{unique}-{'A' if i % 2 else 'a'}-{i:03d}" for i in range(250)]
    _create_models(tracking_uri, names)
    decoy = unique + "x-000"  # matches neither pattern below
    _create_models(tracking_uri, [decoy])

    got, sizes = _pages(client, f"name LIKE '{unique}-%'", ["name ASC"], 100)
    assert [m.name for m in got] == sorted(names)
    assert sizes == [100, 100, 50]

    got, sizes = _pages(client, f"name LIKE '{unique}-a-%'", ["name DESC"], 40)
    assert [m.name for m in got] == sorted([n for n in names if "-a-" in n], reverse=True)
    assert sizes == [40, 40, 40, 5]

    got, _ = _pages(client, f"name ILIKE '{unique.upper()}-A-%'", None, 100)
    assert [m.name for m in got] == sorted(names)  # default order: name ASC

    # last_updated_timestamp DESC, ties broken by name ASC (MLflow appends name to every order_by)
    got, sizes = _pages(client, f"name LIKE '{unique}-%'", ["last_updated_timestamp DESC"], 70)
    assert sizes == [70, 70, 70, 40]
    assert len(got) == 250 and len({m.name for m in got}) == 250
    keys = [(-m.last_updated_timestamp, m.name) for m in got]
    assert keys == sorted(keys)


# ---- issue 5's bad-input acceptance: the reference's error codes, nothing written (both servers) ----

def test_acceptance_bad_input_writes_nothing(client, rest, unique):
    client.create_registered_model(unique, tags={"t": "1"}, description="orig")
    client.create_model_version(unique, "s3://bucket/x")
    before_m, before_v = client.get_registered_model(unique), client.get_model_version(unique, "1")
    # a duplicate model name
    dup = {"name": unique, "description": "dup", "tags": [{"key": "t", "value": "2"}]}
    assert_error(rest.post(API + "registered-models/create", dup), 400, "RESOURCE_ALREADY_EXISTS")
    # an unknown version, whatever the change
    missing = f"Model Version (name={unique}, version=7) not found"
    assert_error(rest.call("PATCH", API + "model-versions/update",
                           json={"name": unique, "version": "7", "description": "x"}), 404,
                 "RESOURCE_DOES_NOT_EXIST", missing)
    assert_error(rest.post(API + "model-versions/transition-stage", {"name": unique, "version": "7",
                                                                       "stage": "Production",
                                                                       "archive_existing_versions": True}),
                 404, "RESOURCE_DOES_NOT_EXIST", missing)
    assert_error(rest.post(API + "model-versions/set-tag", {"name": unique, "version": "7", "key": "k", "value": "v"}),
                 404, "RESOURCE_DOES_NOT_EXIST", missing)
    # an alias on a missing version
    assert_error(rest.post(API + "registered-models/alias", {"name": unique, "alias": "champ", "version": "7"}),
                 404, "RESOURCE_DOES_NOT_EXIST", missing)
    # an invalid stage
    assert_error(rest.post(API + "model-versions/transition-stage", {"name": unique, "version": "1", "stage": "Prod",
                                                                       "archive_existing_versions": False}),
                 400, "INVALID_PARAMETER_VALUE", "Invalid Model Version stage: Prod")
    # a source outside the allowed schemes and the artifact root
    assert_error(rest.post(API + "model-versions/create", {"name": unique, "source": "file:///etc/passwd"}),
                 400, "INVALID_PARAMETER_VALUE")
    with pytest.raises(MlflowException) as exc:
        client.create_model_version(unique, "file:///etc/passwd")
    assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
    # nothing of it was written
    m, v = client.get_registered_model(unique), client.get_model_version(unique, "1")
    assert (m.description, m.tags, m.aliases) == ("orig", {"t": "1"}, {})
    assert m.last_updated_timestamp == before_m.last_updated_timestamp
    assert (v.current_stage, v.tags, v.aliases) == ("None", {}, [])
    assert v.last_updated_timestamp == before_v.last_updated_timestamp
    assert [x.version for x in client.search_model_versions(f"name = '{unique}'")] == ["1"]


# ---- who did it, with authentication on (mltrackd extension) ----

def test_promotion_records_the_principal(mltrackd_only, auth_server, monkeypatch, unique):
    from mlflow.server import get_app_client

    admin = auth_server.ADMIN
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", admin[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", admin[1])
    users = get_app_client("basic-auth", tracking_uri=auth_server.url)
    pw = "user-password-5678"
    alice, bob = unique + "-alice", unique + "-bob"
    users.create_user(alice, pw)
    users.create_user(bob, pw)
    base = auth_server.url + API

    def call(who, method, path, **kw):
        auth = admin if who == "admin" else (who, pw) if who else None
        return requests.request(method, base + path, auth=auth, timeout=60, **kw)

    assert call("admin", "POST", "registered-models/create", json={"name": unique}).status_code == 200
    assert call("admin", "POST", "model-versions/create", json={"name": unique, "source": "s3://b/m"}).status_code == 200
    # a reader (the default permission) may request, and may only cancel their own request
    r = call(alice, "POST", "transition-requests/create", json={"name": unique, "version": "1", "stage": "Staging"})
    assert r.status_code == 200, r.text
    req = r.json()["request"]
    assert req["user_id"] == alice and req["available_actions"] == ["CANCEL_TRANSITION_REQUEST"]
    r = call(bob, "DELETE", "transition-requests/delete",
             params={"name": unique, "version": "1", "stage": "Staging", "creator": alice})
    assert_error(r, 403, "PERMISSION_DENIED")
    r = call(bob, "POST", "transition-requests/approve",
             json={"name": unique, "version": "1", "stage": "Staging", "archive_existing_versions": False})
    assert_error(r, 403, "PERMISSION_DENIED")
    # the model's creator (MANAGE) approves
    r = call("admin", "POST", "transition-requests/approve",
             json={"name": unique, "version": "1", "stage": "Staging", "archive_existing_versions": False})
    assert r.status_code == 200, r.text
    assert r.json()["activity"]["user_id"] == admin[0]
    # comments: the author edits, others may not
    c = call(alice, "POST", "comments/create", json={"name": unique, "version": "1", "comment": "hi"}).json()["comment"]
    assert c["user_id"] == alice and set(c["available_actions"]) == {"EDIT_COMMENT", "DELETE_COMMENT"}
    assert_error(call(bob, "PATCH", "comments/update", json={"id": c["id"], "comment": "x"}), 403, "PERMISSION_DENIED")
    r = call(alice, "PATCH", "comments/update", json={"id": c["id"], "comment": "hello"})
    assert r.status_code == 200 and r.json()["comment"]["comment"] == "hello"
    acts = call(bob, "GET", "activities/list", params={"name": unique, "version": "1"}).json()["activities"]
    assert [(a["activity_type"], a["user_id"]) for a in acts] == [
        ("REQUESTED_TRANSITION", alice), ("APPROVED_REQUEST", admin[0]), ("NEW_COMMENT", alice)]
    assert call(None, "GET", "activities/list", params={"name": unique, "version": "1"}).status_code == 401
