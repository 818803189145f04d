"""``genwire mcp``: an MCP server over genwire's client, for agents (``pip install 'genwire[mcp]'``).

    from genwire.mcp import GenwireTools, Guard, build_server
    async with AsyncClient() as client:
        server = build_server(GenwireTools(client, guard=Guard(max_per_job=50)))
        # serve it (genwire.mcp.serve_stdio / serve_http), or test it with mcp.Client(server)

A face like the CLI: tools over the public ``AsyncClient`` and ``Catalog``. Names load on
first use, and only ``build_server`` and the transports import the MCP SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["TOOLS", "GenwireTools", "Guard", "Reply", "SpendingRefused", "build_server", "serve_http",
           "serve_stdio"]

if TYPE_CHECKING:
    from ._guard import Guard, SpendingRefused
    from ._server import TOOLS, build_server
    from ._tools import GenwireTools, Reply
    from ._transports import serve_http, serve_stdio

_WHERE = {"Guard": "_guard", "SpendingRefused": "_guard", "TOOLS": "_server", "build_server": "_server",
          "GenwireTools": "_tools", "Reply": "_tools", "serve_http": "_transports", "serve_stdio": "_transports"}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{where}", __name__), name)
    globals()[name] = value
    return value
