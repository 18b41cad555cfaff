# SPDX-License-Identifier: Apache-2.0
"""Proxied artifacts (mlflow-artifacts) and MLflow 3 log_model end to end, through the real client."""
import hashlib
import os

import mlflow
import numpy as np
import pytest
import requests
from mlflow import MlflowClient

from helpers import assert_error


@pytest.fixture
def run(tracking_uri, unique):
    mlflow.set_experiment(unique)
    with mlflow.start_run() as r:
        yield r


def test_log_list_download(run, client, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("hello")
    (src / "sub" / "b.json").write_text('{"x": 1}')
    mlflow.log_artifact(str(src / "a.txt"))
    mlflow.log_artifacts(str(src), artifact_path="dir")
    mlflow.log_text("some text", "notes/t.txt")
    mlflow.log_dict({"k": 1}, "cfg.json")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    mlflow.log_figure(fig, "plots/curve.png")
    rid = run.info.run_id
    top = [(f.path, f.is_dir) for f in client.list_artifacts(rid)]
    assert top == [("a.txt", False), ("cfg.json", False), ("dir", True), ("notes", True), ("plots", True)]
    png = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="plots/curve.png", dst_path=str(tmp_path / "p"))
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert [(f.path, f.is_dir) for f in client.list_artifacts(rid, "dir")] == [("dir/a.txt", False), ("dir/sub", True)]
    assert client.list_artifacts(rid, "a.txt") == []  # a file lists as nothing
    assert client.list_artifacts(rid, "missing") == []
    out = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="dir", dst_path=str(tmp_path / "out"))
    got = sorted(os.path.relpath(os.path.join(r, f), out) for r, _, fs in os.walk(out) for f in fs)
    assert got == ["a.txt", os.path.join("sub", "b.json")]
    assert (tmp_path / "out" / "dir" / "sub" / "b.json").read_text() == '{"x": 1}'
    assert mlflow.artifacts.load_text(f"runs:/{rid}/notes/t.txt") == "some text"


def test_large_file_round_trip(run, tmp_path):
    big = tmp_path / "big.bin"
    data = os.urandom(1 << 20) * 50  # 50 MiB
    big.write_bytes(data)
    mlflow.log_artifact(str(big))
    out = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="big.bin",
                                              dst_path=str(tmp_path / "dl"))
    with open(out, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == hashlib.sha256(data).hexdigest()


def test_raw_api_and_range(server, run):
    exp, rid = run.info.experiment_id, run.info.run_id
    base = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{exp}/{rid}/artifacts"
    assert requests.put(f"{base}/r.txt", data=b"0123456789").status_code == 200
    r = requests.get(f"{base}/r.txt")
    assert r.status_code == 200 and r.content == b"0123456789"
    r = requests.get(f"{base}/r.txt", headers={"Range": "bytes=2-4"})
    assert r.status_code == 206 and r.content == b"234"
    assert r.headers["Content-Range"] == "bytes 2-4/10"
    r = requests.get(f"{base}/r.txt", headers={"Range": "bytes=-3"})
    assert r.status_code == 206 and r.content == b"789"
    listing = requests.get(f"{server.url}/api/2.0/mlflow-artifacts/artifacts",
                           params={"path": f"{exp}/{rid}/artifacts"}).json()
    assert listing["files"] == [{"path": "r.txt", "is_dir": False, "file_size": 10}]
    assert requests.get(f"{server.url}/api/2.0/mlflow-artifacts/artifacts", params={"path": f"{exp}/{rid}/artifacts/r.txt"}).json() == {}
    assert requests.get(f"{base}/nope.txt").status_code == 404
    assert requests.delete(f"{base}/r.txt").status_code == 200
    assert requests.get(f"{base}/r.txt").status_code == 404


def test_multipart_answered_as_unsupported(server, run, is_reference):
    exp, rid = run.info.experiment_id, run.info.run_id
    r = requests.post(f"{server.url}/api/2.0/mlflow-artifacts/mpu/create/{exp}/{rid}/artifacts/x.bin",
                      json={"path": "x.bin", "num_parts": 2})
    assert r.status_code == 501
    assert r.json()["message"].startswith("Multipart upload is not supported for the current artifact repository")


def raw(server, method, path, body=b""):
    """Sends the request line exactly as given (no client-side dot-segment normalisation)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.putrequest(method, path, skip_accept_encoding=True)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    if body:
        conn.send(body)
    status = conn.getresponse().status
    conn.close()
    return status


HOSTILE = [
    "../../../escape.txt", "a/../../../../escape.txt", "..", "../", "./../escape.txt", "a/./b.txt", "a//b.txt",
    "%2e%2e/%2e%2e/%2e%2e/escape.txt", "%2E%2E/%2E%2E/%2E%2E/escape.txt", "%2e%2e%2f%2e%2e%2f%2e%2e%2fescape.txt",
    "%252e%252e/%252e%252e/%252e%252e/escape.txt", "%252e%252e%252fescape.txt", "..%2f..%2f..%2fescape.txt",
    "..%252f..%252fescape.txt", "a%5c..%5cescape.txt", "..%5c..%5c..%5cescape.txt", "%5c%5cserver%5cshare",
    "%2fetc%2fpasswd", "%252fetc%252fpasswd", "a%00b.txt", "a%2500b.txt", "C:%5cwindows%5cwin.ini",
    "%2e%2e%5c%2e%2e%5cescape.txt", "a%23b.txt", "x" * 300, "d/" + "y" * 300 + "/z.txt", "a/%2e/b.txt",
    "a/%2e%2e/%2e%2e/%2e%2e/%2e%2e/escape.txt", ".%2e/.%2e/.%2e/escape.txt", "%c0%ae%c0%ae/escape.txt",
]


@pytest.mark.parametrize("path", HOSTILE)
def test_traversal_refused(server, run, path, is_reference):
    exp, rid = run.info.experiment_id, run.info.run_id
    url = f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{rid}/artifacts/{path}"
    status = raw(server, "PUT", url, b"x")
    # Deviations: the reference stores "a\\..\\escape.txt" as a literal file name (200) and answers a
    # non-normal "a/./b.txt" with a 500; mltrackd refuses both with a 400. Neither escapes the root.
    if not is_reference:
        assert status == 400, path
        assert raw(server, "GET", url) == 400, path
    elif path in ("../../../escape.txt", "%2e%2e/%2e%2e/%2e%2e/escape.txt"):
        assert status in (400, 404), path
    assert escaped(server, "escape.txt") == [], path


def escaped(server, name):
    """Files called `name` anywhere under the server's directory except inside a run's artifact directory
    (<root>/<exp>/<run>/artifacts/...), where the reference keeps odd literal names such as "\xc0\xae\xc0\xae"."""
    root = os.path.join(server.dir, "artifacts")
    found = []
    for d, _, files in os.walk(server.dir):
        if name in files:
            parts = os.path.relpath(d, root).split(os.sep)
            if d.startswith(root + os.sep) and len(parts) >= 3 and parts[2] == "artifacts" and ".." not in parts:
                continue
            found.append(os.path.join(d, name))
    return found


def test_sklearn_log_model_end_to_end(run, client):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.random((40, 3))
    y = (X[:, 0] > 0.5).astype(int)
    model = LogisticRegression().fit(X, y)
    mlflow.log_metric("acc", 0.9)
    info = mlflow.sklearn.log_model(model, name="m", input_example=X[:5])
    assert info.model_id.startswith("m-")
    m1 = mlflow.sklearn.load_model(f"models:/{info.model_id}")
    m2 = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/m")
    assert (m1.predict(X) == model.predict(X)).all()
    assert (m2.predict(X) == model.predict(X)).all()
    lm = client.get_logged_model(info.model_id)
    assert lm.status.to_int() == 2  # READY
    assert [(x.key, x.value) for x in lm.metrics] == [("acc", 0.9)]
    outs = client.get_run(run.info.run_id).outputs.model_outputs
    assert [o.model_id for o in outs] == [info.model_id]


def test_symlink_planted_inside_root_is_not_followed(server, run, is_reference, tmp_path):
    if is_reference:
        pytest.skip("plants a symlink in the server's own artifact directory (mltrackd's layout)")
    exp, rid = run.info.experiment_id, run.info.run_id
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    run_dir = os.path.join(server.dir, "artifacts", exp, rid, "artifacts")
    os.makedirs(run_dir, exist_ok=True)
    os.symlink(str(outside), os.path.join(run_dir, "evil"))
    base = f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{rid}/artifacts"
    assert raw(server, "GET", f"{base}/evil/secret.txt") in (400, 404)
    assert raw(server, "PUT", f"{base}/evil/new.txt", b"x") in (400, 404)
    assert not (outside / "new.txt").exists()
    r = requests.get(f"{server.url}/api/2.0/mlflow-artifacts/artifacts", params={"path": f"{exp}/{rid}/artifacts/evil"})
    assert r.status_code in (200, 400) and "secret.txt" not in r.text
    assert raw(server, "DELETE", f"{base}/evil") in (200, 404)
    assert (outside / "secret.txt").exists()  # deleting the link never deletes its target


def test_cut_upload_leaves_nothing(server, run):
    import socket
    import time

    exp, rid = run.info.experiment_id, run.info.run_id
    path = f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{rid}/artifacts/cut.bin"
    s = socket.create_connection(("127.0.0.1", server.port))
    s.sendall((f"PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {10 << 20}\r\n\r\n").encode() + b"x" * (1 << 20))
    time.sleep(0.3)
    s.close()  # the connection drops halfway
    time.sleep(1.0)
    listing = requests.get(f"{server.url}/api/2.0/mlflow-artifacts/artifacts",
                           params={"path": f"{exp}/{rid}/artifacts"}).json()
    assert "cut.bin" not in [f["path"] for f in listing.get("files", [])]
    assert requests.get(server.url + path).status_code == 404
    for root, _, files in os.walk(os.path.join(server.dir, "artifacts")):
        assert not [f for f in files if "cut.bin" in f or f.startswith(".mltrackd-upload-")], (root, files)


def test_file_source_refused(rest, client, unique):
    client.create_registered_model(unique)
    for src in ("file:///etc", "/etc/passwd", "runs:/../../etc", "models:/../../x"):
        r = rest.post("/api/2.0/mlflow/model-versions/create", {"name": unique, "source": src})
        assert r.status_code in (400, 404), (src, r.status_code)


def put_text(server, exp, rid, rel, data):
    r = requests.put(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{exp}/{rid}/artifacts/{rel}", data=data)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("name,ctype,disposition", [
    ("a.txt", "text/plain", "attachment; filename=a.txt"),
    ("cfg.json", "text/plain", "attachment; filename=cfg.json"),  # MLflow's text list wins over mimetypes
    ("MLmodel", "text/plain", "attachment; filename=MLmodel"),
    ("conf.yaml", "text/plain", "attachment; filename=conf.yaml"),
    ("img.png", "image/png", "attachment; filename=img.png"),
    ("page.html", "text/html", "attachment; filename=page.html"),
    ("model.pkl", "application/octet-stream", "attachment; filename=model.pkl"),
    ("has space.txt", "text/plain", 'attachment; filename="has space.txt"'),
])
def test_download_headers(server, run, name, ctype, disposition):
    exp, rid = run.info.experiment_id, run.info.run_id
    put_text(server, exp, rid, f"h/{name}", b"<b>12345</b>")
    for url in (f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{exp}/{rid}/artifacts/h/{name}",
                f"{server.url}/get-artifact?run_id={rid}&path=h/{name}"):
        r = requests.get(url)
        assert r.status_code == 200 and r.content == b"<b>12345</b>", url
        assert r.headers["Content-Type"] == ctype, url
        assert r.headers["Content-Disposition"] == disposition, url
        assert r.headers["X-Content-Type-Options"] == "nosniff", url
        assert r.headers["Content-Length"] == "12", url


def test_download_non_ascii_name(server, run):
    exp, rid = run.info.experiment_id, run.info.run_id
    put_text(server, exp, rid, "d%C3%A9j%C3%A0.txt", b"x")
    r = requests.get(f"{server.url}/get-artifact", params={"run_uuid": rid, "path": "déjà.txt"})
    assert r.status_code == 200 and r.content == b"x"
    assert r.headers["Content-Disposition"].startswith("attachment; filename=")
    assert r.headers["Content-Disposition"].endswith("; filename*=UTF-8''d%C3%A9j%C3%A0.txt")


def test_get_artifact_errors(server, run):
    rid = run.info.run_id
    assert requests.get(f"{server.url}/get-artifact", params={"run_id": rid, "path": "nope.txt"}).status_code == 404
    r = requests.get(f"{server.url}/get-artifact", params={"run_id": rid, "path": "../../../etc/passwd"})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    r = requests.get(f"{server.url}/get-artifact", params={"run_id": "0" * 32, "path": "a.txt"})
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")


def test_ranges_via_get_artifact(server, run):
    exp, rid = run.info.experiment_id, run.info.run_id
    put_text(server, exp, rid, "r/range.bin", bytes(range(100)))
    url = f"{server.url}/get-artifact?run_id={rid}&path=r/range.bin"
    r = requests.get(url, headers={"Range": "bytes=90-"})
    assert r.status_code == 206 and r.content == bytes(range(90, 100))
    assert r.headers["Content-Range"] == "bytes 90-99/100" and r.headers["Content-Length"] == "10"
    r = requests.get(url, headers={"Range": "bytes=10-5000"})
    assert r.status_code == 206 and r.content == bytes(range(10, 100))
    r = requests.get(url, headers={"Range": "bytes=100-200"})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == "bytes */100"


def test_ui_upload_artifact(server, run, client, tmp_path):
    rid = run.info.run_id
    url = f"{server.url}/ajax-api/2.0/mlflow/upload-artifact"
    r = requests.post(url, params={"run_uuid": rid, "path": "ui/sub/u.txt"}, data=b"from the UI")
    assert r.status_code == 200, r.text
    assert [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(rid, "ui/sub")] == [("ui/sub/u.txt", False, 11)]
    out = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="ui/sub/u.txt", dst_path=str(tmp_path))
    assert open(out, "rb").read() == b"from the UI"
    assert_error(requests.post(url, params={"path": "u.txt"}, data=b"x"), 400, "INVALID_PARAMETER_VALUE",
                 "Request must specify run_uuid.")
    assert_error(requests.post(url, params={"run_uuid": rid}, data=b"x"), 400, "INVALID_PARAMETER_VALUE",
                 "Request must specify path.")
    assert_error(requests.post(url, params={"run_uuid": rid, "path": "e.txt"}, data=b""), 400,
                 "INVALID_PARAMETER_VALUE", "Request must specify data.")
    assert_error(requests.post(url, params={"run_uuid": rid, "path": "big.bin"}, data=b"x" * (10 * 1024 * 1024 + 1)),
                 400, "INVALID_PARAMETER_VALUE", "Artifact size is too large. Max size is 10MB.")
    assert_error(requests.post(url, params={"run_uuid": rid, "path": "../../escape.txt"}, data=b"x"), 400,
                 "INVALID_PARAMETER_VALUE")
    assert requests.post(f"{server.url}/api/2.0/mlflow/upload-artifact", params={"run_uuid": rid, "path": "a"},
                         data=b"x").status_code == 404  # the UI route exists only under /ajax-api
    assert [f.path for f in client.list_artifacts(rid)] == ["ui"]  # nothing refused was stored
    assert escaped(server, "escape.txt") == []


def test_model_version_get_artifact(server, run, client, unique):
    exp, rid = run.info.experiment_id, run.info.run_id
    put_text(server, exp, rid, "m/MLmodel", b"flavors: {}\n")
    client.create_registered_model(unique)
    mv = client.create_model_version(unique, f"{run.info.artifact_uri}/m", run_id=rid)
    url = f"{server.url}/model-versions/get-artifact"
    r = requests.get(url, params={"name": unique, "version": mv.version, "path": "MLmodel"})
    assert r.status_code == 200 and r.content == b"flavors: {}\n"
    assert r.headers["Content-Type"] == "text/plain"
    assert requests.get(url, params={"name": unique, "version": mv.version, "path": "nope"}).status_code == 404
    assert requests.get(url, params={"name": unique, "version": 99, "path": "MLmodel"}).status_code == 404
    assert requests.get(url, params={"name": unique, "version": mv.version,
                                     "path": "../../../../etc/passwd"}).status_code == 400


NO_SERVE = "disabled due to the mlflow server running with `--no-serve-artifacts`"  # Flask routes
NO_SERVE_FILE = "Artifact serving is disabled. Run `mlflow server` with `--serve-artifacts` to enable."  # FastAPI
ARTIFACTS_ONLY = "disabled due to the mlflow server running in `--artifacts-only` mode"


@pytest.fixture
def flagged_server(server_kind, request):
    from conftest import _finish, _start

    s = _start(server_kind, extra=request.param)
    yield s
    _finish(s)


@pytest.mark.parametrize("flagged_server", [["--no-serve-artifacts"]], indirect=True)
def test_no_serve_artifacts(flagged_server):
    base = f"{flagged_server.url}/api/2.0/mlflow-artifacts"
    for method, url in (("PUT", f"{base}/artifacts/1/x.txt"), ("GET", f"{base}/artifacts/1/x.txt"),
                        ("GET", f"{base}/artifacts?path=1"), ("DELETE", f"{base}/artifacts/1/x.txt"),
                        ("POST", f"{base}/mpu/create/1/x.txt")):
        r = requests.request(method, url, data=b"x" if method == "PUT" else None,
                             json={"path": "x.txt", "num_parts": 2} if method == "POST" else None)
        # 3.17 serves file GET/PUT from a FastAPI router ({"detail": ...}), the rest from Flask (plain text)
        text = NO_SERVE_FILE if method in ("GET", "PUT") and "/artifacts/" in url else NO_SERVE
        assert r.status_code == 503 and text in r.text, (method, url, r.status_code, r.text)
    # tracking still works; new experiments are not placed in the (disabled) proxy
    r = requests.post(f"{flagged_server.url}/api/2.0/mlflow/experiments/create", json={"name": "e"})
    assert r.status_code == 200
    exp = requests.get(f"{flagged_server.url}/api/2.0/mlflow/experiments/get",
                       params={"experiment_id": r.json()["experiment_id"]}).json()["experiment"]
    assert not exp["artifact_location"].startswith("mlflow-artifacts:")
    assert not os.path.exists(os.path.join(flagged_server.dir, "artifacts", "1"))


@pytest.mark.parametrize("flagged_server", [["--artifacts-only"]], indirect=True)
def test_artifacts_only(flagged_server):
    url = flagged_server.url
    r = requests.post(f"{url}/api/2.0/mlflow/experiments/create", json={"name": "e"})
    assert r.status_code == 503 and ARTIFACTS_ONLY in r.text and "/api/2.0/mlflow/experiments/create" in r.text
    for method, path in (("POST", "/api/2.0/mlflow/runs/search"), ("GET", "/api/2.0/mlflow/registered-models/search"),
                         ("GET", "/api/2.0/mlflow/experiments/get?experiment_id=0")):
        r = requests.request(method, url + path, json={} if method == "POST" else None)
        assert r.status_code == 503 and ARTIFACTS_ONLY in r.text, (path, r.text)
    assert requests.get(f"{url}/get-artifact", params={"run_id": "a" * 32, "path": "x"}).status_code == 503
    # the artifact proxy itself is served
    assert requests.put(f"{url}/api/2.0/mlflow-artifacts/artifacts/ao/f.txt", data=b"only").status_code == 200
    assert requests.get(f"{url}/api/2.0/mlflow-artifacts/artifacts/ao/f.txt").content == b"only"
    assert requests.get(f"{url}/api/2.0/mlflow-artifacts/artifacts", params={"path": "ao"}).json() == {
        "files": [{"path": "f.txt", "is_dir": False, "file_size": 4}]}
    assert requests.get(f"{url}/health").status_code == 200


def test_logged_model_artifacts(server, client, unique, tmp_path):
    exp = client.create_experiment(unique)
    lm = client.create_logged_model(exp, name="lm")
    src = tmp_path / "m"
    (src / "sub").mkdir(parents=True)
    (src / "MLmodel").write_text("flavors: {}\n")
    (src / "sub" / "w.bin").write_bytes(b"\x00\x01\x02")
    client.log_model_artifacts(lm.model_id, str(src))
    assert sorted((f.path, f.is_dir) for f in client.list_logged_model_artifacts(lm.model_id)) == [
        ("MLmodel", False), ("sub", True)]
    base = f"{server.url}/api/2.0/mlflow/logged-models/{lm.model_id}/artifacts/directories"
    body = requests.get(base).json()
    assert body["root_uri"] == lm.artifact_location
    assert body["files"] == [{"path": "MLmodel", "is_dir": False, "file_size": 12}, {"path": "sub", "is_dir": True}]
    body = requests.get(base, params={"artifact_directory_path": "sub"}).json()
    assert body["files"] == [{"path": "sub/w.bin", "is_dir": False, "file_size": 3}]
    assert requests.get(base, params={"artifact_directory_path": "../../.."}).status_code == 400
    files = f"{server.url}/ajax-api/2.0/mlflow/logged-models/{lm.model_id}/artifacts/files"
    r = requests.get(files, params={"artifact_file_path": "sub/w.bin"})
    assert r.status_code == 200 and r.content == b"\x00\x01\x02"
    assert r.headers["Content-Disposition"] == "attachment; filename=w.bin"
    assert_error(requests.get(files), 400, "BAD_REQUEST", 'Request must include the "artifact_file_path" query parameter.')
    assert requests.get(files, params={"artifact_file_path": "../../../../etc/passwd"}).status_code == 400
    assert requests.get(files, params={"artifact_file_path": "nope"}).status_code == 404
    r = requests.get(f"{server.url}/api/2.0/mlflow/logged-models/m-{'0' * 32}/artifacts/directories")
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")


def test_run_artifact_list_and_get_artifact(server, run, tmp_path):
    """The tracking API's own listing (/api/2.0/mlflow/artifacts/list) and the UI download (/get-artifact)."""
    f = tmp_path / "m.txt"
    f.write_text("model file")
    mlflow.log_artifact(str(f), artifact_path="model")
    rid = run.info.run_id
    body = requests.get(f"{server.url}/api/2.0/mlflow/artifacts/list", params={"run_id": rid}).json()
    assert body["root_uri"] == run.info.artifact_uri
    assert body["files"] == [{"path": "model", "is_dir": True}]
    body = requests.get(f"{server.url}/api/2.0/mlflow/artifacts/list", params={"run_id": rid, "path": "model"}).json()
    assert body["files"] == [{"path": "model/m.txt", "is_dir": False, "file_size": 10}]
    r = requests.get(f"{server.url}/get-artifact", params={"run_id": rid, "path": "model/m.txt"})
    assert r.status_code == 200 and r.content == b"model file"
    assert "attachment" in r.headers.get("Content-Disposition", "")
    assert requests.get(f"{server.url}/get-artifact", params={"run_id": rid, "path": "../../x"}).status_code == 400


def test_model_version_get_artifact_runs_source(server, run, client, unique, tmp_path, is_reference):
    """The UI's download of one file of a model version (/model-versions/get-artifact)."""
    f = tmp_path / "w.bin"
    f.write_bytes(b"weights")
    mlflow.log_artifact(str(f), artifact_path="model")
    rid = run.info.run_id
    client.create_registered_model(unique)
    client.create_model_version(unique, f"runs:/{rid}/model", run_id=rid)
    r = requests.get(f"{server.url}/model-versions/get-artifact", params={"name": unique, "version": "1",
                                                                          "path": "w.bin"})
    if is_reference:
        # Deviation: the reference answers 500 for a version whose source is runs:/ (it cannot resolve it here).
        assert r.status_code in (200, 500)
        return
    assert r.status_code == 200 and r.content == b"weights"
    r = requests.get(f"{server.url}/model-versions/get-artifact", params={"name": unique, "version": "1",
                                                                          "path": "../../../etc/passwd"})
    assert r.status_code in (400, 404) and b"root:" not in r.content
