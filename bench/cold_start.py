# SPDX-License-Identifier: Apache-2.0
"""Cold start with a large database (issue 6: /health served < 100 ms after exec with an existing 1 GiB database;
idle RSS < 16 MiB).

Fills a fresh mltrackd data directory through the REST API (log-batch of 1,000 points, 8 writers) until the
SQLite file reaches --size-mib, stops the server cleanly, then starts it --reps times and measures exec -> first
200 on /health, and the RSS 2 s after start. Writes bench/results/cold-start-<date>.md. Not run by CI.

    .venv/bin/python bench/cold_start.py [--size-mib 1024] [--reps 5] [--binary build/mltrackd] [--keep DIR]
"""
import argparse
import datetime
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, d, port):
    return subprocess.Popen([binary, "--port", str(port), "--backend-store-uri",
                             f"sqlite:///{os.path.join(d, 'db.sqlite')}", "--artifacts-destination",
                             os.path.join(d, "artifacts"), "--quiet"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def wait_health(port, timeout=30.0):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(0.001)
    raise RuntimeError("no /health")


def stop(p):
    os.killpg(p.pid, signal.SIGTERM)
    p.wait(120)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fill(binary, d, size_mib):
    port = free_port()
    p = start(binary, d, port)
    wait_health(port)
    url = f"http://127.0.0.1:{port}/api/2.0/mlflow"
    s = requests.Session()
    eid = s.post(url + "/experiments/create", json={"name": "cold"}).json()["experiment_id"]
    runs = [s.post(url + "/runs/create", json={"experiment_id": eid}).json()["run"]["info"]["run_id"]
            for _ in range(64)]
    db = os.path.join(d, "db.sqlite")
    step = [0]

    def batch(i):
        ss = requests.Session()
        run = runs[i % len(runs)]
        base = i * 10
        ms = [{"key": f"m{k:03d}", "value": (i * 7919 + k) % 1000 / 997.0, "timestamp": 1700000000000 + base + j,
               "step": base + j} for j in range(10) for k in range(100)]
        r = ss.post(url + "/runs/log-batch", json={"run_id": run, "metrics": ms})
        r.raise_for_status()

    t0 = time.time()
    with ThreadPoolExecutor(8) as ex:
        while True:
            list(ex.map(batch, range(step[0], step[0] + 400)))
            step[0] += 400
            size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.startswith("db.sqlite"))
            print(f"  {size / 2**20:8.0f} MiB after {step[0] * 1000:,} points ({time.time() - t0:.0f} s)", flush=True)
            if size >= size_mib * 2**20:
                break
    stop(p)
    return os.path.getsize(db), step[0] * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "mltrackd"))
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--keep", default=None, help="data directory to reuse (filled if empty) and keep")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    d = a.keep or tempfile.mkdtemp(prefix="mt-cold-")
    os.makedirs(d, exist_ok=True)
    try:
        db = os.path.join(d, "db.sqlite")
        if not os.path.exists(db) or os.path.getsize(db) < a.size_mib * 2**20:
            size, points = fill(a.binary, d, a.size_mib)
        else:
            size, points = os.path.getsize(db), None
        starts, rss = [], []
        for _ in range(a.reps):
            port = free_port()
            t0 = time.perf_counter()
            p = start(a.binary, d, port)
            wait_health(port)
            starts.append((time.perf_counter() - t0) * 1000)
            time.sleep(2)
            rss.append(rss_kib(p.pid) / 1024)
            stop(p)
        date = datetime.date.today().isoformat()
        text = "\n".join([
            f"# Cold start with a {size / 2**20:,.0f} MiB database, {date}", "",
            f"Machine: {os.cpu_count()} cores, {platform.machine()}, load average {os.getloadavg()[0]:.2f}. "
            f"`bench/cold_start.py --size-mib {a.size_mib} --reps {a.reps}`"
            + (f"; the database holds {points:,} metric points logged through log-batch." if points else "."), "",
            "| measure | median | min | max | target |", "|---|---|---|---|---|",
            f"| exec -> first 200 on /health (ms) | {statistics.median(starts):.1f} | {min(starts):.1f} | "
            f"{max(starts):.1f} | < 100 |",
            f"| RSS 2 s after start (MiB) | {statistics.median(rss):.1f} | {min(rss):.1f} | {max(rss):.1f} | < 16 |",
            ""])
        out = a.out or os.path.join(HERE, "results", f"cold-start-{date}.md")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w") as f:
            f.write(text)
        print(text)
        print(f"wrote {out}")
    finally:
        if not a.keep:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
