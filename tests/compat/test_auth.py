# SPDX-License-Identifier: Apache-2.0
"""Authentication and permissions, driven with MLflow's own basic-auth client against a server started
with `--app-name basic-auth` (mltrackd, or the reference mlflow server)."""
import pytest
import requests
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.server import get_app_client

PASSWORD = "user-password-5678"


@pytest.fixture
def admin_env(auth_server, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", auth_server.ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", auth_server.ADMIN[1])
    return auth_server


def as_user(monkeypatch, server, user, password=PASSWORD):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password)
    return MlflowClient(server.url)


def test_anonymous_is_401(auth_server):
    r = requests.get(auth_server.url + "/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"})
    assert r.status_code == 401
    assert "Basic" in r.headers.get("WWW-Authenticate", "")
    r = requests.get(auth_server.url + "/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"},
                     auth=(auth_server.ADMIN[0], "wrong-password-000"))
    assert r.status_code == 401
    assert requests.get(auth_server.url + "/health").status_code == 200


def test_user_lifecycle(admin_env, unique):
    auth = get_app_client("basic-auth", tracking_uri=admin_env.url)
    user = auth.create_user(unique, PASSWORD)
    assert user.username == unique
    assert user.is_admin is False
    assert auth.get_user(unique).id == user.id
    with pytest.raises(MlflowException):
        auth.create_user(unique, PASSWORD)  # duplicate
    auth.update_user_admin(unique, True)
    assert auth.get_user(unique).is_admin is True
    auth.update_user_password(unique, PASSWORD + "-new")
    r = requests.get(admin_env.url + "/api/2.0/mlflow/users/get", params={"username": unique},
                     auth=(unique, PASSWORD + "-new"))
    assert r.status_code == 200
    assert requests.get(admin_env.url + "/api/2.0/mlflow/users/get", params={"username": unique},
                        auth=(unique, PASSWORD)).status_code == 401
    auth.delete_user(unique)
    with pytest.raises(MlflowException) as exc:
        auth.get_user(unique)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_read_user_cannot_write(admin_env, monkeypatch, unique):
    auth = get_app_client("basic-auth", tracking_uri=admin_env.url)
    admin = MlflowClient(admin_env.url)
    eid = admin.create_experiment(unique)
    auth.create_user(unique, PASSWORD)
    reader = as_user(monkeypatch, admin_env, unique)
    # default_permission = READ: reading works, editing and deleting do not
    assert reader.get_experiment(eid).name == unique
    with pytest.raises(MlflowException) as exc:
        reader.set_experiment_tag(eid, "k", "v")
    assert exc.value.error_code == "PERMISSION_DENIED"
    with pytest.raises(MlflowException) as exc:
        reader.delete_experiment(eid)
    assert exc.value.error_code == "PERMISSION_DENIED"
    assert admin_client_tags(admin_env, monkeypatch, eid) == {}


def admin_client_tags(server, monkeypatch, eid):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", server.ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", server.ADMIN[1])
    return MlflowClient(server.url).get_experiment(eid).tags


def test_grants_and_revocation(admin_env, monkeypatch, unique):
    auth = get_app_client("basic-auth", tracking_uri=admin_env.url)
    eid = MlflowClient(admin_env.url).create_experiment(unique)
    auth.create_user(unique, PASSWORD)
    auth.grant_user_permission(unique, "experiment", eid, "EDIT")
    editor = as_user(monkeypatch, admin_env, unique)
    editor.set_experiment_tag(eid, "by", "editor")
    with pytest.raises(MlflowException) as exc:
        editor.delete_experiment(eid)  # EDIT is not MANAGE
    assert exc.value.error_code == "PERMISSION_DENIED"
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", admin_env.ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", admin_env.ADMIN[1])
    auth.revoke_user_permission(unique, "experiment", eid)
    editor = as_user(monkeypatch, admin_env, unique)
    with pytest.raises(MlflowException) as exc:
        editor.set_experiment_tag(eid, "by", "again")
    assert exc.value.error_code == "PERMISSION_DENIED"


def test_creator_manages_own_experiment(admin_env, monkeypatch, unique):
    auth = get_app_client("basic-auth", tracking_uri=admin_env.url)
    auth.create_user(unique, PASSWORD)
    owner = as_user(monkeypatch, admin_env, unique)
    eid = owner.create_experiment(unique)
    owner.set_experiment_tag(eid, "mine", "yes")
    owner.delete_experiment(eid)
    assert owner.get_experiment(eid).lifecycle_stage == "deleted"


def test_non_admin_cannot_manage_users(admin_env, monkeypatch, unique):
    auth = get_app_client("basic-auth", tracking_uri=admin_env.url)
    auth.create_user(unique, PASSWORD)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", unique)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    user_auth = get_app_client("basic-auth", tracking_uri=admin_env.url)
    with pytest.raises(MlflowException) as exc:
        user_auth.create_user(unique + "-x", PASSWORD)
    assert exc.value.error_code == "PERMISSION_DENIED"
    with pytest.raises(MlflowException) as exc:
        user_auth.update_user_admin(unique, True)
    assert exc.value.error_code == "PERMISSION_DENIED"


def test_search_only_shows_readable(admin_env, monkeypatch, unique):
    """A user never sees an experiment denied to them in search_experiments, nor its runs in search_runs."""
    auth = get_app_client("basic-auth", tracking_uri=admin_env.url)
    admin = MlflowClient(admin_env.url)
    hidden = admin.create_experiment(unique + "-hidden")
    shown = [admin.create_experiment(f"{unique}-shown-{i}") for i in range(3)]
    hidden_run = admin.create_run(hidden).info.run_id
    admin.create_run(shown[0])
    hidden_model = admin.create_logged_model(hidden, name="secret").model_id
    shown_model = admin.create_logged_model(shown[0], name="open").model_id
    auth.create_user(unique, PASSWORD)
    auth.grant_user_permission(unique, "experiment", hidden, "DENY")
    user = as_user(monkeypatch, admin_env, unique)
    names, token = [], None
    while True:  # page by one: the hidden experiment must not leave a hole or a short page
        page = user.search_experiments(filter_string=f"name LIKE '{unique}-%'", max_results=1, page_token=token)
        names += [e.name for e in page]
        token = page.token
        if not token:
            break
    assert sorted(names) == sorted(f"{unique}-shown-{i}" for i in range(3))
    runs = user.search_runs([hidden, shown[0]])
    assert hidden_run not in [r.info.run_id for r in runs] and len(runs) == 1
    models = [m.model_id for m in user.search_logged_models([hidden, shown[0]])]
    assert hidden_model not in models and shown_model in models
