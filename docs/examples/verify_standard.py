#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Verifies a Standard Webhooks v1 delivery (webhook-id, webhook-timestamp, webhook-signature), which mltrackd
adds to every delivery of both webhook APIs. No MLflow code needed.

Signed content: "<webhook-id>.<webhook-timestamp>.<raw body>", HMAC-SHA256. The key is the base64-decoded part of a
"whsec_..." secret, or the secret's UTF-8 bytes otherwise. webhook-signature is a space-separated list of
"v1,<base64>" entries; any match is valid.

CLI: verify_standard.py SECRET HEADERS.json BODY_FILE  -> exit 0 when valid.
"""
import base64
import hashlib
import hmac
import json
import sys
import time

TOLERANCE_S = 300


def key_of(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[len("whsec_"):])
    return secret.encode("utf-8")


def verify(headers, body: bytes, secret: str, now=None) -> bool:
    h = {k.lower(): v for k, v in headers.items()}
    msg_id, ts, sigs = h.get("webhook-id"), h.get("webhook-timestamp"), h.get("webhook-signature")
    if not (msg_id and ts and sigs):
        return False
    if abs((now or time.time()) - int(ts)) > TOLERANCE_S:
        return False
    signed = f"{msg_id}.{ts}.".encode() + body
    expected = base64.b64encode(hmac.new(key_of(secret), signed, hashlib.sha256).digest()).decode()
    return any(s.startswith("v1,") and hmac.compare_digest(expected, s[3:]) for s in sigs.split())


if __name__ == "__main__":
    secret, headers_file, body_file = sys.argv[1:4]
    with open(headers_file) as f:
        headers = json.load(f)
    with open(body_file, "rb") as f:
        body = f.read()
    ok = verify(headers, body, secret)
    print("valid" if ok else "INVALID")
    sys.exit(0 if ok else 1)
