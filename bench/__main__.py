"""Every benchmark in one run, one table: ``python -m bench [--size tiny|full] [--only NAME ...]``.

Each row is a ratio of a candidate to its baseline measured in the same run (interleaved
rounds or alternating processes; see each script's docstring), with the goal it is held to.
``--size full`` is what bench/README.md quotes; ``--size tiny`` runs every benchmark briefly
to prove it still works (CI runs it; its figures mean nothing). genwire's bytecode is
compiled first, as a wheel install has it. The header names the machine, the versions, the
commit and the load average before and after: figures taken under load say so.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

from _harness import SIZES, Row, compile_genwire, machine, print_rows, versions  # noqa: E402

#: benchmark name -> module (each has ``rows(size) -> list[Row]``), in the table's order
BENCHES = {
    "overhead": "bench_overhead",
    "coldstart": "bench_coldstart",
    "validator": "bench_validators",
    "compile": "bench_compile",
    "fanout": "bench_fanout",
    "ledger": "bench_ledger",
    "webhook": "bench_webhook",
    "mcp": "bench_mcp",
}


def _commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(HERE.parent), "describe", "--always", "--dirty"], check=True,
                             capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument("--only", nargs="+", choices=list(BENCHES), help="run only these benchmarks")
    opts = parser.parse_args(argv)
    compile_genwire()
    names = opts.only or list(BENCHES)
    started, load_before = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), _load()
    rows: list[Row] = []
    failed: list[str] = []
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        begun = time.perf_counter()
        try:
            rows.extend(importlib.import_module(BENCHES[name]).rows(opts.size))
        except (Exception, SystemExit):  # the others still run; the exit status says so
            traceback.print_exc()
            failed.append(name)
        print(f"   {name}: {time.perf_counter() - begun:.0f} s", file=sys.stderr, flush=True)
    print(f"\n`python -m bench --size {opts.size}` at {_commit()}, started {started}, "
          f"finished {time.strftime('%H:%M UTC', time.gmtime())}")
    print(f"machine: {machine()}")
    print(f"versions: {versions()}")
    print(f"load average (1, 5, 15 min) before: {load_before}; after: {_load()} "
          f"({os.cpu_count()} CPUs: above that, other work shared the machine)")
    if opts.size == "tiny":
        print("size tiny: a smoke run; the figures below mean nothing")
    print()
    print_rows(rows)
    if failed:
        print(f"\nFAILED (see stderr): {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
