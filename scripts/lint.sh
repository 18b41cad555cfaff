#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Holds the module boundaries of docs/architecture.md: fails when a rule is broken.
set -uo pipefail
cd "$(dirname "$0")/.."
fail=0
rule() { # rule "<message>" <matches...>
  local msg="$1"; shift
  if [ -n "$*" ]; then echo "lint: $msg: $*"; fail=1; fi
}
rule "SQLite called outside src/store/" $(grep -rlE '\bsqlite3_[a-z_]+\(' src --include='*.[ch]' | grep -v '^src/store/')
rule "libmicrohttpd used outside src/http/server.c" $(grep -rlE '\bMHD_[a-zA-Z_]+|microhttpd\.h' src include --include='*.[ch]' | grep -v '^src/http/server.c$')
rule "libcurl used outside src/webhooks/" $(grep -rlE '\bcurl_[a-z_]+\(' src --include='*.[ch]' | grep -v '^src/webhooks/')
rule "banned function (sprintf/strcpy/strcat/gets/strtok/atoi)" $(grep -rlE '\b(sprintf|strcpy|strcat|gets|strtok|atoi)\(' src --include='*.[ch]')
rule "SQL built with printf-style formatting" $(grep -rlE '"(SELECT|INSERT|UPDATE|DELETE)[^"]*%[sdq]' src --include='*.[ch]')
rule "source file without an SPDX line" $(grep -rL 'SPDX-License-Identifier' src include tests/unit tests/compat --include='*.[ch]' --include='*.py')
rule "file over 60 KiB (one concept per file?)" $(find src -name '*.c' -size +60k)
[ $fail -eq 0 ] && echo "lint: ok"
exit $fail
