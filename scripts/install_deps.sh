#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what mltrackd needs to build and test, idempotently, on Debian (as root or via sudo).
#   scripts/install_deps.sh          C toolchain + libraries only
#   scripts/install_deps.sh --test   also the Python venv (.venv) with the pinned mlflow for tests/compat
#   scripts/install_deps.sh --build-only   only the C toolchain and -dev libraries (the image's build stage)
#   scripts/install_deps.sh --runtime      only the shared libraries the daemon links, plus curl for the
#                                          image's HEALTHCHECK (the image's runtime stage; apt lists removed)
set -euo pipefail
cd "$(dirname "$0")/.."

MLFLOW_VERSION="3.17.2"
DEB_PKGS=(build-essential cmake pkg-config libmicrohttpd-dev libsqlite3-dev libcjson-dev
          libcurl4-openssl-dev libssl-dev check python3 python3-venv curl)

# The image's stages install exactly these lists (docker/Dockerfile), so what CI builds is what ships. The build
# stage needs a C compiler only (gcc, not build-essential's g++ and dpkg-dev): the same compiler CI uses, less to
# download.
BUILD_PKGS=(gcc libc6-dev make cmake pkg-config libmicrohttpd-dev libsqlite3-dev libcjson-dev libcurl4-openssl-dev
            libssl-dev)
RUNTIME_PKGS=(libmicrohttpd12 libsqlite3-0 libcjson1 libcurl4 libssl3 ca-certificates curl)

want_test=0
clean_lists=0
case "${1:-}" in
  --test) want_test=1 ;;
  --build-only) DEB_PKGS=("${BUILD_PKGS[@]}") ;;
  --runtime) DEB_PKGS=("${RUNTIME_PKGS[@]}"); clean_lists=1 ;;
  "") ;;
  *) echo "usage: scripts/install_deps.sh [--test|--build-only|--runtime]" >&2; exit 2 ;;
esac

if [ "$want_test" = 1 ]; then DEB_PKGS+=(wrk); fi # the benchmark smoke run of scripts/run_tests.sh
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
  if [ $clean_lists -eq 1 ]; then
    $SUDO apt-get clean
    $SUDO rm -rf /var/lib/apt/lists/*
  fi
fi

if [ $want_test -eq 1 ]; then
  PY="${PYTHON:-python3}"
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import mlflow, pytest, sys; import flask_wtf, prometheus_client; sys.exit(mlflow.__version__ != '$MLFLOW_VERSION')" 2>/dev/null; then
    echo "install_deps: creating .venv with mlflow==$MLFLOW_VERSION"
    "$PY" -m venv .venv
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q "mlflow[auth]==$MLFLOW_VERSION" pytest requests scikit-learn pandas prometheus_client
  fi
fi
echo "install_deps: ok"
