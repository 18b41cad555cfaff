# SPDX-License-Identifier: Apache-2.0
"""Compat suite: drives a live server with the real, pinned `mlflow` client.

The same tests run against mltrackd (default) and against the reference `mlflow server`
(`--server=reference` or MT_COMPAT_SERVER=reference), so they encode MLflow's behaviour, not ours.
Where the reference answers badly (HTML 500 for malformed JSON...), tests branch on `is_reference`
and name the deviation; docs/api-coverage.md lists them.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import pytest
import requests

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# The client must never wait on retries or phone home during tests.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
# Webhooks (test_webhooks.py): a loopback receiver needs http and private addresses on both servers; no
# per-event subscriber cache on the reference, so a webhook sees the very next event.
os.environ.setdefault("MLFLOW_WEBHOOK_ALLOWED_SCHEMES", "http,https")
os.environ.setdefault("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS", "true")
os.environ.setdefault("MLFLOW_WEBHOOK_CACHE_TTL", "0")
os.environ["DO_NOT_TRACK"] = "1"
os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "1"


def pytest_addoption(parser):
    parser.addoption(
        "--server",
        default=os.environ.get("MT_COMPAT_SERVER", "mltrackd"),
        choices=["mltrackd", "reference"],
        help="which server the compat suite drives",
    )


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process on a free loopback port with its own fresh data directory."""

    def __init__(self, kind, auth=False, extra=()):
        self.kind = kind
        self.auth = auth
        self.extra = list(extra)  # flags both servers spell the same way (--no-serve-artifacts, --artifacts-only)
        self.dir = tempfile.mkdtemp(prefix=f"mt_compat_{kind}_")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.log_path = os.path.join(self.dir, "server.log")

    ADMIN = ("admin", "admin-password-1234")

    def command(self):
        db = os.path.join(self.dir, "db.sqlite")
        arts = os.path.join(self.dir, "artifacts")
        auth = ["--app-name", "basic-auth"] if self.auth else []
        if self.kind == "reference":
            mlflow = os.path.join(os.path.dirname(sys.executable), "mlflow")
            # `mlflow server --artifacts-only` refuses a --backend-store-uri (mltrackd keeps its database for users)
            backend = [] if "--artifacts-only" in self.extra else ["--backend-store-uri", f"sqlite:///{db}"]
            return [mlflow, "server", "--host", "127.0.0.1", "--port", str(self.port), *backend,
                    "--artifacts-destination", arts, "--workers", "1", *auth, *self.extra]
        binary = os.environ.get("MLTRACKD_BIN", os.path.join(REPO, "build", "mltrackd"))
        return [binary, "--host", "127.0.0.1", "--port", str(self.port),
                "--backend-store-uri", f"sqlite:///{db}", "--artifacts-destination", arts, *auth, *self.extra]

    def env(self):
        env = dict(os.environ)
        if self.auth:
            # The same settings drive both servers: MLflow's ini format and admin password variable.
            ini = os.path.join(self.dir, "basic_auth.ini")
            with open(ini, "w") as f:
                f.write("[mlflow]\ndefault_permission = READ\n"
                        f"database_uri = sqlite:///{os.path.join(self.dir, 'auth.db')}\n"
                        f"admin_username = {self.ADMIN[0]}\n"
                        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n")
            env["MLFLOW_AUTH_CONFIG_PATH"] = ini
            env["MLFLOW_AUTH_ADMIN_PASSWORD"] = self.ADMIN[1]
            env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = "compat-suite-secret"
        return env

    def start(self, timeout=90):
        self.log = open(self.log_path, "ab")
        # Its own process group: the reference's `mlflow server` forks uvicorn and job workers, which must go
        # with it (a kill -9 of the parent alone would orphan them).
        self.proc = subprocess.Popen(self.command(), cwd=self.dir, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env(), start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.kind} did not answer /health within {timeout}s:\n{self.read_log()}")

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _descendant_groups(self):
        """Process groups of every descendant: the reference's job runner starts workers in a session of
        their own, which a signal to our group would miss."""
        parent = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                parent[int(entry)] = (int(fields[1]), int(fields[2]))  # ppid, pgid
            except (OSError, IndexError, ValueError):
                continue
        groups, todo = {self.proc.pid}, [self.proc.pid]
        while todo:
            p = todo.pop()
            for child, (ppid, pgid) in parent.items():
                if ppid == p:
                    groups.add(pgid)
                    todo.append(child)
        return groups

    def _signal_group(self, sig, groups=None):
        for g in groups or {self.proc.pid}:
            try:
                os.killpg(g, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def kill9(self):
        self._signal_group(signal.SIGKILL, self._descendant_groups())
        self.proc.wait()
        self.log.close()

    def restart(self):
        """Starts the server again on the same data directory and port (after kill9 or stop)."""
        return self.start()

    def stop(self):
        """SIGTERM, then check the exit was clean and sanitizers said nothing."""
        if self.proc is None:
            return None
        groups = self._descendant_groups() if self.kind == "reference" else None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.kind == "reference":
            self._signal_group(signal.SIGKILL, groups)  # whatever the reference left behind
        self.log.close()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def sanitizer_report(self):
        log = self.read_log()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in log:
                return log
        return None

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def _start(kind, auth=False, extra=()):
    return Server(kind, auth, extra).start()


def _finish(server):
    rc = server.stop()
    report = server.sanitizer_report() if server.kind == "mltrackd" else None
    if report:
        pytest.fail(f"sanitizer report from mltrackd:\n{report[-6000:]}", pytrace=False)
    if server.kind == "mltrackd" and rc not in (0, None):
        pytest.fail(f"mltrackd exited with {rc} on SIGTERM:\n{server.read_log()[-3000:]}", pytrace=False)
    server.cleanup()


@pytest.fixture(scope="session")
def server_kind(request):
    return request.config.getoption("--server")


@pytest.fixture(scope="session")
def is_reference(server_kind):
    return server_kind == "reference"


@pytest.fixture(scope="session")
def server(server_kind):
    """The session's shared server. Tests stay independent by using unique names (see `unique`)."""
    s = _start(server_kind)
    yield s
    _finish(s)


@pytest.fixture(scope="module")
def auth_server(server_kind):
    """A server with authentication on (`--app-name basic-auth`), admin from MLFLOW_AUTH_ADMIN_PASSWORD."""
    s = _start(server_kind, auth=True)
    yield s
    _finish(s)


@pytest.fixture
def fresh_server(server_kind):
    """A server of its own, for tests that restart or kill it."""
    s = _start(server_kind)
    yield s
    _finish(s)


@pytest.fixture
def tracking_uri(server, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    mlflow.set_tracking_uri(server.url)
    yield server.url
    while mlflow.active_run():
        mlflow.end_run()


@pytest.fixture
def client(tracking_uri):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri)


@pytest.fixture
def unique():
    """A name prefix no other test uses."""
    return "t-" + uuid.uuid4().hex[:12]


class Rest:
    """Raw HTTP against the server, for wire-level assertions (status codes, error bodies)."""

    def __init__(self, base):
        self.base = base

    def call(self, method, path, json=None, params=None, data=None, headers=None):
        return requests.request(method, self.base + path, json=json, params=params, data=data,
                                headers=headers, timeout=60)

    def get(self, path, **params):
        return self.call("GET", path, params=params)

    def post(self, path, body):
        return self.call("POST", path, json=body)


@pytest.fixture
def rest(server):
    return Rest(server.url)
