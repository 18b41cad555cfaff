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
    # nothing may land outside the run's artifact directory (an odd but contained name is not an escape)
    run_root = os.path.realpath(os.path.join(server.dir, "artifacts", exp, rid, "artifacts"))
    for root, _, files in os.walk(server.dir):
        if "escape.txt" in files:
            assert os.path.realpath(root).startswith(run_root + os.sep), (path, root)


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


def test_model_version_get_artifact(server, run, client, unique, tmp_path, is_reference):
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
