#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Verifies a Databricks registry-webhook delivery (X-Databricks-Signature), as Databricks documents it.

X-Databricks-Signature = lowercase hex of HMAC-SHA256(secret UTF-8, raw body). It covers neither a timestamp nor
an id: use the Standard Webhooks headers mltrackd also sends (verify_standard.py) for replay protection, and the
Authorization header when http_url_spec.authorization was set.

CLI: verify_databricks.py SECRET HEADERS.json BODY_FILE  -> exit 0 when valid.
"""
import hashlib
import hmac
import json
import sys


def verify(headers, body: bytes, secret: str) -> bool:
    h = {k.lower(): v for k, v in headers.items()}
    sig = h.get("x-databricks-signature")
    if not sig:
        return False
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, sig)


if __name__ == "__main__":
    secret, headers_file, body_file = sys.argv[1:4]
    with open(headers_file) as f:
        headers = json.load(f)
    with open(body_file, "rb") as f:
        body = f.read()
    ok = verify(headers, body, secret)
    print("valid" if ok else "INVALID")
    sys.exit(0 if ok else 1)
