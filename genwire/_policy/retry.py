"""Retry and poll *settings* (``RetryPolicy``, ``PollPolicy``) and the backoff arithmetic the
flows in ``flows`` apply: pure functions and constants, no I/O, no sleeping.

The sync and async clients share this module; they own the clock, the random
number generator and the sleeping. Every function that needs randomness takes
a ``jitter`` number in ``[0, 1)`` from the caller, so results are reproducible.

Backoff uses *full jitter* (AWS architecture blog, "Exponential Backoff And
Jitter"): the delay before retry ``n`` is uniform in ``[0, min(max, initial * 2**n))``.
A ``Retry-After`` sent by the provider wins over the computed backoff; one
longer than ``MAX_RETRY_AFTER`` is not waited out automatically — the driver
raises the error (which carries ``retry_after``) and the caller decides.

``RateLimit-*`` headers are read in ``ratelimit`` (a used-up window is waited out
before the next request, in ``send_flow``); backoff here only reacts to failures.
``Retry-After`` parsing and the transient statuses live in ``genwire._util.http`` (the
adapters read them too) and are re-exported here.
"""

from __future__ import annotations

import math

from .._util.http import RETRYABLE_STATUSES, is_retryable_status, parse_retry_after
from .._util.record import record

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "INITIAL_RETRY_DELAY",
    "LIVE_CATALOG_TTL",
    "MAX_RETRY_AFTER",
    "MAX_RETRY_DELAY",
    "POLL_JITTER",
    "RETRYABLE_STATUSES",
    "PollPolicy",
    "RetryPolicy",
    "backoff_delay",
    "is_retryable_status",
    "next_delay",
    "parse_retry_after",
]

DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
#: A Retry-After longer than this (seconds) is not honoured by automatic retry.
MAX_RETRY_AFTER = 60.0
#: Poll intervals are shortened by up to this fraction (never lengthened).
POLL_JITTER = 0.2
#: seconds a cached live model stays fresh (``genwire.live.DEFAULT_TTL``; here so that the
#: client's signatures name it without importing the live-catalog code)
LIVE_CATALOG_TTL = 3600.0

# Exponents above this already exceed any sane cap; it also keeps 2**n a float.
_MAX_EXPONENT = 64



def _check_jitter(jitter: float) -> None:
    if not 0.0 <= jitter < 1.0:
        raise ValueError(f"jitter must be in [0, 1), got {jitter!r}")


def backoff_delay(
    attempt: int,
    *,
    initial: float = INITIAL_RETRY_DELAY,
    maximum: float = MAX_RETRY_DELAY,
    jitter: float,
) -> float:
    """Full-jitter capped exponential backoff before retry number ``attempt`` (0-based).

    Returns ``jitter * min(maximum, initial * 2**attempt)``; ``jitter`` is a
    uniform random number in ``[0, 1)`` supplied by the caller.
    """
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0, got {attempt}")
    _check_jitter(jitter)
    ceiling = min(maximum, initial * 2.0 ** min(attempt, _MAX_EXPONENT))
    return jitter * ceiling


def next_delay(
    attempt: int,
    retry_after: float | None,
    jitter: float,
    *,
    initial: float = INITIAL_RETRY_DELAY,
    maximum: float = MAX_RETRY_DELAY,
    max_retry_after: float = MAX_RETRY_AFTER,
) -> float:
    """Delay before retry ``attempt``: the provider's ``retry_after`` when given
    (clamped to ``[0, max_retry_after]``), else ``backoff_delay``.

    Whether a long ``retry_after`` should be retried at all is
    ``RetryPolicy.should_retry``'s question; this function only clamps.
    """
    if retry_after is not None and math.isfinite(retry_after):
        _check_jitter(jitter)
        return min(max(retry_after, 0.0), max_retry_after)
    return backoff_delay(attempt, initial=initial, maximum=maximum, jitter=jitter)


@record
class RetryPolicy:
    """How many times and how long to retry one HTTP call.

    ``attempt`` counts retries already made: the first retry is attempt 0.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = INITIAL_RETRY_DELAY
    max_delay: float = MAX_RETRY_DELAY
    max_retry_after: float = MAX_RETRY_AFTER

    def __init__(self, max_retries: int = DEFAULT_MAX_RETRIES, initial_delay: float = INITIAL_RETRY_DELAY,
                 max_delay: float = MAX_RETRY_DELAY, max_retry_after: float = MAX_RETRY_AFTER) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if not 0 <= initial_delay <= max_delay:
            raise ValueError("need 0 <= initial_delay <= max_delay")
        if not max_retry_after >= 0:
            raise ValueError("max_retry_after must be >= 0")
        object.__setattr__(self, "max_retries", max_retries)
        object.__setattr__(self, "initial_delay", initial_delay)
        object.__setattr__(self, "max_delay", max_delay)
        object.__setattr__(self, "max_retry_after", max_retry_after)

    def should_retry(self, attempt: int, retry_after: float | None = None) -> bool:
        """Whether retry ``attempt`` is allowed: retries remain and any
        ``retry_after`` is short enough to wait out."""
        if attempt >= self.max_retries:
            return False
        return retry_after is None or retry_after <= self.max_retry_after

    def delay(self, attempt: int, retry_after: float | None, jitter: float) -> float:
        """Seconds to sleep before retry ``attempt`` (see ``next_delay``)."""
        return next_delay(
            attempt,
            retry_after,
            jitter,
            initial=self.initial_delay,
            maximum=self.max_delay,
            max_retry_after=self.max_retry_after,
        )


@record
class PollPolicy:
    """How often to poll a job's status.

    The interval grows geometrically from ``initial_interval`` by ``multiplier``
    up to ``max_interval``. ``max_consecutive_failures`` transient poll failures
    in a row (429, 5xx, network) end the wait with the last error; a single
    success resets the count. A failed poll never fails the job.
    """

    initial_interval: float = 1.0
    max_interval: float = 15.0
    multiplier: float = 1.5
    max_consecutive_failures: int = 5

    def __init__(self, initial_interval: float = 1.0, max_interval: float = 15.0, multiplier: float = 1.5,
                 max_consecutive_failures: int = 5) -> None:
        if not 0 < initial_interval <= max_interval:
            raise ValueError("need 0 < initial_interval <= max_interval")
        if not multiplier >= 1:
            raise ValueError("multiplier must be >= 1")
        if max_consecutive_failures < 1:
            raise ValueError("max_consecutive_failures must be >= 1")
        object.__setattr__(self, "initial_interval", initial_interval)
        object.__setattr__(self, "max_interval", max_interval)
        object.__setattr__(self, "multiplier", multiplier)
        object.__setattr__(self, "max_consecutive_failures", max_consecutive_failures)

    def interval(self, poll_number: int, jitter: float) -> float:
        """Seconds to wait before poll ``poll_number`` (0-based).

        The base interval is shortened by up to ``POLL_JITTER`` of itself, so
        many jobs started together spread out but none waits beyond ``max_interval``.
        """
        if poll_number < 0:
            raise ValueError(f"poll_number must be >= 0, got {poll_number}")
        _check_jitter(jitter)
        try:
            base = self.initial_interval * self.multiplier ** min(poll_number, 1024)
        except OverflowError:
            base = self.max_interval
        return min(base, self.max_interval) * (1.0 - POLL_JITTER * jitter)

    def gives_up(self, consecutive_failures: int) -> bool:
        """Whether that many transient poll failures in a row end the wait."""
        return consecutive_failures >= self.max_consecutive_failures
