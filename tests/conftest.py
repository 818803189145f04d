"""Test-suite settings: Hypothesis explores new examples locally and replays a fixed set in CI."""

from __future__ import annotations

import os

from hypothesis import settings

# CI must not fail on an example nobody has seen before; local runs keep searching.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
# No per-example deadline locally either: on a shared 2-core machine a busy neighbour makes any
# example slow, and a deadline then fails a correct test as "flaky".
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
