"""A key the providers echo back everywhere never reaches anything genwire emits."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from genwire import AsyncClient, Client, GenerationRequest, GenwireError, Job, Media, PollPolicy, RetryPolicy

KEY = "cliprise_secret_key_3f9a1c"
CLIPIA_KEY = "clipia_live_secret_77b2e0"
FAST = {"poll": PollPolicy(0.001, 0.002), "retry": RetryPolicy(max_retries=1, initial_delay=0.001, max_delay=0.002)}


def leaky_cliprise(script: list[tuple[int, Any]]) -> Callable[[httpx.Request], httpx.Response]:
    """Replies that quote the key in bodies, headers and URLs."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/status"):
            assert request.url.params.get("apiKey") == KEY  # the key did reach the provider
        status, body = script.pop(0)
        text = json.dumps(body).replace("{KEY}", KEY)
        return httpx.Response(status, content=text.encode(), headers={"X-Echo-Key": KEY, "X-Url": f"?apiKey={KEY}"})

    return handler


FILE_URL = f"https://business.api.cliprise.app/app/cliprise/status?apiKey={KEY}&taskId=t1&download=true"
REQUEST = GenerationRequest(provider="cliprise", model="wan-2-5",
                            input={"prompt": "x", "resolution": "720p", "duration": 5})


def emitted(obj: Any) -> str:
    if isinstance(obj, Job):
        return obj.model_dump_json() + repr(obj) + str(obj)
    if isinstance(obj, BaseException):
        parts = [str(obj), repr(obj), str(getattr(obj, "body", "")), str(getattr(obj, "message", ""))]
        job = getattr(obj, "job", None)
        return " ".join(parts) + (emitted(job) if job is not None else "")
    return repr(obj)


async def run(client_cls: type, handler: Callable[[httpx.Request], httpx.Response], action: str) -> Any:
    transport = httpx.MockTransport(handler)
    kwargs = {"api_keys": {"cliprise": KEY, "clipia": CLIPIA_KEY}, "transport": transport, **FAST}
    if client_cls is Client:
        with Client(**kwargs) as client:
            outcome: Any = client.run(REQUEST) if action == "run" else client.submit(REQUEST)
            return outcome, repr(client)
    async with AsyncClient(**kwargs) as aclient:
        outcome = await (aclient.run(REQUEST) if action == "run" else aclient.submit(REQUEST))
        return outcome, repr(aclient)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


SCENARIOS = {
    "success": [(200, [{"code": 200, "taskId": "t1", "note": "{KEY}"}]),
                (200, [{"status": "processing", "debug": "apiKey={KEY}"}]),
                (200, [{"status": "success", "fileURL": FILE_URL.replace(KEY, "{KEY}")}])],
    "job failure": [(200, [{"code": 200, "taskId": "t1"}]),
                    (200, {"status": "fail", "failMsg": "key {KEY} rejected"})],
    "submit error": [(401, {"code": 401, "error": {"code": "invalid_api_key", "message": "bad key {KEY}"}})],
    "bad request": [(400, {"msg": "no such thing for {KEY}"})],
    "malformed": [(200, [{"code": 200, "no_task": "{KEY}"}])],
    "poll error": [(200, [{"code": 200, "taskId": "t1"}])] + [(500, {"msg": "down {KEY}"})] * 10,
}


@pytest.mark.anyio
@pytest.mark.parametrize("client_cls", [Client, AsyncClient])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_key_never_appears_in_jobs_errors_reprs_or_logs(
        client_cls: type, scenario: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    script = list(SCENARIOS[scenario])
    try:
        outcome, client_repr = await run(client_cls, leaky_cliprise(script), "run")
        text = emitted(outcome) + client_repr
    except GenwireError as err:
        text = emitted(err)
    logs = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    assert KEY not in text
    assert KEY not in logs
    assert CLIPIA_KEY not in text + logs


@pytest.mark.anyio
@pytest.mark.parametrize("client_cls", [Client, AsyncClient])
async def test_httpx_request_logs_show_status_urls_without_the_key(
        client_cls: type, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="httpx")
    script = list(SCENARIOS["success"])
    await run(client_cls, leaky_cliprise(script), "run")
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("/status?taskId=t1" in line for line in lines)
    assert not any(KEY in line for line in lines)


@pytest.mark.anyio
@pytest.mark.parametrize("client_cls", [Client, AsyncClient])
async def test_network_error_text_never_carries_the_key(client_cls: type) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError(f"connection reset while reading {request.url}", request=request)

    with pytest.raises(GenwireError) as info:
        await run(client_cls, handler, "submit")
    assert KEY not in emitted(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_client_repr_names_providers_not_keys() -> None:
    with Client(api_keys={"cliprise": KEY}) as client:
        assert KEY not in repr(client) and KEY not in str(vars(client))


def test_what_a_client_keeps_after_sending_does_not_show_its_key() -> None:
    # the key-derived helpers (encoded auth headers, the reply scrubber) are built on first use
    handler = leaky_cliprise([(200, [{"code": 200, "taskId": "t1"}])])
    with Client(api_keys={"cliprise": KEY}, transport=httpx.MockTransport(handler), **FAST) as client:
        client.submit(REQUEST)
        assert KEY not in repr(client) and KEY not in str(vars(client))


@pytest.mark.anyio
@pytest.mark.parametrize("client_cls", [Client, AsyncClient])
async def test_download_redirected_to_another_origin_sends_no_credentials(client_cls: type) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "business.api.cliprise.app":
            return httpx.Response(302, headers={"Location": "https://cdn.example.net/out.mp4?sig=abc"})
        return httpx.Response(200, content=b"video-bytes")

    media = Media(url="https://business.api.cliprise.app/app/cliprise/status?taskId=t1&download=true", kind="video")
    kwargs: dict[str, Any] = {"api_keys": {"cliprise": KEY}, "transport": httpx.MockTransport(handler)}
    if client_cls is Client:
        with Client(**kwargs) as client:
            data = client.download(media)
    else:
        async with AsyncClient(**kwargs) as aclient:
            data = await aclient.download(media)
    assert data == b"video-bytes"
    first, second = seen
    assert first.url.params["apiKey"] == KEY and first.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in str(second.url) and "authorization" not in second.headers
