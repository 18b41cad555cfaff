# SPDX-License-Identifier: Apache-2.0
"""Nothing acknowledged is lost: every write answered 200 survives kill -9 of the server."""
import concurrent.futures

from mlflow import MlflowClient
from mlflow.entities import Metric


def test_acknowledged_writes_survive_kill9(fresh_server, unique):
    client = MlflowClient(fresh_server.url)

    def create(i):
        return client.create_experiment(f"{unique}-{i}", tags={"i": str(i)})

    # Concurrent writers, so the server's group commit batches several requests per transaction.
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(create, range(120)))
    client.set_experiment_tag(ids[0], "last", "write")
    fresh_server.kill9()
    fresh_server.restart()
    client = MlflowClient(fresh_server.url)
    for i, eid in enumerate(ids):
        e = client.get_experiment(eid)
        assert e.name == f"{unique}-{i}"
        assert e.tags["i"] == str(i)
    assert client.get_experiment(ids[0]).tags["last"] == "write"


def test_sigterm_lets_in_flight_request_finish(fresh_server, is_reference, unique):
    """SIGTERM while a request is half-sent: the server stops accepting, finishes it, answers, exits 0."""
    import json
    import signal
    import socket
    import time

    import pytest

    if is_reference:
        pytest.skip("exercises mltrackd's own shutdown path (mlflow server's is uvicorn's)")
    body = json.dumps({"name": unique}).encode()
    s = socket.create_connection(("127.0.0.1", fresh_server.port))
    head = (f"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    s.sendall(head + body[:5])
    time.sleep(0.3)
    fresh_server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    s.sendall(body[5:])
    reply = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        reply += chunk
    s.close()
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    assert b'"experiment_id"' in reply
    assert fresh_server.proc.wait(timeout=30) == 0
    # And the write it acknowledged is there after a restart.
    fresh_server.log.close()
    fresh_server.proc = None
    fresh_server.restart()
    from mlflow import MlflowClient

    assert MlflowClient(fresh_server.url).get_experiment_by_name(unique) is not None


def test_acknowledged_metric_points_survive_kill9(fresh_server, unique):
    """Points are acknowledged while still staged (mltrackd merges them into their series later): a kill -9 right
    after the last 200 loses none, duplicates none, and the latest values follow."""
    client = MlflowClient(fresh_server.url)
    exp = client.create_experiment(unique)
    runs = [client.create_run(exp).info.run_id for _ in range(4)]

    def log(args):
        run, step = args
        client.log_batch(run, metrics=[Metric(f"m{k}", step * 1.5 + k, 1000 + step, step) for k in range(50)])

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(log, [(r, s) for s in range(20) for r in runs]))
    client.log_metric(runs[0], "m0", -1.0, timestamp=999, step=7)  # out of order, between staged points
    fresh_server.kill9()
    fresh_server.restart()
    client = MlflowClient(fresh_server.url)
    for run in runs:
        for k in (0, 17, 49):
            got = [(m.step, m.timestamp, m.value) for m in client.get_metric_history(run, f"m{k}")]
            want = sorted([(s, 1000 + s, s * 1.5 + k) for s in range(20)] +
                          ([(7, 999, -1.0)] if run == runs[0] and k == 0 else []), key=lambda p: (p[1], p[0], p[2]))
            assert got == want, (run, k)
        assert client.get_run(run).data.metrics["m49"] == 19 * 1.5 + 49
