"""How much genwire adds per request, as ratios against plain httpx measured in the same run.

    python bench/bench_overhead.py [--quick]

Baseline: posting a prebuilt JSON body with a bare ``httpx.Client`` to an
in-process ``httpx.MockTransport`` that answers like Cliprise. That is the floor
any hand-rolled client pays before the network; a real round trip to a provider
adds tens to hundreds of milliseconds on top of it. Each genwire step is
reported in microseconds and as a multiple of that baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import timeit
from collections.abc import Callable
from typing import Any

import httpx
from jsonschema import Draft202012Validator

import genwire
from genwire._translate import build_body
from genwire.adapters import get_adapter

REPLY = json.dumps([{"code": 200, "taskId": "1b363b46636f61fb7e0e48ed7879"}]).encode()
BASE = "https://business.api.cliprise.app/app/cliprise"
CASES = {
    "wan-2-5 text-to-video (6 params)": (
        "cliprise", "wan-2-5", "text-to-video",
        {"prompt": "a fox in the snow", "resolution": "1080p", "duration": 10, "seed": 12345,
         "aspect_ratio": "16:9", "negative_prompt": "blur"},
    ),
    "veo-3-fast frames-to-video (top level)": (
        "cliprise", "veo-3-fast", "frames-to-video",
        {"prompt": "a fox", "first_frame_url": "https://example.com/a.png",
         "last_frame_url": "https://example.com/b.png", "aspect_ratio": "auto"},
    ),
    "elevenlabs-v3-dialogue (array of objects)": (
        "cliprise", "elevenlabs-v3-dialogue", "dialogue",
        {"dialogue": [{"text": "Hello there", "voice": "EkK5I93UQWFDigLMpZcX"},
                      {"text": "Hi", "voice": "nPczCjzI2devNBz1zQrb"}] * 5},
    ),
}


def per_call(fn: Callable[[], object], number: int, repeat: int) -> float:
    """Median seconds per call over ``repeat`` runs of ``number`` calls."""
    fn()
    return statistics.median(timeit.repeat(fn, number=number, repeat=repeat)) / number


def bench_case(label: str, case: tuple[str, str, str, dict[str, Any]], raw: httpx.Client, client: genwire.Client,
               catalog: genwire.Catalog, number: int, repeat: int) -> None:
    provider, model, task, values = case
    adapter = get_adapter(provider, catalog)
    spec = catalog.task(provider, model, task)
    envelope = catalog.envelope(provider)
    request = genwire.GenerationRequest(provider=provider, model=model, task=task, input=values,
                                        webhook_url="https://example.com/cb")
    resolved = catalog.resolve(request)[0]
    body = build_body(envelope, spec, resolved.input, request.webhook_url)
    schema = catalog.input_schema(provider, model, task)
    reference = Draft202012Validator(schema)

    def baseline() -> object:
        return raw.post(f"{BASE}/generate", json=body, headers={"Authorization": "Bearer bench-key-0000"})

    base = per_call(baseline, number, repeat)
    steps: dict[str, Callable[[], object]] = {
        "jsonschema is_valid alone (reference)": lambda: reference.is_valid(values),
        "Catalog.validate (defaults applied)": lambda: catalog.validate(provider, model, task, values),
        "translate (build_body)": lambda: build_body(envelope, spec, resolved.input, request.webhook_url),
        "adapter.build_submit": lambda: adapter.build_submit(resolved, envelope, request.webhook_url, "k"),
        "resolve (request -> validated plan)": lambda: catalog.resolve(request),
        "Client.submit end to end": lambda: client.submit(request),
    }
    print(f"\n{label}\n  baseline httpx post: {base * 1e6:8.1f} us  (1.00x)")
    for name, fn in steps.items():
        t = per_call(fn, number, repeat)
        print(f"  {name:40} {t * 1e6:8.1f} us  ({t / base:.2f}x baseline)")


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    opts = args.parse_args(argv)
    number, repeat = (200, 3) if opts.quick else (2000, 7)

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=REPLY))
    raw = httpx.Client(transport=transport)
    catalog = genwire.Catalog.default()
    client = genwire.Client(api_keys={"cliprise": "bench-key-0000"}, transport=transport)

    for label, case in CASES.items():
        bench_case(label, case, raw, client, catalog, number, repeat)
    client.close()
    raw.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
