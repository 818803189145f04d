"""The Driver seam: what a layer above the policy needs from a client to run flows.

``Client`` implements ``Driver`` and ``AsyncClient`` implements ``AsyncDriver``. The
ledger's reconcile, the ASGI app, the CLI and the MCP server take one of these and
build their flows from ``genwire._policy.flows`` with its adapter, retry policy and
random source, or ask it for a submit or live-catalog flow; none of them touches a
client's private members. The protocols live here (not in ``_client/``) so that the
ledger, below the client, can name them without importing it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from ..adapters.base import Adapter
    from ..models import GenerationRequest, Job
    from .flows import Attempts, Flow
    from .retry import RetryPolicy

__all__ = ["AsyncDriver", "Driver", "FlowSource", "OnUpdate"]

T = TypeVar("T")

#: what ``wait(on_update=...)`` and ``run(on_update=...)`` call with each new state of a job
#: (an ``AsyncClient`` also awaits what it returns)
OnUpdate = Callable[["Job"], Any]


class FlowSource(Protocol):
    """What both drivers offer to build flows with."""

    #: the retry policy every flow of this client uses
    retry: RetryPolicy
    #: the jitter source, uniform on [0, 1) (injectable: ``Client(random=...)``)
    random: Callable[[], float]

    def adapter(self, provider: str) -> Adapter:
        """The provider's adapter bound to this client's catalog (``NotFoundError`` if unknown)."""
        ...

    def submit_flow(self, request: GenerationRequest, *, record: bool = True,
                    attempts: Attempts | None = None) -> Flow[Job]:
        """The whole submit of ``request``, planned and validated (raises before any flow runs on
        bad input or a missing key). ``record=False``: not written to the client's ledger (the caller
        records it, as reconcile does)."""
        ...

    def live_entries_flow(self, provider: str, models: Sequence[str] | None, cache_dir: str | Path | None,
                          ttl: float) -> Flow[list[dict[str, Any]]]:
        """The provider's published model JSON, fetched or read from the disk cache."""
        ...


class Driver(FlowSource, Protocol):
    """A synchronous driver (``Client``)."""

    def drive(self, flow: Flow[T], on_update: OnUpdate | None = None) -> T:
        """Run ``flow`` to its end, executing its effects; the flow is closed however it ends."""
        ...


class AsyncDriver(FlowSource, Protocol):
    """An asyncio driver (``AsyncClient``)."""

    async def drive(self, flow: Flow[T], on_update: OnUpdate | None = None) -> T:
        """Run ``flow`` to its end, awaiting its effects; the flow is closed however it ends."""
        ...
