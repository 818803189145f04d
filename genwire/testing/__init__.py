"""Test helpers for code that uses genwire: fake providers, Hypothesis strategies, pytest fixtures.

* ``genwire.testing`` (this module): ``FakeClipia``, ``FakeCliprise``, ``FakeReplicate`` and
  ``FakeProviders``, in-process fakes of every provider (no extra dependencies), and
  ``FakeServer``, the same fakes on a real loopback socket (``genwire fake-server``).
* ``genwire.testing.strategies``: Hypothesis strategies for valid and invalid
  inputs and requests (``pip install genwire[testing]``).
* ``genwire.testing.pytest_plugin``: the ``fake_providers``, ``genwire_client``
  and ``async_genwire_client`` fixtures, registered as a pytest plugin.
"""

from typing import TYPE_CHECKING, Any

__all__ = [
    "DEFAULT_REPLICATE_SECRET",
    "DEFAULT_WEBHOOK_SECRET",
    "Delivery",
    "FakeClipia",
    "FakeCliprise",
    "FakeJob",
    "FakeProvider",
    "FakeProviders",
    "FakeReplicate",
    "FakeServer",
    "Outcome",
    "RecordedRequest",
    "sample_media",
    "sample_request",
]

if TYPE_CHECKING:
    from .fakes import (
        DEFAULT_REPLICATE_SECRET,
        DEFAULT_WEBHOOK_SECRET,
        Delivery,
        FakeClipia,
        FakeCliprise,
        FakeJob,
        FakeProvider,
        FakeProviders,
        FakeReplicate,
        Outcome,
        RecordedRequest,
        sample_media,
        sample_request,
    )
    from .server import FakeServer


def __getattr__(name: str) -> Any:
    # names load on first use: the pytest plugin imports this package in every pytest run
    # of an environment with genwire installed, and http.server is slow to import
    if name == "FakeServer":
        from .server import FakeServer

        return FakeServer
    if name in __all__:
        from . import fakes

        return getattr(fakes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
