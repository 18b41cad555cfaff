# SPDX-License-Identifier: Apache-2.0
"""A 2 GiB artifact through the real client: identical SHA-256 both ways, and the server's peak RSS,
read from /proc, stays under 64 MiB (uploads stream to disk, downloads are sendfile)."""
import hashlib
import os

import mlflow
import pytest
from mlflow import MlflowClient

import conftest

SIZE = 2 << 30


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_two_gib_round_trip_in_bounded_memory(server_kind, tmp_path, monkeypatch):
    if server_kind == "reference":
        pytest.skip("measures mltrackd's memory bound; the reference is exercised by the 50 MiB round trip")
    release = os.path.join(conftest.REPO, "build", "mltrackd")
    if not os.path.exists(release):
        pytest.skip("needs the release build (scripts/build.sh release); sanitizer builds inflate RSS")
    monkeypatch.setenv("MLTRACKD_BIN", release)
    server = conftest.Server("mltrackd").start()
    try:
        src = tmp_path / "big.bin"
        digest = hashlib.sha256()
        block = os.urandom(64 << 20)
        with open(src, "wb") as f:
            for i in range(SIZE // len(block)):
                chunk = block[:-1] + bytes([i & 0xFF])  # vary the blocks a little
                f.write(chunk)
                digest.update(chunk)
        client = MlflowClient(server.url)
        rid = client.create_run(client.create_experiment("big")).info.run_id
        client.log_artifact(rid, str(src))
        src.unlink()
        out = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="big.bin", dst_path=str(tmp_path / "dl"),
                                                  tracking_uri=server.url)
        got = hashlib.sha256()
        with open(out, "rb") as f:
            while chunk := f.read(16 << 20):
                got.update(chunk)
        assert os.path.getsize(out) == SIZE
        assert got.hexdigest() == digest.hexdigest()
        peak = peak_rss_kib(server.proc.pid)
        print(f"\nmltrackd peak RSS after a 2 GiB upload + download: {peak} KiB")
        assert peak < 64 * 1024, f"server peak RSS {peak} KiB"
    finally:
        conftest._finish(server)
