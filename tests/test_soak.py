"""A seeded ~500-job fault soak (bench/soak.py) holds every promise of issue 8 at once, on every
provider the registry names (``genwire.testing.fakes.FAKES``) and a family spanning several."""

from __future__ import annotations

import gc
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from genwire.adapters import ADAPTERS
from genwire.testing.fakes import FAKES


def load_soak() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "bench" / "soak.py"
    spec = importlib.util.spec_from_file_location("genwire_bench_soak", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def test_a_seeded_fault_soak_loses_nothing_charges_once_and_keeps_every_deadline() -> None:
    soak = load_soak()
    # the suite's own heap (thousands of objects from earlier tests) would make every full
    # collection during the soak slow, and a wait's deadline is wall-clock time
    gc.collect()
    gc.freeze()
    try:
        report = soak.run_soak(500, seed=7, fault_rate=0.12, wait_timeout=0.4, concurrency=8)
    finally:
        gc.unfreeze()
    assert sum(report.faults.values()) >= 0.1 * report.requests
    assert (report.lost, report.duplicate_charges, report.wait_overruns) == (0, 0, 0), report.lines()
    assert (report.wrong_final_states, report.foreign_exceptions) == (0, 0), report.lines()
    assert report.outcomes.get("succeeded", 0) > 250 and report.outcomes.get("uncertain", 0) > 0
    # every provider took part, and a family; a provider without idempotency ended some submits uncertain
    assert set(report.per_target) == {*FAKES, "family"}, report.lines()
    assert all(kinds.get("succeeded", 0) > 50 for kinds in report.per_target.values()), report.lines()
    assert all(report.per_target[p].get("uncertain", 0) > 0 for p in FAKES if not ADAPTERS[p].submit_replay_safe)
