# SPDX-License-Identifier: Apache-2.0
"""search_runs and search_experiments: the filter grammar, ordering, pagination, view types and errors."""
import concurrent.futures

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException

from helpers import assert_error


@pytest.fixture(scope="module")
def populated(server):
    """200 runs with acc = i/200, lr alternating '0.01' / '0.1', a tag on every fifth run."""
    import uuid

    client = MlflowClient(server.url)
    exp = client.create_experiment("search-" + uuid.uuid4().hex[:8])

    def make(i):
        rid = client.create_run(exp, start_time=1_000_000 + i, run_name=f"run-{i:03d}").info.run_id
        tags = [RunTag("group", "five")] if i % 5 == 0 else []
        client.log_batch(rid, metrics=[Metric("acc", i / 200, 1, 0), Metric("loss", 1 - i / 200, 1, 0)],
                         params=[Param("lr", "0.01" if i % 2 == 0 else "0.1"), Param("i", str(i))], tags=tags)
        return i, rid

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        ids = dict(pool.map(make, range(200)))
    return exp, ids


def all_pages(client, exp, filter_string, order_by, page_size):
    out, token = [], None
    while True:
        page = client.search_runs([exp], filter_string, max_results=page_size, order_by=order_by, page_token=token)
        out += page
        token = page.token
        if not token:
            return out


def test_acceptance_filter_and_order_across_pages(server, populated):
    exp, ids = populated
    client = MlflowClient(server.url)
    runs = all_pages(client, exp, "metrics.acc > 0.9 and params.lr = '0.01'", ["metrics.acc DESC"], 7)
    expected = [i for i in range(199, -1, -1) if i / 200 > 0.9 and i % 2 == 0]
    assert [r.info.run_id for r in runs] == [ids[i] for i in expected]
    assert len(expected) == 9  # 182, 184, ..., 198


def test_default_order_is_start_time_desc(server, populated):
    exp, ids = populated
    runs = MlflowClient(server.url).search_runs([exp], max_results=5)
    assert [r.info.run_id for r in runs] == [ids[i] for i in (199, 198, 197, 196, 195)]


@pytest.mark.parametrize("flt,expected", [
    ("params.lr = '0.1' and metrics.acc < 0.03", [1, 3, 5]),
    ("metrics.loss >= 0.99", [0, 1, 2]),
    ("metrics.acc = 0.5", [100]),
    ("metrics.acc != 0.5 and metrics.acc <= 0.01", [0, 1, 2]),
    ("params.i LIKE '19_'", list(range(190, 200))),
    ("params.i ILIKE '1%' and metrics.acc < 0.07", [1, 10, 11, 12, 13]),
    ("tags.group = 'five' and metrics.acc < 0.1", [0, 5, 10, 15]),
    ("tags.group IS NULL and metrics.acc < 0.02", [1, 2, 3]),
    ("tags.group IS NOT NULL and metrics.acc < 0.05", [0, 5]),
    ("attributes.run_name = 'run-042'", [42]),
    ("run_name LIKE 'run-00%' and params.lr != '0.1'", [0, 2, 4, 6, 8]),
    ("attributes.start_time >= 1000197", [197, 198, 199]),
    ("`params`.`i` = '7'", [7]),
    ('params."i" = "8"', [8]),
])
def test_filters(server, populated, flt, expected):
    exp, ids = populated
    runs = MlflowClient(server.url).search_runs([exp], flt, order_by=["attributes.start_time ASC"])
    assert [r.info.run_id for r in runs] == [ids[i] for i in expected]


def test_run_id_in(server, populated):
    exp, ids = populated
    flt = f"attributes.run_id IN ('{ids[3]}', '{ids[4]}')"
    runs = MlflowClient(server.url).search_runs([exp], flt, order_by=["params.i DESC"])
    assert [r.info.run_id for r in runs] == [ids[4], ids[3]]


def test_order_by_param_and_tag_with_nulls_last(server, populated):
    exp, ids = populated
    client = MlflowClient(server.url)
    runs = client.search_runs([exp], "metrics.acc < 0.04", order_by=["tags.group DESC", "metrics.acc ASC"])
    assert [r.info.run_id for r in runs][:2] == [ids[0], ids[5]]
    assert [r.info.run_id for r in runs][2:] == [ids[i] for i in (1, 2, 3, 4, 6, 7)]


def test_order_by_metric_nan_and_missing(server, unique):
    """Ordering by a metric: numbers in the asked direction, then runs whose latest value is NaN, then runs without
    the metric, in both directions (infinities are numbers: the store clamps them); ties by start_time DESC."""
    client = MlflowClient(server.url)
    exp = client.create_experiment(unique)
    values = {"neg": -2.5, "big": float("inf"), "nan": float("nan"), "one": 1.0, "none": None, "small": float("-inf"),
              "nan2": float("nan")}
    ids = {}
    for i, (name, v) in enumerate(values.items()):
        rid = client.create_run(exp, start_time=1_000 + i, run_name=name).info.run_id
        if v is not None:
            client.log_metric(rid, "m", v, timestamp=1, step=0)
        client.log_metric(rid, "other", 1.0, timestamp=1, step=0)
        ids[rid] = name
    asc = [ids[r.info.run_id] for r in client.search_runs([exp], order_by=["metrics.m ASC"])]
    desc = [ids[r.info.run_id] for r in client.search_runs([exp], order_by=["metrics.m DESC"])]
    assert asc == ["small", "neg", "one", "big", "nan2", "nan", "none"]
    assert desc == ["big", "one", "neg", "small", "nan2", "nan", "none"]
    # a filter on the metric never matches a NaN latest value
    hits = [ids[r.info.run_id] for r in client.search_runs([exp], "metrics.m < 2", order_by=["metrics.m DESC"])]
    assert hits == ["one", "neg", "small"]


def test_runs_carry_data(server, populated):
    exp, ids = populated
    r = MlflowClient(server.url).search_runs([exp], "attributes.run_name = 'run-010'")[0]
    assert r.data.metrics == {"acc": 0.05, "loss": 0.95}
    assert r.data.params == {"lr": "0.01", "i": "10"}
    assert r.data.tags["group"] == "five"


def test_view_type(server, unique):
    client = MlflowClient(server.url)
    exp = client.create_experiment(unique)
    keep = client.create_run(exp).info.run_id
    gone = client.create_run(exp).info.run_id
    client.delete_run(gone)
    assert [r.info.run_id for r in client.search_runs([exp])] == [keep]
    assert [r.info.run_id for r in client.search_runs([exp], run_view_type=ViewType.DELETED_ONLY)] == [gone]
    assert len(client.search_runs([exp], run_view_type=ViewType.ALL)) == 2


def test_search_errors(rest, populated):
    exp, _ = populated
    post = lambda body: rest.post("/api/2.0/mlflow/runs/search", {"experiment_ids": [exp], **body})
    assert_error(post({"filter": "metrics.acc > 'x'"}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(post({"filter": "params.lr > '1'"}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(post({"filter": "params.lr = 1"}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(post({"filter": "foo.bar = '1'"}), 400, "INVALID_PARAMETER_VALUE", "Invalid entity type")
    assert_error(post({"filter": "metrics.a > 1 or metrics.b > 2"}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(post({"filter": "params.lr IN ('a')"}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(post({"filter": "run_name IN ('a')"}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(post({"filter": "status > 'x'"}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(post({"filter": "metrics.acc >"}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(post({"order_by": ["metrics.acc SIDEWAYS"]}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(post({"order_by": ["nope.acc"]}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(post({"max_results": 50001}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(post({"page_token": "not-a-token"}), 400, "INVALID_PARAMETER_VALUE")


def test_search_experiments(client, unique):
    ids = [client.create_experiment(f"{unique}-{i}", tags={"n": str(i)}) for i in range(5)]
    found = client.search_experiments(filter_string=f"name LIKE '{unique}-%'")
    assert [e.experiment_id for e in found] == ids[::-1]  # newest first
    found = client.search_experiments(filter_string=f"name LIKE '{unique}-%' and tags.n = '3'")
    assert [e.experiment_id for e in found] == [ids[3]]
    found = client.search_experiments(filter_string=f"name ILIKE '{unique.upper()}-%'", order_by=["name ASC"])
    assert [e.name for e in found] == [f"{unique}-{i}" for i in range(5)]
    page = client.search_experiments(filter_string=f"name LIKE '{unique}-%'", max_results=2, order_by=["name DESC"])
    assert [e.name for e in page] == [f"{unique}-4", f"{unique}-3"] and page.token
    page2 = client.search_experiments(filter_string=f"name LIKE '{unique}-%'", max_results=2, order_by=["name DESC"],
                                      page_token=page.token)
    assert [e.name for e in page2] == [f"{unique}-2", f"{unique}-1"]
    client.delete_experiment(ids[0])
    assert [e.experiment_id for e in client.search_experiments(view_type=ViewType.DELETED_ONLY,
                                                               filter_string=f"name LIKE '{unique}-%'")] == [ids[0]]
    assert len(client.search_experiments(view_type=ViewType.ALL, filter_string=f"name LIKE '{unique}-%'")) == 5
    # ordered by name or id (mltrackd walks the name index or the rowid there), the view still filters
    flt = f"name LIKE '{unique}-%'"
    assert [e.name for e in client.search_experiments(filter_string=flt, order_by=["name DESC"])] == \
        [f"{unique}-{i}" for i in (4, 3, 2, 1)]
    assert [e.experiment_id for e in client.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string=flt,
                                                               order_by=["name ASC"])] == [ids[0]]
    assert [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL, filter_string=flt,
                                                               order_by=["experiment_id DESC"])] == \
        sorted(ids, key=int, reverse=True)
    assert [e.experiment_id for e in client.search_experiments(filter_string=flt, order_by=["experiment_id ASC"],
                                                               max_results=3)] == sorted(ids[1:], key=int)[:3]


def test_search_experiments_errors(rest):
    assert_error(rest.post("/api/2.0/mlflow/experiments/search", {"max_results": 10, "filter": "foo = 'x'"}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(rest.post("/api/2.0/mlflow/experiments/search", {"max_results": 10, "filter": "name > 'x'"}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(rest.post("/api/2.0/mlflow/experiments/search",
                           {"max_results": 10, "order_by": ["nope DESC"]}), 400, "INVALID_PARAMETER_VALUE")
