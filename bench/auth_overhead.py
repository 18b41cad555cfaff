# SPDX-License-Identifier: Apache-2.0
"""What authentication costs on the write path (issue 8: log-batch with auth on within 10% of auth off).

Three configurations: mltrackd without authentication, and with `--app-name basic-auth` where a non-admin user
who owns the experiment authenticates with HTTP Basic (the credential cache makes every request after the first a
hash lookup, not a PBKDF2 run) or with a Bearer token. Every cell starts a fresh server on a fresh directory, creates
64 runs, runs a discarded warm-up half-cell, then measures the same wrk load (bench/lua/log_batch.lua,
BENCH_METRICS metrics per batch, 16 clients); configurations are interleaved in rotated order (A B C, B C A, ...)
and the medians compared.
Writes bench/results/auth-<date>.md. Not run by CI.

    .venv/bin/python bench/auth_overhead.py [--metrics 100] [--duration 5] [--reps 3] [--binary build/mltrackd]
"""
import argparse
import base64
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LUA = os.path.join(HERE, "lua")
ADMIN_PW = "bench-admin-password-1"
USER, USER_PW = "bench-user", "bench-user-password-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class Server:
    def __init__(self, binary, auth):
        self.binary, self.auth = binary, auth
        self.dir = tempfile.mkdtemp(prefix=f"mt-auth-bench-{'on' if auth else 'off'}-")
        self.port = free_port()
        cmd = [binary, "--port", str(self.port), "--backend-store-uri",
               f"sqlite:///{os.path.join(self.dir, 'db.sqlite')}", "--artifacts-destination",
               os.path.join(self.dir, "artifacts"), "--quiet"]
        env = dict(os.environ)
        if auth:
            cmd += ["--app-name", "basic-auth"]
            env["MLFLOW_AUTH_ADMIN_PASSWORD"] = ADMIN_PW
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.02)
        else:
            raise RuntimeError("server did not start")

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


def basic(user, pw):
    return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


def prepare(srv, runs_file):
    """64 runs in an experiment created by the (non-admin) user; returns the header values to measure with."""
    headers = {}
    auths = {"none": None}
    if srv.auth:
        admin = {"Authorization": basic("admin", ADMIN_PW)}
        r = requests.post(srv.url + "/api/2.0/mlflow/users/create", json={"username": USER, "password": USER_PW},
                          headers=admin)
        r.raise_for_status()
        headers = {"Authorization": basic(USER, USER_PW)}
        auths = {"basic": headers["Authorization"]}
        # a token, where the server offers them (issue 8); skipped when the route is not there
        t = requests.post(srv.url + "/api/2.0/mltrackd/tokens/create", json={"username": USER, "name": "bench"},
                          headers=headers)
        if t.status_code == 200:
            tok = t.json().get("token")
            if isinstance(tok, dict):
                tok = tok.get("token") or tok.get("value")
            if isinstance(tok, str):
                auths["bearer"] = "Bearer " + tok
    e = requests.post(srv.url + "/api/2.0/mlflow/experiments/create", json={"name": "auth-bench"}, headers=headers)
    e.raise_for_status()
    eid = e.json()["experiment_id"]
    with open(runs_file, "w") as f:
        for _ in range(64):
            r = requests.post(srv.url + "/api/2.0/mlflow/runs/create", json={"experiment_id": eid}, headers=headers)
            r.raise_for_status()
            f.write(r.json()["run"]["info"]["run_id"] + "\n")
    return auths


def measure(srv, runs_file, auth, metrics, duration, seed):
    env = dict(os.environ, BENCH_LUA=LUA, BENCH_RUNS_FILE=runs_file, BENCH_METRICS=str(metrics),
               BENCH_SEED=str(seed), BENCH_THREADS="1")
    if auth:
        env["BENCH_AUTH"] = auth
    c0 = cpu_ticks(srv.proc.pid)
    p = subprocess.run(["wrk", "-t1", "-c16", f"-d{duration}s", "--timeout", "60s", "-s",
                        os.path.join(LUA, "log_batch.lua"), srv.url], env=env, capture_output=True, text=True)
    ticks = cpu_ticks(srv.proc.pid) - c0
    line = next(ln for ln in p.stdout.splitlines() if ln.startswith("BENCHJSON "))
    r = json.loads(line[len("BENCHJSON "):])
    ok = r["requests"] - r["status"]
    errors = r["status"] + r["timeout"] + r["read"] + r["write"] + r["connect"]
    secs = r["duration_us"] / 1e6
    return {"rps": ok / secs, "p99_ms": r["p99_us"] / 1000, "errors": errors,
            "cpu_ms_per_req": ticks * 1000 / os.sysconf("SC_CLK_TCK") / ok if ok else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "mltrackd"))
    ap.add_argument("--metrics", type=int, default=100)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    work = tempfile.mkdtemp(prefix="mt-auth-bench-")
    # Every cell on a fresh server and database: servers kept across cells grow their databases at different
    # speeds (the auth-on one took the basic and the bearer cells), which slows inserts and biased the comparison.
    names = ["auth off", "auth on (basic)", "auth on (bearer)"]
    results = {name: [] for name in names}
    seed = 1
    try:
        for rep in range(a.reps):
            order = names[rep % len(names):] + names[:rep % len(names)]  # rotated: A B C, B C A, ...
            for name in order:
                srv = Server(a.binary, name != "auth off")
                try:
                    runs = os.path.join(work, "runs.txt")
                    auths = prepare(srv, runs)
                    kind = {"auth off": "none", "auth on (basic)": "basic", "auth on (bearer)": "bearer"}[name]
                    if kind not in auths:
                        results.pop(name, None)
                        continue
                    seed += 1000003
                    measure(srv, runs, auths[kind], a.metrics, max(1, a.duration // 2), seed)  # warm-up, discarded
                    seed += 1000003
                    r = measure(srv, runs, auths[kind], a.metrics, a.duration, seed)
                finally:
                    srv.stop()
                results[name].append(r)
                print(f"rep {rep + 1} {name:18s} {r['rps']:9.1f} req/s  p99 {r['p99_ms']:7.2f} ms  "
                      f"cpu {r['cpu_ms_per_req'] or 0:.3f} ms/req  errors {r['errors']}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = statistics.median(r["rps"] for r in results["auth off"])
    base_cpu = statistics.median(r["cpu_ms_per_req"] for r in results["auth off"])
    date = datetime.date.today().isoformat()
    lines = [f"# Authentication overhead on log-batch ({a.metrics} metrics, 16 clients), {date}", "",
             f"Machine: {os.cpu_count()} cores, {platform.machine()}, load average at the end "
             f"{os.getloadavg()[0]:.2f}. Produced by `bench/auth_overhead.py --metrics {a.metrics} --duration "
             f"{a.duration} --reps {a.reps}`; every cell on a fresh server and database after a discarded warm-up half-cell, configurations in rotated order; medians.", "",
             "| configuration | req/s (median) | vs auth off | server CPU ms/req | vs auth off | p99 ms | errors |",
             "|---|---|---|---|---|---|---|"]
    for name in results:
        rps = statistics.median(r["rps"] for r in results[name])
        cpu = statistics.median(r["cpu_ms_per_req"] for r in results[name])
        p99 = statistics.median(r["p99_ms"] for r in results[name])
        err = sum(r["errors"] for r in results[name])
        lines.append(f"| {name} | {rps:,.0f} | {rps / base:.1%} | {cpu:.3f} | {cpu / base_cpu:.1%} | {p99:.1f} | "
                     f"{err} |")
    text = "\n".join(lines) + "\n"
    out = a.out or os.path.join(HERE, "results", f"auth-{date}.md")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(text)
    print(text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
