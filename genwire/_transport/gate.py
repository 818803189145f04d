"""Concurrency gates: at most N HTTP exchanges of one client in flight at once.

Thousands of coroutines handed straight to a 20-connection httpx pool all queue
inside the pool, whose bookkeeping walks every waiter on every release; that
burns CPU and serves waiters in no promised order. The clients hold each
exchange behind a gate sized to the pool instead, so the pool never sees more
requests than it has connections, and waiters are served first come, first served.
"""

from __future__ import annotations

import threading
from collections import deque
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # asyncio is imported on first wait: a sync client never loads it
    import asyncio

__all__ = ["AsyncGate", "SyncGate"]


class AsyncGate:
    """An async semaphore that admits strictly in arrival order.

    A released slot is handed to the oldest waiter directly, so a newcomer can
    never take it first (``asyncio.Semaphore`` allows that before Python 3.11.1).
    Not bound to an event loop until a coroutine has to wait.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._free = limit
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def in_flight(self) -> int:
        return self.limit - self._free

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def __aenter__(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        import asyncio

        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the slot reached us as we were cancelled: pass it on
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._release()

    async def enter_within(self, timeout: float) -> bool:
        """Enter as ``async with`` does, but give up (``False``) after ``timeout`` seconds,
        so a wait's deadline also bounds the time spent queueing here."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        import asyncio

        try:
            await asyncio.wait_for(self.__aenter__(), max(timeout, 0.0))
        except asyncio.TimeoutError:
            return False
        return True

    def leave(self) -> None:
        """Leave after ``enter_within``."""
        self._release()

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes over without becoming free
                return
        self._free += 1


class SyncGate:
    """The same limit for threads sharing one ``Client``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)

    def __enter__(self) -> None:
        self._slots.acquire()

    def enter_within(self, timeout: float) -> bool:
        """Enter, or give up (``False``) after ``timeout`` seconds (see ``AsyncGate.enter_within``)."""
        return self._slots.acquire(timeout=max(timeout, 0.0))

    def leave(self) -> None:
        self._slots.release()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._slots.release()
