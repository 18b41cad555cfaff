# SPDX-License-Identifier: Apache-2.0
"""Webhook drain rate (issue 9): a burst of registry changes must not slow the API (writes only append to the
outbox) and deliveries must drain at >= 1,000/s to a fast local receiver.

Starts a release mltrackd on a fresh directory (loopback allowed), a minimal keep-alive HTTP receiver (raw sockets,
one thread per connection, answers 200 at once), creates --webhooks MLflow webhooks on model_version_tag.set, makes
--changes set-tag calls from --clients threads and reports: API latency with and without webhooks, the time from
the first change to the last delivery, and deliveries per second. Not run by CI.

    .venv/bin/python bench/webhooks_drain.py [--changes 10000] [--webhooks 1] [--clients 8] [--binary build/mltrackd]
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
API = "/api/2.0/mlflow"


class FastReceiver:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.last = 0.0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            c, _ = self.sock.accept()
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
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
                with self.lock:
                    self.count += 1
                    self.last = time.time()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def changes(base, name, n, clients):
    lat = []
    sess = threading.local()

    def one(i):
        s = getattr(sess, "s", None) or requests.Session()
        sess.s = s
        t = time.perf_counter()
        s.post(f"{base}{API}/model-versions/set-tag",
               json={"name": name, "version": "1", "key": f"k{i}", "value": "v"}).raise_for_status()
        return time.perf_counter() - t

    with ThreadPoolExecutor(clients) as ex:
        lat = list(ex.map(one, range(n)))
    lat.sort()
    return statistics.median(lat) * 1000, lat[int(len(lat) * 0.99)] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=10000)
    ap.add_argument("--webhooks", type=int, default=1)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "build", "mltrackd"))
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="mt_wh_bench_")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, MLFLOW_WEBHOOK_ALLOWED_SCHEMES="http,https", MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS="true",
               MLTRACKD_QUIET="1")
    proc = subprocess.Popen([a.binary, "--port", str(port), "--backend-store-uri", f"sqlite:///{d}/db.sqlite",
                             "--artifacts-destination", f"{d}/a"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
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
        p50, p99 = changes(base, "plain", a.changes, a.clients)
        print(f"API set-tag without webhooks: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        rec = FastReceiver()
        for i in range(a.webhooks):
            requests.post(f"{base}{API}/webhooks", json={
                "name": f"bench-{i}", "url": f"http://127.0.0.1:{rec.port}/h",
                "events": [{"entity": "MODEL_VERSION_TAG", "action": "SET"}], "secret": "bench"}).raise_for_status()
        t0 = time.time()
        p50, p99 = changes(base, "hooked", a.changes, a.clients)
        t_api = time.time() - t0
        print(f"API set-tag with {a.webhooks} webhook(s): p50 {p50:.2f} ms, p99 {p99:.2f} ms "
              f"({a.changes / t_api:.0f} changes/s)")
        want = a.changes * a.webhooks
        t1, at_end = time.time(), rec.count
        deadline = time.time() + 600
        while rec.count < want and time.time() < deadline:
            time.sleep(0.02)
        total = rec.last - t0
        print(f"delivered {rec.count}/{want} in {total:.2f} s from the first change: {rec.count / total:.0f} "
              f"deliveries/s overall")
        if rec.count > at_end and rec.last > t1:
            print(f"after the burst: {rec.count - at_end} drained in {rec.last - t1:.2f} s: "
                  f"{(rec.count - at_end) / (rec.last - t1):.0f} deliveries/s")
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
