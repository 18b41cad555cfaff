# SPDX-License-Identifier: Apache-2.0
"""Nothing acknowledged is lost: every write answered 200 survives kill -9 of the server."""
import concurrent.futures

from mlflow import MlflowClient


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
