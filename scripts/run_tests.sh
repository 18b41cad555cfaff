#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's test command, and what .ci/run calls: installs what is missing (Debian packages, .venv with the
# pinned mlflow), builds the release and the ASan+UBSan flavours, lints, runs the Check suites under
# sanitizers, then the compat suite against mltrackd (sanitized binary), the benchmark harness's smoke run (release
# binary, answers checked), the container image, and the compat suite against the reference mlflow server.
#   MT_SKIP_REFERENCE=1  skip the reference-server run (local iteration only; CI runs both)
#   MT_SKIP_DOCKER=1     skip the container image test (local iteration only; CI runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

step() { printf '\n==== %s ====\n' "$*"; }

step "install"
scripts/install_deps.sh --test
step "build (release)"
scripts/build.sh release
step "build (asan+ubsan)"
scripts/build.sh asan
step "lint"
scripts/lint.sh
step "unit tests (Check, asan+ubsan)"
build-asan/mt_unit
step "fuzz corpus replay (asan+ubsan)"
for r in build-asan/replay_*; do
  name="${r##*/replay_}"
  "$r" "tests/fuzz/corpus/$name"
done
step "compat suite vs mltrackd (asan+ubsan build)"
MLTRACKD_BIN="$PWD/build-asan/mltrackd" .venv/bin/python -m pytest -q -p no:cacheprovider tests/compat --server=mltrackd
step "benchmark harness smoke (release build, mltrackd only: every cell answered, no speed judged)"
smoke_dir="$(mktemp -d /tmp/mt_bench_smoke_XXXXXX)"
BENCH_NO_BUILD=1 .venv/bin/python bench/bench.py --smoke --check --mltrackd "$PWD/build/mltrackd" \
  --workdir "$smoke_dir" --out "$smoke_dir/smoke.md"
rm -rf "$smoke_dir"
step "container image (podman build from the repository, inspect, run where the sandbox allows)"
tests/docker/test_image.sh
if [ "${MT_SKIP_REFERENCE:-0}" != "1" ]; then
  step "compat suite vs reference mlflow server"
  .venv/bin/python -m pytest -q -p no:cacheprovider tests/compat --server=reference
fi
step "all tests passed"
