"""Webhook signatures: HMAC-SHA256 over ``"<timestamp>.<body>"``, sent in one header.

Header format (Stripe's scheme, which receivers already know how to check)::

    X-Backhaul-Signature: t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd

A receiver recomputes the HMAC with the endpoint's secret over the timestamp, a dot and the
raw request body, compares in constant time, and rejects timestamps older than its tolerance
(replays). Every retry is signed afresh with its own timestamp.
"""
from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Backhaul-Signature"
DEFAULT_TOLERANCE = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header_value(secret: str, body: bytes, timestamp: int | None = None) -> str:
    ts = int(time.time() if timestamp is None else timestamp)
    return f"t={ts},v1={signature(secret, ts, body)}"


def verify(secret: str, header: str | None, body: bytes, tolerance: int = DEFAULT_TOLERANCE,
           now: float | None = None) -> bool:
    """True when ``header`` is a valid, fresh signature of ``body`` by ``secret``."""
    if not header:
        return False
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        ts = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance:
        return False
    expected = signature(secret, ts, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", []))
