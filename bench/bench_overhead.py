"""Per-call cost of genwire against the official ``clipia`` SDK and bare httpx, warm, as ratios.

    python bench/bench_overhead.py [--runs 5] [--rounds 41] [--quick]

Every candidate talks to the same in-process ``httpx.MockTransport`` that
answers like the provider, so what is timed is the library's own work plus
httpx's request/response machinery, which all three pay alike. Rounds are
interleaved (see ``bench/_harness.py``); each run is a fresh process and the
table quotes the median of the runs' ratios.

Warm: every figure is steady state, after warm-up calls (validators compiled,
pools built). Cold (first call in a fresh process, imports included) is
``bench/bench_coldstart.py``.

Candidates:
  genwire   ``client.submit(GenerationRequest(...))`` (the request object built in the
            timed call, as user code does), ``client.status(job)``;
  sdk       ``clipia.Clipia.submit(model, input=...)``, ``.status(request_id)`` (clipia 1.5.0);
  httpx     what a hand-rolled client must do at least: post the body with the auth and
            Idempotency-Key headers, check the status, decode the JSON reply.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import Case, compare, measure, print_table, run_in_children

KEY = "clipia_live_bench0000000000"
CLIPIA = "https://api.clipia.ai"
CLIPRISE = "https://business.api.cliprise.app/app/cliprise"
RID = "7e0f4c9a-5b1e-4d2a-9a7c-3f1e2d4c5b6a"
TASK_ID = "1b363b46636f61fb7e0e48ed7879"
PROMPT = "a sunset over mountains, cinematic"
VEO_INPUT = {"prompt": "a fox running through snow", "aspect_ratio": "16:9"}

REPLIES: dict[tuple[str, str], bytes] = {
    ("api.clipia.ai", "/v1/models/nano-banana-2"): json.dumps({
        "request_id": RID, "status": "IN_QUEUE", "queue_position": 0,
        "status_url": f"{CLIPIA}/v1/requests/{RID}/status", "response_url": f"{CLIPIA}/v1/requests/{RID}",
        "cost": 12}).encode(),
    ("api.clipia.ai", f"/v1/requests/{RID}/status"): json.dumps({
        "request_id": RID, "status": "IN_PROGRESS", "progress": 40, "logs": []}).encode(),
    ("business.api.cliprise.app", "/app/cliprise/generate"): json.dumps([{"code": 200, "taskId": TASK_ID}]).encode(),
    ("business.api.cliprise.app", "/app/cliprise/status"): json.dumps([{"status": "processing"}]).encode(),
}
JSON = {"content-type": "application/json"}


def handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=REPLIES[(request.url.host, request.url.path)], headers=JSON)


def sync_batch(call: Callable[[], object]) -> Callable[[int], float]:
    def batch(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            call()
        return time.perf_counter() - start

    return batch


def async_batch(loop: asyncio.AbstractEventLoop, call: Callable[[], Awaitable[object]]) -> Callable[[int], float]:
    async def go(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            await call()
        return time.perf_counter() - start

    return lambda n: loop.run_until_complete(go(n))


def cases(loop: asyncio.AbstractEventLoop) -> list[Case]:
    import clipia

    import genwire

    transport = httpx.MockTransport(handler)
    keys = {"clipia": KEY, "cliprise": KEY}
    gw = genwire.Client(api_keys=keys, transport=transport)
    agw = genwire.AsyncClient(api_keys=keys, transport=transport)
    sdk = clipia.Clipia(api_key=KEY, transport=transport)
    asdk = clipia.AsyncClipia(api_key=KEY, transport=transport)
    raw = httpx.Client(transport=transport)
    araw = httpx.AsyncClient(transport=transport)

    def request(provider: str, model: str, task: str, values: dict[str, Any]) -> genwire.GenerationRequest:
        return genwire.GenerationRequest(provider=provider, model=model, task=task, input=values)

    def clipia_request() -> genwire.GenerationRequest:
        return request("clipia", "nano-banana-2", "text-to-image", {"prompt": PROMPT})

    def headers() -> dict[str, str]:
        return {"Authorization": f"Bearer {KEY}", "Idempotency-Key": str(uuid.uuid4())}

    def reply(resp: httpx.Response) -> Any:
        resp.raise_for_status()
        return resp.json()

    def raw_clipia_submit() -> Any:
        return reply(raw.post(f"{CLIPIA}/v1/models/nano-banana-2", json={"input": {"prompt": PROMPT}},
                              headers=headers()))

    async def araw_clipia_submit() -> Any:
        return reply(await araw.post(f"{CLIPIA}/v1/models/nano-banana-2", json={"input": {"prompt": PROMPT}},
                                     headers=headers()))

    def raw_cliprise_submit() -> Any:
        body = {"model": "veo3_fast", "prompt": VEO_INPUT["prompt"], "aspectRatio": "16:9",
                "generationType": "TEXT_2_VIDEO"}
        return reply(raw.post(f"{CLIPRISE}/generate", json=body, headers={"Authorization": f"Bearer {KEY}"}))

    clipia_job = gw.submit(clipia_request())
    cliprise_job = gw.submit(request("cliprise", "veo-3-fast", "text-to-video", VEO_INPUT))
    auth = {"Authorization": f"Bearer {KEY}"}

    # the reply parsing step alone: genwire's adapter vs the SDK's own parse of the same bytes
    from clipia._client import _parse_json, _raise_for_status

    catalog = genwire.Catalog.default()
    resolved = catalog.resolve(clipia_request())[0]
    adapter = genwire.get_adapter("clipia", catalog)
    body = REPLIES[("api.clipia.ai", "/v1/models/nano-banana-2")]
    wire = genwire.WireResponse(200, {"content-type": "application/json"}, body)
    response = httpx.Response(200, content=body, headers=JSON)

    def sdk_parse() -> object:
        _raise_for_status(response)
        return clipia.SubmitResponse.from_dict(_parse_json(response))

    return [
        Case("sync submit, Clipia nano-banana-2", {
            "genwire": sync_batch(lambda: gw.submit(clipia_request())),
            "sdk": sync_batch(lambda: sdk.submit("nano-banana-2", input={"prompt": PROMPT})),
            "httpx": sync_batch(raw_clipia_submit),
        }, [("genwire", "sdk", 1.0), ("genwire", "httpx", 1.3), ("sdk", "httpx", None)]),
        Case("async submit, Clipia nano-banana-2", {
            "genwire": async_batch(loop, lambda: agw.submit(clipia_request())),
            "sdk": async_batch(loop, lambda: asdk.submit("nano-banana-2", input={"prompt": PROMPT})),
            "httpx": async_batch(loop, araw_clipia_submit),
        }, [("genwire", "sdk", 1.0), ("genwire", "httpx", 1.3), ("sdk", "httpx", None)]),
        Case("sync submit, Cliprise veo-3-fast", {
            "genwire": sync_batch(lambda: gw.submit(request("cliprise", "veo-3-fast", "text-to-video", VEO_INPUT))),
            "httpx": sync_batch(raw_cliprise_submit),
        }, [("genwire", "httpx", 1.3)]),
        Case("status poll, Clipia", {
            "genwire": sync_batch(lambda: gw.status(clipia_job)),
            "sdk": sync_batch(lambda: sdk.status(RID)),
            "httpx": sync_batch(lambda: reply(raw.get(f"{CLIPIA}/v1/requests/{RID}/status", headers=auth))),
        }, [("genwire", "sdk", 1.0), ("genwire", "httpx", 1.15), ("sdk", "httpx", None)]),
        Case("status poll, Cliprise", {
            "genwire": sync_batch(lambda: gw.status(cliprise_job)),
            "httpx": sync_batch(lambda: reply(raw.get(f"{CLIPRISE}/status", params={"apiKey": KEY, "taskId": TASK_ID},
                                                      headers=auth))),
        }, [("genwire", "httpx", 1.15)]),
        Case("reply parsing (parse_submit), Clipia", {
            "genwire": sync_batch(lambda: adapter.parse_submit(resolved, wire)),
            "sdk": sync_batch(sdk_parse),
        }, [("genwire", "sdk", 1.5)], batch=2000),
    ]


def child(rounds: int) -> None:
    loop = asyncio.new_event_loop()
    out = {case.name: measure(case, rounds) for case in cases(loop)}
    print(json.dumps(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes (default 5)")
    parser.add_argument("--rounds", type=int, default=41, help="interleaved rounds per run (default 41)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 runs of 5 rounds")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.runs, opts.rounds = 2, 5
    if opts.child:
        child(opts.rounds)
        return 0
    loop = asyncio.new_event_loop()
    case_list = cases(loop)
    results = run_in_children(__file__, opts.runs, ["--rounds", str(opts.rounds)])
    print_table(compare(case_list, results), opts.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
