"""``genwire._transport.lanes``: requests share a few single-connection lanes, first come first served,
never more at once than there are lanes; a waiter cancelled or timed out keeps and loses none."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from genwire._transport.lanes import LaneTransport
from genwire._transport.sockets import async_transport


class _Held(httpx.AsyncBaseTransport):
    """A lane that answers each request once the test lets it (``release``), recording what it served."""

    def __init__(self, name: int, log: list[tuple[int, str]]) -> None:
        self.name = name
        self.log = log
        self.busy = False
        self.gate = asyncio.Event()
        self.gate.set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert not self.busy, "a lane was given two requests at once"
        self.busy = True
        try:
            await self.gate.wait()
            self.log.append((self.name, str(request.url)))
            if request.url.path == "/fail":
                raise httpx.ConnectError("refused", request=request)
            return httpx.Response(200, stream=_Body(self))
        except BaseException:
            self.busy = False
            raise


class _Body(httpx.AsyncByteStream):
    def __init__(self, lane: _Held) -> None:
        self.lane = lane

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield b"ok"

    async def aclose(self) -> None:
        self.lane.busy = False


def _lanes(size: int) -> tuple[LaneTransport, list[_Held], list[tuple[int, str]]]:
    log: list[tuple[int, str]] = []
    made: list[_Held] = []

    def make() -> httpx.AsyncBaseTransport:
        made.append(_Held(len(made), log))
        return made[-1]

    return LaneTransport(make, size), made, log


def _run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(main())  # type: ignore[arg-type]


def _get(url: str, pool: float | None = None) -> httpx.Request:
    return httpx.Request("GET", url, extensions={"timeout": {"pool": pool}})


def test_waiters_get_lanes_in_arrival_order_and_a_newcomer_does_not_barge() -> None:
    async def main() -> None:
        lanes, made, log = _lanes(1)
        held = await lanes.handle_async_request(_get("http://a/held"))
        waiters = [asyncio.create_task(lanes.handle_async_request(_get(f"http://a/{i}"))) for i in range(5)]
        await asyncio.sleep(0)
        assert lanes.waiting == 5 and lanes.in_use == 1
        await held.aclose()  # the lane goes to waiter 0 directly
        late = asyncio.create_task(lanes.handle_async_request(_get("http://a/late")))
        for task in [*waiters, late]:
            await (await task).aclose()
        assert [url for _, url in log] == ["http://a/held", *(f"http://a/{i}" for i in range(5)), "http://a/late"]
        assert len(made) == 1 and lanes.in_use == 0 and lanes.waiting == 0

    _run(main)


def test_a_cancelled_waiter_neither_keeps_nor_loses_a_lane() -> None:
    async def main() -> None:
        lanes, _, _ = _lanes(1)
        held = await lanes.handle_async_request(_get("http://a/"))
        doomed = asyncio.create_task(lanes.handle_async_request(_get("http://a/doomed")))
        await asyncio.sleep(0)
        doomed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await doomed
        assert lanes.waiting == 0
        # the lane is handed over just as the waiter is cancelled: it passes on to the next one
        handed = asyncio.create_task(lanes.handle_async_request(_get("http://a/handed")))
        after = asyncio.create_task(lanes.handle_async_request(_get("http://a/after")))
        await asyncio.sleep(0)
        await held.aclose()
        handed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handed
        await (await after).aclose()
        assert lanes.in_use == 0 and lanes.waiting == 0

    _run(main)


def test_no_lane_within_the_pool_timeout_is_httpx_pool_timeout_and_leaves_no_waiter() -> None:
    async def main() -> None:
        lanes, _, _ = _lanes(1)
        held = await lanes.handle_async_request(_get("http://a/"))
        with pytest.raises(httpx.PoolTimeout):
            await lanes.handle_async_request(_get("http://a/late", pool=0.01))
        assert lanes.waiting == 0 and lanes.in_use == 1
        await held.aclose()
        await held.aclose()  # closing twice gives the lane back once
        assert lanes.in_use == 0
        await (await lanes.handle_async_request(_get("http://a/again", pool=0))).aclose()

    _run(main)


def test_a_failed_request_gives_its_lane_back() -> None:
    async def main() -> None:
        lanes, made, _ = _lanes(1)
        with pytest.raises(httpx.ConnectError):
            await lanes.handle_async_request(_get("http://a/fail"))
        assert lanes.in_use == 0
        # cancelled inside the lane (a read timeout of the caller's own): given back too
        made[0].gate.clear()
        inside = asyncio.create_task(lanes.handle_async_request(_get("http://a/slow")))
        await asyncio.sleep(0)
        assert lanes.in_use == 1
        inside.cancel()
        with pytest.raises(asyncio.CancelledError):
            await inside
        assert lanes.in_use == 0

    _run(main)


def test_a_request_takes_a_lane_already_connected_to_its_origin() -> None:
    async def main() -> None:
        lanes, made, log = _lanes(2)
        a = await lanes.handle_async_request(_get("http://a/1"))
        b = await lanes.handle_async_request(_get("http://b/1"))
        await a.aclose()
        await b.aclose()
        for url in ("http://b/2", "http://a/2", "http://b/3"):
            await (await lanes.handle_async_request(_get(url))).aclose()
        assert log == [(0, "http://a/1"), (1, "http://b/1"), (1, "http://b/2"), (0, "http://a/2"), (1, "http://b/3")]
        assert len(made) == 2
        # all lanes taken by one origin: the other's lane is reused (its pool reconnects)
        c = await lanes.handle_async_request(_get("http://c/1"))
        assert log[-1][0] in (0, 1) and len(made) == 2
        await c.aclose()

    _run(main)


def test_over_real_sockets_the_server_never_sees_more_requests_or_connections_than_lanes() -> None:
    now = peak = connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal now, peak, connections
        connections += 1
        try:
            while await reader.readline():
                while (await reader.readline()) not in (b"\r\n", b""):
                    pass
                now += 1
                peak = max(peak, now)
                await asyncio.sleep(0.002)
                now -= 1
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.transport.abort()

    async def main() -> None:
        async with await asyncio.start_server(handle, "127.0.0.1", 0) as server:
            url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
            transport = async_transport(limits=httpx.Limits(max_connections=3, max_keepalive_connections=3))
            async with httpx.AsyncClient(transport=transport) as client:
                replies = await asyncio.gather(*(client.get(url) for _ in range(40)))
        assert [r.text for r in replies] == ["ok"] * 40

    _run(main)
    assert peak == 3
    assert connections == 3
