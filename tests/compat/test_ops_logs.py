# SPDX-License-Identifier: Apache-2.0
"""Structured request logs (--log-format json|logfmt): one line per request with request id, route template,
status, latency, bytes and principal; errors with their cause; never a password or a token, whatever the
session sends. mltrackd's own logging: skipped on the reference server."""
import json
import re

import pytest
import requests

from conftest import REPO, Server

pytestmark = pytest.mark.usefixtures("mltrackd_only")


@pytest.fixture
def mltrackd_only(is_reference):
    if is_reference:
        pytest.skip("--log-format is an mltrackd flag")


def request_lines(log, parse):
    out = []
    for line in log.splitlines():
        rec = parse(line)
        if rec is not None and rec.get("msg") == "request":
            out.append(rec)
    return out



LOGFMT = re.compile(r'([a-z_]+)=("(?:[^"\\]|\\.)*"|[^ ]*)')


def parse_logfmt(line):
    if not line.startswith("ts="):
        return None
    rec = {}
    for k, v in LOGFMT.findall(line):
        rec[k] = json.loads(v) if v.startswith('"') else v
    return rec


def test_json_log_of_an_auth_session_has_fields_and_no_secret(server_kind, unique):
    s = Server(server_kind, auth=True, extra=["--log-format", "json"]).start()
    user_pw = "Sup3r-secret-" + unique
    new_pw = "Ch4nged-secret-" + unique
    bogus_token = "tok-" + unique + "-bearer-value"
    try:
        admin = Server.ADMIN
        api = s.url + "/api/2.0/mlflow"
        r = requests.post(api + "/users/create", json={"username": unique, "password": user_pw}, auth=admin,
                          headers={"X-Request-Id": "req-" + unique}, timeout=60)
        assert r.status_code == 200, r.text
        assert r.headers["X-Request-Id"] == "req-" + unique
        r = requests.post(api + "/experiments/create", json={"name": unique}, auth=(unique, user_pw), timeout=60)
        assert r.status_code == 200, r.text
        r = requests.patch(api + "/users/update-password", json={"username": unique, "password": new_pw, "current_password": user_pw},
                           auth=(unique, user_pw), timeout=60)
        assert r.status_code == 200, r.text
        assert requests.get(api + "/experiments/get-by-name", params={"experiment_name": unique},
                            auth=(unique, user_pw), timeout=60).status_code == 401  # the old password
        assert requests.get(api + "/experiments/search", params={"max_results": 1},
                            headers={"Authorization": "Bearer " + bogus_token}, timeout=60).status_code == 401
        generated = requests.get(s.url + "/health", timeout=60).headers["X-Request-Id"]
        assert requests.get(api + "/experiments/get", params={"experiment_id": "123456789"}, auth=admin,
                            timeout=60).status_code == 404
    finally:
        rc = s.stop()
        log = s.read_log()
        s.cleanup()
    assert rc == 0
    for secret in (user_pw, new_pw, bogus_token, Server.ADMIN[1]):
        assert secret not in log
    lines = [json.loads(x) for x in log.splitlines() if x.strip()]  # every line is JSON, start-up lines too
    reqs = [x for x in lines if x["msg"] == "request"]
    by_id = {x["request_id"]: x for x in reqs}
    created = by_id["req-" + unique]
    assert created["route"] == "/api/2.0/mlflow/users/create"
    assert created["status"] == 200 and created["principal"] == "admin"
    assert created["method"] == "POST" and created["bytes_in"] > 0 and created["bytes_out"] >= 2
    assert isinstance(created["latency_ms"], float) and created["latency_ms"] >= 0
    exp = [x for x in reqs if x["route"] == "/api/2.0/mlflow/experiments/create"]
    assert [(x["status"], x["principal"]) for x in exp] == [(200, unique)]
    unauth = [x for x in reqs if x["status"] == 401]
    assert len(unauth) == 2 and all("principal" not in x for x in unauth)
    assert all(x["error_code"] == "UNAUTHENTICATED" for x in unauth)
    health = by_id[generated]
    assert health["route"] == "/health" and health["status"] == 200 and "error_code" not in health
    missing = [x for x in reqs if x["route"] == "/api/2.0/mlflow/experiments/get"][0]
    assert missing["status"] == 404 and missing["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "123456789" in missing["error"]  # the cause, naming the bad value
    assert len(by_id) == len(reqs)  # request ids are unique


def test_logfmt_log_lines(server_kind, unique):
    s = Server(server_kind, extra=["--log-format", "logfmt"]).start()
    try:
        api = s.url + "/api/2.0/mlflow"
        assert requests.post(api + "/experiments/create", json={"name": unique + ' "quoted" name'},
                             timeout=60).status_code == 200
        assert requests.get(s.url + "/api/2.0/mlflow/nope/" + unique, timeout=60).status_code == 404
        # A decoded newline or quote in the path cannot forge a second line or a field.
        assert requests.get(s.url + "/forged%0Ats=x level=error msg=request status=200%22", timeout=60).status_code == 404
    finally:
        rc = s.stop()
        log = s.read_log()
        s.cleanup()
    assert rc == 0
    reqs = request_lines(log, parse_logfmt)
    created = [x for x in reqs if x["route"] == "/api/2.0/mlflow/experiments/create"]
    assert len(created) == 1 and created[0]["status"] == "200" and created[0]["level"] == "info"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{8}", created[0]["request_id"])
    assert float(created[0]["latency_ms"]) >= 0 and int(created[0]["bytes_out"]) > 0
    # lines are written when each response completes, so two quick requests may be logged in either order
    nope = sorted((x for x in reqs if x["status"] == "404"), key=lambda x: not x["path"].endswith(unique))
    assert len(nope) == 2 and nope[0]["route"] == "unmatched" and nope[0]["path"].endswith(unique)
    assert nope[0]["error_code"] == "ENDPOINT_NOT_FOUND"
    assert nope[1]["path"] == '/forged\nts=x level=error msg=request status=200"'
    assert all(line.startswith("ts=") for line in log.splitlines() if line.strip())
    assert not any(x.get("ts") == "x" for x in reqs)


def test_bad_log_format_and_metrics_port_are_refused():
    import os
    import subprocess

    binary = os.environ.get("MLTRACKD_BIN", os.path.join(REPO, "build", "mltrackd"))
    for args, message in ((["--log-format", "xml"], "invalid --log-format 'xml'"),
                          (["--port", "5999", "--metrics-port", "5999"], "invalid --metrics-port '5999'"),
                          (["--metrics-port", "0"], "invalid --metrics-port '0'")):
        p = subprocess.run([binary, *args], capture_output=True, text=True, timeout=30,
                           env={**os.environ, "MLTRACKD_LOG_FORMAT": "json"})
        assert p.returncode == 2 and message in p.stderr, (args, p.returncode, p.stderr)
    p = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    assert "--log-format" in p.stdout and "--metrics-port" in p.stdout
