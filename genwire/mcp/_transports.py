"""Serving the server: stdio (what desktop hosts start) and Streamable HTTP with a bearer token.

HTTP listens on loopback unless told otherwise; bound anywhere else it refuses to start
without a token, and with a token every request must carry ``Authorization: Bearer``.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import socket
from collections.abc import Callable
from typing import Any

from mcp.server import Server
from mcp.server.stdio import stdio_server

from ..errors import ConfigurationError

__all__ = ["BearerToken", "is_loopback", "serve_http", "serve_stdio"]

ASGIApp = Callable[..., Any]


async def serve_stdio(server: Server[Any]) -> None:
    """Serve one client over this process's stdin and stdout until it closes them."""
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BearerToken:
    """ASGI middleware: 401 for any HTTP request without ``Authorization: Bearer <token>``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    def __repr__(self) -> str:
        return "BearerToken(<hidden>)"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = next((v for k, v in scope.get("headers", ()) if k.lower() == b"authorization"), b"")
            if not hmac.compare_digest(given, self._expected):
                body = json.dumps({"error": "unauthorized", "message": "send Authorization: Bearer <token>"}).encode()
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def http_app(server: Server[Any], *, host: str, token: str | None, path: str = "/mcp") -> ASGIApp:
    """The Streamable HTTP ASGI app, behind the bearer token when one is given."""
    if token is None and not is_loopback(host):
        raise ConfigurationError(f"listening on {host} (not loopback) needs a bearer token: --token or "
                                 "GENWIRE_MCP_TOKEN", code="token_required")
    if token is not None and len(token) < 16:
        raise ConfigurationError("the bearer token needs at least 16 characters", code="weak_token")
    app: ASGIApp = server.streamable_http_app(streamable_http_path=path, host=host)
    return BearerToken(app, token) if token is not None else app


async def serve_http(server: Server[Any], *, host: str = "127.0.0.1", port: int = 8765, token: str | None = None,
                     announce: Callable[[str], None] | None = None) -> None:
    """Serve over Streamable HTTP at ``http://host:port/mcp`` until cancelled; ``announce`` gets the URL
    once the socket listens (port 0: a free port)."""
    import uvicorn

    app = http_app(server, host=host, token=token)
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    bound = sock.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if family == socket.AF_INET6 else host
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    web = uvicorn.Server(config)
    if announce is not None:
        announce(f"http://{shown}:{bound}/mcp")
    try:
        await web.serve(sockets=[sock])
    finally:
        sock.close()
