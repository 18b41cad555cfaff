# SPDX-License-Identifier: Apache-2.0
"""Metrics: logging (single, batch, async), history with pagination, bulk-interval sampling, limits."""
import math
import time

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

from helpers import assert_error


@pytest.fixture
def run_id(client, unique):
    return client.create_run(client.create_experiment(unique)).info.run_id


def test_log_and_latest(client, run_id):
    client.log_metric(run_id, "acc", 0.5, timestamp=10, step=0)
    client.log_metric(run_id, "acc", 0.9, timestamp=20, step=2)
    client.log_metric(run_id, "acc", 0.7, timestamp=30, step=1)  # later in time, earlier step
    assert client.get_run(run_id).data.metrics["acc"] == 0.9  # latest = max (step, timestamp, value)
    hist = client.get_metric_history(run_id, "acc")
    assert [(m.timestamp, m.step, m.value) for m in hist] == [(10, 0, 0.5), (20, 2, 0.9), (30, 1, 0.7)]


def test_acceptance_10k_points_in_step_order(tracking_uri, client, unique):
    mlflow.set_experiment(unique)
    with mlflow.start_run() as run:
        base = int(time.time() * 1000)
        for start in range(0, 10000, 1000):
            mlflow.log_metrics({}, step=0)  # no-op call the client allows
            MlflowClient().log_batch(run.info.run_id, metrics=[
                Metric("loss", 1.0 / (i + 1), base + i, i) for i in range(start, start + 1000)])
    hist = client.get_metric_history(run.info.run_id, "loss")
    assert len(hist) == 10000
    assert [m.step for m in hist] == list(range(10000))
    assert all(m.value == 1.0 / (m.step + 1) for m in hist)


def test_async_logging(tracking_uri, client, unique):
    mlflow.set_experiment(unique)
    with mlflow.start_run() as run:
        for step in range(50):
            mlflow.log_metrics({"a": step * 1.0, "b": -step * 1.0}, step=step, synchronous=False)
        mlflow.flush_async_logging()
    assert len(client.get_metric_history(run.info.run_id, "a")) == 50
    assert client.get_run(run.info.run_id).data.metrics == {"a": 49.0, "b": -49.0}


def test_special_values(client, rest, run_id):
    client.log_batch(run_id, metrics=[Metric("nan", float("nan"), 1, 0), Metric("inf", float("inf"), 1, 0),
                                      Metric("ninf", float("-inf"), 1, 0)])
    m = client.get_run(run_id).data.metrics
    assert math.isnan(m["nan"])
    # the reference's SQL store clamps infinities to the largest double
    assert m["inf"] == 1.7976931348623157e308 and m["ninf"] == -1.7976931348623157e308
    body = rest.get("/api/2.0/mlflow/metrics/get-history", run_id=run_id, metric_key="nan").json()
    assert body["metrics"][0]["value"] == "NaN"


def test_duplicates_are_ignored(client, run_id):
    for _ in range(3):
        client.log_batch(run_id, metrics=[Metric("d", 1.0, 5, 0), Metric("d", 1.0, 5, 0)])
    assert len(client.get_metric_history(run_id, "d")) == 1


def test_history_pagination(rest, client, run_id):
    client.log_batch(run_id, metrics=[Metric("p", float(i), 100 + i, i) for i in range(25)])
    seen, token = [], None
    while True:
        params = {"run_id": run_id, "metric_key": "p", "max_results": 10}
        if token:
            params["page_token"] = token
        body = rest.get("/api/2.0/mlflow/metrics/get-history", **params).json()
        seen += [m["step"] for m in body.get("metrics", [])]
        token = body.get("next_page_token")
        if not token:
            break
    assert seen == list(range(25))
    assert rest.get("/api/2.0/mlflow/metrics/get-history", run_id=run_id, metric_key="missing").json() == {}
    assert_error(rest.get("/api/2.0/mlflow/metrics/get-history", run_id=run_id, metric_key="p", max_results=0),
                 400, "INVALID_PARAMETER_VALUE")


def test_bulk_interval_sampling_matches(rest, client, run_id, unique):
    other = client.create_run(client.get_run(run_id).info.experiment_id).info.run_id
    client.log_batch(run_id, metrics=[Metric("s", float(i), 1000 + i, i) for i in range(0, 1000, 3)])
    client.log_batch(other, metrics=[Metric("s", float(i), 1000 + i, i) for i in range(7)])
    body = rest.get("/api/2.0/mlflow/metrics/get-history-bulk-interval", run_ids=[run_id, other], metric_key="s",
                    max_results=10).json()
    first = [m["step"] for m in body["metrics"] if m["run_id"] == run_id]
    second = [m["step"] for m in body["metrics"] if m["run_id"] == other]
    # NTILE(10) over 334 points: 4 buckets of 34 then 6 of 33; each keeps its first point, and the last
    # point replaces the tenth.
    assert first == [0, 102, 204, 306, 408, 507, 606, 705, 804, 999]
    assert second == list(range(7))
    ranged = rest.get("/api/2.0/mlflow/metrics/get-history-bulk-interval", run_ids=[other], metric_key="s",
                      start_step=2, end_step=4, max_results=10).json()
    assert [m["step"] for m in ranged["metrics"]] == [2, 3, 4]
    assert_error(rest.get("/api/2.0/mlflow/metrics/get-history-bulk-interval", run_ids=[other], metric_key="s",
                          start_step=2), 400, "INVALID_PARAMETER_VALUE")
    assert_error(rest.get("/api/2.0/mlflow/metrics/get-history-bulk-interval", run_ids=[other], metric_key="s",
                          max_results=5000), 400, "INVALID_PARAMETER_VALUE")


def test_batch_limits_and_atomicity(rest, client, run_id, is_reference):
    now = 1
    ok = {"run_id": run_id, "metrics": [{"key": "x", "value": i, "timestamp": now, "step": i} for i in range(999)],
          "params": [{"key": "p", "value": "v"}]}
    assert rest.post("/api/2.0/mlflow/runs/log-batch", ok).json() == {}
    too_many = {"run_id": run_id,
                "metrics": [{"key": "y", "value": i, "timestamp": now, "step": i} for i in range(1000)],
                "params": [{"key": "p2", "value": "v"}]}
    assert_error(rest.post("/api/2.0/mlflow/runs/log-batch", too_many), 400, "INVALID_PARAMETER_VALUE",
                 "A batch logging request can contain at most 1000")
    assert_error(rest.post("/api/2.0/mlflow/runs/log-batch",
                           {"run_id": run_id, "params": [{"key": "z", "value": "1"}, {"key": "z", "value": "1"}]}),
                 400, "INVALID_PARAMETER_VALUE", "Duplicate parameter keys")
    # one bad metric in the middle: nothing of the batch is written
    bad = {"run_id": run_id, "metrics": [{"key": "z1", "value": 1, "timestamp": 1},
                                         {"key": "bad*key", "value": 2, "timestamp": 1}],
           "tags": [{"key": "tz", "value": "v"}]}
    assert_error(rest.post("/api/2.0/mlflow/runs/log-batch", bad), 400, "INVALID_PARAMETER_VALUE")
    if not is_reference:
        # Deviation: the reference answers 200 to a non-numeric value inside a batch; we refuse it.
        bad["metrics"][1] = {"key": "z2", "value": "abc", "timestamp": 1}
        assert_error(rest.post("/api/2.0/mlflow/runs/log-batch", bad), 400, "INVALID_PARAMETER_VALUE")
    run = client.get_run(run_id)
    assert "y" not in run.data.metrics and "z1" not in run.data.metrics and "tz" not in run.data.tags
    assert "z2" not in run.data.metrics
    assert "p2" not in run.data.params
    assert len(client.get_metric_history(run_id, "x")) == 999


def test_metric_wire_errors(rest, run_id):
    post = lambda body: rest.post("/api/2.0/mlflow/runs/log-metric", {"run_id": run_id, **body})
    assert_error(post({"key": "k", "value": 1}), 400, "INVALID_PARAMETER_VALUE",
                 "Missing value for required parameter 'timestamp'")
    assert_error(post({"key": "k", "timestamp": 1}), 400, "INVALID_PARAMETER_VALUE",
                 "Missing value for required parameter 'value'")
    assert_error(post({"key": "k", "value": "abc", "timestamp": 1}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(post({"key": "bad*", "value": 1, "timestamp": 1}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(post({"key": "k" * 251, "value": 1, "timestamp": 1}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(rest.post("/api/2.0/mlflow/runs/log-metric", {"run_id": "0" * 32, "key": "k", "value": 1,
                                                               "timestamp": 1}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(rest.post("/api/2.0/mlflow/runs/log-batch",
                           {"run_id": run_id, "metrics": [{"key": "k", "value": 1}, {"key": "k", "value": 2}]}),
                 400, "INVALID_PARAMETER_VALUE", "metrics[0].timestamp")


def test_ajax_history_bulk(rest, client, run_id):
    other = client.create_run(client.get_run(run_id).info.experiment_id).info.run_id
    for rid in (run_id, other):
        client.log_batch(rid, metrics=[Metric("m", float(i), 10 - i, i) for i in range(3)])
    url = "/ajax-api/2.0/mlflow/metrics/get-history-bulk"
    body = rest.get(url, run_id=[other, run_id], metric_key="m").json()
    got = [(m["run_id"], m["timestamp"], m["step"], m["value"], m["key"]) for m in body["metrics"]]
    # runs in id order, each in history order (timestamp, step, value)
    want = [(rid, 10 - i, i, float(i), "m") for rid in sorted([run_id, other]) for i in (2, 1, 0)]
    assert got == want
    # max_results caps the whole answer; a negative one is MLflow's Python slice [:-1] of the whole history
    assert len(rest.get(url, run_id=[other, run_id], metric_key="m", max_results=4).json()["metrics"]) == 4
    assert len(rest.get(url, run_id=[run_id], metric_key="m", max_results=-1).json()["metrics"]) == 2
    # unknown runs and keys contribute nothing; the list is always there
    assert rest.get(url, run_id=["0" * 32], metric_key="m").json() == {"metrics": []}
    assert rest.get(url, run_id=[run_id], metric_key="zz").json() == {"metrics": []}
    assert_error(rest.get(url, metric_key="m"), 400, "INVALID_PARAMETER_VALUE", "at least one run_id")
    assert_error(rest.get(url, run_id=[run_id]), 400, "INVALID_PARAMETER_VALUE", "must specify a metric_key")
    assert_error(rest.get(url, run_id=["r%d" % i for i in range(101)], metric_key="m"), 400,
                 "INVALID_PARAMETER_VALUE", "cannot specify more than 100 run_ids")
    # ajax-only: not under /api
    assert rest.get("/api/2.0/mlflow/metrics/get-history-bulk", run_id=[run_id], metric_key="m").status_code == 404


def test_history_of_unknown_run_is_empty(rest):
    # MLflow does not check the run when reading a history
    assert rest.get("/api/2.0/mlflow/metrics/get-history", run_id="0" * 32, metric_key="m").json() == {}


def test_history_shape_and_values_read_back(rest, client, run_id):
    client.log_batch(run_id, metrics=[Metric("h", 0.25, 7, 3, dataset_name="d", dataset_digest="x")])
    body = rest.get("/api/2.0/mlflow/metrics/get-history", run_id=run_id, metric_key="h").json()
    # the SQL store keeps no dataset (or model) per point of a run's history
    assert body == {"metrics": [{"key": "h", "value": 0.25, "timestamp": 7, "step": 3}]}
    # booleans are numbers to the proto parser; numeric strings are accepted for value, timestamp, step
    post = lambda b: rest.post("/api/2.0/mlflow/runs/log-metric", {"run_id": run_id, **b})
    assert post({"key": "b", "value": True, "timestamp": 1}).json() == {}
    assert post({"key": "s", "value": "2.5", "timestamp": "3", "step": "4"}).json() == {}
    m = client.get_run(run_id).data.metrics
    assert m["b"] == 1.0 and m["s"] == 2.5
    assert [(x.timestamp, x.step) for x in client.get_metric_history(run_id, "s")] == [(3, 4)]
    assert_error(post({"key": "n", "value": 1, "timestamp": -1}), 400, "INVALID_PARAMETER_VALUE",
                 "metric 'n' (value=1.0). Timestamp must be a nonnegative long")
    assert_error(post({"key": "", "value": 1, "timestamp": 1}), 400, "INVALID_PARAMETER_VALUE",
                 "Missing value for required parameter 'key'")


def test_unknown_model_id_writes_nothing(rest, client, run_id, is_reference):
    r = rest.post("/api/2.0/mlflow/runs/log-batch", {"run_id": run_id, "metrics": [
        {"key": "ok", "value": 1, "timestamp": 1}, {"key": "mm", "value": 1, "timestamp": 1, "model_id": "m-nope"}],
        "tags": [{"key": "tm", "value": "v"}]})
    # the reference answers its SQL foreign-key failure as BAD_REQUEST; mltrackd names the model instead
    assert_error(r, 400, "BAD_REQUEST")
    run = client.get_run(run_id)
    if is_reference:
        # Deviation: the reference has already committed the batch's metrics when the model link fails
        assert set(run.data.metrics) == {"ok", "mm"}
    else:
        assert run.data.metrics == {} and "tm" not in run.data.tags
        assert client.get_metric_history(run_id, "ok") == []


def test_paged_history_through_client_pages(client, run_id, monkeypatch):
    # the client pages get-history with max_results=25000 and follows next_page_token
    client.log_batch(run_id, metrics=[Metric("pg", float(i), i, i) for i in range(1000)])
    client.log_batch(run_id, metrics=[Metric("pg", float(i), i, i) for i in range(1000, 1500)])
    hist = client.get_metric_history(run_id, "pg")
    assert [m.step for m in hist] == list(range(1500))
