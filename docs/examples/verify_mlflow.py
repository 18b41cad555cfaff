#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Verifies an MLflow-style webhook delivery (X-MLflow-Signature), as sent by mltrackd and by MLflow 3.x.

Signed content: "<X-MLflow-Delivery-Id>.<X-MLflow-Timestamp>.<raw body>", HMAC-SHA256 keyed with the secret's
UTF-8 bytes, base64, prefixed "v1,". Reject stale timestamps (replays) and dedupe on the delivery id.

CLI: verify_mlflow.py SECRET HEADERS.json BODY_FILE  -> exit 0 when valid.
"""
import base64
import hashlib
import hmac
import json
import sys
import time

TOLERANCE_S = 300


def verify(headers, body: bytes, secret: str, now=None) -> bool:
    h = {k.lower(): v for k, v in headers.items()}
    delivery_id, ts, sig = h.get("x-mlflow-delivery-id"), h.get("x-mlflow-timestamp"), h.get("x-mlflow-signature")
    if not (delivery_id and ts and sig and sig.startswith("v1,")):
        return False
    if abs((now or time.time()) - int(ts)) > TOLERANCE_S:
        return False
    signed = f"{delivery_id}.{ts}.".encode() + body
    expected = base64.b64encode(hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, sig[3:])


if __name__ == "__main__":
    secret, headers_file, body_file = sys.argv[1:4]
    with open(headers_file) as f:
        headers = json.load(f)
    with open(body_file, "rb") as f:
        body = f.read()
    ok = verify(headers, body, secret)
    print("valid" if ok else "INVALID")
    sys.exit(0 if ok else 1)
