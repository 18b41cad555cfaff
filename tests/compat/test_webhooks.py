# SPDX-License-Identifier: Apache-2.0
"""Webhooks: MLflow's API through the real client (both servers), signed deliveries checked by a loopback receiver
with the docs/examples verifiers, and, on mltrackd, Databricks' registry webhooks, durability (receiver down,
kill -9), SSRF refusals and the delivery log. The servers run with MLFLOW_WEBHOOK_ALLOWED_SCHEMES=http,https and
MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=true (conftest) so a loopback receiver is reachable."""
import json
import os
import subprocess
import sys
import time

import pytest
import requests

from conftest import Server, _finish
from helpers import assert_error
from webhook_receiver import Receiver

API = "/api/2.0/mlflow"
OURS = "/api/2.0/mltrackd"
SECRET = "ci-shared-secret-1"
EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "examples")


@pytest.fixture
def receiver():
    r = Receiver(secret=SECRET).start()
    yield r
    r.stop()


def mlflow_only(is_reference):
    if is_reference:
        pytest.skip("mltrackd-only behaviour (the reference has no Databricks registry webhooks, delivers at most "
                    "once from an in-memory pool, and has no delivery log)")


def hook_name(unique):
    return unique.replace("t-", "wh-")


# ---- MLflow's API, both servers ----

def test_mlflow_webhook_crud_and_paging(client, unique, rest):
    from mlflow.entities.webhook import WebhookStatus

    hooks = [client.create_webhook(name=f"{hook_name(unique)}-{i}", url=f"http://127.0.0.1:9/h{i}",
                                   events=["registered_model.created", "model_version_tag.set"],
                                   description="d" if i == 0 else None, secret=SECRET) for i in range(3)]
    h = client.get_webhook(hooks[0].webhook_id)
    assert h.name == f"{hook_name(unique)}-0" and h.url == "http://127.0.0.1:9/h0" and h.description == "d"
    # events come back ordered by entity, then action (as the reference's table does)
    assert [str(e) for e in h.events] == ["model_version_tag.set", "registered_model.created"]
    assert h.status == WebhookStatus.ACTIVE and h.creation_timestamp == h.last_updated_timestamp
    # wire shape: enum names, no secret, description omitted when not given
    raw = rest.get(f"{API}/webhooks/{hooks[1].webhook_id}").json()["webhook"]
    assert raw["events"] == [{"entity": "MODEL_VERSION_TAG", "action": "SET"},
                             {"entity": "REGISTERED_MODEL", "action": "CREATED"}]
    assert "description" not in raw and "secret" not in raw and SECRET not in json.dumps(raw)
    assert set(raw) == {"webhook_id", "name", "url", "events", "status", "creation_timestamp",
                        "last_updated_timestamp"}
    # paging, newest first
    ids = {x.webhook_id for x in hooks}
    seen, token = [], None
    while True:
        page = client.list_webhooks(max_results=2, page_token=token)
        seen += [w.webhook_id for w in page if w.webhook_id in ids]
        token = page.token
        if not token:
            break
    assert seen == [hooks[2].webhook_id, hooks[1].webhook_id, hooks[0].webhook_id]
    # update
    u = client.update_webhook(hooks[0].webhook_id, name=f"{hook_name(unique)}-x", status="DISABLED",
                              events=["model_version.created"])
    assert u.name == f"{hook_name(unique)}-x" and u.status == WebhookStatus.DISABLED
    assert [str(e) for e in u.events] == ["model_version.created"] and u.url == "http://127.0.0.1:9/h0"
    assert u.last_updated_timestamp >= u.creation_timestamp
    # delete
    for x in hooks:
        client.delete_webhook(x.webhook_id)
    r = rest.get(f"{API}/webhooks/{hooks[0].webhook_id}")
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST", f"Webhook with ID {hooks[0].webhook_id} not found.")
    assert_error(rest.call("DELETE", f"{API}/webhooks/{hooks[0].webhook_id}"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(rest.get(f"{API}/webhooks", max_results=1001), 400, "INVALID_PARAMETER_VALUE")


def test_mlflow_webhook_validation(rest, unique):
    ev = [{"entity": "MODEL_VERSION", "action": "CREATED"}]
    url = "http://127.0.0.1:9/x"
    assert_error(rest.post(f"{API}/webhooks", {"url": url, "events": ev}), 400, "INVALID_PARAMETER_VALUE",
                 "Missing value for required parameter 'name'")
    assert_error(rest.post(f"{API}/webhooks", {"name": "a", "events": ev}), 400, "INVALID_PARAMETER_VALUE",
                 "Missing value for required parameter 'url'")
    assert_error(rest.post(f"{API}/webhooks", {"name": "a", "url": url, "events": []}), 400,
                 "INVALID_PARAMETER_VALUE", "Webhook events must be a non-empty list")
    assert_error(rest.post(f"{API}/webhooks", {"name": "-bad", "url": url, "events": ev}), 400,
                 "INVALID_PARAMETER_VALUE", "Webhook name '-bad' is invalid")
    assert_error(rest.post(f"{API}/webhooks", {"name": "a", "url": url,
                                               "events": [{"entity": "MODEL_VERSION", "action": "DELETED"}]}),
                 400, "INVALID_PARAMETER_VALUE", "Invalid action 'deleted' for entity 'model_version'. "
                                                 "Valid actions are: ['created']")
    assert_error(rest.post(f"{API}/webhooks", {"name": "a", "url": "ftp://127.0.0.1/x", "events": ev}), 400,
                 "INVALID_PARAMETER_VALUE", "Invalid webhook URL scheme: 'ftp'. Allowed schemes are: http, https.")
    assert_error(rest.post(f"{API}/webhooks", {"name": "a", "url": " ", "events": ev}), 400,
                 "INVALID_PARAMETER_VALUE", "Webhook URL cannot be empty or just whitespace")
    assert_error(rest.post(f"{API}/webhooks", {"name": "a", "url": "http:///x", "events": ev}), 400,
                 "INVALID_PARAMETER_VALUE", "Webhook URL must include a hostname")
    assert_error(rest.post(f"{API}/webhooks", {"name": "a", "url": url, "events": "x"}), 400,
                 "INVALID_PARAMETER_VALUE", "for parameter 'events'")
    # prompt events: the registry serves prompts (as the reference), so they are accepted
    r = rest.post(f"{API}/webhooks", {"name": hook_name(unique), "url": url, "status": "DISABLED",
                                      "events": [{"entity": "PROMPT", "action": "CREATED"}]})
    assert r.status_code == 200, r.text
    assert r.json()["webhook"]["events"] == [{"entity": "PROMPT", "action": "CREATED"}]
    rest.call("DELETE", f"{API}/webhooks/{r.json()['webhook']['webhook_id']}")


def test_mlflow_test_endpoint_echoes_receiver(client, receiver, unique):
    receiver.status, receiver.reply = 201, b"hello from CI"
    h = client.create_webhook(name=hook_name(unique), url=receiver.url,
                              events=["model_version_alias.created", "model_version.created"], secret=SECRET)
    res = client.test_webhook(h.webhook_id)  # the first event (in entity, action order)
    assert res.success is True and res.response_status == 201 and res.response_body == "hello from CI"
    d = receiver.wait_for(1)[-1]
    assert d["mlflow_ok"], d["headers"]
    assert d["json"]["entity"] == "model_version" and d["json"]["action"] == "created"
    assert d["json"]["data"]["source"] == "models:/123" and d["json"]["data"]["name"] == "example_model"
    res = client.test_webhook(h.webhook_id, event="model_version_alias.created")
    assert res.success is True
    d = receiver.wait_for(2)[-1]
    assert d["json"]["data"] == {"name": "example_model", "alias": "example_alias", "version": "1"}
    assert d["mlflow_ok"]
    receiver.status = 404
    res = client.test_webhook(h.webhook_id)
    assert res.success is False and res.response_status == 404
    client.delete_webhook(h.webhook_id)


def test_mlflow_deliveries_of_a_registry_session(client, receiver, unique, is_reference, server):
    name = f"{unique}-model"
    h = client.create_webhook(
        name=hook_name(unique), url=receiver.url, secret=SECRET,
        events=["registered_model.created", "model_version.created", "model_version_tag.set",
                "model_version_tag.deleted", "model_version_alias.created", "model_version_alias.deleted"])
    mine = lambda d: d["json"] and d["json"]["data"].get("name") == name  # noqa: E731
    client.create_registered_model(name, tags={"team": "ci"})
    receiver.wait_for(1, pred=mine)  # the reference sends from a pool: keep the order deterministic
    client.create_model_version(name, "s3://bucket/model", tags={"k": "v"})
    receiver.wait_for(2, pred=mine)
    client.set_model_version_tag(name, "1", "stage", "ok")
    receiver.wait_for(3, pred=mine)
    client.delete_model_version_tag(name, "1", "stage")
    receiver.wait_for(4, pred=mine)
    client.set_registered_model_alias(name, "champion", "1")
    receiver.wait_for(5, pred=mine)
    client.delete_registered_model_alias(name, "champion")
    got = receiver.wait_for(6, pred=mine)
    assert [(d["json"]["entity"], d["json"]["action"]) for d in got] == [
        ("registered_model", "created"), ("model_version", "created"), ("model_version_tag", "set"),
        ("model_version_tag", "deleted"), ("model_version_alias", "created"), ("model_version_alias", "deleted")]
    data = [d["json"]["data"] for d in got]
    assert data[0]["tags"] == {"team": "ci"}
    assert data[1]["version"] == "1" and data[1]["source"] == "s3://bucket/model" and data[1]["tags"] == {"k": "v"}
    assert data[2] == {"name": name, "version": "1", "key": "stage", "value": "ok"}
    assert data[3] == {"name": name, "version": "1", "key": "stage"}
    assert data[4] == {"name": name, "alias": "champion", "version": "1"}
    assert data[5] == {"name": name, "alias": "champion"}
    for d in got:
        assert d["mlflow_ok"], d["headers"]
        assert d["headers"]["Content-Type"] == "application/json"
        assert d["json"]["timestamp"].endswith("+00:00")
        assert set(d["json"]) == {"entity", "action", "timestamp", "data"}
        if not is_reference:  # Standard Webhooks headers are mltrackd's addition
            assert d["standard_ok"] and d["headers"]["webhook-id"] == d["headers"]["X-MLflow-Delivery-Id"]
    assert len({d["headers"]["X-MLflow-Delivery-Id"] for d in got}) == 6
    client.delete_webhook(h.webhook_id)
    # the secret is in no log line
    assert SECRET not in server.read_log()


def test_example_verifier_scripts(receiver, client, unique, tmp_path):
    """docs/examples/verify_*.py run as CLI programs on a recorded delivery."""
    h = client.create_webhook(name=hook_name(unique), url=receiver.url, events=["model_version.created"],
                              secret=SECRET)
    client.test_webhook(h.webhook_id)
    d = receiver.wait_for(1)[-1]
    (tmp_path / "h.json").write_text(json.dumps(d["headers"]))
    (tmp_path / "b").write_bytes(d["body"])
    run = lambda script, secret: subprocess.run(  # noqa: E731
        [sys.executable, os.path.join(EXAMPLES, script), secret, str(tmp_path / "h.json"), str(tmp_path / "b")],
        capture_output=True, text=True)
    assert run("verify_mlflow.py", SECRET).returncode == 0
    assert run("verify_mlflow.py", "wrong").returncode == 1
    (tmp_path / "b").write_bytes(d["body"] + b" ")
    assert run("verify_mlflow.py", SECRET).returncode == 1
    client.delete_webhook(h.webhook_id)
