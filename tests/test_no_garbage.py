"""A read reply leaves no reference cycle behind: memory at fan-out is freed at once, not at GC."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from support import call, close

from genwire import GenerationRequest
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
    job = await call(client, "submit", REQUEST)
    gc.collect()
    for _ in range(50):
        await call(client, "status", job)
    garbage = gc.collect()
    await close(client)
    assert garbage < 50, f"{garbage} objects in reference cycles after 50 polls"
