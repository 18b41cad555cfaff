#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Configures and builds one flavour of mltrackd: scripts/build.sh [release|asan]  (release -> build/, asan -> build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-release}"
jobs="$(nproc 2>/dev/null || echo 2)"
case "$flavour" in
  release) cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
           cmake --build build -j "$jobs" ;;
  asan)    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMT_SANITIZE=ON >/dev/null
           cmake --build build-asan -j "$jobs" ;;
  *) echo "usage: scripts/build.sh [release|asan]" >&2; exit 2 ;;
esac
