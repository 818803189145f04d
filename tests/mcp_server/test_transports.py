"""`genwire mcp` as agents run it: a subprocess over stdio, and a Streamable HTTP server with a bearer
token, each against the fake providers on a real socket (`genwire fake-server`). The two end-to-end
runs are slow (subprocesses): CI runs them; the token check runs in process by default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from genwire import Catalog
from genwire._client.checks import KEY_ENV_VARS
from genwire.mcp._transports import BearerToken, is_loopback
from genwire.testing import FakeClipia, FakeCliprise, FakeProviders, FakeServer

pytestmark = pytest.mark.anyio

TOKEN = "test-token-0123456789"
PROMPT = {"prompt": "a fox"}


def _prompt_model(provider: str) -> str:
    """A model of ``provider`` that takes a prompt alone (data, so a new provider needs no test code)."""
    catalog = Catalog.default()
    for spec in catalog.models(provider=provider):
        if any(task.required == {"prompt"} for task in spec.tasks.values()):
            return f"{provider}/{spec.id}"
    raise AssertionError(f"{provider} has no model taking a prompt alone")


MODELS = {provider: _prompt_model(provider) for provider in Catalog.default().providers}
#: the guard lets each provider's model through, nothing else
GUARD = ["--allow", ",".join(MODELS.values()), "--poll-interval", "0.02"]


def _env(base_urls: dict[str, str], keys: dict[str, str]) -> dict[str, str]:
    env = {f"GENWIRE_BASE_URL_{p.upper()}": u for p, u in base_urls.items()}
    return {**env, **{KEY_ENV_VARS[p]: key for p, key in keys.items()}}


def _data(result: Any) -> dict[str, Any]:
    assert result.structured_content is not None, result.content
    return result.structured_content  # type: ignore[no-any-return]


async def _exercise(client: Client, keys: dict[str, str]) -> None:
    """What an agent does: list, validate, generate on each provider, wait with progress, meet the guard."""
    models = _data(await client.call_tool("list_models", {}))
    assert {m["provider"] for m in models["models"]} == set(MODELS)
    bad = _data(await client.call_tool("validate_input", {"model": "cliprise/veo-3-fast", "input": {"prompt": 1}}))
    assert not bad["valid"] and bad["violations"][0]["path"] == "$.prompt"
    reports: list[float] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        reports.append(value)

    for provider, model in MODELS.items():
        job = _data(await client.call_tool("generate", {"model": model, "input": PROMPT,
                                                        "idempotency_key": f"e2e-{provider}"}))
        done = _data(await client.call_tool("wait_generation", {"provider": provider, "id": job["id"],
                                                                "timeout": 20}, progress_callback=progress))
        assert done["status"] == "succeeded" and done["outputs"]
        assert not any(key in json.dumps(done) for key in keys.values())
    with anyio.move_on_after(5):  # over a real transport the last notification may trail the result
        while not reports or reports[-1] != 100.0:
            await anyio.sleep(0.01)
    assert reports and reports[-1] == 100.0
    other = next(f"{s.provider}/{s.id}" for s in Catalog.default().models()
                 if f"{s.provider}/{s.id}" not in MODELS.values() and any(
                     t.required == {"prompt"} for t in s.tasks.values()))
    refused = await client.call_tool("generate", {"model": other, "input": PROMPT})
    assert refused.is_error and _data(refused)["error"]["code"] == "spending_guard"


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    with FakeServer(FakeProviders(FakeClipia(steps=2), FakeCliprise(steps=2))) as server:
        yield server


@pytest.mark.slow
async def test_over_stdio_an_agent_lists_validates_generates_waits_and_meets_the_guard(
        fake_server: FakeServer) -> None:
    params = StdioServerParameters(command=sys.executable, args=["-m", "genwire", "mcp", *GUARD],
                                   env=_env(fake_server.base_urls, fake_server.api_keys))
    async with Client(params) as client:
        await _exercise(client, fake_server.api_keys)
    assert {name: s["jobs"] for name, s in fake_server.fakes.stats().items()} == dict.fromkeys(MODELS, 1)


@pytest.mark.slow
async def test_over_http_with_a_token_against_the_fake_server_command() -> None:
    fake = subprocess.Popen([sys.executable, "-m", "genwire", "fake-server", "--steps", "2"], stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    server = None
    try:
        assert fake.stdout is not None
        announced = json.loads(fake.stdout.readline())
        env = {**os.environ, **_env(announced["base_urls"], announced["api_keys"]), "GENWIRE_MCP_TOKEN": TOKEN}
        server = subprocess.Popen([sys.executable, "-m", "genwire", "mcp", "--http", "127.0.0.1:0", "--json", *GUARD],
                                  stdout=subprocess.PIPE, text=True, env=env)
        assert server.stdout is not None
        listening = json.loads(server.stdout.readline())
        assert listening["token_required"] and listening["url"].startswith("http://127.0.0.1:")
        async with httpx2.AsyncClient() as anonymous:
            assert (await anonymous.post(listening["url"], json={})).status_code == 401
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http, \
                Client(streamable_http_client(listening["url"], http_client=http)) as client:
            await _exercise(client, announced["api_keys"])
    finally:
        for proc in (server, fake):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)
                if proc.stdout is not None:
                    proc.stdout.close()


async def test_the_http_app_refuses_a_request_without_the_right_bearer_token() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"served"})

    guarded = BearerToken(app, TOKEN)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(guarded), base_url="http://127.0.0.1") as http:
        missing = await http.post("/mcp")
        wrong = await http.post("/mcp", headers={"Authorization": f"Bearer {TOKEN}x"})
        right = await http.post("/mcp", headers={"Authorization": f"Bearer {TOKEN}"})
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert right.text == "served" and TOKEN not in repr(guarded)


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                                ("0.0.0.0", False), ("192.168.1.9", False)])
def test_only_loopback_hosts_may_serve_without_a_token(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
