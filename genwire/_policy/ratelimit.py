"""``RateLimit-*`` headers: parsed into ``RateLimit``, remembered per provider, and turned into a
pause before the next request when the window is used up. Pure: the clock is passed in.

Clipia sends ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset`` on every reply
(reference 000) without fixing the form of the reset. The IETF draft makes it delta-seconds;
some APIs send a Unix time. A value above ``EPOCH_THRESHOLD`` cannot be a sane delay and is
read as a Unix time; anything else as seconds from now. A pause longer than the retry policy's
``max_retry_after`` is not taken (the request goes out, and a 429 says what to do).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models._account import RateLimit

__all__ = ["EPOCH_THRESHOLD", "RateLimits", "parse_rate_limit"]

#: a reset above this (about 2001-09-09 as a Unix time) is a Unix time, not a delay
EPOCH_THRESHOLD = 1_000_000_000
_NUMBER = re.compile(r"\s*([0-9]{1,15}(?:\.[0-9]{1,9})?)\s*")


def _number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    match = _NUMBER.fullmatch(value) if isinstance(value, str) else None
    return float(match.group(1)) if match else None


def _int(headers: Mapping[str, str], name: str) -> int | None:
    value = _number(headers, name)
    return int(value) if value is not None else None


def parse_rate_limit(headers: Mapping[str, str], now: float) -> RateLimit | None:
    """The ``RateLimit-*`` headers (lower-case names) of one reply; ``reset`` in seconds from ``now``
    (Unix time, for the epoch form). None when the reply has none."""
    limit = _int(headers, "ratelimit-limit")
    remaining = _int(headers, "ratelimit-remaining")
    reset_raw = _number(headers, "ratelimit-reset")
    if limit is None and remaining is None and reset_raw is None:
        return None
    from ..models._account import RateLimit

    reset: float | None = None
    if reset_raw is not None:
        reset = max(0.0, reset_raw - now) if reset_raw > EPOCH_THRESHOLD else reset_raw
    return RateLimit(limit=limit, remaining=remaining, reset=reset)


class RateLimits:
    """The last ``RateLimit`` seen per provider, and when it was seen (on ``clock``, monotonic)."""

    def __init__(self, clock: Callable[[], float], wall: Callable[[], float]) -> None:
        self._clock = clock
        self._wall = wall
        self._seen: dict[str, tuple[RateLimit, float]] = {}
        self._lock = threading.Lock()

    def observe(self, provider: str, headers: Mapping[str, str]) -> RateLimit | None:
        """Record a reply's headers; return what they said (None when they said nothing)."""
        limit = parse_rate_limit(headers, self._wall())
        if limit is not None:
            with self._lock:
                self._seen[provider] = (limit, self._clock())
        return limit

    def get(self, provider: str) -> RateLimit | None:
        seen = self._seen.get(provider)
        return seen[0] if seen else None

    def pause(self, provider: str) -> float:
        """Seconds to wait before the next request: until the reset, if nothing remains."""
        seen = self._seen.get(provider)
        if seen is None:
            return 0.0
        limit, at = seen
        if limit.remaining != 0 or limit.reset is None:
            return 0.0
        left = limit.reset - (self._clock() - at)
        if left <= 0:
            with self._lock:
                if self._seen.get(provider) == seen:
                    del self._seen[provider]  # the window has reset
            return 0.0
        return left
