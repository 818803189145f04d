"""Test-suite settings: Hypothesis explores new examples locally and replays a fixed set in CI."""

from __future__ import annotations

import os

from hypothesis import settings

# CI must not fail on an example nobody has seen before; local runs keep searching.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
