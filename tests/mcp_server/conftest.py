"""MCP fixtures: the server over the in-process fake providers, reached with the SDK's own client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult

from genwire import PollPolicy
from genwire.mcp import GenwireTools, Guard, build_server
from genwire.testing import FakeClipia, FakeCliprise, FakeProviders

FAST = PollPolicy(0.01, 0.05)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Session:
    """An MCP client connected in memory to a genwire server over fake providers."""

    client: Client
    fakes: FakeProviders
    tools: GenwireTools

    async def call(self, name: str, arguments: dict[str, Any] | None = None,
                   progress: Callable[..., Any] | None = None) -> CallToolResult:
        return await self.client.call_tool(name, arguments or {}, progress_callback=progress)

    async def ok(self, name: str, arguments: dict[str, Any] | None = None,
                 progress: Callable[..., Any] | None = None) -> dict[str, Any]:
        result = await self.call(name, arguments, progress)
        assert not result.is_error, result.content
        assert result.structured_content is not None
        return result.structured_content

    async def error(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        result = await self.call(name, arguments)
        assert result.is_error, result.structured_content
        assert result.structured_content is not None
        body: dict[str, Any] = result.structured_content["error"]
        return body


@asynccontextmanager
async def session(fakes: FakeProviders | None = None, *, guard: Guard | None = None,
                  inline_image_bytes: int = 1 << 20, **client: Any) -> AsyncIterator[Session]:
    fakes = fakes or FakeProviders(FakeClipia(steps=2), FakeCliprise(steps=2))
    async with fakes.async_client(poll=FAST, **client) as gw:
        tools = GenwireTools(gw, guard=guard)
        async with Client(build_server(tools, inline_image_bytes=inline_image_bytes), raise_exceptions=True) as c:
            yield Session(c, fakes, tools)
