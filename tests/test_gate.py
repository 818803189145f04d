"""The clients' concurrency gate: at most ``max_in_flight`` exchanges, first come first served."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from genwire import (
    AsyncClient,
    Client,
    ConfigurationError,
    GenerationRequest,
    Job,
    JobStatus,
    PollPolicy,
    WaitTimeoutError,
)
from genwire._transport.gate import AsyncGate
from genwire.testing import FakeProviders

REQUEST = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})


class InFlight:
    """Counts requests inside the transport at once."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self._lock:
            self.now -= 1


def _sync_transport(fakes: FakeProviders, seen: InFlight, delay: float) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.enter()
        try:
            time.sleep(delay)
            return fakes(request)
        finally:
            seen.leave()

    return httpx.MockTransport(handler)


def _async_transport(fakes: FakeProviders, seen: InFlight, delay: float) -> httpx.MockTransport:
    async def handler(request: httpx.Request) -> httpx.Response:
        seen.enter()
        try:
            await asyncio.sleep(delay)
            return fakes(request)
        finally:
            seen.leave()

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_no_more_than_max_in_flight_requests_reach_the_transport(mode: str) -> None:
    fakes = FakeProviders()
    seen = InFlight()
    callers = 12
    kwargs: dict[str, Any] = {"api_keys": fakes.api_keys, "base_urls": fakes.base_urls, "max_in_flight": 3}
    if mode == "sync":
        with Client(transport=_sync_transport(fakes, seen, 0.02), **kwargs) as client:
            threads = [threading.Thread(target=client.submit, args=(REQUEST,)) for _ in range(callers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    else:
        async def main() -> None:
            async with AsyncClient(transport=_async_transport(fakes, seen, 0.02), **kwargs) as client:
                await asyncio.gather(*(client.submit(REQUEST) for _ in range(callers)))

        asyncio.run(main())
    assert len(fakes.clipia.jobs) == callers
    assert seen.peak == 3


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_max_in_flight_defaults_to_the_pool_size_and_refuses_nonsense(cls: Callable[..., Any]) -> None:
    assert cls(api_keys={}, max_connections=7, transport=httpx.MockTransport(lambda r: httpx.Response(200))
               ).max_in_flight == 7
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ConfigurationError, match="max_in_flight"):
            cls(api_keys={}, max_in_flight=bad)


def _run(coro: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(coro())


def test_waiters_are_admitted_in_arrival_order_and_newcomers_do_not_barge() -> None:
    order: list[int] = []

    async def main() -> None:
        gate = AsyncGate(1)
        release = asyncio.Event()

        async def holder() -> None:
            async with gate:
                await release.wait()

        async def waiter(i: int) -> None:
            async with gate:
                order.append(i)
                await asyncio.sleep(0)

        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        tasks = [asyncio.create_task(waiter(i)) for i in range(10)]
        await asyncio.sleep(0)
        assert gate.waiting == 10
        release.set()
        await asyncio.sleep(0)  # the holder leaves; the slot is handed to waiter 0, not yet running
        tasks.append(asyncio.create_task(waiter(99)))  # a newcomer while waiters are queued
        await asyncio.gather(first, *tasks)
        assert gate.in_flight == 0

    _run(main)
    assert order == [*range(10), 99]


def test_a_cancelled_waiter_neither_loses_nor_keeps_a_slot() -> None:
    async def main() -> None:
        gate = AsyncGate(1)
        async with gate:
            doomed = asyncio.create_task(gate.__aenter__())
            await asyncio.sleep(0)
            doomed.cancel()
            with pytest.raises(asyncio.CancelledError):
                await doomed
            assert gate.waiting == 0
        assert gate.in_flight == 0
        # the slot was handed over just as the waiter was cancelled: it passes on
        async with gate:
            handed = asyncio.create_task(gate.__aenter__())
            after = asyncio.create_task(gate.__aenter__())
            await asyncio.sleep(0)
        handed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handed
        await after
        assert gate.in_flight == 1
        await gate.__aexit__(None, None, None)
        assert gate.in_flight == 0

    _run(main)


@pytest.mark.parametrize("jobs", [200, pytest.param(1000, marks=pytest.mark.slow)])
def test_concurrent_runs_all_finish_within_their_deadline(jobs: int) -> None:
    fakes = FakeProviders()
    fakes.clipia.steps = 1
    fakes.clipia.balance = 1_000_000
    seen = InFlight()
    deadline = 60.0
    late: list[float] = []

    async def main() -> None:
        async with AsyncClient(transport=_async_transport(fakes, seen, 0.001), api_keys=fakes.api_keys,
                               base_urls=fakes.base_urls, max_connections=20,
                               poll=PollPolicy(initial_interval=0.01, max_interval=0.01)) as client:
            async def one() -> JobStatus:
                start = time.monotonic()
                job = await asyncio.wait_for(client.run(REQUEST, timeout=deadline), deadline)
                late.append(time.monotonic() - start)
                return job.status

            statuses = await asyncio.gather(*(one() for _ in range(jobs)))
        assert statuses == [JobStatus.SUCCEEDED] * jobs

    _run(main)
    assert seen.peak == 20
    assert max(late) < deadline


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_deadline_passing_at_the_gate_is_the_waits_timeout_and_frees_no_slot(mode: str) -> None:
    # one slot, held by a submit the transport does not answer yet: a wait queued behind it
    # counts its time at the gate against its deadline and ends as any timed-out wait does
    fakes = FakeProviders()
    job = Job(provider="clipia", model="nano-banana-2", id="r1", status=JobStatus.QUEUED)
    answer = threading.Event()
    entered = threading.Event()

    def held(request: httpx.Request) -> httpx.Response:
        entered.set()
        answer.wait(10)
        return fakes(request)

    kwargs: dict[str, Any] = {"api_keys": fakes.api_keys, "base_urls": fakes.base_urls, "max_in_flight": 1}
    if mode == "sync":
        with Client(transport=httpx.MockTransport(held), **kwargs) as client:
            holder = threading.Thread(target=client.submit, args=(REQUEST,))
            holder.start()
            assert entered.wait(10)
            with pytest.raises(WaitTimeoutError, match="no request slot came free") as info:
                client.wait(job, timeout=0.05)
            assert info.value.job is not None and info.value.job.id == "r1"
            answer.set()
            holder.join()
            assert client._gate.enter_within(0)  # the slot came back: nothing kept it
            client._gate.leave()
    else:
        async def main() -> None:
            async def async_held(request: httpx.Request) -> httpx.Response:
                entered.set()
                while not answer.is_set():
                    await asyncio.sleep(0.001)
                return fakes(request)

            async with AsyncClient(transport=httpx.MockTransport(async_held), **kwargs) as client:
                holder = asyncio.create_task(client.submit(REQUEST))
                while not entered.is_set():
                    await asyncio.sleep(0)
                with pytest.raises(WaitTimeoutError, match="no request slot came free") as info:
                    await client.wait(job, timeout=0.05)
                assert client._gate.waiting == 0 and client._gate.in_flight == 1
                answer.set()
                await holder
                assert client._gate.in_flight == 0
                assert info.value.job is not None and info.value.job.id == "r1"

        asyncio.run(main())
    assert len(fakes.clipia.jobs) == 1
