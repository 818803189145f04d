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

import compileall
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SIZES", "Case", "Comparison", "Row", "compile_genwire", "machine", "measure", "print_rows", "print_table",
           "rows_of", "run_in_children", "versions"]

#: every benchmark runs at one of these; "tiny" only proves it still runs (CI), "full" is what bench/README quotes
SIZES = ("tiny", "full")

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


@dataclass
class Row:
    """One line of the benchmark table: a candidate against its baseline, measured in the same run.

    ``ratios`` holds one ratio per run (candidate / baseline); with ``floor`` the goal is a minimum
    (throughput, share of a ceiling), otherwise a maximum (time, CPU).
    """

    bench: str
    case: str
    candidate: str
    baseline: str
    ratios: list[float]
    goal: float | None = None
    floor: bool = False
    #: the absolute figures behind the ratio, e.g. "91 / 141 µs"
    detail: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def met(self) -> str:
        if self.goal is None:
            return ""
        ok = self.ratio >= self.goal if self.floor else self.ratio <= self.goal
        return "yes" if ok else "NO"

    @property
    def goal_text(self) -> str:
        if self.goal is None:
            return ""
        return f"{'≥' if self.floor else '≤'} {self.goal:.2f}x"

    @property
    def ratio_text(self) -> str:
        if len(self.ratios) == 1:
            return f"{self.ratio:.2f}x"
        return f"{self.ratio:.2f}x [{min(self.ratios):.2f}-{max(self.ratios):.2f}]"


def rows_of(bench: str, comparisons: Sequence[Comparison], unit: str = "µs") -> list[Row]:
    """Table rows for ``compare``'s comparisons (per-call times)."""
    return [Row(bench, c.case, c.numerator, c.denominator, c.ratios, c.goal,
                detail=f"{statistics.median(c.numerator_us):.1f} / {statistics.median(c.denominator_us):.1f} {unit}")
            for c in comparisons]


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("httpx", "httpcore", "anyio", "sniffio", "pydantic", "clipia", "jsonschema", "jsonschema-rs",
                 "psycopg", "uvicorn"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} (not installed)")
    import sqlite3

    found.append(f"SQLite {sqlite3.sqlite_version}")
    return ", ".join(found)


def compile_genwire() -> str:
    """Write genwire's bytecode (what a wheel install does); returns the package directory.

    An editable install under ``PYTHONDONTWRITEBYTECODE=1`` has no ``__pycache__`` and would
    recompile genwire in every fresh process, while its dependencies load from ``.pyc``.
    """
    spec = importlib.util.find_spec("genwire")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("genwire is not importable from this interpreter")
    package = str(Path(next(iter(spec.submodule_search_locations))).resolve())
    if not compileall.compile_dir(package, quiet=1):
        raise SystemExit(f"compileall failed for {package}")
    return package


def print_rows(rows: Sequence[Row]) -> None:
    print("| benchmark | case | candidate | baseline | candidate / baseline | ratio (median [range]) | goal | met |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r.bench} | {r.case} | {r.candidate} | {r.baseline} | {r.detail} | {r.ratio_text} | "
              f"{r.goal_text} | {r.met} |")
    notes = [f"- {r.bench}, {r.case}: {n}" for r in rows for n in r.notes]
    if notes:
        print("\n" + "\n".join(notes))
