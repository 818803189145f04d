"""pytest fixtures for code that uses genwire: fake providers and clients wired to them.

Registered as the ``genwire`` pytest plugin, so once genwire is installed::

    def test_generates(genwire_client):
        job = genwire_client.run(GenerationRequest(provider="clipia", model="nano-banana-2",
                                                   input={"prompt": "a fox"}))
        assert job.outputs

    async def test_generates_async(async_genwire_client, fake_providers):
        fake_providers.cliprise.fail_next(429, retry_after=0.01)
        job = await async_genwire_client.run(...)

``fake_server`` serves the same ``fake_providers`` over a real loopback socket, for code
under test that makes its own HTTP calls or runs in another process::

    def test_gateway(fake_server, fake_providers):
        app = make_gateway(base_urls=fake_server.base_urls, api_keys=fake_server.api_keys)
        ...
        assert len(fake_providers.clipia.jobs) == 1

``postgres_url`` is a fresh schema on a real PostgreSQL server (``postgres_server_url``: a
throwaway one, see ``genwire.testing.postgres``), for a gateway's ledger tests.

The clients poll and back off in milliseconds. All four fixtures are plain (sync)
fixtures: the fakes run in process, so ``async_genwire_client`` needs no event loop
to open or close and works under any async runner (pytest-asyncio in strict or auto
mode, anyio with asyncio or trio). Mark async tests as your runner wants
(``@pytest.mark.asyncio``, ``@pytest.mark.anyio``, or nothing in auto mode).

Loading the plugin imports nothing but pytest: genwire, httpx and the fakes load
when a test first asks for a fixture. This module does not import Hypothesis.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .._policy.retry import PollPolicy, RetryPolicy
    from ..client import AsyncClient, Client
    from .fakes import FakeProviders
    from .server import FakeServer

    FAST_POLL: PollPolicy
    FAST_RETRY: RetryPolicy

__all__ = ["FAST_POLL", "FAST_RETRY", "async_genwire_client", "fake_providers", "fake_server", "genwire_client",
           "postgres_server_url", "postgres_url"]


def __getattr__(name: str) -> Any:
    # FAST_POLL / FAST_RETRY are built on first use so that loading the plugin stays free
    if name in ("FAST_POLL", "FAST_RETRY"):
        return _fast()[name == "FAST_RETRY"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _fast() -> tuple[PollPolicy, RetryPolicy]:
    from ._speed import fast_poll, fast_retry

    return fast_poll(), fast_retry()


@pytest.fixture
def fake_providers() -> FakeProviders:
    """Fresh fake Clipia and Cliprise servers (see ``genwire.testing.FakeProviders``)."""
    from .fakes import FakeProviders

    return FakeProviders()


@pytest.fixture
def fake_server(fake_providers: FakeProviders) -> Iterator[FakeServer]:
    """``fake_providers`` served over HTTP on a free loopback port
    (``genwire.testing.server.FakeServer``): ``base_urls`` and ``api_keys`` are what a client
    needs (``client()``/``async_client()`` hand out one at test speed), ``fakes`` are the
    scriptable fakes behind it, ``stats()`` counts requests per provider, ``webhook_secrets``
    sign its callbacks. Stopped after the test."""
    from .server import FakeServer

    with FakeServer(fake_providers) as server:
        yield server


@pytest.fixture
def genwire_client(fake_providers: FakeProviders) -> Iterator[Client]:
    """A ``genwire.Client`` talking to ``fake_providers`` with their fake keys."""
    poll, retry = _fast()
    with fake_providers.client(poll=poll, retry=retry) as client:
        yield client


@pytest.fixture
def async_genwire_client(fake_providers: FakeProviders) -> Iterator[AsyncClient]:
    """A ``genwire.AsyncClient`` talking to ``fake_providers``, for a test on any async runner.

    ``async with async_genwire_client:`` inside the test is allowed; the fixture closes the
    client afterwards either way.
    """
    poll, retry = _fast()
    client = fake_providers.async_client(poll=poll, retry=retry)
    try:
        yield client
    finally:
        _aclose(client)


def _aclose(client: AsyncClient) -> None:
    """Close ``client`` outside any event loop: closing an in-process transport never waits,
    so the coroutine finishes on its first step; anything else is run on a fresh loop."""
    step = client.aclose()
    try:
        step.send(None)
    except StopIteration:
        return
    step.close()
    import asyncio

    asyncio.run(client.aclose())


# -- PostgreSQL (genwire.testing.postgres) --------------------------------------------------------

def _postgres_unavailable(reason: str) -> None:
    import os

    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"no PostgreSQL: {reason}")


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL server's ``postgres`` database URL: ``GENWIRE_TEST_POSTGRES_URL`` when set,
    else a throwaway server started for the session (skipped, saying why, when none can be had;
    failed instead when ``CI`` is set)."""
    import os

    from .postgres import TEST_URL_ENV, PostgresServer, PostgresUnavailable

    url = os.environ.get(TEST_URL_ENV)
    if url:
        yield url
        return
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _postgres_unavailable("psycopg is not installed (pip install 'genwire[postgres]')")
    try:
        server = PostgresServer().__enter__()
    except PostgresUnavailable as exc:
        _postgres_unavailable(str(exc))
    try:
        yield server.url
    finally:
        server.__exit__(None, None, None)


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A URL on a fresh, empty schema of ``postgres_server_url`` (``open_ledger`` it), dropped after the test."""
    import uuid
    from urllib.parse import quote

    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in postgres_server_url else "?"
    yield f"{postgres_server_url}{sep}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
