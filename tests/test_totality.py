"""Every input is checked before the network, every reply ends in a typed error or a Job that
round-trips through JSON (issue 8, items 9-10)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from support import call

from genwire import (
    AsyncClient,
    Catalog,
    Client,
    ConfigurationError,
    GenerationRequest,
    GenwireError,
    InvalidInputError,
    Job,
    JobStatus,
    Media,
    PollPolicy,
    RetryPolicy,
)
from genwire.adapters import get_adapter
from genwire.adapters.base import WireResponse
from genwire.webhooks import parse_webhook, sign_clipia

CATALOG = Catalog.default()
FAST = {"poll": PollPolicy(0.001, 0.002), "retry": RetryPolicy(max_retries=1, initial_delay=0.001, max_delay=0.002)}
KEYS = {"clipia": "clipia_live_key_0001", "cliprise": "cliprise_key_0002"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def with_client(flavour: str, handler: Callable[[httpx.Request], httpx.Response], name: str,
                      *args: Any) -> Any:
    options = {"api_keys": KEYS, "transport": httpx.MockTransport(handler), "catalog": CATALOG, **FAST}
    if flavour == "sync":
        with Client(**options) as client:
            return await call(client, name, *args)
    async with AsyncClient(**options) as aclient:
        return await call(aclient, name, *args)


# -- item 9: input ---------------------------------------------------------------------------------------

def image(**changes: Any) -> GenerationRequest:
    base = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})
    return base.model_copy(update=changes)


BAD_REQUESTS = {
    "webhook-http": (image(webhook_url="http://gw.example.com/hook"), "$.webhook_url"),
    "webhook-relative": (image(webhook_url="/hook"), "$.webhook_url"),
    "webhook-no-host": (image(webhook_url="https:///hook"), "$.webhook_url"),
    "webhook-space": (image(webhook_url="https://gw.example.com/ho ok"), "$.webhook_url"),
    "webhook-tab": (image(webhook_url="https://gw.example.com/\thook"), "$.webhook_url"),
    "webhook-bad-port": (image(webhook_url="https://gw.example.com:99999/hook"), "$.webhook_url"),
    "webhook-scheme": (image(webhook_url="ftp://gw.example.com/hook"), "$.webhook_url"),
    "surrogate": (image(input={"prompt": "a \ud800 fox"}), "$.prompt"),
    "surrogate-key": (image(input={"prompt": "x", "\udc00": 1}), "$"),
    "nan": (image(input={"prompt": "x", "seed": math.nan}), "$.seed"),
    "inf-nested": (image(input={"prompt": "x", "extra": [{"w": -math.inf}]}), "$.extra[0].w"),
    "non-string-key": (image(input={"prompt": "x", 7: "seven"}), "$[7]"),
    "idem-non-ascii": (image(idempotency_key="order-\u00e9"), "$.idempotency_key"),
    "idem-control": (image(idempotency_key="order\n42"), "$.idempotency_key"),
    "idem-too-long": (image(idempotency_key="k" * 256), "$.idempotency_key"),
}


@pytest.mark.anyio
@pytest.mark.parametrize("case", BAD_REQUESTS)
async def test_bad_input_is_refused_with_its_path_before_anything_is_sent(flavour: str, case: str) -> None:
    request, path = BAD_REQUESTS[case]
    sent: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        sent.append(req)
        return httpx.Response(200, json={"request_id": "r1", "status": "IN_QUEUE"})

    with pytest.raises(InvalidInputError) as info:
        await with_client(flavour, handler, "submit", request)
    assert sent == [] and path in [v.path for v in info.value.violations]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/hook", "http://localhost/hook", "http://[::1]:9/h",
                                 "https://gw.example.com/hook?x=1"])
def test_https_and_loopback_http_webhook_urls_are_accepted(url: str) -> None:
    from genwire._client.checks import check_request

    check_request(image(webhook_url=url))


@pytest.mark.parametrize("value", [{"prompt": "x", "seed": math.nan}, {"prompt": "\ud83d"}, {"prompt": "x", 1: 2}],
                         ids=["nan", "surrogate", "int-key"])
def test_catalog_validate_refuses_what_json_cannot_carry(value: dict[Any, Any]) -> None:
    with pytest.raises(InvalidInputError):
        CATALOG.validate("clipia", "nano-banana-2", "text-to-image", value)


# -- item 10: replies ------------------------------------------------------------------------------------

BIG = "1" + "0" * 400
WHSEC = "whsec_totality_0001"
NASTY = {
    "deep-array": b"[" * 100_000 + b"]" * 100_000,
    "deep-object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    # parseable (under Python's recursion limit) but too deep for a Job to serialize
    "nested-600": b'{"request_id":"r1","status":"COMPLETED","taskId":"t1","code":200,"x":' + b"[" * 600
                  + b"]" * 600 + b"}",
    "huge-ints": (f'{{"request_id":"r1","status":"COMPLETED","cost":{BIG},"progress":{BIG},"queue_position":{BIG},'
                  f'"output":{{"images":[{{"url":"https://m/a.png","width":{BIG},"duration":{BIG}}}]}}}}').encode(),
    "huge-ints-cliprise": f'[{{"code":200,"taskId":"t1","status":"success","fileURL":"https://m/a.png",'
                          f'"progress":{BIG},"cost":{BIG}}}]'.encode(),
    "too-many-digits": b'{"request_id":"r1","status":"IN_QUEUE","cost":' + b"9" * 5000 + b"}",
    "lone-surrogates": b'{"request_id":"r1","status":"COMPLETED","taskId":"t1","error":{"message":"\\udc00"},'
                       b'"output":{"images":[{"url":"https://m/\\ud800.png"}]},"fileURL":"https://m/\\ud800",'
                       b'"warnings":[{"parameter":"\\ud800","message":"\\ud800"}]}',
    "raw-surrogate-bytes": b'{"request_id":"r1","taskId":"t1","status":"COMPLETED","fileURL":"https://m/\xed\xa0\x80",'
                           b'"output":{"images":[{"url":"https://m/\xed\xa0\x80.png"}]}}',
    "overflow-float": b'{"request_id":"r1","status":"IN_PROGRESS","progress":1e999}',
    "nan": b'{"request_id":"r1","status":"IN_PROGRESS","progress":NaN}',
    "odd-dates": b'{"request_id":"r1","status":"COMPLETED","created_at":"9999-12-31T23:59:59-14:00",'
                 b'"completed_at":"0001-01-01T00:00:00+23:59","output":{"images":[{"url":"https://m/a.png"}]}}',
}


def parsers(body: bytes) -> dict[str, Callable[[], Any]]:
    clipia, cliprise = get_adapter("clipia", CATALOG), get_adapter("cliprise", CATALOG)
    resolved = {p: CATALOG.resolve(GenerationRequest(provider=p, model=m, task="text-to-image",
                                                     input={"prompt": "x"}))[0]
                for p, m in (("clipia", "nano-banana-2"), ("cliprise", "nano-banana"))}
    queued = Job(provider="clipia", model="nano-banana-2", id="r1", status=JobStatus.QUEUED)
    done = queued.model_copy(update={"status": JobStatus.SUCCEEDED})
    task = Job(provider="cliprise", model="nano-banana", id="t1", status=JobStatus.QUEUED)
    resp = WireResponse(200, {}, body)
    signed = {"X-Clipia-Signature": sign_clipia(body, WHSEC, int(time.time()))}
    return {
        "clipia-submit": lambda: clipia.parse_submit(resolved["clipia"], resp),
        "clipia-status": lambda: clipia.parse_status(queued, resp),
        "clipia-result": lambda: clipia.parse_result(done, resp),
        "clipia-error": lambda: clipia.parse_error(WireResponse(500, {}, body)),
        "cliprise-submit": lambda: cliprise.parse_submit(resolved["cliprise"], resp),
        "cliprise-status": lambda: cliprise.parse_status(task, resp),
        "cliprise-error": lambda: cliprise.parse_error(WireResponse(500, {}, body)),
        "clipia-webhook": lambda: parse_webhook("clipia", signed, body, secret=WHSEC),
        "cliprise-webhook": lambda: parse_webhook("cliprise", {}, body, secret=None),
    }


@pytest.mark.parametrize("body", NASTY.values(), ids=NASTY.keys())
def test_every_reader_ends_in_a_typed_error_or_a_job_that_round_trips(body: bytes) -> None:
    for name, parse in parsers(body).items():
        try:
            out = parse()
        except GenwireError as err:
            str(err), repr(err)
            continue
        if isinstance(out, Job):
            assert Job.model_validate_json(out.model_dump_json()) == out, name


BAD_MEDIA_URLS = ["https://cdn.example:99999/a.png", "https://[::1/a.png", "https://cdn.example/a\t.png",
                  "https:///a.png", "https://cdn.example:port/a.png", "file:///etc/passwd", "a.png"]


@pytest.mark.anyio
@pytest.mark.parametrize("url", BAD_MEDIA_URLS)
async def test_a_malformed_output_url_is_a_typed_download_error(flavour: str, url: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x")

    with pytest.raises(ConfigurationError) as info:
        await with_client(flavour, handler, "download", Media(url=url, kind="image"))
    assert info.value.code == "bad_url"


@pytest.mark.anyio
async def test_a_redirect_to_a_malformed_url_is_a_typed_download_error(flavour: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "https://cdn.example:99999999/x"})

    with pytest.raises(GenwireError):
        await with_client(flavour, handler, "download", Media(url="https://cdn.example/a.png", kind="image"))
