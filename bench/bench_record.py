"""What a frozen record class costs to create at import: ``@record`` against the
``@dataclass(frozen=True, slots=True)`` it stands in for, and what an instance costs to make.

    python bench/bench_record.py [--rounds 41]

Each round creates a batch of classes of one shape (five fields, three defaulted, as
genwire's effects and specs have) both ways, interleaved; the table quotes medians.
A first submit imports over a dozen such classes (``grep -rn @record genwire``).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
import timeit
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from genwire._util.record import record

FIELDS = '''
    """doc"""
    provider: str
    request: object
    timeout: float | None = None
    extra: tuple = ()
    more: int = 0
'''
INIT = '''
    def __init__(self, provider, request, timeout=None, extra=(), more=0):
        object.__setattr__(self, "provider", provider)
        object.__setattr__(self, "request", request)
        object.__setattr__(self, "timeout", timeout)
        object.__setattr__(self, "extra", extra)
        object.__setattr__(self, "more", more)
'''
WITH_INIT = compile("class Shape:" + FIELDS + INIT, "record", "exec")
WITHOUT_INIT = compile("class Shape:" + FIELDS, "dataclass", "exec")


def _body(code: Any) -> type:
    ns: dict[str, Any] = {}
    exec(code, ns)
    return ns["Shape"]  # type: ignore[no-any-return]


CANDIDATES = {
    "@record": lambda: record(_body(WITH_INIT)),
    "@record(slots=True)": lambda: record(slots=True)(_body(WITH_INIT)),
    "@dataclass(frozen=True, slots=True)": lambda: dataclasses.dataclass(frozen=True, slots=True)(_body(WITHOUT_INIT)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in CANDIDATES}
    names = list(CANDIDATES)
    for rnd in range(args.rounds):
        for name in names[rnd % len(names):] + names[:rnd % len(names)]:  # rotated
            make = CANDIDATES[name]
            start = time.perf_counter()
            for _ in range(args.batch):
                make()
            times[name].append((time.perf_counter() - start) / args.batch)
    base = statistics.median(times["@record"])
    print("| class made with | µs per class | vs @record | µs per instance |")
    print("|---|---|---|---|")
    for name, make in CANDIDATES.items():
        cls = make()
        per_instance = min(timeit.repeat(lambda cls=cls: cls("clipia", None, 1.0), number=20000, repeat=7)) / 20000
        median = statistics.median(times[name])
        print(f"| `{name}` | {median * 1e6:.0f} | {median / base:.1f}x | {per_instance * 1e6:.2f} |")


if __name__ == "__main__":
    main()
