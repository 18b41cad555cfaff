# SPDX-License-Identifier: Apache-2.0
"""mltrackd's own parts of the ACL layer, which the reference has no counterpart for (tests skip there):
bearer tokens (create shown once, list, revoke at once) used by the real client through MLFLOW_TRACKING_TOKEN,
the older experiments/permissions/* and registered-models/permissions/* API of earlier 3.x clients (gone from
MLflow 3.17), failed-login rate limiting, and the `mltrackd user` subcommand."""
import os
import subprocess

import pytest
import requests
from mlflow import MlflowClient
from mlflow.server import get_app_client

import conftest

PASSWORD = "user-password-5678"


@pytest.fixture(autouse=True)
def mltrackd_only(is_reference):
    if is_reference:
        pytest.skip("mltrackd-only: the reference has no token API, rate limiting, user subcommand or older permission API")


@pytest.fixture
def admin(auth_server, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", auth_server.ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", auth_server.ADMIN[1])
    return get_app_client("basic-auth", tracking_uri=auth_server.url)


def api(server, method, path, auth=None, **kw):
    return requests.request(method, server.url + path, auth=auth, timeout=60, **kw)


def test_token_drives_the_real_client(admin, auth_server, monkeypatch, unique, tmp_path):
    import mlflow
    import numpy as np
    from sklearn.linear_model import LinearRegression

    admin.create_user(unique, PASSWORD)
    me = (unique, PASSWORD)
    r = api(auth_server, "POST", "/api/2.0/mltrackd/tokens/create", auth=me, json={"name": "ci"})
    assert r.status_code == 200, r.text
    token, info = r.json()["token"], r.json()["token_info"]
    assert token.startswith("mlt_") and info["name"] == "ci" and info["username"] == unique
    listed = api(auth_server, "GET", "/api/2.0/mltrackd/tokens/list", auth=me).json()["tokens"]
    assert [t["id"] for t in listed] == [info["id"]] and listed[0]["active"] is True
    assert token not in str(listed)  # shown once

    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
    mlflow.set_tracking_uri(auth_server.url)
    exp = mlflow.set_experiment(unique)  # the token's user creates it and so manages it
    art = tmp_path / "notes.txt"
    art.write_text("by token")
    with mlflow.start_run(experiment_id=exp.experiment_id) as run:
        mlflow.log_metric("loss", 0.5)
        mlflow.log_artifact(str(art))
        model = LinearRegression().fit(np.array([[0.0], [1.0]]), np.array([0.0, 1.0]))
        info_model = mlflow.sklearn.log_model(model, name="model")
    client = MlflowClient(auth_server.url)
    assert client.get_run(run.info.run_id).data.metrics == {"loss": 0.5}
    assert "notes.txt" in [a.path for a in client.list_artifacts(run.info.run_id)]
    loaded = mlflow.sklearn.load_model(info_model.model_uri)
    assert loaded.predict(np.array([[2.0]]))[0] == pytest.approx(2.0)

    # revoked: refused at once (the credential cache holds it no longer)
    r = api(auth_server, "POST", "/api/2.0/mltrackd/tokens/revoke", auth=me, json={"token_id": info["id"]})
    assert r.status_code == 200
    r = api(auth_server, "GET", "/api/2.0/mlflow/experiments/get", headers={"Authorization": f"Bearer {token}"},
            params={"experiment_id": exp.experiment_id})
    assert r.status_code == 401
    listed = api(auth_server, "GET", "/api/2.0/mltrackd/tokens/list", auth=me).json()["tokens"]
    assert listed[0]["active"] is False and "revocation_time" in listed[0]


def test_tokens_are_self_or_admin(admin, auth_server, unique):
    admin.create_user(unique, PASSWORD)
    admin.create_user(unique + "-b", PASSWORD)
    r = api(auth_server, "POST", "/api/2.0/mltrackd/tokens/create", auth=(unique + "-b", PASSWORD),
            json={"username": unique})
    assert r.status_code == 403
    r = api(auth_server, "POST", "/api/2.0/mltrackd/tokens/create", auth=auth_server.ADMIN,
            json={"username": unique, "expires_in_seconds": 3600})
    assert r.status_code == 200 and "expiration_time" in r.json()["token_info"]
    tid = r.json()["token_info"]["id"]
    assert api(auth_server, "POST", "/api/2.0/mltrackd/tokens/revoke", auth=(unique + "-b", PASSWORD),
               json={"username": unique, "token_id": tid}).status_code == 403
    # someone else's token id under one's own name is simply not found
    r = api(auth_server, "POST", "/api/2.0/mltrackd/tokens/revoke", auth=(unique + "-b", PASSWORD), json={"token_id": tid})
    assert r.status_code == 404
    assert api(auth_server, "POST", "/api/2.0/mltrackd/tokens/create", json={}).status_code == 401
    r = api(auth_server, "POST", "/api/2.0/mltrackd/tokens/create", auth=(unique, PASSWORD), json={"expires_in_seconds": -1})
    assert r.status_code == 400


def test_older_permission_api(admin, auth_server, monkeypatch, unique):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", auth_server.ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", auth_server.ADMIN[1])
    root = MlflowClient(auth_server.url)
    eid = root.create_experiment(unique)
    root.create_registered_model(unique)
    user = admin.create_user(unique, PASSWORD)
    A = auth_server.ADMIN
    base = "/api/2.0/mlflow/experiments/permissions"
    r = api(auth_server, "POST", base + "/create", auth=A, json={"experiment_id": eid, "username": unique, "permission": "EDIT"})
    assert r.status_code == 200
    assert r.json() == {"experiment_permission": {"experiment_id": eid, "user_id": user.id, "permission": "EDIT"}}
    r = api(auth_server, "POST", base + "/create", auth=A, json={"experiment_id": eid, "username": unique, "permission": "EDIT"})
    assert r.status_code == 400 and r.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    r = api(auth_server, "GET", base + "/get", auth=A, params={"experiment_id": eid, "username": unique})
    assert r.json()["experiment_permission"]["permission"] == "EDIT"
    assert api(auth_server, "PATCH", base + "/update", auth=A,
               json={"experiment_id": eid, "username": unique, "permission": "MANAGE"}).status_code == 200
    # the same grant as the 3.17 API sees it
    assert admin.get_user_permission(unique, "experiment", eid).permission == "MANAGE"
    # a user without MANAGE may not grant
    r = api(auth_server, "PATCH", base + "/update", auth=(unique + "-x", PASSWORD),
            json={"experiment_id": eid, "username": unique, "permission": "READ"})
    assert r.status_code == 401
    assert api(auth_server, "DELETE", base + "/delete", auth=A, json={"experiment_id": eid, "username": unique}).status_code == 200
    r = api(auth_server, "GET", base + "/get", auth=A, params={"experiment_id": eid, "username": unique})
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"

    base = "/api/2.0/mlflow/registered-models/permissions"
    r = api(auth_server, "POST", base + "/create", auth=A, json={"name": unique, "username": unique, "permission": "READ"})
    assert r.json()["registered_model_permission"] == {"name": unique, "user_id": user.id, "permission": "READ",
                                                       "workspace": "default"}
    r = api(auth_server, "PATCH", base + "/update", auth=A, json={"name": unique, "username": unique, "permission": "BAD"})
    assert r.status_code == 400
    # the grantee has READ, not MANAGE: it may not change grants on the model
    r = api(auth_server, "DELETE", base + "/delete", auth=(unique, PASSWORD), json={"name": unique, "username": unique})
    assert r.status_code == 403
    assert api(auth_server, "DELETE", base + "/delete", auth=A, json={"name": unique, "username": unique}).status_code == 200


def test_failed_logins_are_rate_limited(unique):
    s = conftest.Server("mltrackd", auth=True, extra=["--login-max-failures", "3",
                                                       "--login-max-failures-per-address", "8",
                                                       "--login-window-seconds", "10"]).start()
    try:
        url = s.url + "/api/2.0/mlflow/experiments/get"
        for _ in range(3):
            assert requests.get(url, params={"experiment_id": "0"}, auth=("admin", "wrong-password-00")).status_code == 401
        r = requests.get(url, params={"experiment_id": "0"}, auth=("admin", "wrong-password-00"))
        assert r.status_code == 429 and r.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
        retry = int(r.headers["Retry-After"])
        assert 1 <= retry <= 10  # the window (each wrong password costs a full PBKDF2: slow under ASan)
        # the right password waits too, until the window passes
        assert requests.get(url, params={"experiment_id": "0"}, auth=s.ADMIN).status_code == 429
        # per address: other user names from the same client are cut off as well after 8 failures in all
        for i in range(5):
            requests.get(url, params={"experiment_id": "0"}, auth=(f"{unique}-{i}", "wrong-password-00"))
        r = requests.get(url, params={"experiment_id": "0"}, auth=(unique + "-z", "x" * 12))
        assert r.status_code == 429
        import time
        time.sleep(max(retry, int(r.headers["Retry-After"])) + 0.5)
        assert requests.get(url, params={"experiment_id": "0"}, auth=s.ADMIN).status_code == 200
    finally:
        conftest._finish(s)


def test_user_subcommand(unique):
    s = conftest.Server("mltrackd", auth=True)
    binary = s.command()[0]
    db = "sqlite:///" + os.path.join(s.dir, "db.sqlite")
    env = dict(os.environ, MLTRACKD_USER_PASSWORD="cli-password-1234")
    out = subprocess.run([binary, "user", "add", unique, "--admin", "--backend-store-uri", db], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    short = subprocess.run([binary, "user", "add", unique + "-b", "--backend-store-uri", db],
                           env=dict(env, MLTRACKD_USER_PASSWORD="short"), capture_output=True, text=True, timeout=60)
    assert short.returncode != 0 and "12 characters" in short.stderr
    tok = subprocess.run([binary, "user", "token", unique, "--token-name", "ops", "--backend-store-uri", db], env=env,
                         capture_output=True, text=True, timeout=60)
    assert tok.returncode == 0, tok.stderr
    token = tok.stdout.strip()
    pw = subprocess.run([binary, "user", "passwd", unique, "--backend-store-uri", db],
                        input="new-cli-password-99\n", env={k: v for k, v in env.items() if k != "MLTRACKD_USER_PASSWORD"},
                        capture_output=True, text=True, timeout=60)
    assert pw.returncode == 0, pw.stderr
    s.start()
    try:
        r = requests.get(s.url + "/api/2.0/mlflow/users/current", auth=(unique, "new-cli-password-99"))
        assert r.status_code == 200 and r.json()["user"]["is_admin"] is True
        assert requests.get(s.url + "/api/2.0/mlflow/users/current", auth=(unique, "cli-password-1234")).status_code == 401
        r = requests.get(s.url + "/api/2.0/mlflow/users/current", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["user"]["username"] == unique
    finally:
        conftest._finish(s)
