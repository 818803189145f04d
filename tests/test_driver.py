"""The Driver seam (genwire._policy.driver): what Client and AsyncClient offer the faces and the ledger."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Generator
from typing import Any

import httpx
import pytest

from genwire import AsyncClient, Client, GenerationRequest
from genwire._policy import driver
from genwire._policy.flows import Notify, Send, TransportFailure
from genwire.adapters import WireRequest
from genwire.testing import FakeProviders
from tests.support import call, close

pytestmark = pytest.mark.anyio

IMAGE = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})


def _members(protocol: type) -> set[str]:
    names = {n for n in vars(protocol) if not n.startswith("_")}
    names |= set(getattr(protocol, "__annotations__", {}))
    for base in protocol.__mro__[1:]:
        if base.__module__ == driver.__name__:
            names |= _members(base)
    return names


@pytest.mark.parametrize(("cls", "protocol"), [(Client, driver.Driver), (AsyncClient, driver.AsyncDriver)])
def test_each_client_has_every_member_of_its_driver_protocol(cls: type, protocol: type) -> None:
    client = cls(api_keys={"clipia": "clipia_live_test0000"})
    try:
        missing = [name for name in _members(protocol) if not hasattr(client, name)]
        assert missing == []
        assert inspect.iscoroutinefunction(client.drive) is (cls is AsyncClient)
    finally:
        if cls is Client:
            client.close()


def _watched(closed: list[str], inner: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
    try:
        return (yield from inner)
    finally:
        closed.append("closed")


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_flow_is_closed_when_the_driver_stops_on_an_error_from_on_update(
        mode: str, fake_providers: FakeProviders) -> None:
    client = fake_providers.client() if mode == "sync" else fake_providers.async_client()
    closed: list[str] = []
    job = await call(client, "submit", IMAGE)

    def notify_then_more() -> Generator[Any, Any, Any]:
        yield Notify(job)
        yield Notify(job)  # never reached: on_update raised
        return job

    def refuse(_job: Any) -> None:
        raise KeyError("from the caller's callback")

    try:
        with pytest.raises(KeyError):
            await call(client, "drive", _watched(closed, notify_then_more()), refuse)
        assert closed == ["closed"]
    finally:
        await close(client)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_send_that_fails_is_thrown_into_the_flow_with_nothing_chained(mode: str) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    options: dict[str, Any] = {"api_keys": {"clipia": "clipia_live_test0000"}, "transport": httpx.MockTransport(refuse)}
    client = Client(**options) if mode == "sync" else AsyncClient(**options)
    seen: list[BaseException] = []

    def one_send() -> Generator[Any, Any, Any]:
        try:
            yield Send("clipia", WireRequest("GET", "/v1/balance"))
        except TransportFailure as exc:
            seen.append(exc)
            return "thrown"
        return "replied"

    try:
        assert await call(client, "drive", one_send()) == "thrown"
    finally:
        await close(client)
    [failure] = seen
    assert isinstance(failure, TransportFailure) and not failure.reached  # type: ignore[attr-defined]
    # the httpx error (its URL may carry a key) is neither the cause nor the context
    assert failure.__cause__ is None and failure.__context__ is None


def test_a_flow_yielding_a_non_effect_is_a_type_error_even_under_python_O() -> None:
    # dispatch used to rest on an assert, which -O removes
    code = """
import genwire
def bad():
    yield "not an effect"
with genwire.Client(api_keys={"clipia": "clipia_live_test0000"}) as client:
    try:
        client.drive(bad())
    except TypeError as exc:
        print("TypeError", "not an effect" in str(exc))
"""
    out = subprocess.run([sys.executable, "-O", "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.split() == ["TypeError", "True"]
