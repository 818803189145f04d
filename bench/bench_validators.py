"""The validator on the hot path: genwire's compiled check against jsonschema-rs and python-jsonschema.

    python bench/bench_validators.py [--size tiny|full]   (needs `pip install -e '.[bench]'` for jsonschema-rs)

For four catalog schemas, from one field to a ten-line dialogue: microseconds to
accept valid input (what every submit pays), to list the errors of an invalid
one (rare; python-jsonschema explains them in genwire), and the share of a warm
``Client.submit`` (against a ``MockTransport``) that genwire's validation takes.
Candidates are interleaved per round; medians over rounds.

The full call, ``Catalog.validate``, is also timed with jsonschema-rs in place of the compiled
check (a catalog compiled from the YAML whose validator seam answers valid input with
``jsonschema_rs`` and explains invalid input as genwire does): what an optional extra would give.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import Row, machine, print_rows

ROOT = Path(__file__).resolve().parent.parent

CASES: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "nano-banana-2 text-to-image (1 field)": ("clipia", "nano-banana-2", "text-to-image", {"prompt": "a sunset"}),
    "veo-3-fast frames-to-video (4)": ("cliprise", "veo-3-fast", "frames-to-video", {
        "prompt": "a fox", "first_frame_url": "https://example.com/a.png",
        "last_frame_url": "https://example.com/b.png", "aspect_ratio": "auto"}),
    "wan-2-5 text-to-video (6)": ("cliprise", "wan-2-5", "text-to-video", {
        "prompt": "a fox in the snow", "resolution": "1080p", "duration": 10, "seed": 12345,
        "aspect_ratio": "16:9", "negative_prompt": "blur"}),
    "elevenlabs-v3-dialogue (10 lines)": ("cliprise", "elevenlabs-v3-dialogue", "dialogue", {
        "dialogue": [{"text": "Hello there", "voice": "EkK5I93UQWFDigLMpZcX"},
                     {"text": "Hi", "voice": "nPczCjzI2devNBz1zQrb"}] * 5}),
}


#: (calls per batch, rounds) per size
SIZES = {"tiny": (10, 2), "full": (300, 15)}


def per_call(fns: dict[str, Callable[[], object]], n: int = 300, rounds: int = 15) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in fns}
    names = list(fns)
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            start = time.perf_counter()
            for _ in range(n):
                fns[name]()
            times[name].append((time.perf_counter() - start) / n * 1e6)
    return {k: statistics.median(v) for k, v in times.items()}


def row(label: str, case: tuple[str, str, str, dict[str, Any]], catalog: Any, client: Any) -> str:
    import jsonschema_rs
    from jsonschema import Draft202012Validator

    import genwire
    from genwire.catalog._fastcheck import compile_check

    provider, model, task, good = case
    schema = catalog.input_schema(provider, model, task)
    check = compile_check(schema)
    assert check is not None, label
    rs = jsonschema_rs.validator_for(schema)
    py = Draft202012Validator(schema)
    bad = {**good, "prompt": 7, "nope": 1}
    assert check(good) and rs.is_valid(good) and py.is_valid(good)
    assert not check(bad) and not rs.is_valid(bad) and not py.is_valid(bad)
    request = genwire.GenerationRequest(provider=provider, model=model, task=task, input=good)
    t = per_call({
        "fast": lambda: check(good), "rs": lambda: rs.is_valid(good), "py": lambda: py.is_valid(good),
        "py_errors": lambda: list(py.iter_errors(bad)), "rs_errors": lambda: list(rs.iter_errors(bad)),
        "validate": lambda: catalog.validate(provider, model, task, good),
        "submit": lambda: client.submit(request),
    })
    return (f"| {label} | {t['fast']:.2f} | {t['rs']:.2f} | {t['py']:.1f} | {t['rs'] / t['fast']:.2f}x | "
            f"{t['py_errors']:.0f} | {t['rs_errors']:.1f} | {t['validate'] / t['submit'] * 100:.1f}% |")


def rs_catalog() -> Any:
    """A catalog compiled from the YAML whose validators check valid input with jsonschema-rs."""
    import jsonschema_rs

    import genwire
    import genwire.catalog._catalog as module

    original = module.compile_checked

    def compile_rs(schema: Any) -> Any:
        fast, (_, explain) = jsonschema_rs.validator_for(schema).is_valid, original(schema)
        return fast, lambda instance: [] if fast(instance) else explain(instance)

    module.compile_checked = compile_rs
    try:
        catalog = genwire.Catalog.load(ROOT / "catalog", merge=False)
        for provider, model, task, good in CASES.values():
            catalog.validate(provider, model, task, good)  # validators built while patched
    finally:
        module.compile_checked = original
    return catalog


def rows(size: str) -> list[Row]:
    import genwire
    from genwire.catalog._fastcheck import compile_check

    n, rounds = SIZES[size]
    catalog, with_rs = genwire.Catalog.default(), rs_catalog()
    found = []
    for label, (provider, model, task, good) in CASES.items():
        check = compile_check(catalog.input_schema(provider, model, task))
        assert check is not None and check(good)
        samples = [per_call({
            "check": lambda c=check, g=good: c(g),
            "validate": lambda p=provider, m=model, t=task, g=good: catalog.validate(p, m, t, g),
            "rs": lambda p=provider, m=model, t=task, g=good: with_rs.validate(p, m, t, g),
        }, n, rounds) for _ in range(3 if size == "full" else 1)]
        med = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
        found.append(Row("validator", label, "Catalog.validate", "its compiled check",
                         [s["validate"] / s["check"] for s in samples], 2.0,
                         detail=f"{med['validate']:.2f} / {med['check']:.2f} µs"))
        found.append(Row("validator", label, "Catalog.validate, jsonschema-rs inside", "Catalog.validate",
                         [s["rs"] / s["validate"] for s in samples],
                         detail=f"{med['rs']:.2f} / {med['validate']:.2f} µs"))
    return found


def main(argv: list[str] | None = None) -> int:
    import argparse
    from importlib.metadata import version

    import genwire

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="full")
    opts = parser.parse_args(argv)
    catalog = genwire.Catalog.default()
    reply = {"request_id": "r-1", "status": "IN_QUEUE", "queue_position": 0}
    replies = {"clipia": httpx.Response(200, json=reply), "cliprise": httpx.Response(200, json=[
        {"code": 200, "taskId": "t-1"}])}

    def handler(request: httpx.Request) -> httpx.Response:
        return replies["clipia" if request.url.host == "api.clipia.ai" else "cliprise"]

    client = genwire.Client(api_keys={"clipia": "clipia_live_bench000", "cliprise": "bench-key-0000"},
                            transport=httpx.MockTransport(handler))
    print(f"machine: {machine()}, jsonschema-rs {version('jsonschema-rs')}\n")
    print("| schema | genwire check µs | jsonschema-rs µs | python-jsonschema µs | rs / genwire | "
          "errors, python-jsonschema µs | errors, jsonschema-rs µs | Catalog.validate share of submit |")
    print("|---|---|---|---|---|---|---|---|")
    for label, case in CASES.items():
        print(row(label, case, catalog, client))
    client.close()
    print()
    print_rows(rows(opts.size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
