"""Catalog compile: the meta-schema checks by genwire's compiled check vs python-jsonschema for every file.

    python bench/bench_compile.py [--runs 3] [--rounds 15] [--wall-rounds 10]

"old" is the compiler as it was before the compiled check: python-jsonschema checks every
catalog file against its meta-schema (and is imported up front). "new" is the compiler as it
is: ``genwire.catalog._fastcheck`` passes valid files, python-jsonschema only explains invalid ones.

In process: interleaved rounds of ``compile_catalog`` (warm: validators built, files in the
page cache), median per candidate, repeated in ``--runs`` fresh processes; the table quotes
the median of the runs' ratios. Fresh process: the wall time of ``python -m tools.compile
--check`` (interpreter start and imports included), old and new alternating, median of the
rounds. genwire's sources are byte-compiled first, as a wheel install has them.
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # tools/
from _harness import Case, Row, compare, machine, measure, print_table, run_in_children

ROOT = Path(__file__).resolve().parent.parent

#: run in a fresh interpreter from ROOT: the old path forces python-jsonschema for every file
OLD_CHECK = (
    "import sys, jsonschema, genwire.catalog._compile as c\n"
    "c._fast_check = lambda key, schema: None\n"
    "from tools.compile import main\n"
    "sys.exit(main(['--check']))\n"
)
NEW_CHECK = "import sys\nfrom tools.compile import main\nsys.exit(main(['--check']))\n"


def _compile_batch(old: bool, whole: bool = False) -> Callable[[int], float]:
    """``compile_catalog``, or with ``whole`` what ``tools.compile --check`` does in process
    (compile, render every file, read and compare the files on disk)."""
    import genwire.catalog._compile as c
    from tools.compile import plan

    fast = c._fast_check

    def batch(n: int) -> float:
        if old:
            c._fast_check = lambda key, schema: None
        try:
            start = time.perf_counter()
            for _ in range(n):
                if whole:
                    writes, stale, problems = plan(ROOT)
                    assert not (writes or stale or problems)
                else:
                    _, problems = c.compile_catalog(ROOT / "catalog", relative_to=ROOT)
                    assert not problems
            return time.perf_counter() - start
        finally:
            c._fast_check = fast

    return batch


def _cases() -> list[Case]:
    return [
        Case("compile_catalog (in process, warm)",
             {"new": _compile_batch(False), "old": _compile_batch(True)}, [("new", "old", None)], batch=2),
        Case("tools.compile plan: compile, render, compare (in process, warm)",
             {"new": _compile_batch(False, True), "old": _compile_batch(True, True)}, [("new", "old", None)],
             batch=1),
    ]


def _child(rounds: int) -> None:
    import json

    print(json.dumps({case.name: measure(case, rounds) for case in _cases()}))


def _wall(rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"new": [], "old": []}
    snippets = {"new": NEW_CHECK, "old": OLD_CHECK}
    for r in range(rounds + 1):
        order = ["new", "old"] if r % 2 else ["old", "new"]
        for name in order:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", snippets[name]], cwd=ROOT, check=True)
            if r:  # round 0 warms the page cache
                times[name].append(time.perf_counter() - start)
    return times


#: (runs, rounds, wall rounds) per size
SIZES = {"tiny": (1, 1, 1), "full": (3, 15, 10)}


def rows(size: str) -> list[Row]:
    runs, rounds, wall_rounds = SIZES[size]
    for package in ("genwire", "tools"):
        compileall.compile_dir(str(ROOT / package), quiet=1)
    results = run_in_children(__file__, runs, ["--rounds", str(rounds)])
    new, old = "compiled check", "python-jsonschema for every file"
    found = [Row("compile", c.case, new, old, c.ratios, detail=f"{statistics.median(c.numerator_us) / 1e3:.0f} / "
                 f"{statistics.median(c.denominator_us) / 1e3:.0f} ms") for c in compare(_cases(), results)]
    wall = _wall(wall_rounds)
    walls = statistics.median(wall["new"]) * 1e3, statistics.median(wall["old"]) * 1e3
    found.append(Row("compile", "python -m tools.compile --check, fresh process, wall", new, old,
                     [n / o for n, o in zip(wall["new"], wall["old"], strict=True)],
                     detail=f"{walls[0]:.0f} / {walls[1]:.0f} ms"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", choices=list(SIZES), default="full")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--wall-rounds", type=int)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    runs, rounds, wall_rounds = SIZES[args.size]
    args.runs, args.rounds, args.wall_rounds = args.runs or runs, args.rounds or rounds, args.wall_rounds or wall_rounds
    if args.child:
        _child(args.rounds)
        return
    for package in ("genwire", "tools"):
        compileall.compile_dir(str(ROOT / package), quiet=1)
    results = run_in_children(__file__, args.runs, ["--rounds", str(args.rounds)])
    comparisons = compare(_cases(), results)
    print_table(comparisons, args.runs)
    compiled = statistics.median(comparisons[0].numerator_us) / 1e3
    print(f"(µs/call is per call; issue 11's goal: catalog compile ≤ 100 ms; compile_catalog now {compiled:.0f} ms)")
    wall = _wall(args.wall_rounds)
    new, old = statistics.median(wall["new"]), statistics.median(wall["old"])
    print(f"\n`python -m tools.compile --check`, fresh process, median of {args.wall_rounds} alternating rounds:")
    print(f"  new {new * 1e3:.0f} ms  old {old * 1e3:.0f} ms  ratio {new / old:.2f}x "
          f"(new range {min(wall['new']) * 1e3:.0f}-{max(wall['new']) * 1e3:.0f} ms)")
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
