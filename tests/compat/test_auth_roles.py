# SPDX-License-Identifier: Apache-2.0
"""MLflow 3.17's role API and per-user grants through `get_app_client("basic-auth")`, with the same results
against mltrackd and `mlflow server --app-name basic-auth`: role CRUD, role permissions with a pattern or `*`,
assignment, DENY overriding grants, the sub-resource tiers (run, registered_model_version), the USE level."""
import pytest
import requests
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.server import get_app_client

PASSWORD = "user-password-5678"


@pytest.fixture
def admin(auth_server, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", auth_server.ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", auth_server.ADMIN[1])
    return get_app_client("basic-auth", tracking_uri=auth_server.url)


def as_admin(monkeypatch, server):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", server.ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", server.ADMIN[1])
    return MlflowClient(server.url)


def as_user(monkeypatch, server, user):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    return MlflowClient(server.url)


def error_code(fn, *args, **kwargs):
    with pytest.raises(MlflowException) as exc:
        fn(*args, **kwargs)
    return exc.value.error_code


def test_role_lifecycle(admin, auth_server, unique):
    role = admin.create_role("default", unique, description="readers of everything")
    assert role.name == unique and role.workspace == "default" and role.description == "readers of everything"
    assert role.permissions == []
    assert admin.get_role(role.id).name == unique
    assert unique in [r.name for r in admin.list_roles("default")]
    assert unique in [r.name for r in admin.list_all_roles()]
    renamed = admin.update_role(role.id, name=unique + "-r", description="changed")
    assert (renamed.name, renamed.description) == (unique + "-r", "changed")

    rp = admin.add_role_permission(role.id, "experiment", "*", "READ")
    assert (rp.role_id, rp.resource_type, rp.resource_pattern, rp.permission) == (role.id, "experiment", "*", "READ")
    assert [p.id for p in admin.list_role_permissions(role.id)] == [rp.id]
    assert admin.update_role_permission(rp.id, "EDIT").permission == "EDIT"
    assert admin.get_role(role.id).permissions[0].permission == "EDIT"

    user = admin.create_user(unique, PASSWORD)
    assignment = admin.assign_role(unique, role.id)
    assert (assignment.user_id, assignment.role_id) == (user.id, role.id)
    assert role.id in [r.id for r in admin.list_user_roles(unique)]
    assert [(a.user_id, a.role_id) for a in admin.list_role_users(role.id)] == [(user.id, role.id)]
    assert error_code(admin.assign_role, unique, role.id) == "RESOURCE_ALREADY_EXISTS"
    admin.unassign_role(unique, role.id)
    assert admin.list_role_users(role.id) == []
    assert error_code(admin.unassign_role, unique, role.id) == "RESOURCE_DOES_NOT_EXIST"

    admin.remove_role_permission(rp.id)
    assert admin.list_role_permissions(role.id) == []
    assert error_code(admin.remove_role_permission, rp.id) == "RESOURCE_DOES_NOT_EXIST"
    admin.delete_role(role.id)
    assert error_code(admin.get_role, role.id) == "RESOURCE_DOES_NOT_EXIST"
    assert error_code(admin.delete_role, role.id) == "RESOURCE_DOES_NOT_EXIST"


def test_role_validation(admin, unique):
    role = admin.create_role("default", unique)
    assert error_code(admin.create_role, "default", unique) == "RESOURCE_ALREADY_EXISTS"
    assert error_code(admin.create_role, "default", "__user_7__") == "INVALID_PARAMETER_VALUE"
    assert error_code(admin.create_role, "default", "   ") == "INVALID_PARAMETER_VALUE"
    assert error_code(admin.update_role, role.id) == "INVALID_PARAMETER_VALUE"  # neither name nor description
    # sub-resource tiers and the workspace slot take only '*'
    for rtype in ("run", "logged_model", "registered_model_version", "workspace"):
        assert error_code(admin.add_role_permission, role.id, rtype, "1", "READ") == "INVALID_PARAMETER_VALUE"
    assert error_code(admin.add_role_permission, role.id, "workspace", "*", "READ") == "INVALID_PARAMETER_VALUE"
    assert error_code(admin.add_role_permission, role.id, "experiment", "1", "NO_PERMISSIONS") == "INVALID_PARAMETER_VALUE"
    assert error_code(admin.add_role_permission, role.id, "experiment", "1", "WRITE") == "INVALID_PARAMETER_VALUE"
    assert error_code(admin.add_role_permission, role.id, "galaxy", "1", "READ") == "INVALID_PARAMETER_VALUE"
    rp = admin.add_role_permission(role.id, "run", "*", "DENY")
    assert rp.permission == "DENY"
    assert error_code(admin.add_role_permission, role.id, "run", "*", "READ") == "RESOURCE_ALREADY_EXISTS"
    assert error_code(admin.add_role_permission, 10**9, "experiment", "1", "READ") == "RESOURCE_DOES_NOT_EXIST"
    assert error_code(admin.update_role_permission, rp.id, "BOGUS") == "INVALID_PARAMETER_VALUE"
    assert error_code(admin.get_role, 10**9) == "RESOURCE_DOES_NOT_EXIST"
    assert error_code(admin.assign_role, unique + "-nobody", role.id) == "RESOURCE_DOES_NOT_EXIST"


def test_role_grant_gives_access_and_deny_overrides(admin, auth_server, monkeypatch, unique):
    root = as_admin(monkeypatch, auth_server)
    eid = root.create_experiment(unique)
    admin.create_user(unique, PASSWORD)
    editors = admin.create_role("default", unique + "-editors")
    admin.add_role_permission(editors.id, "experiment", eid, "EDIT")
    admin.assign_role(unique, editors.id)
    user = as_user(monkeypatch, auth_server, unique)
    user.set_experiment_tag(eid, "via", "role")
    assert error_code(user.delete_experiment, eid) == "PERMISSION_DENIED"

    as_admin(monkeypatch, auth_server)
    blocked = admin.create_role("default", unique + "-blocked")
    admin.add_role_permission(blocked.id, "experiment", "*", "DENY")
    admin.assign_role(unique, blocked.id)
    user = as_user(monkeypatch, auth_server, unique)
    assert error_code(user.get_experiment, eid) == "PERMISSION_DENIED"  # DENY on '*' beats EDIT on the id
    assert unique not in [e.name for e in user.search_experiments(filter_string=f"name = '{unique}'")]

    as_admin(monkeypatch, auth_server)
    admin.unassign_role(unique, blocked.id)
    user = as_user(monkeypatch, auth_server, unique)
    assert user.get_experiment(eid).tags["via"] == "role"


def test_direct_grant_deny_and_listing(admin, auth_server, monkeypatch, unique):
    root = as_admin(monkeypatch, auth_server)
    eid = root.create_experiment(unique)
    user = admin.create_user(unique, PASSWORD)
    admin.grant_user_permission(unique, "experiment", eid, "USE")
    got = admin.get_user_permission(unique, "experiment", eid)
    assert (got.permission, got.allowed) == ("USE", True)
    assert error_code(admin.grant_user_permission, unique, "experiment", eid, "EDIT") == "RESOURCE_ALREADY_EXISTS"
    r = requests.get(auth_server.url + "/api/3.0/mlflow/users/permissions/list", params={"username": unique},
                     auth=auth_server.ADMIN)
    assert r.status_code == 200
    body = r.json()
    assert body["is_admin"] is False
    rows = [p for p in body["permissions"] if p["resource_type"] == "experiment"]
    assert [(p["resource_pattern"], p["permission"], p["role_name"], p["workspace"]) for p in rows] == [
        (eid, "USE", f"__user_{user.id}__", "default")]
    # USE reads but does not write
    reader = as_user(monkeypatch, auth_server, unique)
    assert reader.get_experiment(eid).name == unique
    assert error_code(reader.set_experiment_tag, eid, "k", "v") == "PERMISSION_DENIED"

    as_admin(monkeypatch, auth_server)
    admin.revoke_user_permission(unique, "experiment", eid)
    assert error_code(admin.revoke_user_permission, unique, "experiment", eid) == "RESOURCE_DOES_NOT_EXIST"
    admin.grant_user_permission(unique, "experiment", eid, "DENY")
    got = admin.get_user_permission(unique, "experiment", eid)
    assert (got.permission, got.allowed) == ("DENY", False)
    denied = as_user(monkeypatch, auth_server, unique)
    assert error_code(denied.get_experiment, eid) == "PERMISSION_DENIED"
    as_admin(monkeypatch, auth_server)
    assert error_code(admin.grant_user_permission, unique, "workspace", "*", "USE") == "INVALID_PARAMETER_VALUE"
    assert error_code(admin.get_user_permission, unique, "run", eid) == "INVALID_PARAMETER_VALUE"
    assert error_code(admin.get_user_permission, unique + "-x", "experiment", eid) == "RESOURCE_DOES_NOT_EXIST"


def test_run_tier_deny(admin, auth_server, monkeypatch, unique):
    root = as_admin(monkeypatch, auth_server)
    eid = root.create_experiment(unique)
    run_id = root.create_run(eid).info.run_id
    admin.create_user(unique, PASSWORD)
    admin.grant_user_permission(unique, "experiment", eid, "EDIT")
    admin.grant_user_permission(unique, "run", "*", "DENY")
    user = as_user(monkeypatch, auth_server, unique)
    assert user.get_experiment(eid).name == unique
    assert error_code(user.get_run, run_id) == "PERMISSION_DENIED"
    assert error_code(user.log_metric, run_id, "m", 1.0) == "PERMISSION_DENIED"
    assert error_code(user.create_run, eid) == "PERMISSION_DENIED"  # the run tier is denied: no new runs either


def test_model_version_tier(admin, auth_server, monkeypatch, unique):
    root = as_admin(monkeypatch, auth_server)
    root.create_registered_model(unique)
    root.create_model_version(unique, "s3://bucket/model")  # source is opaque to the registry
    admin.create_user(unique, PASSWORD)
    admin.grant_user_permission(unique, "registered_model_version", "*", "DENY")
    user = as_user(monkeypatch, auth_server, unique)
    assert user.get_registered_model(unique).name == unique
    assert error_code(user.get_model_version, unique, "1") == "PERMISSION_DENIED"


def test_read_user_cannot_log(admin, auth_server, monkeypatch, unique, tmp_path):
    root = as_admin(monkeypatch, auth_server)
    eid = root.create_experiment(unique)
    run_id = root.create_run(eid).info.run_id
    admin.create_user(unique, PASSWORD)
    admin.grant_user_permission(unique, "experiment", eid, "READ")
    reader = as_user(monkeypatch, auth_server, unique)
    assert error_code(reader.log_metric, run_id, "m", 1.0) == "PERMISSION_DENIED"
    f = tmp_path / "a.txt"
    f.write_text("x")
    with pytest.raises(Exception) as exc:
        reader.log_artifact(run_id, str(f))
    assert "403" in str(exc.value) or "PERMISSION_DENIED" in str(exc.value)
    root = as_admin(monkeypatch, auth_server)
    assert root.list_artifacts(run_id) == []
    assert root.get_run(run_id).data.metrics == {}


def test_registry_searches_only_show_readable(admin, auth_server, monkeypatch, unique):
    root = as_admin(monkeypatch, auth_server)
    for suffix in ("a", "b", "hidden"):
        root.create_registered_model(f"{unique}-{suffix}")
        root.create_model_version(f"{unique}-{suffix}", "s3://bucket/model")
    admin.create_user(unique, PASSWORD)
    admin.grant_user_permission(unique, "registered_model", f"{unique}-hidden", "DENY")
    user = as_user(monkeypatch, auth_server, unique)
    names, token = [], None
    while True:  # one per page: the hidden model leaves neither a hole nor a short page
        page = user.search_registered_models(filter_string=f"name LIKE '{unique}-%'", max_results=1, page_token=token)
        names += [m.name for m in page]
        token = page.token
        if not token:
            break
    assert sorted(names) == [f"{unique}-a", f"{unique}-b"]
    versions = user.search_model_versions(filter_string=f"name LIKE '{unique}-%'")
    assert sorted(v.name for v in versions) == [f"{unique}-a", f"{unique}-b"]
    # a denied version tier hides every version, not the models
    as_admin(monkeypatch, auth_server)
    admin.grant_user_permission(unique, "registered_model_version", "*", "DENY")
    user = as_user(monkeypatch, auth_server, unique)
    assert len(user.search_registered_models(filter_string=f"name LIKE '{unique}-%'")) == 2
    with_tier_denied = user_search_versions_or_denied(user, unique)
    assert with_tier_denied in ([], "PERMISSION_DENIED")


def user_search_versions_or_denied(user, unique):
    try:
        return list(user.search_model_versions(filter_string=f"name LIKE '{unique}-%'"))
    except MlflowException as e:
        return e.error_code


def test_run_tier_deny_hides_runs_from_search(admin, auth_server, monkeypatch, unique):
    root = as_admin(monkeypatch, auth_server)
    eid = root.create_experiment(unique)
    root.create_run(eid)
    admin.create_user(unique, PASSWORD)
    admin.grant_user_permission(unique, "run", "*", "DENY")
    user = as_user(monkeypatch, auth_server, unique)
    try:
        found = [r.info.run_id for r in user.search_runs([eid])]
    except MlflowException as e:
        found = e.error_code
    assert found in ([], "PERMISSION_DENIED")
