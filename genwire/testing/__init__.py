"""Test helpers for code that uses genwire: fake providers, Hypothesis strategies, pytest fixtures.

* ``genwire.testing`` (this module): ``FakeClipia``, ``FakeCliprise`` and
  ``FakeProviders``, in-process fakes of both providers (no extra dependencies).
* ``genwire.testing.strategies``: Hypothesis strategies for valid and invalid
  inputs and requests (``pip install genwire[testing]``).
* ``genwire.testing.pytest_plugin``: the ``fake_providers``, ``genwire_client``
  and ``async_genwire_client`` fixtures, registered as a pytest plugin.
"""

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
    "Outcome",
    "RecordedRequest",
    "sample_media",
]
