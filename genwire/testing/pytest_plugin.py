"""pytest fixtures for code that uses genwire: fake providers and clients wired to them.

Registered as the ``genwire`` pytest plugin, so once genwire is installed::

    def test_generates(genwire_client):
        job = genwire_client.run(GenerationRequest(provider="clipia", model="nano-banana-2",
                                                   input={"prompt": "a fox"}))
        assert job.outputs

    @pytest.mark.anyio
    async def test_generates_async(async_genwire_client, fake_providers):
        fake_providers.cliprise.fail_next(429, retry_after=0.01)
        ...

The clients poll and back off in milliseconds. ``async_genwire_client`` is an
async fixture: tests using it need ``@pytest.mark.anyio`` (anyio ships with httpx).
This module does not import Hypothesis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from .._retry import PollPolicy, RetryPolicy
from ..client import AsyncClient, Client
from .fakes import FakeProviders

__all__ = ["FAST_POLL", "FAST_RETRY", "async_genwire_client", "fake_providers", "genwire_client"]

FAST_POLL = PollPolicy(initial_interval=0.001, max_interval=0.01)
FAST_RETRY = RetryPolicy(initial_delay=0.001, max_delay=0.01)


@pytest.fixture
def fake_providers() -> FakeProviders:
    """Fresh fake Clipia and Cliprise servers (see ``genwire.testing.FakeProviders``)."""
    return FakeProviders()


@pytest.fixture
def genwire_client(fake_providers: FakeProviders) -> Iterator[Client]:
    """A ``genwire.Client`` talking to ``fake_providers`` with their fake keys."""
    with fake_providers.client(poll=FAST_POLL, retry=FAST_RETRY) as client:
        yield client


@pytest.fixture
async def async_genwire_client(fake_providers: FakeProviders) -> AsyncIterator[AsyncClient]:
    """A ``genwire.AsyncClient`` talking to ``fake_providers`` (use with ``@pytest.mark.anyio``)."""
    async with fake_providers.async_client(poll=FAST_POLL, retry=FAST_RETRY) as client:
        yield client
