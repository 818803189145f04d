"""AsyncClient over a real socket: httpcore's per-request lock setup stays off the import system."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

import anyio

from genwire import AsyncClient, GenerationRequest
from genwire._policy.retry import PollPolicy
from genwire.testing.server import FakeServer


class _Lookups(importlib.abc.MetaPathFinder):
    """Records every module name the import system is asked to find."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        self.names.append(fullname)
        return None


def test_async_requests_do_not_search_for_sniffio_on_every_lock() -> None:
    # httpcore tries `import sniffio` whenever it sets up an async lock; without sniffio installed
    # (a genwire dependency for this reason) each try is a failed import that walks sys.path
    request = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})
    lookups = _Lookups()

    async def main() -> None:
        async with AsyncClient(base_urls=srv.base_urls, api_keys=srv.api_keys,
                               poll=PollPolicy(initial_interval=0.001, max_interval=0.002)) as client:
            await client.run(request, timeout=10)  # pool, connection and modules warmed up
            sys.meta_path.insert(0, lookups)
            try:
                for _ in range(3):
                    await client.run(request, timeout=10)
            finally:
                sys.meta_path.remove(lookups)

    with FakeServer() as srv:
        anyio.run(main)
    assert "sniffio" not in lookups.names, "sniffio missing: reinstall genwire (pip install -e .), it is a dependency"
