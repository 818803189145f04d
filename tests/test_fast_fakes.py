"""Clients handed out by the fakes poll and back off at test speed unless told otherwise."""

from __future__ import annotations

import time

import pytest
from support import call, close

from genwire import PollPolicy, RetryPolicy
from genwire.testing import FakeProviders, FakeServer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_fake_server_clients_ride_out_two_503s_in_milliseconds(mode: str) -> None:
    with FakeServer() as srv:
        client = srv.client() if mode == "sync" else srv.async_client()
        try:
            srv.fakes.clipia.fail_next(503, times=2)
            started = time.monotonic()
            job = await call(client, "run", "clipia/nano-banana-2", input={"prompt": "a fox"}, timeout=30)
            elapsed = time.monotonic() - started
        finally:
            await close(client)
    assert job.status.value == "succeeded"
    # production backoff sleeps 0.5 s + 1 s for two 503s and polls at 1 s: seconds, not this
    assert elapsed < 1.0
    assert client.retry.initial_delay <= 0.01 and client.poll.initial_interval <= 0.01


def test_production_policies_are_one_keyword_away() -> None:
    fakes = FakeProviders()
    with fakes.client(poll=PollPolicy(), retry=RetryPolicy(), max_retries=1) as client:
        assert (client.poll, client.retry) == (PollPolicy(), RetryPolicy(max_retries=1))
    with fakes.client() as client:
        assert client.retry.max_retries == RetryPolicy().max_retries    # as many retries, shorter pauses


def test_client_options_name_everything_a_hand_made_client_needs() -> None:
    with FakeServer() as srv:
        options = srv.client_options()
    assert set(options) == {"base_urls", "api_keys", "poll", "retry"}
