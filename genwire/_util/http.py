"""HTTP semantics every layer reads the same way: which statuses are transient, what a
``Retry-After`` asks for. Pure functions, no genwire imports."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import timezone
from email.utils import parsedate_to_datetime

__all__ = ["RETRYABLE_STATUSES", "is_retryable_status", "parse_retry_after"]

#: Request timeout, throttling, and the common transient server failures. 409 is
#: absent on purpose: Clipia's 409 is ``idempotency_key_reuse``, which a retry repeats.
#: Every other 5xx is retryable too (``is_retryable_status``): Clipia's error table
#: says 5xx -> retry with backoff, and a proxy's 520 or a 501 is no client mistake.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_SECONDS = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    if name in headers:
        return headers[name]
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _parse_seconds(value: str) -> float | None:
    value = value.strip()
    return float(value) if _SECONDS.fullmatch(value) else None


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the provider asked us to wait, or ``None`` when it did not say.

    Reads (case-insensitively) ``retry-after-ms`` (milliseconds), then
    ``retry-after`` as delta-seconds or an HTTP-date. Negative, non-numeric or
    unparsable values are ``None``; an HTTP-date in the past is ``0.0``.
    ``now`` (Unix seconds) defaults to the current time and is only used for dates.
    """
    millis = _header(headers, "retry-after-ms")
    if millis is not None:
        parsed = _parse_seconds(millis)
        if parsed is not None:
            return parsed / 1000.0
    raw = _header(headers, "retry-after")
    if raw is None:
        return None
    seconds = _parse_seconds(raw)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" and asctime dates come back naive; HTTP dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def is_retryable_status(status: int) -> bool:
    """Whether an HTTP status is transient: ``RETRYABLE_STATUSES`` or any 5xx."""
    return status in RETRYABLE_STATUSES or 500 <= status <= 599
