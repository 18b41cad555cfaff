# SPDX-License-Identifier: Apache-2.0
"""MLflow's auth-bypass history as tests (webhooks-acl-security.md §4-§5): every route its permission table once
missed is refused here without credentials (401) or without the grant (403), on both servers: ajax-api copies,
the artifact proxy (upload, download, list, delete; CVE-2024-4263: EDIT may not delete), multipart upload
(GHSA-8c7q-86fq-vvmh), LogInputs (GHSA-3p64-6gvh-82v5), webhooks, user/permission/role management
(CVE-2023-6014), EDIT deleting what needs MANAGE, and a deleted user's credential."""
import pytest
import requests
from mlflow import MlflowClient
from mlflow.server import get_app_client

PASSWORD = "user-password-5678"


@pytest.fixture(scope="module")
def world(auth_server):
    """An experiment with a run and an artifact, and three users: reader (default READ), editor (EDIT), and one
    denied the experiment."""
    import os
    import uuid

    os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"] = auth_server.ADMIN
    try:
        admin = MlflowClient(auth_server.url)
        auth = get_app_client("basic-auth", tracking_uri=auth_server.url)
        tag = uuid.uuid4().hex[:8]
        eid = admin.create_experiment("bypass-" + tag)
        run = admin.create_run(eid)
        admin.set_tag(run.info.run_id, "k", "v")
        admin.create_registered_model("bypass-" + tag)
        users = {}
        for role, perm in (("reader", None), ("editor", "EDIT"), ("denied", "DENY")):
            name = f"{role}-{tag}"
            auth.create_user(name, PASSWORD)
            if perm:
                auth.grant_user_permission(name, "experiment", eid, perm)
                auth.grant_user_permission(name, "registered_model", "bypass-" + tag, perm)
            users[role] = (name, PASSWORD)
        r = requests.put(f"{auth_server.url}/api/2.0/mlflow-artifacts/artifacts/{eid}/{run.info.run_id}/artifacts/a.txt",
                         data=b"secret", auth=auth_server.ADMIN)
        assert r.status_code == 200, r.text
    finally:
        del os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"]
    return {"url": auth_server.url, "eid": eid, "run": run.info.run_id, "model": "bypass-" + tag, "users": users,
            "admin": auth_server.ADMIN}


def call(w, method, path, who=None, **kw):
    auth = None if who is None else (w["admin"] if who == "admin" else w["users"][who])
    return requests.request(method, w["url"] + path, auth=auth, timeout=60, **kw)


def art(w, name="a.txt"):
    return f"/api/2.0/mlflow-artifacts/artifacts/{w['eid']}/{w['run']}/artifacts/{name}"


READS = [
    ("GET", "/ajax-api/2.0/mlflow/experiments/get", lambda w: {"params": {"experiment_id": w["eid"]}}),
    ("GET", "/ajax-api/2.0/mlflow/runs/get", lambda w: {"params": {"run_id": w["run"]}}),
    ("GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk", lambda w: {"params": {"run_id": w["run"], "metric_key": "m"}}),
    ("GET", "/api/2.0/mlflow/metrics/get-history-bulk-interval",
     lambda w: {"params": {"run_ids": w["run"], "metric_key": "m", "max_results": 10}}),
    ("GET", "/get-artifact", lambda w: {"params": {"run_id": w["run"], "path": "a.txt"}}),
    ("GET", "/api/2.0/mlflow/artifacts/list", lambda w: {"params": {"run_id": w["run"]}}),
    ("GET", "ART", lambda w: {}),
    ("GET", "/api/2.0/mlflow-artifacts/artifacts", lambda w: {"params": {"path": f"{w['eid']}/{w['run']}/artifacts"}}),
]

WRITES = [
    ("POST", "/ajax-api/2.0/mlflow/runs/set-tag", lambda w: {"json": {"run_id": w["run"], "key": "x", "value": "y"}}),
    ("POST", "/ajax-api/2.0/mlflow/runs/log-metric",
     lambda w: {"json": {"run_id": w["run"], "key": "m", "value": 1, "timestamp": 1, "step": 0}}),
    ("POST", "/api/2.0/mlflow/runs/log-inputs", lambda w: {"json": {"run_id": w["run"], "datasets": []}}),
    ("PUT", "ART", lambda w: {"data": b"overwritten"}),
    ("POST", "/ajax-api/2.0/mlflow/upload-artifact",
     lambda w: {"params": {"run_uuid": w["run"], "path": "up.txt"}, "data": b"x"}),
    ("POST", "MPU_CREATE", lambda w: {"json": {"path": "big.bin", "num_parts": 1}}),
]


def resolve(w, path):
    if path == "ART":
        return art(w)
    if path == "MPU_CREATE":
        return f"/api/2.0/mlflow-artifacts/mpu/create/{w['eid']}/{w['run']}/artifacts/big.bin"
    return path


@pytest.mark.parametrize("method,path,kw", READS + WRITES, ids=[f"{m} {p}" for m, p, _ in READS + WRITES])
def test_no_credentials_is_401(world, method, path, kw):
    r = call(world, method, resolve(world, path), None, **kw(world))
    assert r.status_code == 401, r.text


@pytest.mark.parametrize("method,path,kw", READS, ids=[f"{m} {p}" for m, p, _ in READS])
def test_denied_user_cannot_read(world, method, path, kw):
    r = call(world, method, resolve(world, path), "denied", **kw(world))
    assert r.status_code == 403, r.text


@pytest.mark.parametrize("method,path,kw", WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_reader_cannot_write(world, method, path, kw):
    r = call(world, method, resolve(world, path), "reader", **kw(world))
    assert r.status_code == 403, r.text


def test_artifact_untouched_and_edit_cannot_delete(world):
    # CVE-2024-4263: deleting an artifact needs MANAGE, not EDIT
    assert call(world, "DELETE", art(world), "editor").status_code == 403
    assert call(world, "DELETE", art(world), "reader").status_code == 403
    r = call(world, "GET", art(world), "admin")
    assert r.status_code == 200 and r.content == b"secret"


def test_edit_cannot_delete_what_needs_manage(world):
    for path, body in (("/api/2.0/mlflow/experiments/delete", {"experiment_id": world["eid"]}),
                       ("/api/2.0/mlflow/runs/delete", {"run_id": world["run"]})):
        assert call(world, "POST", path, "editor", json=body).status_code == 403
    assert call(world, "DELETE", "/api/2.0/mlflow/registered-models/delete", "editor",
                json={"name": world["model"]}).status_code == 403
    assert call(world, "GET", "/api/2.0/mlflow/experiments/get", "admin",
                params={"experiment_id": world["eid"]}).json()["experiment"]["lifecycle_stage"] == "active"
    # EDIT itself works
    assert call(world, "POST", "/api/2.0/mlflow/runs/set-tag", "editor",
                json={"run_id": world["run"], "key": "e", "value": "1"}).status_code == 200


@pytest.mark.parametrize("method,path", [("GET", "/api/2.0/mlflow/webhooks"), ("POST", "/api/2.0/mlflow/webhooks")])
def test_webhooks_need_admin(world, method, path):
    body = {"json": {"name": "w", "url": "https://example.com/h", "events": [{"entity": "registered_model",
                                                                         "action": "created"}]}}
    assert call(world, method, path, None, **body).status_code == 401
    assert call(world, method, path, "editor", **body).status_code == 403


def test_user_and_permission_management_needs_rights(world):
    u = world["users"]
    body = {"username": "intruder-x", "password": "intruder-password-1"}
    assert call(world, "POST", "/api/2.0/mlflow/users/create", None, json=body).status_code == 401
    assert call(world, "POST", "/api/2.0/mlflow/users/create", "editor", json=body).status_code == 403
    # the roster is open to any user (MLflow 3.17), but not other users' roles and grants
    listed = call(world, "GET", "/api/2.0/mlflow/users/list", "editor").json()["users"]
    assert {x["username"]: x["roles"] for x in listed}[u["reader"][0]] == []
    assert {x["username"]: x["roles"] for x in listed}[u["editor"][0]] != []
    assert call(world, "PATCH", "/api/2.0/mlflow/users/update-admin", "editor",
                json={"username": u["editor"][0], "is_admin": True}).status_code == 403
    grant = {"username": u["reader"][0], "resource_type": "experiment", "resource_id": world["eid"], "permission": "MANAGE"}
    assert call(world, "POST", "/api/3.0/mlflow/users/permissions/grant", None, json=grant).status_code == 401
    # EDIT is not MANAGE: no granting on the experiment
    assert call(world, "POST", "/api/3.0/mlflow/users/permissions/grant", "editor", json=grant).status_code == 403
    wildcard = dict(grant, resource_id="*")
    assert call(world, "POST", "/api/3.0/mlflow/users/permissions/grant", "editor", json=wildcard).status_code == 403
    assert call(world, "POST", "/api/3.0/mlflow/roles/create", "editor",
                json={"name": "mine", "workspace": "default"}).status_code == 403
    assert call(world, "GET", "/api/3.0/mlflow/roles/list", "editor").status_code == 403
    assert call(world, "GET", "/api/3.0/mlflow/users/permissions/list", "editor",
                params={"username": u["reader"][0]}).status_code == 403


def test_deleted_user_credential_stops_working(world):
    auth = requests.auth.HTTPBasicAuth
    name = "gone-" + world["model"]
    r = requests.post(world["url"] + "/api/2.0/mlflow/users/create", auth=world["admin"],
                      json={"username": name, "password": PASSWORD})
    assert r.status_code == 200
    path = world["url"] + "/api/2.0/mlflow/experiments/get"
    assert requests.get(path, params={"experiment_id": world["eid"]}, auth=auth(name, PASSWORD)).status_code == 200
    assert requests.delete(world["url"] + "/api/2.0/mlflow/users/delete", auth=world["admin"],
                           json={"username": name}).status_code == 200
    assert requests.get(path, params={"experiment_id": world["eid"]}, auth=auth(name, PASSWORD)).status_code == 401
