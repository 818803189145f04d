"""The async client's transport: lanes of asyncio connections, and httpx's own for proxies.

``async_transport`` builds it. Direct connections go through ``lanes`` (pools of one
connection, so httpcore's pool bookkeeping stays O(1) per request) over ``streams`` (asyncio
protocols instead of anyio streams: no cancel scope and no yield to the event loop per read or
write). A proxy's transport is httpx's own; its connections answer the pool's idle checks
(``get_extra_info("is_readable")``) from a socket looked up once, where anyio would rebuild
the stream's whole table of typed attributes (a ``getpeername`` call and a dict of lambdas)
on every ask. The figures are in bench/README.md (``bench/bench_fanout.py``).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx

from .lanes import LaneTransport
from .streams import AsyncioBackend, SocketOption, is_socket_readable

__all__ = ["async_transport", "is_socket_readable"]

_UNSET: Any = object()


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: Any = _UNSET

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return is_socket_readable(self._raw_socket())
        if info == "socket":
            return self._raw_socket()
        return self._inner.get_extra_info(info)

    def _raw_socket(self) -> Any:
        if self._socket is _UNSET:  # a stream keeps its socket for life
            self._socket = self._inner.get_extra_info("socket")
        return self._socket


class _Backend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self.inner = inner

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[SocketOption] | None = None) -> httpcore.AsyncNetworkStream:
        return _Stream(await self.inner.connect_tcp(host, port, timeout=timeout, local_address=local_address,
                                                    socket_options=socket_options))

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[SocketOption] | None = None) -> httpcore.AsyncNetworkStream:
        return _Stream(await self.inner.connect_unix_socket(path, timeout=timeout, socket_options=socket_options))

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def async_transport(**options: Any) -> httpx.AsyncBaseTransport:
    """What ``httpx.AsyncHTTPTransport(**options)`` does, made cheap at fan-out.

    A direct transport (no ``proxy``) is a ``LaneTransport`` (``genwire._transport.lanes``):
    ``limits.max_connections`` pools of one connection each, sharing one TLS context, whose
    connections are asyncio protocols (``genwire._transport.streams``) rather than anyio streams.
    A proxy's transport is httpx's own, its connections answering the pool's idle checks from a
    socket looked up once.

    httpx takes no network backend, so it is set on the pool it built: ``transport._pool`` and
    ``pool._network_backend`` are private to httpx and httpcore. Should a later version move
    them, the transport is left as httpx made it (slower at fan-out, otherwise the same) and
    ``tests/test_sockets.py`` fails, loudly.
    """
    if options.get("proxy") is not None:
        return _with_backend(httpx.AsyncHTTPTransport(**options), _Backend)
    limits: httpx.Limits = options.pop("limits", httpx.Limits())
    lane_limits = httpx.Limits(max_connections=1, max_keepalive_connections=1,
                               keepalive_expiry=limits.keepalive_expiry)
    options["verify"] = httpx.create_ssl_context(verify=options.get("verify", True), cert=options.pop("cert", None),
                                                 trust_env=options.get("trust_env", True))
    size = limits.max_connections if limits.max_connections is not None else 100

    def lane() -> httpx.AsyncBaseTransport:
        return _with_backend(httpx.AsyncHTTPTransport(limits=lane_limits, **options), lambda _: AsyncioBackend())

    return LaneTransport(lane, size)


def _with_backend(transport: httpx.AsyncHTTPTransport,
                  backend: Callable[[httpcore.AsyncNetworkBackend], httpcore.AsyncNetworkBackend]
                  ) -> httpx.AsyncHTTPTransport:
    pool = getattr(transport, "_pool", None)
    inner = getattr(pool, "_network_backend", None)
    if isinstance(inner, httpcore.AsyncNetworkBackend):
        pool._network_backend = backend(inner)  # type: ignore[union-attr]
    return transport
