"""``genwire._transport.sockets``: the async transport is lanes of asyncio connections (a proxy's, httpx's
pool over connections that answer httpcore's checks from a socket looked up once), and either one
still notices a connection the server closed."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from genwire import AsyncClient
from genwire._transport.lanes import LaneTransport
from genwire._transport.sockets import _Backend, _Stream, _with_backend, async_transport, is_socket_readable
from genwire._transport.streams import AsyncioBackend, AsyncioStream


def test_direct_requests_go_through_asyncio_lanes_and_proxied_ones_through_the_caching_backend() -> None:
    # If this fails, httpx or httpcore moved the pool's network backend: see async_transport
    direct = async_transport(limits=httpx.Limits(max_connections=7))
    assert isinstance(direct, LaneTransport) and direct.size == 7
    lane = direct._make_lane()
    assert isinstance(lane._pool._network_backend, AsyncioBackend)  # type: ignore[attr-defined]
    assert lane._pool._max_connections == 1  # type: ignore[attr-defined]
    assert lane._pool._ssl_context is direct._make_lane()._pool._ssl_context  # type: ignore[attr-defined]
    proxied = async_transport(proxy="http://127.0.0.1:9")
    assert isinstance(proxied._pool._network_backend, _Backend)  # type: ignore[attr-defined]
    client = AsyncClient(api_keys={"clipia": "clipia_live_test0000"}, trust_env=False, max_connections=5)
    inner = client._http._transport._inner  # type: ignore[attr-defined]
    assert isinstance(inner, LaneTransport) and inner.size == 5


@pytest.mark.parametrize("kind", ["lanes", "proxy backend"])
def test_a_connection_the_server_closed_is_not_reused(kind: str) -> None:
    # a server that answers once per connection with keep-alive, then hangs up: the pool must
    # see the idle connection readable (at EOF) and open a new one for the next request
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok")
        await writer.drain()
        writer.close()

    async def main() -> list[str]:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        seen: list[str] = []
        streams: list[object] = []
        transport = async_transport() if kind == "lanes" else _with_backend(httpx.AsyncHTTPTransport(), _Backend)
        async with server, httpx.AsyncClient(transport=transport) as client:
            for _ in range(3):
                resp = await client.get(f"http://127.0.0.1:{port}/")
                seen.append(resp.text)
                streams.append(resp.extensions["network_stream"])
                await asyncio.sleep(0.05)  # the server's FIN arrives
        assert all(isinstance(s, AsyncioStream if kind == "lanes" else _Stream) for s in streams)
        return seen

    assert asyncio.run(main()) == ["ok", "ok", "ok"]
    assert connections == 3


def test_the_readability_check_is_httpcores_own() -> None:
    # httpcore's is private (httpcore._utils): if this import fails or the two disagree, httpcore
    # changed how its streams answer "is_readable": follow it in _transport/sockets.py
    import socket

    from httpcore._utils import is_socket_readable as httpcores

    ours, theirs = socket.socketpair()
    try:
        assert is_socket_readable(ours) is httpcores(ours) is False  # nothing to read yet
        theirs.sendall(b"x")
        assert is_socket_readable(ours) is httpcores(ours) is True  # data waiting
        ours.recv(1)
        theirs.close()
        assert is_socket_readable(ours) is httpcores(ours) is True  # the peer hung up: a read returns b""
    finally:
        ours.close()
    assert is_socket_readable(ours) is httpcores(ours) is True  # closed: fileno() is -1
    assert is_socket_readable(None) is httpcores(None) is True

