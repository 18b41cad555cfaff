# SPDX-License-Identifier: Apache-2.0
"""A loopback webhook receiver for the compat tests: records every delivery and checks it with the example
verifiers of docs/examples (MLflow's, Standard Webhooks' and Databricks' signatures)."""
import http.server
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "docs", "examples"))
import verify_databricks  # noqa: E402
import verify_mlflow  # noqa: E402
import verify_standard  # noqa: E402


class Receiver:
    def __init__(self, secret=None, port=None):
        self.secret = secret
        self.port = port or self._free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.deliveries = []
        self.connections = 0
        self.status = 200
        self.reply = b"ok"
        self.location = None
        self.extra_headers = {}
        self.lock = threading.Lock()
        self.httpd = None

    @staticmethod
    def _free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def start(self):
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                with rec.lock:
                    rec.connections += 1
                super().setup()

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                headers = {k: v for k, v in self.headers.items()}
                d = {"path": self.path, "headers": headers, "body": body, "time": time.time()}
                try:
                    d["json"] = json.loads(body)
                except ValueError:
                    d["json"] = None
                if rec.secret:
                    d["mlflow_ok"] = verify_mlflow.verify(headers, body, rec.secret)
                    d["standard_ok"] = verify_standard.verify(headers, body, rec.secret)
                    d["databricks_ok"] = verify_databricks.verify(headers, body, rec.secret)
                with rec.lock:
                    rec.deliveries.append(d)
                status = rec.status(d) if callable(rec.status) else rec.status
                self.send_response(status)
                if rec.location:
                    self.send_header("Location", rec.location)
                for k, v in rec.extra_headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(rec.reply)))
                self.end_headers()
                self.wfile.write(rec.reply)

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def wait_for(self, n, timeout=20, pred=None):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.matching(pred)
            if len(got) >= n:
                return got
            time.sleep(0.05)
        return self.matching(pred)

    def matching(self, pred=None):
        with self.lock:
            return [d for d in self.deliveries if pred is None or pred(d)]
