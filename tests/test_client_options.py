"""What app developers meet first: the client's explicit signature, checked options, proxies from the
environment, errors by kind, and the one-line ``run("provider/model", input=...)``."""

from __future__ import annotations

import inspect
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import call

from genwire import (
    AsyncClient,
    Client,
    ConfigurationError,
    GenerationRequest,
    InvalidInputError,
    Job,
    JobStatus,
    NetworkError,
    NetworkTimeoutError,
    NotFoundError,
    ProviderError,
    RetryPolicy,
    UnsupportedOperationError,
)
from genwire._policy.retry import PollPolicy
from genwire.testing import FakeProviders
from genwire.testing.server import FakeServer

pytestmark = pytest.mark.anyio

POLL = PollPolicy(initial_interval=0.001, max_interval=0.002)
FAST = RetryPolicy(initial_delay=0.001, max_delay=0.002)
CLIENTS = [Client, AsyncClient]
KEYS = {"clipia": "clipia_live_fake", "cliprise": "cliprise_fake"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def close(client: Client | AsyncClient) -> None:
    if isinstance(client, AsyncClient):
        await client.aclose()
    else:
        client.close()


@pytest.fixture
def fakes() -> FakeProviders:
    return FakeProviders()


@pytest.fixture(params=["sync", "async"])
async def make(request: pytest.FixtureRequest, fakes: FakeProviders) -> AsyncIterator[Any]:
    """Build a client of the parametrised kind on the in-process fakes."""
    made: list[Client | AsyncClient] = []

    def build(**kwargs: Any) -> Client | AsyncClient:
        options = {"poll": POLL, "retry": FAST, **kwargs}
        client = fakes.client(**options) if request.param == "sync" else fakes.async_client(**options)
        made.append(client)
        return client

    yield build
    for client in made:
        await close(client)


# -- item 4: an explicit, checked signature ------------------------------------------------------

@pytest.mark.parametrize("cls", CLIENTS)
def test_the_signature_names_every_option_and_hides_nothing(cls: type) -> None:
    params = inspect.signature(cls).parameters
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
    assert {"api_keys", "base_urls", "providers", "catalog", "timeout", "max_retries", "retry", "poll",
            "max_connections", "trust_env", "transport", "callback_token"} <= set(params)
    assert params["max_retries"].annotation in ("int | None",)


@pytest.mark.parametrize("cls", CLIENTS)
def test_a_misspelt_option_names_the_public_class(cls: type) -> None:
    with pytest.raises(TypeError, match=rf"{cls.__name__}\.__init__\(\) got an unexpected keyword argument 'api_key'"):
        cls(api_key="k")


BAD_OPTIONS = [
    ({"timeout": "10"}, "timeout must be a number of seconds > 0"),
    ({"timeout": 0}, "timeout must be a number of seconds > 0"),
    ({"timeout": True}, "timeout must be a number of seconds > 0"),
    ({"api_keys": {"clippia": "k"}}, "api_keys: unknown provider 'clippia'; known: clipia, cliprise"),
    ({"api_keys": "clipia_live_fake"}, "api_keys must be a mapping"),
    ({"api_keys": {"clipia": 5}}, "api_keys['clipia'] must be a string"),
    ({"base_urls": {"fal": "https://fal.run"}}, "base_urls: unknown provider 'fal'"),
    ({"providers": ["clipia", "runway"]}, "providers: unknown provider 'runway'"),
    ({"providers": "clipia"}, "providers must be a list of provider names"),
    ({"providers": ["clipia", "clipia"]}, "providers: a provider is named twice"),
    ({"max_retries": -1}, "max_retries must be an integer >= 0"),
    ({"max_retries": 2.5}, "max_retries must be an integer >= 0"),
    ({"max_connections": 0}, "max_connections must be an integer >= 1"),
    ({"retry": 3}, "retry must be a genwire.RetryPolicy"),
    ({"poll": 1.0}, "poll must be a genwire.PollPolicy"),
    ({"catalog": "catalog/"}, "catalog must be a genwire.Catalog"),
    ({"trust_env": "yes"}, "trust_env must be True or False"),
    ({"callback_token": 7}, "callback_token must be a string"),
]


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize(("options", "message"), BAD_OPTIONS, ids=[m for _, m in BAD_OPTIONS])
def test_a_bad_option_is_refused_when_the_client_is_made(cls: type, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("[", r"\[").replace("(", r"\(")) as info:
        cls(**options)
    assert info.value.code == "invalid_option"


def test_every_bad_option_is_listed_at_once() -> None:
    with pytest.raises(ConfigurationError) as info:
        Client(timeout="10", api_keys={"clippia": "k"}, max_retries=-1)  # type: ignore[arg-type]
    assert len(str(info.value).splitlines()) == 4  # a heading and one line each


@pytest.mark.parametrize(("cls", "transport"), [(Client, httpx.AsyncHTTPTransport()),
                                                (AsyncClient, httpx.HTTPTransport())], ids=["sync", "async"])
def test_a_transport_of_the_other_kind_is_refused(cls: type, transport: Any) -> None:
    with pytest.raises(ConfigurationError, match="transport must be an httpx"):
        cls(transport=transport)


@pytest.mark.parametrize(("max_retries", "fails"), [(0, 1), (3, 3)])
async def test_max_retries_bounds_the_retries_of_a_safe_request(make: Any, fakes: FakeProviders, max_retries: int,
                                                                 fails: int) -> None:
    client = make(max_retries=max_retries)
    job: Job = await call(client, "submit", "clipia/nano-banana-2", input={"prompt": "a fox"})
    fakes.clipia.fail_next(503, times=fails, path="/v1/requests")
    before = len(fakes.clipia.requests)
    if max_retries < fails:
        with pytest.raises(ProviderError):
            await call(client, "status", job)
    else:
        assert (await call(client, "status", job)).id == job.id
    assert len(fakes.clipia.requests) - before == min(fails, max_retries + 1) + (max_retries >= fails)


@pytest.mark.slow
def test_the_signature_is_visible_to_mypy(tmp_path: Path) -> None:
    user = tmp_path / "user.py"
    user.write_text(textwrap.dedent("""\
        from genwire import AsyncClient, Client
        Client(timeout="10")
        AsyncClient(max_retries="3")
        Client(api_key="k")
        Client(timeout=10, max_retries=3, trust_env=False, api_keys={"clipia": "k"})
    """))
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(user)],
                            capture_output=True, text=True, timeout=300)
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == ["2", "3", "4"], result.stdout


# -- item 7: run("provider/model", input=...) ------------------------------------------------------

async def test_run_takes_a_provider_model_name_and_input(make: Any) -> None:
    job: Job = await call(make(), "run", "cliprise/veo-3-fast", input={"prompt": "a fox"}, timeout=10)
    assert (job.provider, job.model, job.task, job.status) == ("cliprise", "veo-3-fast", "text-to-video",
                                                               JobStatus.SUCCEEDED)


async def test_submit_takes_a_family_name_with_the_request_fields(make: Any, fakes: FakeProviders) -> None:
    job: Job = await call(make(), "submit", "nano-banana-2", task="text-to-image", input={"prompt": "a fox"},
                          idempotency_key="order-17")
    assert job.provider == "clipia" and fakes.clipia.jobs[job.id].idempotency_key == "order-17"


async def test_fields_given_twice_are_refused(make: Any) -> None:
    request = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})
    with pytest.raises(InvalidInputError, match=r"\$\.input: given twice"):
        await call(make(), "submit", request, input={"prompt": "a cat"})


async def test_an_unknown_model_name_is_not_found(make: Any) -> None:
    with pytest.raises(NotFoundError):
        await call(make(), "run", "cliprise/veo-9", input={"prompt": "a fox"})


def test_a_malformed_request_is_an_invalid_input_error_with_paths() -> None:
    with pytest.raises(InvalidInputError) as info:
        GenerationRequest.model_validate({"provider": "clipia", "model": 7, "input": [], "colour": "red"})
    assert {v.path for v in info.value.violations} == {"$.model", "$.input", "$.colour"}
    assert info.value.code == "invalid_request"


# -- item 6: errors by kind ----------------------------------------------------------------------

async def test_balance_where_the_provider_has_none_is_unsupported_not_not_found(make: Any) -> None:
    with pytest.raises(UnsupportedOperationError) as info:
        await call(make(), "balance", "cliprise")
    assert not isinstance(info.value, NotFoundError)


async def test_a_refused_connection_is_a_network_error(make: Any, fakes: FakeProviders) -> None:
    client = make()
    job: Job = await call(client, "submit", "clipia/nano-banana-2", input={"prompt": "a fox"})
    fakes.clipia.disconnect_next(times=3, path="/v1/requests")
    with pytest.raises(NetworkError) as info:
        await call(client, "status", job)
    assert isinstance(info.value, ProviderError) and not isinstance(info.value, NetworkTimeoutError)
    assert info.value.retryable and info.value.job is not None and info.value.job.id == job.id


async def test_a_reply_that_never_comes_is_a_network_timeout(make: Any, fakes: FakeProviders) -> None:
    client = make()
    job: Job = await call(client, "submit", "cliprise/veo-3-fast", input={"prompt": "a fox"})
    fakes.cliprise.disconnect_next(times=3, before_send=False, path="/status")
    with pytest.raises(NetworkTimeoutError) as info:
        await call(client, "status", job)
    assert isinstance(info.value, NetworkError) and info.value.job is not None


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


@pytest.mark.parametrize("cls", CLIENTS)
async def test_a_real_socket_timeout_is_a_network_timeout(cls: type, silent_port: int) -> None:
    client = cls(api_keys=KEYS, base_urls={"clipia": f"http://127.0.0.1:{silent_port}"}, timeout=0.2,
                 max_retries=0)
    job = Job(provider="clipia", model="nano-banana-2", id="r-1", status=JobStatus.QUEUED)
    try:
        with pytest.raises(NetworkTimeoutError):
            await call(client, "status", job)
    finally:
        await close(client)


@pytest.mark.parametrize("cls", CLIENTS)
async def test_a_closed_port_is_a_network_error_on_download_too(cls: type) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    client = cls(api_keys=KEYS, base_urls={"clipia": f"http://127.0.0.1:{port}"}, max_retries=0)
    from genwire import Media

    try:
        with pytest.raises(NetworkError):
            await call(client, "download", Media(url=f"http://127.0.0.1:{port}/out.png", kind="image"))
    finally:
        await close(client)


# -- item 5: proxies from the environment -----------------------------------------------------------

class _Proxy(ThreadingHTTPServer):
    """A forwarding HTTP proxy on loopback that records the absolute URLs it is asked for."""

    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.upstream = httpx.Client(trust_env=False)
        super().__init__(("127.0.0.1", 0), _ProxyHandler)


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _Proxy
    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        self.server.seen.append(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "proxy-connection")}
        reply = self.server.upstream.request(self.command, self.path, headers=headers, content=body)
        self.send_response(reply.status_code)
        for name, value in reply.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.content)))
        self.end_headers()
        self.wfile.write(reply.content)

    do_GET = do_POST = _forward

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[_Proxy]:
    server = _Proxy()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    server.upstream.close()


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    with FakeServer() as srv:
        yield srv


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize(("env", "trust_env", "proxied"), [
    ({"HTTP_PROXY": "PROXY"}, True, True),
    ({"ALL_PROXY": "PROXY"}, True, True),
    ({"HTTP_PROXY": "PROXY", "NO_PROXY": "127.0.0.1"}, True, False),
    ({"HTTP_PROXY": "PROXY"}, False, False),
], ids=["http_proxy", "all_proxy", "no_proxy", "trust_env_off"])
async def test_proxies_from_the_environment_are_honoured_like_httpx(
        cls: type, env: dict[str, str], trust_env: bool, proxied: bool, proxy: _Proxy, fake_server: FakeServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.server_address[1]}" if value == "PROXY" else value)
    client = cls(api_keys=fake_server.api_keys, base_urls=fake_server.base_urls, trust_env=trust_env, poll=POLL)
    try:
        job: Job = await call(client, "run", "clipia/nano-banana-2", input={"prompt": "a fox"}, timeout=10)
    finally:
        await close(client)
    assert job.status is JobStatus.SUCCEEDED
    expected = f"{fake_server.base_urls['clipia']}/v1/models/nano-banana-2"
    assert (expected in proxy.seen) is proxied
