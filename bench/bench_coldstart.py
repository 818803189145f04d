"""Cold start: fresh interpreters doing one thing each, genwire against httpx and the official SDK.

    python bench/bench_coldstart.py [--size tiny|full] [--runs N] [--rounds N]

Each round starts one fresh process per candidate, in an order rotated from
round to round, and records its wall time (interpreter start included: that is
what a CLI or a serverless cold start pays) and its peak RSS. A run's figure is
the median over its rounds; the table quotes the median of the runs' ratios.
Both clients answer from an ``httpx.MockTransport`` (no TLS context, no socket),
so the figures are import and first-call work only.

Before measuring, genwire's sources are compiled to bytecode (``compileall``), as a
wheel install does: an editable install under ``PYTHONDONTWRITEBYTECODE=1`` has no
``__pycache__`` and would recompile genwire in every fresh process, while httpx,
pydantic and the SDK (installed by pip) have theirs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import Row, compile_genwire, machine, print_rows

REPLY = ("lambda r: httpx.Response(200, json={'request_id': '7e0f4c9a', 'status': 'IN_QUEUE', "
         "'queue_position': 0})")
SNIPPETS: dict[str, str] = {
    "python": "pass",
    "import httpx": "import httpx",
    "import clipia": "import clipia",
    "import httpx + pydantic BaseModel": "import httpx; from pydantic import BaseModel",
    # what any client whose requests are pydantic models pays before doing anything of its own:
    # creating a model class loads pydantic.fields/types, validating builds a validator (and
    # discovers pydantic plugins through importlib.metadata, once per process)
    "httpx + one pydantic model validated": (
        "import httpx\nfrom pydantic import BaseModel\n"
        "class M(BaseModel):\n    a: str\n"
        "M(a='x')\n"
    ),
    "genwire catalog get": "import genwire; genwire.Catalog.default().get('clipia', 'nano-banana-2')",
    "sdk first submit": (
        "import httpx, clipia\n"
        f"t = httpx.MockTransport({REPLY})\n"
        "with clipia.Clipia(api_key='clipia_live_bench000', transport=t) as c:\n"
        "    c.submit('nano-banana-2', input={'prompt': 'a sunset'})\n"
    ),
    "genwire first submit": (
        "import httpx, genwire\n"
        f"t = httpx.MockTransport({REPLY})\n"
        "with genwire.Client(api_keys={'clipia': 'clipia_live_bench000'}, transport=t) as c:\n"
        "    c.submit(genwire.GenerationRequest(provider='clipia', model='nano-banana-2',\n"
        "                                       input={'prompt': 'a sunset'}))\n"
    ),
    "genwire import (all public names)": "import genwire; [getattr(genwire, n) for n in genwire.__all__]",
}
RATIOS: list[tuple[str, str, float | None]] = [
    ("genwire catalog get", "import httpx", 1.5),
    ("genwire first submit", "sdk first submit", 1.0),
    ("import clipia", "import httpx", None),
    ("import httpx + pydantic BaseModel", "sdk first submit", None),
    ("httpx + one pydantic model validated", "sdk first submit", None),
    ("genwire import (all public names)", "import httpx", None),
]


def spawn(code: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one fresh interpreter running ``code``."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"candidate failed: {code!r}")
    return elapsed, usage.ru_maxrss


def one_run(rounds: int) -> dict[str, tuple[float, float]]:
    names = list(SNIPPETS)
    times: dict[str, list[float]] = {n: [] for n in names}
    rss: dict[str, list[int]] = {n: [] for n in names}
    for name in names:  # warm the OS file cache and bytecode
        spawn(SNIPPETS[name])
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            t, m = spawn(SNIPPETS[name])
            times[name].append(t)
            rss[name].append(m)
    return {n: (statistics.median(times[n]), statistics.median(rss[n])) for n in names}


#: (runs, rounds) per size
SIZES = {"tiny": (1, 1), "full": (5, 15)}


def measure_runs(runs: int, rounds: int) -> list[dict[str, tuple[float, float]]]:
    compile_genwire()
    out = []
    for i in range(runs):
        out.append(one_run(rounds))
        print(f"  coldstart run {i + 1}/{runs} done", file=sys.stderr)
    return out


def rows_from(runs: list[dict[str, tuple[float, float]]]) -> list[Row]:
    found = []
    for num, den, goal in RATIOS:
        walls = statistics.median(r[num][0] for r in runs), statistics.median(r[den][0] for r in runs)
        found.append(Row("coldstart", "fresh process, wall", num, den, [r[num][0] / r[den][0] for r in runs], goal,
                         detail=f"{walls[0] * 1e3:.0f} / {walls[1] * 1e3:.0f} ms"))
    return found


def rows(size: str, runs: int | None = None, rounds: int | None = None) -> list[Row]:
    default_runs, default_rounds = SIZES[size]
    return rows_from(measure_runs(runs or default_runs, rounds or default_rounds))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="full")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--rounds", type=int)
    opts = parser.parse_args(argv)
    default_runs, default_rounds = SIZES[opts.size]
    runs = measure_runs(opts.runs or default_runs, opts.rounds or default_rounds)
    print(f"\nmachine: {machine()}")
    print(f"median of {len(runs)} runs of interleaved rounds; wall time includes interpreter start\n")
    print("| fresh process | wall ms | peak RSS MiB |")
    print("|---|---|---|")
    for name in SNIPPETS:
        wall = statistics.median(r[name][0] for r in runs)
        mem = statistics.median(r[name][1] for r in runs)
        print(f"| {name} | {wall * 1e3:.0f} | {mem / 1024:.1f} |")
    print()
    print_rows(rows_from(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
