"""A connection pool of single-connection lanes: what the async client sends through.

httpcore's pool re-examines every connection it holds, and for each idle one counts them all
again, each time a request arrives or a reply is closed (``_assign_requests_to_connections``):
O(connections²) work per event. At fan-out, with the gate keeping the pool's own queue short,
that scan was still about a fifth of ``AsyncClient``'s CPU (``bench/bench_fanout.py``).
Requests assigned in one pass to a connection that looked idle also collided there and went
round again (``ConnectionNotAvailable``). Here each lane is a pool of one connection: a
request takes a free lane, preferably one already connected to its origin, and gives it
back when its reply is closed, so every pool scan sees one connection and one request.

Lanes are handed out first come, first served; a request that finds none free waits at most
its pool timeout (``httpx.PoolTimeout``, as httpx's pool raises), and a waiter cancelled
or timed out neither keeps nor loses a lane.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

__all__ = ["LaneTransport"]

Origin = tuple[bytes, bytes, int | None]


class _Lane:
    __slots__ = ("origin", "transport")

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self.transport = transport
        self.origin: Origin | None = None  # the origin its connection was last opened to


class _Releasing(httpx.AsyncByteStream):
    """A reply's body; closing it gives the lane back (once)."""

    __slots__ = ("_inner", "_lane", "_owner")

    def __init__(self, inner: httpx.AsyncByteStream, owner: LaneTransport, lane: _Lane) -> None:
        self._inner = inner
        self._owner: LaneTransport | None = owner
        self._lane = lane

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            owner, self._owner = self._owner, None
            if owner is not None:
                owner._give(self._lane)


class LaneTransport(httpx.AsyncBaseTransport):
    """At most ``size`` lanes, each made by ``make_lane`` (a transport whose pool holds one connection)."""

    def __init__(self, make_lane: Callable[[], httpx.AsyncBaseTransport], size: int) -> None:
        self._make_lane = make_lane
        self.size = size
        self._lanes: list[_Lane] = []
        #: free lanes by the origin they are connected to, oldest freed first
        self._free: dict[Origin | None, dict[_Lane, None]] = {}
        self._waiters: deque[asyncio.Future[_Lane]] = deque()
        self._closed = False

    @property
    def in_use(self) -> int:
        """Lanes holding a request now."""
        return len(self._lanes) - sum(len(lanes) for lanes in self._free.values())

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the transport is closed")  # as httpcore's closed pool does
        url = request.url
        origin: Origin = (url.raw_scheme, url.raw_host, url.port)
        lane = self._take(origin)
        if lane is None:
            lane = await self._wait(request.extensions.get("timeout", {}).get("pool"))
        lane.origin = origin
        try:
            response = await lane.transport.handle_async_request(request)
        except BaseException:
            self._give(lane)
            raise
        response.stream = _Releasing(response.stream, self, lane)  # type: ignore[arg-type]
        return response

    def _take(self, origin: Origin) -> _Lane | None:
        if self._waiters:
            return None  # others were first
        same = self._free.get(origin)
        if same:
            # the longest free, as httpcore's pool takes its first idle connection: in bench_fanout.py
            # this kept connections busier than taking the one just freed
            lane = next(iter(same))
            del same[lane]
            return lane
        if len(self._lanes) < self.size:
            lane = _Lane(self._make_lane())
            self._lanes.append(lane)
            return lane
        for lanes in self._free.values():  # another origin's lane: its pool reconnects
            if lanes:
                lane = next(iter(lanes))
                del lanes[lane]
                return lane
        return None

    async def _wait(self, timeout: float | None) -> _Lane:
        waiter: asyncio.Future[_Lane] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        timer = None if timeout is None else asyncio.get_running_loop().call_later(
            max(timeout, 0.0), _expire, waiter)
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._give(waiter.result())  # the lane reached us as we were cancelled: pass it on
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def _give(self, lane: _Lane) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(lane)  # handed over directly: a newcomer cannot take it first
                return
        self._free.setdefault(lane.origin, {})[lane] = None

    async def aclose(self) -> None:
        self._closed = True
        lanes, self._lanes, self._free = self._lanes, [], {}
        for lane in lanes:
            await lane.transport.aclose()


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(httpx.PoolTimeout("no connection came free within the pool timeout"))
