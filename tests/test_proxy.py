"""``Client(proxy=...)``: every request goes through the given proxy, whose credentials stay secret."""

from __future__ import annotations

import base64
import http.client
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from support import call, close

from genwire import AsyncClient, Client, ConfigurationError, GenerationRequest, GenwireError, JobStatus, NetworkError
from genwire._policy.retry import PollPolicy, RetryPolicy
from genwire.testing.server import FakeServer

pytestmark = pytest.mark.anyio

REQUEST = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})
FAST = {"poll": PollPolicy(initial_interval=0.001, max_interval=0.002),
        "retry": RetryPolicy(initial_delay=0.001, max_delay=0.002)}
PASSWORD = "pr0xy-s3cret-word"


class _Proxy(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[str]
    credentials: str | None
    echo: bool = False  # a hostile or careless proxy: a 502 repeating the credentials it was sent


class _Forward(BaseHTTPRequestHandler):
    """A forward proxy for http:// targets (absolute-form request lines), as a corporate one is."""

    server: _Proxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        wanted = self.server.credentials
        if wanted is not None and self.headers.get("Proxy-Authorization") != "Basic " + base64.b64encode(
                wanted.encode()).decode():
            self.send_response(407)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.server.seen.append(f"{self.command} {self.path}")
        if self.server.echo:
            given = self.headers.get("Proxy-Authorization", "")
            decoded = base64.b64decode(given.removeprefix("Basic ")).decode()
            body = f'{{"error": {{"message": "upstream refused {given} ({decoded}) at {self.path}"}}}}'.encode()
            self.send_response(502)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        target = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-authorization", "connection")}
        conn = http.client.HTTPConnection(target.hostname or "", target.port or 80, timeout=10)
        try:
            conn.request(self.command, target.path + (f"?{target.query}" if target.query else ""), body, headers)
            reply = conn.getresponse()
            content = reply.read()
        finally:
            conn.close()
        self.send_response(reply.status)
        for name, value in reply.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = _forward


def _start(credentials: str | None) -> tuple[_Proxy, threading.Thread]:
    proxy = _Proxy(("127.0.0.1", 0), _Forward)
    proxy.seen, proxy.credentials = [], credentials
    thread = threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    return proxy, thread


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as srv:
        yield srv


@pytest.fixture(params=[None, f"genwire:{PASSWORD}"], ids=["open", "with-credentials"])
def proxy(request: pytest.FixtureRequest) -> Iterator[tuple[str, _Proxy]]:
    server, thread = _start(request.param)
    host, port = server.server_address[0], server.server_address[1]
    userinfo = f"{request.param}@" if request.param else ""
    yield f"http://{userinfo}{host!s}:{port}", server
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize("kind", [Client, AsyncClient], ids=["sync", "async"])
async def test_every_request_goes_through_the_proxy_and_the_environment_is_not_read(
        kind: type[Client] | type[AsyncClient], server: FakeServer, proxy: tuple[str, _Proxy],
        monkeypatch: pytest.MonkeyPatch) -> None:
    url, seen_by = proxy
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    client = kind(base_urls=server.base_urls, api_keys=server.api_keys, proxy=url, **FAST)
    try:
        job = await call(client, "run", REQUEST, timeout=10)
    finally:
        await close(client)
    assert job.status is JobStatus.SUCCEEDED
    assert seen_by.seen[0] == f"POST {server.base_urls['clipia']}/v1/models/nano-banana-2"
    assert len(seen_by.seen) >= 3 and all(line.split()[1].startswith(server.origin) for line in seen_by.seen)


def test_a_proxy_password_stays_out_of_errors_and_reprs(server: FakeServer) -> None:
    dead = f"http://genwire:{PASSWORD}@127.0.0.1:9"  # nothing listens there
    with Client(base_urls=server.base_urls, api_keys=server.api_keys, proxy=dead, max_retries=0, **FAST) as client:
        with pytest.raises(NetworkError) as info:
            client.submit(REQUEST)
        shown = [str(info.value), repr(info.value), repr(client), str(vars(client))]
    assert not any(PASSWORD in text for text in shown)


def test_a_proxy_repeating_its_credentials_in_a_reply_leaks_them_nowhere(
        server: FakeServer, caplog: pytest.LogCaptureFixture) -> None:
    proxy, thread = _start(f"genwire:{PASSWORD}")
    proxy.echo = True
    url = f"http://genwire:{PASSWORD}@127.0.0.1:{proxy.server_address[1]}"
    encoded = base64.b64encode(f"genwire:{PASSWORD}".encode()).decode()
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(GenwireError) as info, \
                Client(base_urls=server.base_urls, api_keys=server.api_keys, proxy=url, max_retries=0,
                       **FAST) as client:
            client.run(REQUEST, timeout=10)
    finally:
        proxy.shutdown()
        thread.join()
        proxy.server_close()
    err = info.value
    assert proxy.seen, "the request went through the proxy"
    shown = [str(err), repr(err), repr(getattr(err, "body", "")), err.job.model_dump_json() if err.job else "",
             *(r.getMessage() for r in caplog.records)]
    assert not any(PASSWORD in text or encoded in text for text in shown)


@pytest.mark.parametrize("bad", [12, "proxy.internal:3128", f"ftp://genwire:{PASSWORD}@proxy.internal",
                                 "http://", "http://proxy internal:3128"])
def test_a_proxy_that_cannot_work_is_refused_when_the_client_is_made(bad: object) -> None:
    with pytest.raises(ConfigurationError) as info:
        Client(api_keys={"clipia": "clipia_live_key_1234"}, proxy=bad)  # type: ignore[arg-type]
    assert "proxy" in str(info.value) and PASSWORD not in str(info.value)


def test_proxy_and_transport_together_are_refused() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    with pytest.raises(ConfigurationError, match="proxy"):
        Client(api_keys={"clipia": "clipia_live_key_1234"}, transport=transport, proxy="http://127.0.0.1:3128")


@pytest.mark.parametrize("env", [
    {"HTTP_PROXY": "http://p:3128", "HTTPS_PROXY": "p2:8080",
     "NO_PROXY": "example.com,.internal, 10.0.0.0/8,::1,localhost"},
    {"ALL_PROXY": "socks5://p:1080", "NO_PROXY": "http://direct.example"},
    {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "a.example,*"},
    {},
])
def test_environment_proxies_are_what_httpx_reads(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # httpx's function is private: genwire has its own copy of the logic. If this import fails or
    # the two disagree, httpx changed how trust_env reads proxies: follow it in _transport/urls.py
    from httpx._utils import get_environment_proxies

    from genwire._transport.urls import environment_proxies

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert environment_proxies() == get_environment_proxies()
