"""Webhook signatures: HMAC-SHA256 over timestamp and body."""
from __future__ import annotations

import hashlib
import hmac
import time

from backhaul.plugins.notifications import signing

SECRET = "whsec_0123456789abcdef"


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"event": "x"}'
    header = signing.header_value(SECRET, body, timestamp=1767225600)
    expected = hmac.new(SECRET.encode(), b"1767225600." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1767225600,v1={expected}"


def test_verify_accepts_fresh_and_refuses_tampered_stale_or_foreign():
    body = b'{"event": "x"}'
    header = signing.header_value(SECRET, body)
    assert signing.verify(SECRET, header, body)
    assert not signing.verify(SECRET, header, body + b" ")
    assert not signing.verify("another-secret-of-length", header, body)
    old = signing.header_value(SECRET, body, timestamp=int(time.time()) - 3600)
    assert not signing.verify(SECRET, old, body)
    assert signing.verify(SECRET, old, body, tolerance=7200)
    assert not signing.verify(SECRET, None, body)
    assert not signing.verify(SECRET, "v1=abc", body)
