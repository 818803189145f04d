"""Helpers shared by the test modules: canned replies, a hand driver for policy flows, fixtures' YAML,
the representative subset of the catalog that per-model properties run by default."""

from __future__ import annotations

import functools
import importlib.metadata
import inspect
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Generator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from genwire import AsyncClient, Catalog, Client
from genwire._policy.flows import Send, Sleep
from genwire.adapters import WireResponse
from genwire.testing import FakeProviders

__all__ = [
    "ASYNCIO_STRICT", "TTS_YAML", "Call", "Clock", "clients_over", "drive", "per_task", "reply",
    "representative_keys", "run_pytest",
]

# a priced audio model, for catalogs built in tests
TTS_YAML = """\
id: fake-tts
name: Fake TTS
kind: audio
output: {kind: audio, formats: [mp3]}
price: {credits: 3}
tasks:
  text-to-speech:
    description: Speak a text.
    params:
      prompt: {type: string, required: true, description: The text to speak.}
"""


def reply(status: int, body: Any, **headers: str) -> WireResponse:
    """A provider reply; ``body`` is JSON-encoded unless it is already bytes; ``retry_after=`` -> ``retry-after``."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return WireResponse(status, {k.lower().replace("_", "-"): v for k, v in headers.items()}, raw)


class Clock:
    """A clock that moves only when a flow sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def drive(flow: Generator[Any, Any, Any], replies: list[Any], clock: Clock | None = None) -> tuple[list[Any], Any]:
    """Run a flow, answering each Send with the next reply (or throwing it); sleeping advances ``clock``."""
    effects: list[Any] = []
    try:
        effect = next(flow)
        while True:
            effects.append(effect)
            if isinstance(effect, Send):
                answer = replies.pop(0)
                effect = flow.throw(answer) if isinstance(answer, Exception) else flow.send(answer)
            else:
                if isinstance(effect, Sleep) and clock is not None:
                    clock.now += effect.seconds
                effect = flow.send(None)
    except StopIteration as stop:
        return effects, stop.value


TaskKey = tuple[str, str, str]


def _shape(schema: Any, where: str, into: set[tuple[Any, ...]]) -> None:
    """The schema's structural features (type and keywords at each depth), not its names or values."""
    if not isinstance(schema, dict):
        return
    skip = {"description", "default", "title", "examples", "properties", "items", "prefixItems"}
    into.add((where, schema.get("type"), *sorted(k for k in schema if k not in skip and k != "type")))
    for sub in schema.get("properties", {}).values():
        _shape(sub, where + ".*", into)
    _shape(schema.get("items"), where + "[]", into)
    for sub in schema.get("prefixItems", []):
        _shape(sub, where + "[i]", into)


def _features(catalog: Catalog, key: TaskKey) -> set[tuple[Any, ...]]:
    found: set[tuple[Any, ...]] = {("provider-kind", key[0], catalog.get(key[0], key[1]).kind)}
    _shape(catalog.input_schema(*key), "in", found)
    _shape(catalog.wire_schema(*key), "wire", found)
    task = catalog.task(*key)
    found.add(("tier", task.choice is not None))
    found.add(("placement", task.placement))
    for p in task.params.values():
        found.add(("param", p.type, p.wire_slot is not None, p.spec.get("transform"), p.spec.get("placement")))
    return found


def representative_keys(catalog: Catalog, keys: list[TaskKey]) -> set[TaskKey]:
    """A small deterministic subset of ``keys`` that together show every structural feature of the
    rest (each provider and kind, each schema shape, tiers, list slots, transforms, placements).
    Chosen greedily, ties broken by catalog order, so the same catalog gives the same subset."""
    features = {key: _features(catalog, key) for key in keys}
    wanted = set().union(*features.values()) if features else set()
    chosen: set[TaskKey] = set()
    covered: set[tuple[Any, ...]] = set()
    while covered != wanted:
        best = max(keys, key=lambda k: (len(features[k] - covered), -keys.index(k)))
        chosen.add(best)
        covered |= features[best]
    return chosen


def per_task(catalog: Catalog) -> list[Any]:
    """Every (provider, model, task) of the catalog as a pytest param; those outside the representative
    subset are marked ``slow`` (run by CI and ``pytest -m slow``, skipped by the default run)."""
    keys = [(m.provider, m.id, t) for m in catalog.models() for t in m.tasks]
    fast = representative_keys(catalog, keys)
    return [pytest.param(k, id="/".join(k), marks=() if k in fast else pytest.mark.slow) for k in keys]


#: pytest-asyncio options a project sets (without a fixture loop scope it warns, an error under -W error)
ASYNCIO_STRICT = ("-o", "asyncio_mode=strict", "-o", "asyncio_default_fixture_loop_scope=function")


def run_pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run pytest on ``directory`` in a fresh interpreter, as a user's project would (its own rootdir,
    this suite's options not inherited), with the genwire plugin loaded and warnings as errors."""
    registered = any(ep.value == "genwire.testing.pytest_plugin"
                     for ep in importlib.metadata.entry_points(group="pytest11"))
    plugin = [] if registered else ["-p", "genwire.testing.pytest_plugin"]
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider",
                           *plugin, *args, str(directory)],
                          capture_output=True, text=True, cwd=directory, env=env, check=False)


Call = Callable[..., Any]


async def call(client: Client | AsyncClient, name: str, *args: Any, **kwargs: Any) -> Any:
    """``client.name(*args, **kwargs)``, awaited when the client is an ``AsyncClient``."""
    result = getattr(client, name)(*args, **kwargs)
    return await result if inspect.isawaitable(result) else result


async def close(client: Client | AsyncClient) -> None:
    """Close a sync or an async client."""
    if isinstance(client, AsyncClient):
        await client.aclose()
    else:
        client.close()


@asynccontextmanager
async def clients_over(fakes: FakeProviders, mode: str, **defaults: Any) -> AsyncIterator[Callable[..., Call]]:
    """``build(**client_kwargs)`` -> ``call(method, *args)`` on a sync or async client over ``fakes``
    (awaited on the async one), so one parametrised test covers both; every client is closed after."""
    made: list[Client | AsyncClient] = []

    def build(**kwargs: Any) -> Call:
        options = {**defaults, **kwargs}
        client = fakes.client(**options) if mode == "sync" else fakes.async_client(**options)
        made.append(client)

        return functools.partial(call, client)

    try:
        yield build
    finally:
        for client in made:
            await close(client)
