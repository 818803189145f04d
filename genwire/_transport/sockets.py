"""httpx's async transport, spared a costly lookup httpcore's pool makes over and over.

Each time the pool hands out a connection it asks every idle one whether the server
has closed it (``get_extra_info("is_readable")``). Over anyio every ask rebuilds the
stream's whole table of typed attributes (a ``getpeername`` call and a dict of
lambdas) only to find the raw socket: at 1,000 concurrent jobs that was a large share
of the client's CPU (``bench/bench_fanout.py``; the figure is in bench/README.md). ``async_transport`` gives the
transport a network backend whose streams look their socket up once and run the same
readability check (httpcore's own function) on it. Everything else is passed through.
"""

from __future__ import annotations

import select
import socket
import ssl
import sys
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["async_transport", "is_socket_readable"]

_UNSET: Any = object()
SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


def is_socket_readable(sock: socket.socket | None) -> bool:
    """Whether a read would return at once (data, or the end of a connection the server closed):
    the check httpcore's own streams answer ``is_readable`` with (``httpcore._utils``, private, so
    written here; ``tests/test_sockets.py`` holds the two equal). A socket that is gone counts as
    readable, as its next read returns the end."""
    fd = None if sock is None else sock.fileno()
    if fd is None or fd < 0:
        return True
    if sys.platform == "win32" or getattr(select, "poll", None) is None:
        ready, _, _ = select.select([fd], [], [], 0)
        return bool(ready)
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    return bool(poll.poll(0))


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


def async_transport(**options: Any) -> httpx.AsyncHTTPTransport:
    """``httpx.AsyncHTTPTransport(**options)`` whose connections answer the pool's checks cheaply.

    httpx takes no network backend, so it is set on the pool it built: ``transport._pool`` and
    ``pool._network_backend`` are private to httpx and httpcore. Should a later version move
    them, the transport is returned as httpx made it (slower at fan-out, otherwise the same) and
    ``tests/test_sockets.py`` fails, loudly.
    """
    transport = httpx.AsyncHTTPTransport(**options)
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.AsyncNetworkBackend):
        pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
    return transport
