"""A read reply leaves no reference cycle behind: memory at fan-out is freed at once, not at GC."""

from __future__ import annotations

import gc
import inspect
from collections.abc import Iterator

import pytest

from genwire import AsyncClient, Client, GenerationRequest
from genwire.testing import FakeProviders

pytestmark = pytest.mark.anyio

REQUEST = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def gc_paused() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_polling_a_job_creates_no_cyclic_garbage(kind: str, gc_paused: None) -> None:
    fakes = FakeProviders()
    client = fakes.client() if kind == "sync" else fakes.async_client()
    job = client.submit(REQUEST)
    job = await job if inspect.isawaitable(job) else job
    gc.collect()
    for _ in range(50):
        polled = client.status(job)
        if inspect.isawaitable(polled):
            await polled
    garbage = gc.collect()
    closing = client.close() if isinstance(client, Client) else client.aclose()
    if inspect.isawaitable(closing):
        await closing
    assert isinstance(client, (Client, AsyncClient))
    assert garbage < 50, f"{garbage} objects in reference cycles after 50 polls"
