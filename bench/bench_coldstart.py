"""Cold start: fresh interpreters doing one thing each, genwire against httpx and the official SDK.

    python bench/bench_coldstart.py [--runs 3] [--rounds 15]

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
import compileall
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine

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
    ("genwire first submit", "sdk first submit", 1.5),
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


def compile_genwire() -> str:
    """Write genwire's bytecode (what a wheel install does); returns the package directory."""
    spec = importlib.util.find_spec("genwire")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("genwire is not importable from this interpreter")
    package = str(Path(next(iter(spec.submodule_search_locations))).resolve())
    if not compileall.compile_dir(package, quiet=1):
        raise SystemExit(f"compileall failed for {package}")
    return package


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=15)
    opts = parser.parse_args(argv)
    package = compile_genwire()
    runs = []
    for i in range(opts.runs):
        runs.append(one_run(opts.rounds))
        print(f"  run {i + 1}/{opts.runs} done", file=sys.stderr)
    print(f"\nmachine: {machine()}")
    print(f"median of {opts.runs} runs of {opts.rounds} interleaved rounds; wall time includes interpreter start")
    print(f"genwire bytecode compiled first (as a wheel install does): {package}\n")
    print("| fresh process | wall ms | peak RSS MiB |")
    print("|---|---|---|")
    for name in SNIPPETS:
        wall = statistics.median(r[name][0] for r in runs)
        mem = statistics.median(r[name][1] for r in runs)
        print(f"| {name} | {wall * 1e3:.0f} | {mem / 1024:.1f} |")
    print("\n| ratio | value | goal | met |")
    print("|---|---|---|---|")
    for num, den, goal in RATIOS:
        ratios = [r[num][0] / r[den][0] for r in runs]
        ratio = statistics.median(ratios)
        met = "" if goal is None else ("yes" if ratio <= goal else "NO")
        print(f"| {num} / {den} | {ratio:.2f}x [{min(ratios):.2f}-{max(ratios):.2f}] | "
              f"{'' if goal is None else f'≤ {goal:.2f}x'} | {met} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
