#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Configures and builds one flavour of mltrackd: scripts/build.sh [release|asan] [--daemon-only]
# (release -> build/, asan -> build-asan/). --daemon-only builds just the mltrackd binary, with the same flags,
# and no Check tests (the container image's build stage: docker/Dockerfile).
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-release}"
jobs="$(nproc 2>/dev/null || echo 2)"
tests=ON
target=()
if [ "${2:-}" = "--daemon-only" ]; then
  tests=OFF
  target=(--target mltrackd)
elif [ -n "${2:-}" ]; then
  echo "usage: scripts/build.sh [release|asan] [--daemon-only]" >&2; exit 2
fi
case "$flavour" in
  release) cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMT_TESTS=$tests >/dev/null
           cmake --build build -j "$jobs" "${target[@]}" ;;
  asan)    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMT_SANITIZE=ON -DMT_TESTS=$tests >/dev/null
           cmake --build build-asan -j "$jobs" "${target[@]}" ;;
  *) echo "usage: scripts/build.sh [release|asan] [--daemon-only]" >&2; exit 2 ;;
esac
