#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what mltrackd needs to build and test, idempotently, on Debian (as root or via sudo).
#   scripts/install_deps.sh          C toolchain + libraries only
#   scripts/install_deps.sh --test   also the Python venv (.venv) with the pinned mlflow for tests/compat
set -euo pipefail
cd "$(dirname "$0")/.."

MLFLOW_VERSION="3.17.2"
DEB_PKGS=(build-essential cmake pkg-config libmicrohttpd-dev libsqlite3-dev libcjson-dev
          libcurl4-openssl-dev libssl-dev check python3 python3-venv curl)

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

missing=()
for p in "${DEB_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "install_deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ $want_test -eq 1 ]; then
  PY="${PYTHON:-python3}"
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import mlflow, pytest, sys; import flask_wtf; sys.exit(mlflow.__version__ != '$MLFLOW_VERSION')" 2>/dev/null; then
    echo "install_deps: creating .venv with mlflow==$MLFLOW_VERSION"
    "$PY" -m venv .venv
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q "mlflow[auth]==$MLFLOW_VERSION" pytest requests scikit-learn pandas
  fi
fi
echo "install_deps: ok"
