"""Test helpers for code that uses genwire: fake providers, Hypothesis strategies, pytest fixtures.

* ``genwire.testing`` (this module): ``FakeClipia``, ``FakeCliprise`` and
  ``FakeProviders``, in-process fakes of both providers (no extra dependencies), and
  ``FakeServer``, the same fakes on a real loopback socket (``genwire fake-server``).
* ``genwire.testing.strategies``: Hypothesis strategies for valid and invalid
  inputs and requests (``pip install genwire[testing]``).
* ``genwire.testing.pytest_plugin``: the ``fake_providers``, ``genwire_client``
  and ``async_genwire_client`` fixtures, registered as a pytest plugin.
"""

from typing import TYPE_CHECKING, Any

from .fakes import (
    DEFAULT_WEBHOOK_SECRET,
    Delivery,
    FakeClipia,
    FakeCliprise,
    FakeJob,
    FakeProvider,
    FakeProviders,
    Outcome,
    RecordedRequest,
    sample_media,
)

__all__ = [
    "DEFAULT_WEBHOOK_SECRET",
    "Delivery",
    "FakeClipia",
    "FakeCliprise",
    "FakeJob",
    "FakeProvider",
    "FakeProviders",
    "FakeServer",
    "Outcome",
    "RecordedRequest",
    "sample_media",
]

if TYPE_CHECKING:
    from .server import FakeServer


def __getattr__(name: str) -> Any:
    # http.server is slow to import: load the socket face only when asked for
    if name == "FakeServer":
        from .server import FakeServer

        return FakeServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
