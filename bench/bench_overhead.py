"""Per-call cost of genwire against the official ``clipia`` SDK and bare httpx, warm, as ratios.

    python bench/bench_overhead.py [--size tiny|full] [--runs N] [--rounds N]

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

Reply parsing alone (no transport): the adapters' ``parse_submit`` / ``parse_status`` against
the SDK's ``SubmitResponse.from_dict(json.loads(body))`` / ``StatusResponse.from_dict(...)``
for Clipia, and against a bare ``json.loads`` plus the dict reads a hand-rolled client needs
for Cliprise (the SDK has no Cliprise).
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
from _harness import Case, Row, compare, measure, print_rows, rows_of, run_in_children

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
    catalog = genwire.Catalog.default()
    resolved = catalog.resolve(clipia_request())[0]
    cliprise_resolved = catalog.resolve(request("cliprise", "veo-3-fast", "text-to-video", VEO_INPUT))[0]
    adapter = genwire.get_adapter("clipia", catalog)
    cliprise = genwire.get_adapter("cliprise", catalog)

    def wire(host: str, path: str) -> tuple[bytes, genwire.WireResponse]:
        body = REPLIES[(host, path)]
        return body, genwire.WireResponse(200, {"content-type": "application/json"}, body)

    submit_body, submit_wire = wire("api.clipia.ai", "/v1/models/nano-banana-2")
    status_body, status_wire = wire("api.clipia.ai", f"/v1/requests/{RID}/status")
    generate_body, generate_wire = wire("business.api.cliprise.app", "/app/cliprise/generate")
    task_body, task_wire = wire("business.api.cliprise.app", "/app/cliprise/status")

    def bare_generate() -> object:  # what a hand-rolled client reads: the code and the task id
        reply = json.loads(generate_body)[0]
        if reply["code"] != 200:
            raise ValueError(reply)
        return reply["taskId"]

    def bare_status() -> object:
        return json.loads(task_body)[0]["status"]

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
        Case("reply parsing: parse_submit, Clipia", {
            "genwire": sync_batch(lambda: adapter.parse_submit(resolved, submit_wire)),
            "sdk": sync_batch(lambda: clipia.SubmitResponse.from_dict(json.loads(submit_body))),
        }, [("genwire", "sdk", 1.0)], batch=2000),
        Case("reply parsing: parse_status, Clipia", {
            "genwire": sync_batch(lambda: adapter.parse_status(clipia_job, status_wire)),
            "sdk": sync_batch(lambda: clipia.StatusResponse.from_dict(json.loads(status_body))),
        }, [("genwire", "sdk", 1.0)], batch=2000),
        Case("reply parsing: parse_submit, Cliprise", {
            "genwire": sync_batch(lambda: cliprise.parse_submit(cliprise_resolved, generate_wire)),
            "json.loads": sync_batch(bare_generate),
        }, [("genwire", "json.loads", 1.0)], batch=2000),
        Case("reply parsing: parse_status, Cliprise", {
            "genwire": sync_batch(lambda: cliprise.parse_status(cliprise_job, task_wire)),
            "json.loads": sync_batch(bare_status),
        }, [("genwire", "json.loads", 1.0)], batch=2000),
    ]


#: (runs, rounds, batch divisor) per size
SIZES = {"tiny": (1, 3, 20), "full": (5, 41, 1)}


def child(rounds: int, divisor: int) -> None:
    loop = asyncio.new_event_loop()
    case_list = cases(loop)
    for case in case_list:
        case.batch = max(1, case.batch // divisor)
    out = {case.name: measure(case, rounds) for case in case_list}
    print(json.dumps(out))


def rows(size: str, runs: int | None = None, rounds: int | None = None) -> list[Row]:
    default_runs, default_rounds, divisor = SIZES[size]
    runs, rounds = runs or default_runs, rounds or default_rounds
    case_list = cases(asyncio.new_event_loop())
    results = run_in_children(__file__, runs, ["--rounds", str(rounds), "--divisor", str(divisor)])
    return [r for r in rows_of("overhead", compare(case_list, results)) if r.goal is not None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="full")
    parser.add_argument("--runs", type=int, help="fresh processes (full: 5)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per run (full: 41)")
    parser.add_argument("--divisor", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.child:
        child(opts.rounds, opts.divisor)
        return 0
    print_rows(rows(opts.size, opts.runs, opts.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
