# SPDX-License-Identifier: Apache-2.0
# The benchmark driver behind bench/run.sh: starts each server on a fresh SQLite copy, loads the same data over REST,
# runs wrk cells interleaved (A B C, B C A, ...) and writes bench/results/<date>.md; it never installs or builds.
"""mltrackd vs `mlflow server` vs FastTrackML, side by side on one machine (issue 6).

Every number in the output comes from this run: wrk (bench/lua/*.lua) for the measured load, /proc for memory and
CPU, the file system for database size. Failures are never counted as fast: wrk's non-2xx and socket errors are
shown per cell and the throughput column counts 2xx replies only. An endpoint that answers 501 is reported as
"not implemented"; an operation a peer lacks (FastTrackML: artifact proxy, bulk-interval) as "unsupported".
"""
import argparse
import datetime
import hashlib
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LUA = os.path.join(HERE, "lua")
PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024
API = "/api/2.0/mlflow"
ART = "/api/2.0/mlflow-artifacts/artifacts"

SCALES = {
    "full": dict(search_runs=10000, search_metrics=20, search_params=10, experiments=1000, history_points=100000,
                 bulk_runs=100, bulk_steps=1000, write_runs=64, duration=3, slow_duration=8, big_duration=15, reps=2,
                 conc=[1, 16, 64], big_conc=[1, 16], small_art=1 * MIB, big_art=256 * MIB,
                 e2e_metrics=100, e2e_steps=1000, load_threads=16),
    "smoke": dict(search_runs=100, search_metrics=20, search_params=10, experiments=50, history_points=2000,
                  bulk_runs=10, bulk_steps=100, write_runs=16, duration=1, slow_duration=1, big_duration=1, reps=1,
                  conc=[16], big_conc=[], small_art=1 * MIB, big_art=0,
                  e2e_metrics=10, e2e_steps=20, load_threads=8),
}

_started = []  # every Popen we made, killed on exit whatever happens


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class NotImplementedYet(Exception):
    """The server answered 501: the endpoint exists in its route table but has no handler yet."""


class Unsupported(Exception):
    """The server does not have this endpoint at all (404 ENDPOINT_NOT_FOUND or known missing)."""


# ---------------------------------------------------------------------------------------------------------------
# /proc helpers: process trees, RSS, CPU
# ---------------------------------------------------------------------------------------------------------------

def proc_tree(root):
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            ppid = int(s[s.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def tree_rss(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            pass
    return total


def tree_hwm(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            pass
    return total


def tree_cpu(pids):
    ticks = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
            fields = s[s.rindex(")") + 2:].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Samples the server tree's summed RSS at 10 Hz while a cell runs (VmHWM only ever grows, so per-cell peaks
    need sampling); the tree is re-read every second so uvicorn workers are included."""

    def __init__(self, root):
        self.root, self.peak, self._stop = root, 0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        pids, last = proc_tree(self.root), time.time()
        while not self._stop.is_set():
            if time.time() - last > 1:
                pids, last = proc_tree(self.root), time.time()
            self.peak = max(self.peak, tree_rss(pids))
            self._stop.wait(0.1)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *a):
        self._stop.set()
        self._t.join()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health_ok(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", "/health")
        ok = c.getresponse().status == 200
        c.close()
        return ok
    except OSError:
        return False


def dir_size(path, names):
    total = 0
    for n in names:
        for suffix in ("", "-wal", "-journal"):
            p = os.path.join(path, n + suffix)
            if os.path.exists(p):
                total += os.path.getsize(p)
    return total


# ---------------------------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------------------------

class Server:
    """One server configuration. `family` names the data snapshot it shares (mlflow at 2 and 4 workers share one)."""
    unsupported = {}  # feature -> reason

    def __init__(self, name, family):
        self.name, self.family = name, family
        self.proc, self.port, self.dir = None, None, None

    def command(self):
        raise NotImplementedError

    def env(self):
        return dict(os.environ)

    def start(self, data_dir, timeout=180):
        """Starts on data_dir; returns seconds from exec to the first 200 on /health."""
        self.dir, self.port = data_dir, free_port()
        os.makedirs(data_dir, exist_ok=True)
        logf = open(os.path.join(data_dir, "server.log"), "ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.command(), cwd=data_dir, stdout=logf, stderr=subprocess.STDOUT,
                                     env=self.env(), start_new_session=True)
        _started.append(self.proc)
        logf.close()
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.log_tail()}")
            if health_ok(self.port):
                return time.perf_counter() - t0
            time.sleep(0.005)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer /health within {timeout} s: {self.log_tail()}")

    def log_tail(self, n=1500):
        try:
            with open(os.path.join(self.dir, "server.log"), "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def pids(self):
        return proc_tree(self.proc.pid) if self.alive() else []

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # uvicorn workers share the session; make sure none outlive the parent
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc = None

    def settle(self, limit=120):
        """Waits until the server is idle (< 5% of a core over 0.3 s): wrk leaves abandoned requests running."""
        t0 = time.time()
        while time.time() - t0 < limit and self.alive():
            pids = self.pids()
            a = tree_cpu(pids)
            time.sleep(0.3)
            if (tree_cpu(pids) - a) / 0.3 < 0.05:
                return time.time() - t0
        return time.time() - t0


class Mltrackd(Server):
    db_files = ["db.sqlite"]

    def __init__(self, binary):
        super().__init__("mltrackd", "mltrackd")
        self.binary = binary

    def command(self):
        return [self.binary, "--host", "127.0.0.1", "--port", str(self.port),
                "--backend-store-uri", f"sqlite:///{os.path.join(self.dir, 'db.sqlite')}",
                "--artifacts-destination", os.path.join(self.dir, "artifacts"), "--quiet"]

    def version(self):
        try:
            return subprocess.run([self.binary, "--version"], capture_output=True, text=True,
                                  timeout=10).stdout.strip() or "?"
        except (OSError, subprocess.TimeoutExpired):
            return "?"


class MlflowServer(Server):
    db_files = ["mlflow.db"]

    def __init__(self, venv, workers):
        super().__init__(f"mlflow ({workers} workers)", "mlflow")
        self.venv, self.workers = venv, workers

    def command(self):
        return [os.path.join(self.venv, "bin", "mlflow"), "server", "--host", "127.0.0.1", "--port", str(self.port),
                "--backend-store-uri", f"sqlite:///{os.path.join(self.dir, 'mlflow.db')}",
                "--artifacts-destination", os.path.join(self.dir, "artifacts"), "--workers", str(self.workers),
                "--uvicorn-opts", "--no-access-log --log-level warning"]

    def env(self):
        e = dict(os.environ)
        e["MLFLOW_DISABLE_TELEMETRY"] = "true"
        return e

    def version(self):
        py = os.path.join(self.venv, "bin", "python")
        return subprocess.run([py, "-c", "import mlflow; print(mlflow.__version__)"], capture_output=True,
                              text=True, env=self.env()).stdout.strip()


class FastTrackML(Server):
    db_files = ["fml.db"]
    unsupported = {"artifacts": "no mlflow-artifacts proxy", "bulk-interval": "no get-history-bulk-interval"}

    def __init__(self, fml):
        super().__init__("FastTrackML", "fasttrackml")
        self.fml = fml

    def command(self):
        return [self.fml, "server", "-a", f"127.0.0.1:{self.port}", "-d", "sqlite://fml.db",
                "--default-artifact-root", "./artifacts", "-l", "warn"]

    def version(self):
        out = subprocess.run([self.fml, "--version"], capture_output=True, text=True).stdout.strip()
        return out.replace("FastTrackML version ", "")


# ---------------------------------------------------------------------------------------------------------------
# REST client for loading and probing (not measured)
# ---------------------------------------------------------------------------------------------------------------

class Rest:
    def __init__(self, base):
        self.base, self._local = base, threading.local()

    def _session(self):
        s = getattr(self._local, "s", None)
        if s is None:
            s = self._local.s = requests.Session()
        return s

    def call(self, method, path, body=None, params=None, data=None, retries=10, timeout=300):
        delay = 0.05
        for attempt in range(retries + 1):
            try:
                r = self._session().request(method, self.base + path, json=body, params=params, data=data,
                                            timeout=timeout)
            except requests.RequestException as e:
                if attempt == retries:
                    raise RuntimeError(f"{method} {path}: {e}") from e
                time.sleep(delay)
                delay = min(delay * 2, 2)
                continue
            if r.status_code == 501:
                raise NotImplementedYet(f"{path} answered 501")
            if r.status_code == 404 and "ENDPOINT_NOT_FOUND" in r.text[:300]:
                raise Unsupported(f"{path} answered 404 ENDPOINT_NOT_FOUND")
            if r.status_code in (429, 500, 502, 503, 504) and attempt < retries:
                time.sleep(delay)  # mlflow on SQLite: "database is locked" under concurrent writes
                delay = min(delay * 2, 2)
                continue
            if r.status_code // 100 != 2:
                raise RuntimeError(f"{method} {path} -> {r.status_code}: {r.text[:300]}")
            ctype = r.headers.get("Content-Type", "")
            return r.json() if "json" in ctype and r.content else r.content
        raise RuntimeError("unreachable")


def pmap(fn, items, threads):
    with ThreadPoolExecutor(threads) as ex:
        return list(ex.map(fn, items))


def metric_value(run_index, key_index):
    return round(random.Random(run_index * 1000 + key_index).random(), 6)


class Dataset:
    """Loads the same data into one server over REST and records the ids the operations need. Each part that hits
    an unimplemented endpoint is recorded as missing with the reason instead of failing the run."""

    def __init__(self, rest, sc, workdir):
        self.rest, self.sc, self.workdir = rest, sc, workdir
        self.ids, self.missing, self.timings, self.checks = {}, {}, {}, {}

    def part(self, name, fn):
        t0 = time.time()
        try:
            fn()
            self.timings[name] = round(time.time() - t0, 1)
            log(f"  loaded {name} in {self.timings[name]} s")
        except NotImplementedYet as e:
            self.missing[name] = f"not implemented ({e})"
            log(f"  {name}: not implemented ({e})")
        except Unsupported as e:
            self.missing[name] = f"unsupported ({e})"
            log(f"  {name}: unsupported ({e})")

    def experiment(self, name):
        return self.rest.call("POST", API + "/experiments/create", {"name": name})["experiment_id"]

    def create_run(self, exp, name, start=1700000000000):
        r = self.rest.call("POST", API + "/runs/create", {"experiment_id": exp, "run_name": name, "start_time": start})
        return r["run"]["info"]["run_id"]

    def load(self, features_unsupported):
        sc, t = self.sc, self.sc["load_threads"]

        def experiments():
            names = [f"bench-exp-{i:04d}" for i in range(sc["experiments"])]
            pmap(lambda n: self.rest.call("POST", API + "/experiments/create",
                                          {"name": n, "tags": [{"key": "team", "value": f"t{int(n[-4:]) % 4}"}]}),
                 names, t)
            self.ids["experiments"] = len(names)

        def write_exp():
            self.ids["write_exp"] = self.experiment("bench-write")
            self.ids["probe_exp"] = self.experiment("bench-probe")

        def write_runs():
            exp = self.ids["write_exp"]
            runs = pmap(lambda i: self.create_run(exp, f"writer-{i}"), range(sc["write_runs"]), t)
            path = os.path.join(self.workdir, "write_runs.txt")
            with open(path, "w") as f:
                f.write("\n".join(runs) + "\n")
            self.ids["write_runs_file"] = path

        def search():
            exp = self.experiment("bench-search")
            self.ids["search_exp"] = exp

            def one(i):
                run = self.create_run(exp, f"search-{i:05d}", 1700000000000 + i)
                metrics = [{"key": f"m{k:02d}", "value": metric_value(i, k), "timestamp": 1700000000000 + i,
                            "step": 0} for k in range(sc["search_metrics"])]
                params = [{"key": f"p{k:02d}", "value": f"v{(i + k) % 4}"} for k in range(sc["search_params"])]
                tags = [{"key": "shard", "value": str(i % 10)}]
                self.rest.call("POST", API + "/runs/log-batch",
                               {"run_id": run, "metrics": metrics, "params": params, "tags": tags})
            pmap(one, range(sc["search_runs"]), t)

        def history():
            exp = self.experiment("bench-hist")
            run = self.create_run(exp, "history")
            self.ids["history_run"] = run
            n = sc["history_points"]

            def batch(start):
                ms = [{"key": "big", "value": ((s * 2654435761) % 1000003) / 1000003.0, "timestamp": 1700000000000 + s,
                       "step": s} for s in range(start, min(start + 1000, n))]
                self.rest.call("POST", API + "/runs/log-batch", {"run_id": run, "metrics": ms})
            pmap(batch, range(0, n, 1000), t)

        def bulk():
            if "bulk-interval" in features_unsupported:
                raise Unsupported("get-history-bulk-interval")
            exp = self.experiment("bench-bulk")
            runs = pmap(lambda i: self.create_run(exp, f"bulk-{i:03d}"), range(sc["bulk_runs"]), t)
            self.ids["bulk_runs"] = runs
            steps = sc["bulk_steps"]

            def batch(job):
                run, start = job
                ms = [{"key": "loss", "value": 1.0 / (1 + s), "timestamp": 1700000000000 + s, "step": s}
                      for s in range(start, min(start + 1000, steps))]
                self.rest.call("POST", API + "/runs/log-batch", {"run_id": run, "metrics": ms})
            pmap(batch, [(r, s) for r in runs for s in range(0, steps, 1000)], t)

        def artifacts():
            if "artifacts" in features_unsupported:
                raise Unsupported("mlflow-artifacts proxy")
            for label, size in (("small", sc["small_art"]), ("big", sc["big_art"])):
                if not size:
                    continue
                path = f"bench/dl/{label}.bin"
                self.rest.call("PUT", f"{ART}/{path}", data=_blob_stream(size), retries=2)
                self.ids[f"art_{label}"] = path

        self.part("experiments", experiments)
        self.part("write-experiment", write_exp)
        if "write-experiment" not in self.missing:
            self.part("write", write_runs)
        self.part("search", search)
        self.part("history", history)
        self.part("bulk", bulk)
        self.part("artifacts", artifacts)
        self.verify()

    def verify(self):
        """Fingerprints of what the reads return, compared across servers in the report (a fast wrong answer must
        not win)."""
        sc = self.sc
        try:
            if "history_run" in self.ids:
                r = self.rest.call("GET", API + "/metrics/get-history",
                                   params={"run_id": self.ids["history_run"], "metric_key": "big"})
                pts = r.get("metrics", [])
                self.checks["get-history points"] = f"{len(pts)} of {sc['history_points']}" + \
                    (" (paginated)" if r.get("next_page_token") else "")
            if "search_exp" in self.ids:
                r = self.rest.call("POST", API + "/runs/search", {
                    "experiment_ids": [self.ids["search_exp"]], "max_results": 100,
                    "filter": "metrics.m01 > 0.5 and params.p03 = 'v1'", "order_by": ["metrics.m02 DESC"]})
                vals = []
                for run in r.get("runs", []):
                    for m in run["data"].get("metrics", []):
                        if m["key"] == "m02":
                            vals.append(round(m["value"], 6))
                self.checks["search-runs page"] = f"{len(vals)} rows, m02 fingerprint " + \
                    hashlib.sha1(json.dumps(vals).encode()).hexdigest()[:10]
            if "bulk_runs" in self.ids:
                q = [("run_ids", r) for r in self.ids["bulk_runs"]] + [("metric_key", "loss"), ("max_results", "320")]
                r = self.rest.call("GET", API + "/metrics/get-history-bulk-interval?" + urllib.parse.urlencode(q))
                self.checks["bulk-interval points"] = str(len(r.get("metrics", [])))
        except (NotImplementedYet, Unsupported, RuntimeError) as e:
            self.checks["verify"] = f"incomplete: {str(e)[:120]}"


def _blob_stream(size, chunk=MIB):
    block = (b"0123456789abcdef" * (chunk // 16 + 1))[:chunk]
    left = size
    while left > 0:
        n = min(chunk, left)
        yield block[:n]
        left -= n


# ---------------------------------------------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------------------------------------------

class Op:
    def __init__(self, key, title, script, needs, env, points=0, slow=False, feature=None, big=False, probe=None,
                 extra=False, conc=None):
        self.key, self.title, self.script, self.needs, self.extra = key, title, script, needs, extra
        self.conc = conc  # a fixed client count (the paced cell), else the scale's
        self.env, self.points, self.slow, self.feature, self.big, self.probe = env, points, slow, feature, big, probe


def _lb_probe(n_metrics=0, n_params=0):
    def probe(ids, seq):
        run = open(ids["write_runs_file"]).readline().strip()
        body = {"run_id": run}
        if n_metrics:
            body["metrics"] = [{"key": f"m{i:04d}", "value": 0.5, "timestamp": 1700000000000 + seq, "step": seq}
                               for i in range(n_metrics)]
        else:
            body["params"] = [{"key": f"p{seq}_{j}", "value": f"v{j}"} for j in range(1, n_params + 1)]
        return "POST", API + "/runs/log-batch", body
    return probe


def operations(sc):
    def hist_path(ids):
        return API + "/metrics/get-history?" + urllib.parse.urlencode(
            {"run_id": ids["history_run"], "metric_key": "big"})

    def bulk_path(ids):
        q = [("run_ids", r) for r in ids["bulk_runs"]] + [("metric_key", "loss"), ("max_results", "320")]
        return API + "/metrics/get-history-bulk-interval?" + urllib.parse.urlencode(q)

    se_body = {"max_results": 100, "filter": "name LIKE 'bench-exp-%'", "order_by": ["name DESC"]}
    sr_body = {"max_results": 100, "filter": "metrics.m01 > 0.5 and params.p03 = 'v1'",
               "order_by": ["metrics.m02 DESC"]}
    ops = [
        Op("health", "GET /health (HTTP floor)", "static.lua", "write-experiment", lambda ids: {"BENCH_PATH": "/health"},
           probe=lambda ids, seq: ("GET", "/health", None), extra=True),
        Op("get-experiment", "experiments/get", "static.lua", "write-experiment",
           lambda ids: {"BENCH_PATH": API + "/experiments/get?experiment_id=" + ids["write_exp"]},
           probe=lambda ids, seq: ("GET", API + "/experiments/get?experiment_id=" + ids["write_exp"], None),
           extra=True),
        Op("create-experiment", "experiments/create (distinct names)", "create_experiment.lua", "write-experiment",
           lambda ids: {}, probe=lambda ids, seq: ("POST", API + "/experiments/create", {"name": f"probe-{seq}"}),
           extra=True),
        Op("create-run", "create-run (2 tags)", "create_run.lua", "write-experiment",
           lambda ids: {"BENCH_EXP_ID": ids["write_exp"]},
           probe=lambda ids, seq: ("POST", API + "/runs/create",
                                   {"experiment_id": ids["write_exp"], "run_name": f"probe{seq}"})),
    ]
    for n in (10, 100, 1000):
        ops.append(Op(f"log-batch-{n}", f"log-batch, {n} metrics", "log_batch.lua", "write",
                      lambda ids, n=n: {"BENCH_RUNS_FILE": ids["write_runs_file"], "BENCH_METRICS": str(n)},
                      points=n, probe=_lb_probe(n_metrics=n)))
    if sc.get("paced_rate"):
        rate = sc["paced_rate"]
        ops.append(Op("log-batch-100-paced", f"log-batch, 100 metrics, 64 clients pacing themselves to {rate:,} req/s "
                      "offered in all (exponential think time)", "log_batch.lua", "write",
                      lambda ids, rate=rate: {"BENCH_RUNS_FILE": ids["write_runs_file"], "BENCH_METRICS": "100",
                                              "BENCH_RATE": str(rate), "BENCH_CONNS": "64"},
                      points=100, probe=_lb_probe(n_metrics=100), conc=[64]))
    for n in (10, 100):
        ops.append(Op(f"log-params-{n}", f"log-batch, {n} params", "log_batch.lua", "write",
                      lambda ids, n=n: {"BENCH_RUNS_FILE": ids["write_runs_file"], "BENCH_PARAMS": str(n)},
                      probe=_lb_probe(n_params=n)))
    ops += [
        Op("get-history", f"get-history of one {sc['history_points']:,}-point metric", "static.lua", "history",
           lambda ids: {"BENCH_PATH": hist_path(ids)}, slow=True,
           probe=lambda ids, seq: ("GET", hist_path(ids), None)),
        Op("bulk-interval", f"get-history-bulk-interval over {sc['bulk_runs']} runs x {sc['bulk_steps']:,} steps "
           "(max_results 320)", "static.lua", "bulk", lambda ids: {"BENCH_PATH": bulk_path(ids)}, slow=True,
           feature="bulk-interval", probe=lambda ids, seq: ("GET", bulk_path(ids), None)),
        Op("search-runs", f"search-runs over {sc['search_runs']:,} runs ({sc['search_metrics']} metrics, "
           f"{sc['search_params']} params each): metric + param filter, order by a metric, 100 rows",
           "search_runs.lua", "search", lambda ids: {"BENCH_EXP_ID": ids["search_exp"]}, slow=True,
           probe=lambda ids, seq: ("POST", API + "/runs/search", dict(sr_body, experiment_ids=[ids["search_exp"]]))),
        Op("search-experiments", f"search-experiments over {sc['experiments']:,} experiments "
           "(name LIKE filter, order by name, 100 rows)", "static.lua", "experiments",
           lambda ids: {"BENCH_METHOD": "POST", "BENCH_BODY": json.dumps(se_body)},
           probe=lambda ids, seq: ("POST", API + "/experiments/search", se_body)),
    ]
    for label, size, big in (("small", sc["small_art"], False), ("big", sc["big_art"], True)):
        if not size:
            continue
        mib = f"{size // MIB} MiB"
        ops.append(Op(f"artifact-upload-{mib.replace(' ', '')}", f"artifact upload, {mib} (PUT mlflow-artifacts)",
                      "artifact_upload.lua", "artifacts",
                      lambda ids, size=size: {"BENCH_SIZE": str(size), "BENCH_SLOTS": "4" if size > 8 * MIB else "16",
                                              "BENCH_PATH_PREFIX": ART + "/bench/up"},
                      slow=big, feature="artifacts", big=big,
                      probe=lambda ids, seq, size=size: ("PUT", f"{ART}/bench/probe/{seq}.bin", _blob_stream(size))))
        ops.append(Op(f"artifact-download-{mib.replace(' ', '')}", f"artifact download, {mib}",
                      "static.lua", "artifacts",
                      lambda ids, label=label: {"BENCH_PATH": f"{ART}/{ids['art_' + label]}"},
                      slow=big, feature="artifacts", big=big,
                      probe=lambda ids, seq, label=label: ("GET", f"{ART}/{ids['art_' + label]}", None)))
    return ops


def extra_conc(sc):
    return 16 if 16 in sc["conc"] else sc["conc"][len(sc["conc"]) // 2]


def probe(server, op, ids, seq):
    """One request like the wrk script's, before any measuring: decides measured / not implemented / unsupported /
    broken for this server and operation."""
    method, path, body = op.probe(ids, seq)
    try:
        kw = {"data": body} if method == "PUT" else {"json": body}
        r = requests.request(method, server.url + path, timeout=600, stream=True, **kw)
        size, head = 0, b""
        for chunk in r.iter_content(MIB):
            size += len(chunk)
            if len(head) < 300:
                head += chunk[:300]
            if r.status_code // 100 != 2 and size > 4096:
                break
        r.close()
        text = head[:300].decode("utf-8", "replace") if r.status_code // 100 != 2 else ""
    except requests.RequestException as e:
        return "error", f"probe failed: {e}"[:200]
    if r.status_code == 501:
        return "not implemented", "501"
    if r.status_code == 404 and "ENDPOINT_NOT_FOUND" in text:
        return "unsupported", "404 ENDPOINT_NOT_FOUND"
    if r.status_code // 100 != 2:
        return "error", f"{r.status_code}: {text[:160]}"
    return "ok", f"{size} bytes"


def run_wrk(server, op, ids, conc, duration, seed, wrk_threads):
    env = dict(os.environ)
    env.update({"BENCH_LUA": LUA, "BENCH_SEED": str(seed), "BENCH_API": API})
    extra = op.env(ids)
    if "BENCH_BODY" in extra:  # static.lua reads bodies from a file
        path = os.path.join(server.dir, f"body-{op.key}.json")
        with open(path, "w") as f:
            f.write(extra.pop("BENCH_BODY"))
        extra["BENCH_BODY_FILE"] = path
        extra.setdefault("BENCH_PATH", API + "/experiments/search")
    env.update(extra)
    threads = max(1, min(wrk_threads, conc))
    env["BENCH_THREADS"] = str(threads)
    cmd = ["wrk", "-t", str(threads), "-c", str(conc), "-d", f"{max(1, round(duration))}s", "--timeout", "120s",
           "-s", os.path.join(LUA, op.script), server.url]
    pids = server.pids()
    cpu0 = tree_cpu(pids)
    with RssSampler(server.proc.pid) as rs:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 300)
    cpu = tree_cpu(server.pids()) - cpu0
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if line is None:
        return {"state": "error", "why": f"wrk failed: {(p.stderr or p.stdout)[-300:]}"}
    r = json.loads(line[len("BENCHJSON "):])
    dur = r["duration_us"] / 1e6
    errors = r["status"] + r["timeout"] + r["read"] + r["write"] + r["connect"]
    ok = max(0, r["requests"] - r["status"])
    r.update({"state": "ok", "ok_rps": ok / dur if dur else 0.0, "errors": errors, "ok": ok, "seconds": dur,
              "peak_rss": rs.peak, "cpu_s": cpu, "cpu_ms_per_req": (cpu * 1000 / ok) if ok else None,
              "conc": conc})
    return r


# ---------------------------------------------------------------------------------------------------------------
# E2E Python-client scenario
# ---------------------------------------------------------------------------------------------------------------

def run_e2e(server, sc, tag, python):
    cmd = [python, os.path.join(HERE, "e2e.py"), "--uri", server.url, "--metrics", str(sc["e2e_metrics"]),
           "--steps", str(sc["e2e_steps"]), "--experiment", f"bench-e2e-{tag}"]
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", MLFLOW_HTTP_REQUEST_MAX_RETRIES="0")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, env=env)
    except subprocess.TimeoutExpired:
        return {"state": "error", "why": "timed out after 1200 s"}
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"state": "error", "why": (p.stderr or p.stdout)[-300:]}


# ---------------------------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------------------------

def machine():
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    wrkv = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    return {"cores": os.cpu_count(), "cpu": cpu, "memory": mem, "kernel": platform.release(),
            "os": platform.platform(), "loadavg": os.getloadavg(),
            "wrk": (wrkv.stdout + wrkv.stderr).splitlines()[0] if (wrkv.stdout + wrkv.stderr) else "?"}


def git_commit():
    try:
        c = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        d = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "src", "include"], capture_output=True,
                           text=True)
        return c.stdout.strip() + (" (dirty)" if d.stdout.strip() else "")
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny data, 1 s cells, 16 clients, mltrackd only")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 unless every cell answered (2xx only, no errors), every data set loaded and the "
                         "read checks are complete (what CI runs with --smoke)")
    ap.add_argument("--peers", action="store_true", help="with --smoke: also run mlflow server and FastTrackML")
    ap.add_argument("--servers", default=None,
                    help="comma list of mltrackd,mlflow,fasttrackml (default: all in full mode, mltrackd in smoke)")
    ap.add_argument("--mlflow-workers", default="2", help="comma list, e.g. 2,4 (each is a separate server)")
    ap.add_argument("--ops", default=None, help="comma list of operation keys to run (default all)")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--duration", type=float, default=None, help="seconds per cell")
    ap.add_argument("--slow-duration", type=float, default=None, help="seconds per cell for slow reads/big files")
    ap.add_argument("--conc", default=None, help="comma list of client counts")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply data-set sizes (e.g. 0.1 to try)")
    ap.add_argument("--wrk-threads", type=int, default=1)
    ap.add_argument("--settle-limit", type=float, default=20.0,
                    help="seconds to wait for a server to go idle after a cell before restarting it")
    ap.add_argument("--paced-rate", type=int, default=400,
                    help="offered req/s of the paced log-batch-100 cell at 64 clients (0: no paced cell)")
    ap.add_argument("--no-e2e", action="store_true")
    ap.add_argument("--mltrackd", default=os.path.join(REPO, "build", "mltrackd"))
    ap.add_argument("--mlflow-venv", default=os.path.join(REPO, ".venv"))
    ap.add_argument("--fml", default=os.path.join(HERE, ".venv-ftml", "bin", "fml"))
    ap.add_argument("--workdir", default=os.environ.get("BENCH_WORKDIR", "/tmp/mltrackd-bench"))
    ap.add_argument("--out", default=None, help="results file (default bench/results/<date>.md, or <date>b.md... "
                                                "when it exists; smoke: bench/results/smoke/<date>.md)")
    a = ap.parse_args()

    mode = "smoke" if a.smoke else "full"
    sc = dict(SCALES[mode])
    for k in ("search_runs", "experiments", "history_points", "bulk_runs", "bulk_steps"):
        sc[k] = max(2, int(sc[k] * a.scale))
    sc["paced_rate"] = a.paced_rate
    if a.reps:
        sc["reps"] = a.reps
    if a.duration:
        sc["duration"] = a.duration
    if a.slow_duration:
        sc["slow_duration"] = a.slow_duration
    if a.conc:
        sc["conc"] = [int(x) for x in a.conc.split(",")]
        sc["big_conc"] = [c for c in sc["conc"] if c <= 16] if sc["big_art"] else []
    names = a.servers.split(",") if a.servers else (
        ["mltrackd", "mlflow", "fasttrackml"] if (mode == "full" or a.peers) else ["mltrackd"])

    servers = []
    for n in names:
        if n == "mltrackd":
            servers.append(Mltrackd(a.mltrackd))
        elif n == "mlflow":
            servers += [MlflowServer(a.mlflow_venv, int(w)) for w in a.mlflow_workers.split(",")]
        elif n == "fasttrackml":
            servers.append(FastTrackML(a.fml))
        else:
            sys.exit(f"unknown server {n}")

    ops = operations(sc)
    if a.ops:
        keep = set(a.ops.split(","))
        ops = [o for o in ops if o.key in keep]

    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    started = time.time()
    date = datetime.date.today().isoformat()
    result = {"date": date, "mode": mode, "scale": sc, "machine": machine(), "commit": git_commit(),
              "servers": {}, "load": {}, "cells": [], "order": []}
    for s in servers:
        result["servers"][s.name] = {"version": s.version(), "command": None, "cold_empty": [], "cold_loaded": [],
                                     "idle_rss": [], "peak_rss": [], "db_size": None, "e2e": [],
                                     "unsupported": dict(s.unsupported), "ops": {}}
    log(f"mode {mode}; servers {[s.name for s in servers]}; {len(ops)} operations; reps {sc['reps']}")

    # 1. load each family once on a fresh database, then snapshot it (every rep restores the snapshot)
    snapshots, ids_by_family = {}, {}
    for s in servers:
        if s.family in snapshots:
            continue
        d = os.path.join(a.workdir, f"load-{s.family}")
        log(f"loading {s.family} ({s.name}) in {d}")
        info0 = result["servers"][s.name]
        info0["cold_empty"].append(s.start(d))
        time.sleep(2)
        info0["idle_rss"].append(tree_rss(s.pids()))
        info0["command"] = " ".join(s.command())
        ds = Dataset(Rest(s.url), sc, d)
        t0 = time.time()
        ds.load(s.unsupported)
        if not (mode == "smoke" and sc["reps"] == 1):
            s.stop()  # smoke with one repetition measures on the loading server itself (saves mlflow's restart)
        if s.alive():  # smoke: the server stays up; a WAL checkpoint may still be pending, so size is approximate
            pass
        result["load"][s.family] = {"seconds": round(time.time() - t0, 1), "parts": ds.timings, "missing": ds.missing,
                                    "checks": ds.checks, "db_size": dir_size(d, s.db_files)}
        ids_by_family[s.family] = ds.ids
        snapshots[s.family] = d
        log(f"  load done in {result['load'][s.family]['seconds']} s; checks {ds.checks}")
    for s in servers:
        result["servers"][s.name]["command"] = result["servers"][s.name]["command"] or " ".join(
            s.command() if s.port else [])

    # 2. repetitions, rotating the order: A B C, B C A, C A B
    seed = 1_000_000_000
    status = {}  # (server, op) -> (state, why) decided by the probe in the first rep
    for rep in range(sc["reps"]):
        order = servers[rep % len(servers):] + servers[:rep % len(servers)]
        result["order"].append([s.name for s in order])
        for s in order:
            info = result["servers"][s.name]
            ids = ids_by_family[s.family]
            missing = result["load"][s.family]["missing"]
            # cold start on an empty directory, then idle RSS (the load phase measured it for the loading config)
            if len(info["cold_empty"]) <= rep:
                empty = os.path.join(a.workdir, f"empty-{s.family}-{rep}")
                info["cold_empty"].append(s.start(empty))
                time.sleep(2)
                info["idle_rss"].append(tree_rss(s.pids()))
                s.stop()
                shutil.rmtree(empty, ignore_errors=True)
            # restore the loaded snapshot and measure
            if s.alive():
                d = s.dir
            else:
                d = os.path.join(a.workdir, f"run-{s.family}")
                shutil.rmtree(d, ignore_errors=True)
                shutil.copytree(snapshots[s.family], d)
                for fn in ("server.log",):
                    if os.path.exists(os.path.join(d, fn)):
                        os.remove(os.path.join(d, fn))
                info["cold_loaded"].append(s.start(d))
            s.settle()
            log(f"rep {rep + 1}/{sc['reps']} {s.name}: cold start empty {info['cold_empty'][-1] * 1000:.0f} ms"
                + (f", loaded {info['cold_loaded'][-1] * 1000:.0f} ms" if info["cold_loaded"] else ""))
            for op in ops:
                key = (s.name, op.key)
                if key not in status:
                    if op.feature and op.feature in s.unsupported:
                        status[key] = ("unsupported", s.unsupported[op.feature])
                    elif op.needs in missing:
                        st = "unsupported" if missing[op.needs].startswith("unsupported") else "not implemented"
                        status[key] = (st, f"data set '{op.needs}': {missing[op.needs]}")
                    else:
                        seed += 1_000_000
                        status[key] = probe(s, op, ids, seed)
                    info["ops"][op.key] = {"state": status[key][0], "why": status[key][1]}
                    if status[key][0] != "ok":
                        log(f"  {op.key}: {status[key][0]} ({status[key][1]})")
                if status[key][0] != "ok":
                    continue
                concs = op.conc or (sc["big_conc"] if op.big else ([extra_conc(sc)] if op.extra else sc["conc"]))
                for conc in concs:
                    if not s.alive():
                        log(f"  {s.name} died; restarting on the same data ({s.log_tail(300)})")
                        info.setdefault("crashes", []).append(f"rep {rep + 1} before {op.key} c={conc}")
                        s.start(d)
                    seed += 1_000_000_000
                    dur = sc["big_duration"] if op.big else (sc["slow_duration"] if op.slow else sc["duration"])
                    if op.big and conc > 8:
                        # c clients each moving a 256 MiB file share one disk: one round takes c times one transfer
                        # (16 x 256 MiB ~ 24 s at ~180 MB/s), so a fixed cell would end before the first reply
                        dur *= conc / 8
                    cell = run_wrk(s, op, ids, conc, dur, seed, a.wrk_threads)
                    cell.update({"server": s.name, "op": op.key, "conc": conc, "rep": rep})
                    cell["settle_s"] = round(s.settle(a.settle_limit), 2)
                    if cell["settle_s"] >= a.settle_limit and s.alive():
                        # still busy with requests wrk abandoned: a restart is cheaper than waiting them out
                        log(f"  {s.name} still busy {a.settle_limit:.0f} s after the cell: restarting it")
                        cell["restarted"] = True
                        s.stop()
                        s.start(d)
                        s.settle(a.settle_limit)
                    result["cells"].append(cell)
                    if cell["state"] == "ok":
                        log(f"  {op.key:24s} c={conc:<3d} {cell['ok_rps']:10.1f} req/s  p50 {cell['p50_us'] / 1000:8.2f}"
                            f" ms  p99 {cell['p99_us'] / 1000:8.2f} ms  errors {cell['errors']}")
                    else:
                        log(f"  {op.key} c={conc}: {cell['why']}")
            if not a.no_e2e and rep == 0:
                e = run_e2e(s, sc, f"{rep}-{s.family}", os.path.join(a.mlflow_venv, "bin", "python"))
                info["e2e"].append(e)
                log(f"  e2e: {e}")
            info["peak_rss"].append(tree_hwm(s.pids()))
            s.stop()
            info["db_size_after"] = dir_size(d, s.db_files)
    for s in servers:
        result["servers"][s.name]["db_size"] = result["load"][s.family]["db_size"]
    result["elapsed_s"] = round(time.time() - started)

    out = a.out
    if not out:  # a second run the same day gets <date>b.md, then c, ...: never overwrite a committed result
        base = os.path.join(HERE, "results", "smoke" if mode == "smoke" else "", date)
        out = base + ".md"
        for suffix in "bcdefghijklmnopqrstuvwxyz":
            if not os.path.exists(out):
                break
            out = f"{base}{suffix}.md"
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out[:-3] + ".json" if out.endswith(".md") else out + ".json", "w") as f:
        json.dump(result, f, indent=1, default=str)
    import report
    with open(out, "w") as f:
        f.write(report.render(result, ops, [s.name for s in servers]))
    log(f"wrote {out} ({result['elapsed_s']} s in all)")
    return check(result) if a.check else 0


def check(result):
    """--check: the harness and every measured endpoint work (no speed is judged: CI shares its machine)."""
    bad = [f"{c['server']} {c['op']} c={c['conc']}: state {c.get('state')}, {c.get('errors')} errors, "
           f"{c.get('ok')} 2xx" for c in result["cells"]
           if c.get("state") != "ok" or c.get("errors") or not c.get("ok")]
    for family, ld in result["load"].items():
        if ld.get("missing"):
            bad.append(f"{family}: data sets not loaded: {ld['missing']}")
        chk = ld.get("checks", {})
        if "verify" in chk:
            bad.append(f"{family}: {chk['verify']}")
        hist = chk.get("get-history points", "")
        got, _, want = hist.partition(" of ")
        if not hist or got != want.split(" ")[0]:
            bad.append(f"{family}: get-history points {hist or 'not checked'}")
    for b in bad:
        log(f"CHECK FAILED: {b}")
    if not bad:
        log(f"check: {len(result['cells'])} cells answered, data sets loaded, reads complete")
    return 1 if bad else 0


def _cleanup(*_):
    for p in _started:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


if __name__ == "__main__":
    import atexit
    atexit.register(_cleanup)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *a: sys.exit(130))
    sys.path.insert(0, HERE)
    sys.exit(main())
