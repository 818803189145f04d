"""AsyncClient(ledger=...): ledger writes run off the event loop, so a slow database stalls no
other task (the writes are real; only their speed is that of a slow disk or a far server)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from genwire import GenerationRequest
from genwire._policy.retry import PollPolicy, RetryPolicy
from genwire.ledger import LedgerState, open_ledger
from genwire.testing import FakeProviders

pytestmark = pytest.mark.anyio

REQUEST = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})
WRITE_SECONDS = 0.3


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_slow_ledger_write_does_not_stall_the_event_loop(tmp_path: Path) -> None:
    ledger = open_ledger(f"sqlite:///{tmp_path / 'jobs.db'}")
    write = ledger.record_intent

    def slow_write(*args: Any, **kwargs: Any) -> Any:
        time.sleep(WRITE_SECONDS)
        return write(*args, **kwargs)

    ledger.record_intent = slow_write  # type: ignore[method-assign]
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    fakes = FakeProviders()
    try:
        async with fakes.async_client(ledger=ledger, poll=PollPolicy(initial_interval=0.001, max_interval=0.002),
                                      retry=RetryPolicy(initial_delay=0.001, max_delay=0.002)) as client:
            beat = asyncio.create_task(ticker())
            job = await client.run(REQUEST, timeout=10)
            beat.cancel()
        entry = ledger.find("clipia", job.id)
        assert entry is not None and entry.state is LedgerState.SUCCEEDED
    finally:
        ledger.close()
    assert ticks >= WRITE_SECONDS / 0.01 / 2, f"the loop ticked {ticks} times during a {WRITE_SECONDS} s write"
