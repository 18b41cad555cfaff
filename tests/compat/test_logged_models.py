# SPDX-License-Identifier: Apache-2.0
"""MLflow 3 logged models, dataset inputs and model outputs through the real client."""
import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import LoggedModelStatus, Metric
from mlflow.exceptions import MlflowException

from helpers import assert_error


@pytest.fixture
def exp(client, unique):
    return client.create_experiment(unique)


def test_create_get_finalize(client, exp):
    run = client.create_run(exp)
    m = client.create_logged_model(exp, name="clf", source_run_id=run.info.run_id, params={"depth": "3"},
                                   tags={"team": "ml"}, model_type="classifier")
    assert m.model_id.startswith("m-") and len(m.model_id) == 34
    assert m.status == LoggedModelStatus.PENDING
    assert m.artifact_location == f"mlflow-artifacts:/{exp}/models/{m.model_id}/artifacts"
    assert m.params == {"depth": "3"} and m.tags == {"team": "ml"}
    assert m.model_type == "classifier" and m.source_run_id == run.info.run_id
    m2 = client.finalize_logged_model(m.model_id, LoggedModelStatus.READY)
    assert m2.status == LoggedModelStatus.READY
    got = client.get_logged_model(m.model_id)
    assert got.name == "clf" and got.status == LoggedModelStatus.READY
    assert got.last_updated_timestamp >= got.creation_timestamp


def test_tags_params_delete(client, rest, exp):
    m = client.create_logged_model(exp)
    assert m.name  # generated
    client.set_logged_model_tags(m.model_id, {"a": "1", "b": "2"})
    client.delete_logged_model_tag(m.model_id, "a")
    client.log_model_params(m.model_id, {"p": "v"})
    got = client.get_logged_model(m.model_id)
    assert got.tags == {"b": "2"} and got.params == {"p": "v"}
    client.delete_logged_model(m.model_id)
    with pytest.raises(MlflowException) as exc:
        client.get_logged_model(m.model_id)
    assert exc.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    r = rest.get(f"/api/2.0/mlflow/logged-models/{m.model_id}", allow_deleted="true")
    assert r.status_code == 200 and r.json()["model"]["info"]["model_id"] == m.model_id


def test_logged_model_errors(rest, exp):
    assert_error(rest.get("/api/2.0/mlflow/logged-models/m-00000000000000000000000000000000"), 404,
                 "RESOURCE_DOES_NOT_EXIST")
    assert_error(rest.post("/api/2.0/mlflow/logged-models", {}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(rest.post("/api/2.0/mlflow/logged-models", {"experiment_id": exp, "name": "bad/name"}), 400,
                 "INVALID_PARAMETER_VALUE")
    assert_error(rest.post("/api/2.0/mlflow/logged-models", {"experiment_id": "987654321"}), 404,
                 "RESOURCE_DOES_NOT_EXIST")


def test_metrics_linked_to_model(client, exp):
    run = client.create_run(exp)
    m = client.create_logged_model(exp, source_run_id=run.info.run_id)
    client.log_batch(run.info.run_id, metrics=[Metric("acc", 0.8, 1, 0, model_id=m.model_id)])
    got = client.get_logged_model(m.model_id)
    assert [(x.key, x.value, x.run_id) for x in got.metrics] == [("acc", 0.8, run.info.run_id)]


def test_search_logged_models(client, exp):
    run = client.create_run(exp)
    ids = {}
    for name, acc in (("a", 0.5), ("b", 0.9), ("c", 0.7)):
        m = client.create_logged_model(exp, name=name, source_run_id=run.info.run_id)
        client.log_batch(run.info.run_id, metrics=[Metric("acc", acc, 1, 0, model_id=m.model_id)])
        ids[name] = m.model_id
    found = mlflow.search_logged_models(experiment_ids=[exp], filter_string="name = 'b'", output_format="list")
    assert [m.model_id for m in found] == [ids["b"]]
    found = mlflow.search_logged_models(experiment_ids=[exp], filter_string="metrics.acc > 0.6",
                                        order_by=[{"field_name": "metrics.acc", "ascending": False}],
                                        output_format="list")
    assert [m.name for m in found] == ["b", "c"]
    found = client.search_logged_models([exp], max_results=2)
    assert len(found) == 2 and found.token
    assert [m.name for m in found] == ["c", "b"]  # newest first


def test_log_input_dataset(tracking_uri, client, unique):
    mlflow.set_experiment(unique)
    df = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    ds = mlflow.data.from_pandas(df, name="train")
    with mlflow.start_run() as run:
        mlflow.log_input(ds, context="training")
    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset.name == "train"
    assert inputs[0].dataset.digest == ds.digest
    assert {t.key: t.value for t in inputs[0].tags}["mlflow.data.context"] == "training"


def test_outputs_on_run(client, rest, exp):
    run = client.create_run(exp)
    m = client.create_logged_model(exp, source_run_id=run.info.run_id)
    r = rest.post("/api/2.0/mlflow/runs/outputs", {"run_id": run.info.run_id, "models": [{"model_id": m.model_id,
                                                                                          "step": 3}]})
    assert r.json() == {}
    outs = client.get_run(run.info.run_id).outputs.model_outputs
    assert [(o.model_id, o.step) for o in outs] == [(m.model_id, 3)]


def test_search_runs_by_dataset(tracking_uri, client, unique):
    mlflow.set_experiment(unique)
    df = pd.DataFrame({"x": [1.0, 2.0]})
    with mlflow.start_run() as with_ds:
        mlflow.log_input(mlflow.data.from_pandas(df, name="train"), context="training")
    with mlflow.start_run():
        pass
    eid = with_ds.info.experiment_id
    for flt in ("datasets.name = 'train'", "dataset.context = 'training'", "datasets.name IN ('train', 'x')"):
        assert [r.info.run_id for r in client.search_runs([eid], flt)] == [with_ds.info.run_id], flt
    assert client.search_runs([eid], "datasets.name = 'other'") == []


def test_search_datasets_and_metric_history(client, exp):
    """MLflow's SQL-store rules: a metric filter matches any logged value (not only the latest); `datasets`
    restricts metric filters to metrics logged on one of them (a dataset named without a digest only matches
    metrics with no digest); metric order uses the latest value by timestamp, optionally on one dataset."""
    run = client.create_run(exp)
    rid = run.info.run_id
    a = client.create_logged_model(exp, name="A", source_run_id=rid).model_id
    b = client.create_logged_model(exp, name="B", source_run_id=rid).model_id
    c = client.create_logged_model(exp, name="C", source_run_id=rid).model_id
    client.log_batch(rid, metrics=[
        Metric("acc", 0.95, 100, 0, model_id=a, dataset_name="eval", dataset_digest="d1"),
        Metric("acc", 0.5, 200, 1, model_id=a, dataset_name="eval", dataset_digest="d1"),
        Metric("acc", 0.7, 100, 0, model_id=b, dataset_name="train", dataset_digest="d2"),
        Metric("acc", 0.8, 100, 0, model_id=c)])
    names = {a: "A", b: "B", c: "C"}

    def s(**kw):
        return [names[m.model_id] for m in client.search_logged_models([exp], **kw)]

    assert s(filter_string="metrics.acc > 0.9") == ["A"]
    assert s(filter_string="metrics.acc < 0.6") == ["A"]
    assert s(datasets=[{"dataset_name": "train", "dataset_digest": "d2"}]) == ["B"]
    assert s(datasets=[{"dataset_name": "eval"}]) == []
    assert s(filter_string="metrics.acc > 0.6", datasets=[{"dataset_name": "eval", "dataset_digest": "d1"}]) == ["A"]
    assert s(filter_string="metrics.acc > 0.6", datasets=[{"dataset_name": "train", "dataset_digest": "d2"}]) == ["B"]
    two = [{"dataset_name": "eval", "dataset_digest": "d1"}, {"dataset_name": "train", "dataset_digest": "d2"}]
    assert s(datasets=two) == ["B", "A"]
    assert s(order_by=[{"field_name": "metrics.acc", "ascending": False}]) == ["C", "B", "A"]
    assert s(order_by=[{"field_name": "metrics.acc", "ascending": True}]) == ["A", "B", "C"]
    assert s(order_by=[{"field_name": "metrics.acc", "ascending": False, "dataset_name": "eval"}]) == ["A", "C", "B"]
    assert s(order_by=[{"field_name": "metrics.acc", "dataset_name": "train", "dataset_digest": "d2"}]) == \
        ["B", "C", "A"]
    assert s(order_by=[{"field_name": "metrics.acc", "dataset_digest": "d2"}]) == ["B", "C", "A"]
    assert s(order_by=[{"field_name": "name", "ascending": False}]) == ["C", "B", "A"]
    assert s(order_by=[{"field_name": "creation_time", "ascending": True}]) == ["A", "B", "C"]
    for bad, msg in (("params.x", "Invalid order by field name: params.x. Only metrics are supported."),
                     ("foo", "Invalid order by field name: foo"),
                     (" name", "Invalid order by field name:  name")):
        with pytest.raises(MlflowException) as exc:
            s(order_by=[{"field_name": bad}])
        assert exc.value.error_code == "INVALID_PARAMETER_VALUE"
        assert msg in exc.value.message


def test_finalize_twice_and_bad_status(rest, exp, is_reference):
    mid = rest.post("/api/2.0/mlflow/logged-models", {"experiment_id": exp}).json()["model"]["info"]["model_id"]
    url = f"/api/2.0/mlflow/logged-models/{mid}"

    def fin(status):
        return rest.call("PATCH", url, json={"model_id": mid, "status": status})

    for st in ("LOGGED_MODEL_READY", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED", "LOGGED_MODEL_PENDING"):
        r = fin(st)
        assert r.status_code == 200 and r.json()["model"]["info"]["status"] == st
        assert rest.get(url).json()["model"]["info"]["status"] == st
    assert_error(rest.call("PATCH", url, json={"model_id": mid}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(rest.call("PATCH", url, json={"status": "LOGGED_MODEL_READY"}), 400, "INVALID_PARAMETER_VALUE")
    unknown = "m-0123456789abcdef0123456789abcdef"
    assert_error(rest.call("PATCH", f"/api/2.0/mlflow/logged-models/{unknown}",
                           json={"model_id": unknown, "status": "LOGGED_MODEL_READY"}), 404, "RESOURCE_DOES_NOT_EXIST")
    for bogus in ("BOGUS", 7, "LOGGED_MODEL_STATUS_UNSPECIFIED"):
        r = fin(bogus)
        if is_reference:
            # deviation: the reference answers 200 and stores LOGGED_MODEL_STATUS_UNSPECIFIED for any unknown value
            assert r.status_code == 200
            assert rest.get(url).json()["model"]["info"]["status"] == "LOGGED_MODEL_STATUS_UNSPECIFIED"
            fin("LOGGED_MODEL_PENDING")
        else:
            assert_error(r, 400, "INVALID_PARAMETER_VALUE")
            assert rest.get(url).json()["model"]["info"]["status"] == "LOGGED_MODEL_PENDING"


def test_pyfunc_model_with_code_and_signature(tracking_uri, client, unique, tmp_path):
    """A custom pyfunc model whose class lives in its own code file, with a signature: logged, then loaded back
    from models:/<id> and runs:/ URIs with the code restored and the signature enforced."""
    from mlflow.models import infer_signature

    code = tmp_path / "doubler_impl.py"
    code.write_text(
        "import mlflow.pyfunc\n\n"
        "class Doubler(mlflow.pyfunc.PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        return model_input * 2\n")
    import importlib.util
    spec = importlib.util.spec_from_file_location("doubler_impl", code)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    sig = infer_signature(df, df * 2)
    mlflow.set_experiment(unique)
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(name="doubler", python_model=mod.Doubler(),
                                       signature=sig, code_paths=[str(code)])
    assert info.signature.inputs.input_names() == ["x"]
    lm = client.get_logged_model(info.model_id)
    assert lm.status.to_int() == 2 and lm.source_run_id == run.info.run_id
    files = {f.path for f in client.list_logged_model_artifacts(info.model_id)}
    assert {"MLmodel", "code", "python_model.pkl"} <= files
    for uri in (f"models:/{info.model_id}", f"runs:/{run.info.run_id}/doubler"):
        loaded = mlflow.pyfunc.load_model(uri)
        assert loaded.metadata.signature == sig
        assert loaded.predict(df)["x"].tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(MlflowException):
        mlflow.pyfunc.load_model(f"models:/{info.model_id}").predict(pd.DataFrame({"y": ["a"]}))


def test_search_bad_filters(rest, exp, is_reference):
    def search(f):
        return rest.post("/api/2.0/mlflow/logged-models/search", {"experiment_ids": [exp], "filter": f})

    for f, msg in (("params.x > 1", "Invalid comparison operator for params.x: '>'"),
                   ("metrics.acc LIKE 'a'", "Invalid comparison operator for metrics.acc: 'LIKE'"),
                   ("datasets.name = 'x'", "Invalid entity type: 'datasets'"),
                   ("name =", "Invalid filter string: 'name ='"),
                   ("name = 'a' or name = 'b'", "Invalid filter string: \"name = 'a' or name = 'b'\""),
                   ("name ~ 'a'", None)):
        r = assert_error(search(f), 400, "INVALID_PARAMETER_VALUE")
        if msg:
            assert msg in r["message"], (f, r)
    for f in ("status = 'READY'", "tags.t LIKE 'a%'", "model_type IN ('a')", "params.x = 1", "name ILIKE 'a%'",
              "source_run_id = 'x'", "last_updated_timestamp >= 0", "metrics.acc > 1 and"):
        assert search(f).status_code == 200, f
    for f in ("foo = 1", "metrics.acc = 'x'", "creation_timestamp > 'x'"):
        r = search(f)
        if is_reference:
            assert r.status_code == 500  # deviation: the reference fails with INTERNAL_ERROR (AttributeError, float())
        else:
            assert_error(r, 400, "INVALID_PARAMETER_VALUE")


def test_search_datasets_ajax(client, rest, unique):
    """The UI's dataset list: distinct (experiment, name, digest, context) of the datasets runs used."""
    from mlflow.entities import Dataset, DatasetInput, InputTag

    e1 = client.create_experiment(unique + "-a")
    e2 = client.create_experiment(unique + "-b")
    train = Dataset(name="train", digest="d1", source_type="local", source="{}")
    ev = Dataset(name="eval", digest="d2", source_type="local", source="{}")
    ctx = lambda c: [InputTag("mlflow.data.context", c)]  # noqa: E731
    r1, r2, r3 = client.create_run(e1), client.create_run(e1), client.create_run(e2)
    client.log_inputs(r1.info.run_id, [DatasetInput(train, ctx("training")), DatasetInput(ev, ctx("eval"))])
    client.log_inputs(r2.info.run_id, [DatasetInput(train, ctx("training"))])
    client.log_inputs(r3.info.run_id, [DatasetInput(ev, [])])
    url = "/ajax-api/2.0/mlflow/experiments/search-datasets"
    got = rest.post(url, {"experiment_ids": [e1, e2]})
    assert got.status_code == 200
    rows = sorted((d["experiment_id"], d["name"], d["digest"], d.get("context"))
                  for d in got.json()["dataset_summaries"])
    assert rows == sorted([(e1, "train", "d1", "training"), (e1, "eval", "d2", "eval"), (e2, "eval", "d2", None)])
    empty = client.create_experiment(unique + "-c")
    assert rest.post(url, {"experiment_ids": [empty]}).json() == {}
    assert_error(rest.post(url, {"experiment_ids": []}), 400, "INVALID_PARAMETER_VALUE",
                 "SearchDatasets request must specify at least one experiment_id.")
    assert_error(rest.post(url, {"experiment_ids": [str(i) for i in range(21)]}), 400, "INVALID_PARAMETER_VALUE",
                 "cannot specify more than 20 experiment_ids")
    assert_error(rest.post(url, {"experiment_ids": ["abc"]}), 400, "INVALID_PARAMETER_VALUE")
