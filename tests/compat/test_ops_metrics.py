# SPDX-License-Identifier: Apache-2.0
"""GET /metrics: Prometheus text format 0.0.4, parsed with prometheus_client's parser; counters move as the
real client makes requests; access follows the ACL; --metrics-port serves it without authentication.

/metrics is an mltrackd extension (`mlflow server` has it only with --expose-prometheus, from another
library with other names), so these tests skip on the reference server."""
import socket

import pytest
import requests
from mlflow import MlflowClient
from prometheus_client.parser import text_string_to_metric_families

from conftest import Server, _finish

pytestmark = pytest.mark.usefixtures("mltrackd_only")


@pytest.fixture
def mltrackd_only(is_reference):
    if is_reference:
        pytest.skip("GET /metrics is an mltrackd extension (the reference needs --expose-prometheus)")


def scrape(url, auth=None):
    r = requests.get(url + "/metrics", auth=auth, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    return families


def sample(families, name, **labels):
    """The value of the sample called `name` with these labels (0 when that series does not exist yet)."""
    for f in families.values():
        for s in f.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def test_metrics_parse_and_counters_move(server, client, unique):
    route = "/api/2.0/mlflow/experiments/get-by-name"
    before = scrape(server.url)
    # The types Prometheus expects (the parser drops the _total suffix from counter family names).
    assert before["mltrackd_http_requests"].type == "counter"
    assert before["mltrackd_http_request_duration_seconds"].type == "histogram"
    assert before["mltrackd_http_in_flight_requests"].type == "gauge"
    assert before["mltrackd_db_commit_duration_seconds"].type == "histogram"
    assert before["mltrackd_db_commit_batch_jobs"].type == "histogram"
    assert before["mltrackd_db_write_queue_jobs"].type == "gauge"
    assert sample(before, "mltrackd_db_write_queue_jobs") >= 0
    assert before["mltrackd_artifact_bytes"].type == "counter"
    assert before["mltrackd_webhook_deliveries"].type == "counter"
    assert before["mltrackd_events_outbox_last_id"].type == "gauge"
    assert before["process_resident_memory_bytes"].type == "gauge"
    assert sample(before, "process_resident_memory_bytes") > 1_000_000
    assert sample(before, "process_open_fds") >= 3
    assert sample(before, "mltrackd_http_in_flight_requests") >= 1  # the scrape itself

    exp_id = client.create_experiment(unique)
    for _ in range(3):
        assert client.get_experiment_by_name(unique).experiment_id == exp_id
    assert client.get_experiment_by_name(unique + "-missing") is None  # 404 RESOURCE_DOES_NOT_EXIST
    run = client.create_run(exp_id)
    client.log_text(run.info.run_id, "x" * 5000, "notes/five-k.txt")
    local = client.download_artifacts(run.info.run_id, "notes/five-k.txt")
    assert open(local).read() == "x" * 5000

    after = scrape(server.url)
    ok = "mltrackd_http_requests_total"
    assert sample(after, ok, route=route, code="200") - sample(before, ok, route=route, code="200") == 3
    assert sample(after, ok, route=route, code="404") - sample(before, ok, route=route, code="404") == 1
    create = "/api/2.0/mlflow/experiments/create"
    assert sample(after, ok, route=create, code="200") - sample(before, ok, route=create, code="200") == 1

    # The route's latency histogram: 4 more observations, cumulative buckets, +Inf equal to the count.
    h = "mltrackd_http_request_duration_seconds"
    count = sample(after, h + "_count", route=route)
    assert count - sample(before, h + "_count", route=route) == 4
    buckets = [(float(s.labels["le"]), s.value) for s in after[h].samples
               if s.name == h + "_bucket" and s.labels["route"] == route]
    assert len(buckets) >= 10
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)
    assert buckets[-1] == (float("inf"), count)
    assert sample(after, h + "_sum", route=route) > 0

    # Writes went through the group-commit writer; artifacts in and out were counted.
    c = "mltrackd_db_commit_duration_seconds"
    assert sample(after, c + "_count") - sample(before, c + "_count") >= 2
    b = "mltrackd_db_commit_batch_jobs"
    assert sample(after, b + "_sum") - sample(before, b + "_sum") >= 2
    a = "mltrackd_artifact_bytes_total"
    assert sample(after, a, direction="in") - sample(before, a, direction="in") >= 5000
    assert sample(after, a, direction="out") - sample(before, a, direction="out") >= 5000


def test_metrics_outbox_gauge_follows_registry_events(server, client, unique):
    name = "mltrackd_events_outbox_last_id"
    before = sample(scrape(server.url), name)
    client.create_registered_model(unique)
    client.set_registered_model_tag(unique, "k", "v")
    assert sample(scrape(server.url), name) >= before + 2


def test_metrics_unmatched_and_prefixes_are_separate(server, rest):
    before = scrape(server.url)
    assert rest.get("/api/2.0/mlflow/no-such-endpoint").status_code == 404
    assert rest.get("/ajax-api/2.0/mlflow/experiments/search", max_results=1).status_code == 200
    after = scrape(server.url)
    key = "mltrackd_http_requests_total"
    assert sample(after, key, route="unmatched", code="404") - sample(before, key, route="unmatched", code="404") == 1
    ajax = "/ajax-api/2.0/mlflow/experiments/search"
    assert sample(after, key, route=ajax, code="200") - sample(before, key, route=ajax, code="200") == 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_metrics_follow_the_acl_and_the_public_port(server_kind):
    """With authentication on, /metrics on the API port needs a user; --metrics-port serves it to anyone,
    and nothing else."""
    mport = free_port()
    s = Server(server_kind, auth=True, extra=["--metrics-port", str(mport)]).start()
    try:
        assert requests.get(s.url + "/metrics", timeout=10).status_code == 401
        assert requests.get(s.url + "/metrics", auth=("admin", "wrong-password"), timeout=10).status_code == 401
        fams = scrape(s.url, auth=Server.ADMIN)
        assert "mltrackd_http_requests" in fams
        public = f"http://127.0.0.1:{mport}"
        fams = scrape(public)
        assert sample(fams, "mltrackd_http_requests_total", route="/metrics", code="401") == 2
        assert requests.get(public + "/api/2.0/mlflow/experiments/search", timeout=10).status_code == 404
        assert requests.get(public + "/health", timeout=10).status_code == 404
    finally:
        _finish(s)


def test_metrics_webhook_outbox_depth_and_outcomes(fresh_server, is_reference, unique):
    """A webhook whose receiver refuses connections: its deliveries wait (outbox depth) and retry (outcomes)."""
    import time

    s = fresh_server
    port = free_port()  # nothing listens there
    r = requests.post(s.url + "/api/2.0/mlflow/webhooks", json={
        "name": "depth", "url": f"http://127.0.0.1:{port}/hook",
        "events": [{"entity": "registered_model", "action": "created"}]}, timeout=30)
    assert r.status_code == 200, r.text
    client = MlflowClient(s.url)
    for i in range(3):
        client.create_registered_model(f"{unique}-{i}")
    deadline = time.time() + 30
    while time.time() < deadline:
        f = scrape(s.url)
        if sample(f, "mltrackd_webhook_deliveries_total", outcome="retry") >= 1:
            break
        time.sleep(0.2)
    assert sample(f, "mltrackd_webhook_deliveries_total", outcome="retry") >= 1
    assert sample(f, "mltrackd_webhook_outbox_depth") >= 3
    assert sample(f, "mltrackd_webhook_deliveries_total", outcome="success") == 0
