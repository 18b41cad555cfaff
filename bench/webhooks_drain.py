# SPDX-License-Identifier: Apache-2.0
"""Webhook drain rate (issue 9): a burst of registry changes must not slow the API (writes only append to the
outbox) and deliveries must drain at >= 1,000/s to a fast local receiver.

Starts a release mltrackd on a fresh directory (loopback allowed) and a minimal keep-alive HTTP receiver in its
own process (raw sockets, one thread per connection, answers 200 at once; a separate process so it never competes
with the load generator for a GIL). The burst is wrk (bench/lua/set_tag.lua: model-versions/set-tag, one
model_version_tag.set event per request, --clients connections, --seconds long), first on a model without
webhooks, then with --webhooks MLflow webhooks subscribed. Reports wrk's throughput and latency for both cells,
server CPU per change, the time from the first change to the last delivery, and the rate at which deliveries drain
(during the burst and of the backlog after it). Not run by CI; needs wrk (Debian package).

    .venv/bin/python bench/webhooks_drain.py [--seconds 5] [--webhooks 1] [--clients 8] [--binary build/mltrackd]
"""
import argparse
import json
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
API = "/api/2.0/mlflow"


def receiver_main(port_q, count, last):
    """Runs in its own process: accepts keep-alive connections and answers every request 200 at once. Niced: a real
    receiver runs on another machine, here it shares the two cores with the server and the load generator."""
    os.nice(10)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port_q.put(sock.getsockname()[1])

    def serve(c):
        buf = b""
        with c:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                n = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        n = int(line.split(b":")[1])
                while len(buf) < n:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                buf = buf[n:]
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                with count.get_lock():
                    count.value += 1
                    last.value = time.time()

    while True:
        c, _ = sock.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_s(pid):
    """CPU seconds per thread name of process pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def burst(base, model, seconds, clients, seed):
    """One wrk cell of set-tag calls; returns wrk's BENCHJSON summary."""
    env = dict(os.environ, BENCH_LUA=os.path.join(HERE, "lua"), BENCH_MODEL=model, BENCH_SEED=str(seed),
               BENCH_THREADS="2")
    p = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s",
                        "-s", os.path.join(HERE, "lua", "set_tag.lua"), base],
                       env=env, capture_output=True, text=True, check=True)
    line = next(ln for ln in p.stdout.splitlines() if ln.startswith("BENCHJSON "))
    r = json.loads(line[len("BENCHJSON "):])
    if r["status"] or r["connect"] or r["read"] or r["write"] or r["timeout"]:
        raise SystemExit(f"wrk saw errors: {r}")
    return r


def show(label, r, cpu):
    secs = r["duration_us"] / 1e6
    print(f"{label}: {r['requests']} changes in {secs:.1f} s = {r['requests'] / secs:.0f}/s, p50 "
          f"{r['p50_us'] / 1000:.2f} ms, p99 {r['p99_us'] / 1000:.2f} ms, server CPU {cpu * 1e6 / r['requests']:.0f}"
          f" us per change")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5, help="length of each wrk burst")
    ap.add_argument("--webhooks", type=int, default=1)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "build", "mltrackd"))
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="mt_wh_bench_")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, MLFLOW_WEBHOOK_ALLOWED_SCHEMES="http,https", MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS="true")
    proc = subprocess.Popen([a.binary, "--quiet", "--port", str(port), "--backend-store-uri",
                             f"sqlite:///{d}/db.sqlite", "--artifacts-destination", f"{d}/a"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    count, last, port_q = mp.Value("q", 0), mp.Value("d", 0.0), mp.Queue()
    rec = mp.Process(target=receiver_main, args=(port_q, count, last), daemon=True)
    rec.start()
    rport = port_q.get(timeout=10)
    try:
        for _ in range(100):
            try:
                if requests.get(base + "/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.05)
        for name in ("plain", "hooked"):
            requests.post(f"{base}{API}/registered-models/create", json={"name": name}).raise_for_status()
            requests.post(f"{base}{API}/model-versions/create",
                          json={"name": name, "source": "s3://b/m"}).raise_for_status()
        c0 = cpu_s(proc.pid)
        r = burst(base, "plain", a.seconds, a.clients, 0)
        show("API set-tag without webhooks", r, cpu_s(proc.pid) - c0)
        for i in range(a.webhooks):
            requests.post(f"{base}{API}/webhooks", json={
                "name": f"bench-{i}", "url": f"http://127.0.0.1:{rport}/h",
                "events": [{"entity": "model_version_tag", "action": "set"}], "secret": "bench"}).raise_for_status()
        t0, c0, th0 = time.time(), cpu_s(proc.pid), thread_cpu_s(proc.pid)
        r = burst(base, "hooked", a.seconds, a.clients, 10_000_000)
        t_end, at_end = time.time(), count.value
        show(f"API set-tag with {a.webhooks} webhook(s)", r, cpu_s(proc.pid) - c0)
        th1 = thread_cpu_s(proc.pid)
        print("  server CPU during that burst by thread: " + ", ".join(
            f"{k} {th1[k] - th0.get(k, 0):.2f} s" for k in sorted(th1) if th1[k] - th0.get(k, 0) > 0))
        want = r["requests"] * a.webhooks
        deadline = time.time() + 600
        while count.value < want and time.time() < deadline:
            time.sleep(0.02)
        total = last.value - t0
        print(f"delivered {count.value}/{want} in {total:.2f} s from the first change: {count.value / total:.0f} "
              f"deliveries/s overall; {at_end} ({at_end / (t_end - t0):.0f}/s) while the burst ran")
        if count.value > at_end and last.value > t_end:
            print(f"after the burst: {count.value - at_end} drained in {last.value - t_end:.2f} s: "
                  f"{(count.value - at_end) / (last.value - t_end):.0f} deliveries/s")
        return 0 if count.value == want else 1
    finally:
        proc.terminate()
        proc.wait()
        rec.terminate()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
