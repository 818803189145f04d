"""The key never escapes in any spelling a reply can carry it: not in a Job, an exception
chain, or a log record at DEBUG from any logger (issue 8, items 5-8)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from support import call

from genwire import (
    AsyncClient,
    Client,
    ConfigurationError,
    GenerationRequest,
    GenwireError,
    Job,
    JobStatus,
    MalformedResponseError,
    Media,
    PollPolicy,
    RetryPolicy,
)
from genwire._util.redact import secret_forms
from genwire.adapters import get_adapter
from genwire.adapters.base import WireResponse

# '/', '+' and '=' make the percent-encoded and JSON-escaped spellings differ from the key
KEY = "sk/Live+9fQ2=xR7/abc"
FAST = {"poll": PollPolicy(0.001, 0.002), "retry": RetryPolicy(max_retries=1, initial_delay=0.001, max_delay=0.002)}
REQUEST = GenerationRequest(provider="cliprise", model="nano-banana", input={"prompt": "a fox"})
BASE = "https://business.api.cliprise.app/app/cliprise"


def exposed(obj: Any, seen: set[int] | None = None) -> str:
    """Everything an object shows: str, repr, args, attributes, a Job's JSON, the whole exception chain."""
    seen = set() if seen is None else seen
    if id(obj) in seen or obj is None:
        return ""
    seen.add(id(obj))
    if isinstance(obj, Job):
        return obj.model_dump_json() + repr(obj)
    parts = [str(obj), repr(obj)]
    if isinstance(obj, BaseException):
        parts += [repr(a) for a in obj.args]
        parts += [exposed(v, seen) if isinstance(v, (Job, BaseException)) else repr(v) for v in vars(obj).values()]
        parts += [exposed(obj.__cause__, seen), exposed(obj.__context__, seen)]
    return " ".join(parts)


def leaks(text: str) -> list[str]:
    return sorted(form for form in secret_forms(KEY) if form in text)


def escaped_everywhere(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in text)


# every spelling of the key a reply can carry, as (status body, header echo)
SPELLINGS: dict[str, Callable[[str], tuple[bytes, dict[str, str]]]] = {
    "u-escapes": lambda url: (f'[{{"status": "success", "fileURL": "{url}", "note": "'
                              f'{escaped_everywhere(KEY)}"}}]'.encode(), {}),
    "slash-escapes": lambda url: (json.dumps([{"status": "success", "fileURL": url, "k": KEY}])
                                  .replace("/", "\\/").encode(), {}),
    "percent": lambda url: (json.dumps([{"status": "success", "fileURL": f"{url}&x={quote(KEY, safe='')}",
                                         "m": f"key%3D{quote(KEY, safe='')}"}]).encode(), {}),
    "utf-16": lambda url: (json.dumps([{"status": "success", "fileURL": url, "k": KEY}]).encode("utf-16"), {}),
    "header": lambda url: (json.dumps([{"status": "success", "fileURL": url}]).encode(),
                           {"X-Echo": f"Bearer {KEY}", "X-Url": f"?apiKey={quote(KEY, safe='')}"}),
}


def cliprise_handler(spelling: str) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/generate"):
            return httpx.Response(200, json=[{"code": 200, "taskId": "t1"}])
        assert request.url.params.get("apiKey") == KEY
        file_url = f"{BASE}/status?apiKey={quote(KEY, safe='')}&taskId=t1&download=true"
        body, headers = SPELLINGS[spelling](file_url)
        return httpx.Response(200, content=body, headers=headers)

    return handler


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make(flavour: str, **kwargs: Any) -> Client | AsyncClient:
    options = {"api_keys": {"cliprise": KEY}, **FAST, **kwargs}
    return Client(**options) if flavour == "sync" else AsyncClient(**options)


async def close(client: Client | AsyncClient) -> None:
    if isinstance(client, AsyncClient):
        await client.aclose()
    else:
        client.close()


@pytest.mark.anyio
@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_a_key_echoed_in_any_spelling_is_not_in_the_job_or_the_debug_log(
        flavour: str, spelling: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = make(flavour, transport=httpx.MockTransport(cliprise_handler(spelling)))
    try:
        job = await call(client, "run", REQUEST, timeout=5)
    finally:
        await close(client)
    assert job.status is JobStatus.SUCCEEDED
    assert leaks(exposed(job)) == [] and "apiKey" not in job.outputs[0].url
    assert leaks("\n".join(r.getMessage() for r in caplog.records)) == []


@pytest.mark.anyio
@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_a_key_echoed_in_an_error_reply_is_in_no_part_of_the_exception(flavour: str, spelling: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body, headers = SPELLINGS[spelling](f"{BASE}/x?apiKey={KEY}")
        return httpx.Response(400, content=body[:-3], headers=headers)  # truncated: kept as the error body

    client = make(flavour, transport=httpx.MockTransport(handler))
    try:
        with pytest.raises(GenwireError) as info:
            await call(client, "submit", REQUEST)
    finally:
        await close(client)
    assert leaks(exposed(info.value)) == []


# -- a real socket, so httpcore logs every header at DEBUG ------------------------------------------------

class _Echo(BaseHTTPRequestHandler):
    """Cliprise over loopback, echoing the Authorization header and the request URL back as headers."""

    def do_GET(self) -> None:
        self._answer([{"status": "success", "fileURL": "https://cdn.example/a.png"}])

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._answer([{"code": 200, "taskId": "t1"}])

    def _answer(self, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("X-Echo-Auth", self.headers.get("Authorization", ""))
        self.send_header("X-Echo-Path", self.path)
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.anyio
async def test_httpcore_debug_records_of_echoed_headers_hold_no_key(
        flavour: str, echo_server: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = make(flavour, base_urls={"cliprise": echo_server})
    try:
        job = await call(client, "run", REQUEST, timeout=5)
    finally:
        await close(client)
    assert job.status is JobStatus.SUCCEEDED
    names = {r.name for r in caplog.records}
    assert {"httpcore.http11", "httpx"} <= names  # the third-party records were there, and clean
    assert leaks("\n".join(r.getMessage() for r in caplog.records)) == []


# -- item 7: a redirect to another origin -----------------------------------------------------------------

@pytest.mark.anyio
async def test_a_download_redirected_to_another_origin_does_not_carry_the_key(
        flavour: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "cdn.example":
            return httpx.Response(200, content=b"PNG")
        # the provider redirects to its CDN keeping the query string, key included
        return httpx.Response(302, headers={"Location": f"https://cdn.example/a.png?{request.url.query.decode()}"})

    client = make(flavour, transport=httpx.MockTransport(handler))
    try:
        data = await call(client, "download", Media(url=f"{BASE}/files/a.png?sig=1", kind="image"))
    finally:
        await close(client)
    assert data == b"PNG"
    assert "apiKey" in seen[0] and seen[1].startswith("https://cdn.example/a.png?sig=1")
    assert leaks(seen[1]) == [] and "apiKey" not in seen[1]
    assert leaks("\n".join(r.getMessage() for r in caplog.records)) == []


# -- item 8 --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["sk\u00e9-live-123", "sk-live\n123", "sk live 123", "sk-\x00-123"],
                         ids=["non-ascii", "newline", "space", "nul"])
def test_a_key_that_is_not_printable_ascii_is_refused_at_construction(key: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Client(api_keys={"cliprise": key})
    assert info.value.code == "invalid_key" and key not in exposed(info.value)


def test_an_unreadable_reply_error_does_not_chain_the_parser_error_holding_the_body() -> None:
    body = b'{"request_id": "r1", "secret_field": "' + KEY.encode()
    with pytest.raises(MalformedResponseError) as info:
        get_adapter("clipia").parse_status(Job(provider="clipia", model="m", id="r1", status=JobStatus.QUEUED),
                                           WireResponse(200, {}, body))
    assert info.value.__context__ is None and info.value.__cause__ is None
