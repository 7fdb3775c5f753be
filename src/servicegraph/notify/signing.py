"""Signing webhook deliveries, and checking a signature as a receiver does.

Each delivery carries ``X-ServiceGraph-Signature: t=<unix seconds>,v1=<hex>``, where
the hex is HMAC-SHA256, keyed with the subscription's secret, over
``f"{t}.{body}"``. Signing the time with the body lets a receiver refuse a
captured delivery replayed later: it checks the signature, then that ``t`` is
recent.

>>> header = sign("s3cret", b'{"a":1}', at=1700000000)
>>> header.startswith("t=1700000000,v1=")
True
>>> verify("s3cret", b'{"a":1}', header, now=1700000010)
True
>>> verify("s3cret", b'{"a":2}', header, now=1700000010)
False
"""

from __future__ import annotations

import hashlib
import hmac
import time

#: The header that carries the signature.
HEADER = "X-ServiceGraph-Signature"


def digest(secret: str, body: bytes, at: int) -> str:
    """The hex HMAC-SHA256 of ``f"{at}.{body}"`` under ``secret``."""
    message = str(at).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, at: int | None = None) -> str:
    """The signature header's value for ``body`` sent at ``at`` (unix seconds; now)."""
    moment = int(time.time()) if at is None else at
    return f"t={moment},v1={digest(secret, body, moment)}"


def verify(secret: str, body: bytes, header: str, *, tolerance: float = 300,
           now: float | None = None) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds of
    ``now``: what a receiver checks (any ``v1`` may match, so secrets can be rolled)."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k.strip() == "t"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit():
        return False
    at = int(stamps[0])
    if abs((time.time() if now is None else now) - at) > tolerance:
        return False
    expected = digest(secret, body, at)
    return any(k.strip() == "v1" and hmac.compare_digest(v.strip(), expected)
               for k, v in parts)
