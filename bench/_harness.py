"""Shared benchmark machinery: interleaved rounds, several runs in fresh processes, ratio tables.

Why interleaved: timing a baseline once and then each candidate one after the
other lets machine noise (another process, a frequency change) land on one
candidate only. Here every round times a batch of *every* candidate, in an
order rotated from round to round, and a candidate's figure is the median of
its per-round times; ratios are ratios of those medians. A whole measurement
is repeated in several fresh processes ("runs") and the median of the runs'
ratios is quoted, with their range.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Case", "Comparison", "machine", "measure", "print_table", "run_in_children"]

#: a candidate times ``n`` calls and returns the elapsed seconds
Batch = Callable[[int], float]


@dataclass
class Case:
    """Candidates timed against each other; ``ratios`` are (numerator, denominator, goal or None)."""

    name: str
    candidates: dict[str, Batch]
    ratios: Sequence[tuple[str, str, float | None]]
    batch: int = 200


def measure(case: Case, rounds: int, warmup: int = 1) -> dict[str, float]:
    """Median seconds per call of every candidate over ``rounds`` interleaved rounds."""
    names = list(case.candidates)
    for _ in range(warmup):
        for name in names:
            case.candidates[name](case.batch)
    per_call: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            per_call[name].append(case.candidates[name](case.batch) / case.batch)
    return {n: statistics.median(ts) for n, ts in per_call.items()}


@dataclass
class Comparison:
    case: str
    numerator: str
    denominator: str
    goal: float | None
    ratios: list[float]
    numerator_us: list[float]
    denominator_us: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def met(self) -> str:
        if self.goal is None:
            return ""
        return "yes" if self.ratio <= self.goal else "NO"


def run_in_children(script: str, runs: int, extra: Sequence[str] = ()) -> list[dict[str, dict[str, float]]]:
    """Run ``script --child`` ``runs`` times in fresh interpreters; each prints one JSON result line."""
    results = []
    for i in range(runs):
        out = subprocess.run([sys.executable, script, "--child", *extra], check=True, capture_output=True,
                             text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(f"  run {i + 1}/{runs} done", file=sys.stderr)
    return results


def compare(cases: Sequence[Case], results: Sequence[Mapping[str, Mapping[str, float]]]) -> list[Comparison]:
    out = []
    for case in cases:
        for num, den, goal in case.ratios:
            nums = [r[case.name][num] for r in results]
            dens = [r[case.name][den] for r in results]
            out.append(Comparison(case.name, num, den, goal, [a / b for a, b in zip(nums, dens, strict=True)],
                                  [a * 1e6 for a in nums], [b * 1e6 for b in dens]))
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import httpx
    import pydantic

    return (f"{os.cpu_count()} CPUs ({cpu}), {platform.system()}, Python {platform.python_version()}, "
            f"httpx {httpx.__version__}, pydantic {pydantic.VERSION}")


def print_table(comparisons: Sequence[Comparison], runs: int) -> None:
    print(f"\nmachine: {machine()}")
    print(f"median of {runs} runs (range in brackets); each run: interleaved rounds, median per candidate\n")
    print("| case | candidate | µs/call | baseline | µs/call | ratio | goal | met |")
    print("|---|---|---|---|---|---|---|---|")
    for c in comparisons:
        goal = f"≤ {c.goal:.2f}x" if c.goal is not None else ""
        print(f"| {c.case} | {c.numerator} | {statistics.median(c.numerator_us):.1f} | {c.denominator} | "
              f"{statistics.median(c.denominator_us):.1f} | {c.ratio:.2f}x "
              f"[{min(c.ratios):.2f}-{max(c.ratios):.2f}] | {goal} | {c.met} |")
