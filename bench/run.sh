#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The one benchmark command of issue 6: installs wrk and FastTrackML (idempotent), builds mltrackd release, then runs
# bench/bench.py (all arguments pass through). Never commits peer code; never touches a running server it did not start.
#   bench/run.sh                 full run: mltrackd, mlflow server (2 workers), FastTrackML; ~30 min
#   bench/run.sh --smoke         seconds per operation, tiny data, mltrackd only (add --peers for all three)
#   bench/run.sh --mlflow-workers 2,4   also measure mlflow's default 4 workers
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

# 1. wrk from Debian
if ! command -v wrk >/dev/null 2>&1; then
  echo "[bench] installing wrk (apt-get)"
  as_root apt-get install -y wrk >/dev/null 2>&1 || { as_root apt-get update >/dev/null && as_root apt-get install -y wrk >/dev/null; }
fi

# 2. the reference mlflow: the repo's .venv (mlflow 3.17.2), as the compat suite uses
venv="${MLFLOW_VENV:-$repo/.venv}"
if [ ! -x "$venv/bin/mlflow" ]; then
  echo "[bench] $venv/bin/mlflow missing: create the repo venv first (scripts/install_deps.sh, or ln -s /work/main/.venv .venv)" >&2
  exit 1
fi

# 3. FastTrackML 0.6.0 in its own venv; --no-deps because it pins mlflow<3 (its wheel ships the Go binary fml)
ftml="$here/.venv-ftml"
if [ ! -x "$ftml/bin/fml" ] || ! "$ftml/bin/fml" --version 2>/dev/null | grep -q '0\.6\.0'; then
  echo "[bench] installing fasttrackml==0.6.0 into $ftml"
  python3 -m venv "$ftml"
  "$ftml/bin/pip" install -q --disable-pip-version-check --no-deps fasttrackml==0.6.0
fi

# 4. mltrackd release build
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  "$repo/scripts/build.sh" release >/dev/null
fi

cd "$repo"
exec "$venv/bin/python" "$here/bench.py" --mlflow-venv "$venv" --fml "$ftml/bin/fml" "$@"
