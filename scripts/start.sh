#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's "run it" command: installs what is missing, builds, and starts mltrackd on the embedded
# default (SQLite + artifacts under ./mltrackd-data, http://127.0.0.1:5000). Extra arguments go to mltrackd.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
"$repo/scripts/install_deps.sh"
"$repo/scripts/build.sh" release
exec "$repo/build/mltrackd" "$@"
