# SPDX-License-Identifier: Apache-2.0
"""Assertions shared by the compat tests."""


def assert_error(resp, status, error_code, message_part=None):
    """An MLflow error answer: the HTTP status and the JSON error_code (and optionally a message part)."""
    assert resp.status_code == status, f"expected {status}, got {resp.status_code}: {resp.text[:500]}"
    body = resp.json()
    assert body["error_code"] == error_code, body
    assert isinstance(body.get("message"), str) and body["message"], body
    if message_part is not None:
        assert message_part in body["message"], body["message"]
    return body
