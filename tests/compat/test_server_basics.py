# SPDX-License-Identifier: Apache-2.0
"""/health, /version, server-info and the wire conventions every endpoint shares."""
from packaging.version import Version

from helpers import assert_error


def test_health(rest):
    r = rest.get("/health")
    assert r.status_code == 200
    assert r.text == "OK"


def test_version_is_an_mlflow_version(rest):
    r = rest.get("/version")
    assert r.status_code == 200
    assert Version(r.text) >= Version("3.0")


def test_server_info(rest):
    r = rest.get("/api/3.0/mlflow/server-info")
    assert r.status_code == 200
    info = r.json()
    assert info["store_type"] == "SqlStore"
    assert info["workspaces_enabled"] is False
    assert info["multipart_uploads_enabled"] is False


def test_content_type_must_be_json(rest):
    r = rest.call("POST", "/api/2.0/mlflow/experiments/create", data='{"name": "x"}',
                  headers={"Content-Type": "text/plain"})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Content-Type must be one of")


def test_content_type_missing(rest):
    r = rest.call("POST", "/api/2.0/mlflow/experiments/create", data=b'{"name": "x"}',
                  headers={"Content-Type": ""})
    assert r.status_code == 400
    assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_malformed_json(rest, is_reference):
    r = rest.call("POST", "/api/2.0/mlflow/experiments/create", data="{not json",
                  headers={"Content-Type": "application/json"})
    if is_reference:
        # Deviation: the reference answers an HTML 500 (and the client would retry it).
        assert r.status_code >= 400
    else:
        assert_error(r, 400, "MALFORMED_REQUEST")


def test_unknown_endpoint(rest, is_reference):
    r = rest.get("/api/2.0/mlflow/no-such-endpoint")
    assert r.status_code == 404
    if not is_reference:
        # Deviation: the reference answers an HTML 404; ours is MLflow's JSON error shape.
        assert r.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_ajax_prefix_serves_the_same_api(rest):
    assert rest.get("/ajax-api/2.0/mlflow/experiments/get", experiment_id="0").json()["experiment"]["name"] == "Default"
