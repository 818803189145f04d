"""Test-speed policies: what the fakes' clients and the pytest fixtures use by default.

A fake answers in microseconds, so production backoff (0.5 s, doubling) and polling (1 s,
growing to 15 s) only make a test slow; these poll and back off in milliseconds. A
``Retry-After`` the fake was scripted to send is still honoured as the real providers' is.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._policy.retry import PollPolicy, RetryPolicy

__all__ = ["fast_poll", "fast_retry"]


@cache
def fast_poll() -> PollPolicy:
    """Poll every 1 ms, at most every 10 ms."""
    from .._policy.retry import PollPolicy

    return PollPolicy(initial_interval=0.001, max_interval=0.01)


@cache
def fast_retry() -> RetryPolicy:
    """Back off 1 ms, at most 10 ms, between retries (as many retries as the default policy)."""
    from .._policy.retry import RetryPolicy

    return RetryPolicy(initial_delay=0.001, max_delay=0.01)
