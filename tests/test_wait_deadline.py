"""``wait(timeout=T)`` ends within T plus a small margin; a failed poll is not a failed wait (issue 8, items 3-4)."""

from __future__ import annotations

import inspect
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from support import Clock, drive, reply

from genwire import (
    AsyncClient,
    Client,
    Job,
    JobStatus,
    MalformedResponseError,
    PollPolicy,
    RetryPolicy,
    WaitTimeoutError,
)
from genwire._policy.flows import Send, wait_flow
from genwire.adapters import get_adapter

MARGIN = 0.25
JOB = Job(provider="clipia", model="nano-banana-2", task="text-to-image", id="r1", status=JobStatus.QUEUED)
CLIPRISE_JOB = Job(provider="cliprise", model="nano-banana", task="text-to-image", id="t1", status=JobStatus.QUEUED)


@contextmanager
def _loopback(answer: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A loopback HTTP server giving every connection to ``answer`` on its own thread; its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.05)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threads.append(threading.Thread(target=answer, args=(conn, stop), daemon=True))
            threads[-1].start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for held in threads:
            held.join()
        listener.close()


def _say_nothing(conn: socket.socket, stop: threading.Event) -> None:
    with conn:  # hold the connection open, say nothing
        stop.wait()


def _trickle(conn: socket.socket, stop: threading.Event) -> None:
    with conn:  # headers at once, then one body byte every 50 ms, never finishing
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{")
            while not stop.wait(0.05):
                conn.sendall(b" ")
        except OSError:
            return


@pytest.fixture
def hanging_server() -> Iterator[str]:
    """A loopback HTTP server that accepts every connection, reads the request, and never answers."""
    with _loopback(_say_nothing) as url:
        yield url


@pytest.fixture
def trickling_server() -> Iterator[str]:
    """A loopback HTTP server whose replies never end: each read is quick, the reply is not."""
    with _loopback(_trickle) as url:
        yield url


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sync", "async"])
async def client(request: pytest.FixtureRequest, hanging_server: str) -> AsyncIterator[Client | AsyncClient]:
    options: dict[str, Any] = {"api_keys": {"clipia": "clipia_live_key_1234", "cliprise": "cliprise_key_5678"},
                               "base_urls": {"clipia": hanging_server, "cliprise": hanging_server},
                               "poll": PollPolicy(initial_interval=0.01, max_interval=0.02),
                               "retry": RetryPolicy(initial_delay=0.01, max_delay=0.02)}
    if request.param == "sync":
        with Client(**options) as sync:
            yield sync
    else:
        async with AsyncClient(**options) as asynchronous:
            yield asynchronous


@pytest.mark.anyio
@pytest.mark.parametrize("job", [JOB, CLIPRISE_JOB], ids=["clipia", "cliprise"])
async def test_wait_ends_at_its_deadline_while_a_request_hangs(client: Client | AsyncClient, job: Job) -> None:
    started = time.monotonic()
    with pytest.raises(WaitTimeoutError) as info:
        outcome = client.wait(job, timeout=0.4)
        if inspect.isawaitable(outcome):
            await outcome
    assert time.monotonic() - started < 0.4 + MARGIN
    assert info.value.job is not None and info.value.job.id == job.id


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_wait_ends_at_its_deadline_while_a_reply_trickles_in(trickling_server: str, kind: str) -> None:
    options: dict[str, Any] = {"api_keys": {"clipia": "clipia_live_key_1234"},
                               "base_urls": {"clipia": trickling_server},
                               "poll": PollPolicy(initial_interval=0.01, max_interval=0.02),
                               "retry": RetryPolicy(initial_delay=0.01, max_delay=0.02)}
    started = time.monotonic()
    with pytest.raises(WaitTimeoutError) as info:
        if kind == "sync":
            with Client(**options) as sync:
                sync.wait(JOB, timeout=0.4)
        else:
            async with AsyncClient(**options) as asynchronous:
                await asynchronous.wait(JOB, timeout=0.4)
    assert time.monotonic() - started < 0.4 + MARGIN
    assert info.value.job is not None and info.value.job.id == JOB.id


def test_every_request_inside_a_wait_is_bounded_by_the_time_left() -> None:
    clock = Clock()
    flow = wait_flow(get_adapter("clipia"), JOB, timeout=10, poll=PollPolicy(1.0, 2.0),
                     retry=RetryPolicy(max_retries=0), clock=clock, random=lambda: 0.0)
    effects, _ = drive(flow, [reply(200, {"status": "IN_PROGRESS"})] * 5 + [
        reply(200, {"status": "COMPLETED"}),
        reply(200, {"status": "COMPLETED", "output": {"images": [{"url": "https://m/a.png"}]}})], clock)
    timeouts = [e.timeout for e in effects if isinstance(e, Send)]
    assert timeouts[0] == 10 and all(t is not None and 0 < t <= 10 for t in timeouts)
    assert timeouts == sorted(timeouts, reverse=True) and timeouts[-1] < timeouts[0]


# -- item 4: a failed poll is not a failed wait ----------------------------------------------------------

BAD_POLLS = {
    "truncated": reply(200, b'{"status": "IN_PRO'),
    "not-json": reply(200, b"<html>oops</html>"),
    "wrong-shape": reply(200, b'["IN_PROGRESS"]'),
    "unknown-status": reply(200, {"status": "WARMING_UP"}),
    "status-not-a-string": reply(200, {"status": 7}),
}


@pytest.mark.parametrize("bad", BAD_POLLS.values(), ids=BAD_POLLS.keys())
def test_an_unreadable_status_reply_is_a_transient_poll_failure(bad: Any) -> None:
    clock = Clock()
    flow = wait_flow(get_adapter("clipia"), JOB, timeout=100, poll=PollPolicy(1.0, 2.0),
                     retry=RetryPolicy(max_retries=0), clock=clock, random=lambda: 0.0)
    _, job = drive(flow, [bad, bad, reply(200, {"status": "COMPLETED"}),
                          reply(200, {"status": "COMPLETED", "output": {"images": [{"url": "https://m/a.png"}]}})],
                   clock)
    assert job.status is JobStatus.SUCCEEDED


def test_unreadable_status_replies_count_toward_the_consecutive_failure_limit() -> None:
    clock = Clock()
    flow = wait_flow(get_adapter("cliprise"), CLIPRISE_JOB, timeout=100, poll=PollPolicy(1.0, 2.0, 1.5, 3),
                     retry=RetryPolicy(max_retries=0), clock=clock, random=lambda: 0.0)
    replies = [reply(200, [{"status": "queued-ish"}])] * 3 + [reply(200, [{"status": "processing"}])]
    with pytest.raises(MalformedResponseError) as info:
        drive(flow, replies, clock)
    assert info.value.job is not None and info.value.job.id == "t1" and len(replies) == 1
