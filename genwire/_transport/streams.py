"""An httpcore network backend on asyncio's own transports, for the async client's direct connections.

httpcore's default async backend goes through anyio: every read and write opens a cancel
scope (``anyio.fail_after``) and yields to the event loop even when the bytes are already
there or the socket takes them at once. At fan-out (1,000 concurrent jobs over 20
connections, ``bench/bench_fanout.py``) each of those yields puts a connection's next step
behind every other ready task, so a connection sits idle between a reply and the next request
far longer than the work takes. Here a connection is an ``asyncio.Protocol``: a read returns
what has arrived without yielding, a write hands the bytes to the transport and waits only
while the transport asks it to (``pause_writing``), and a timeout is one ``call_later``.

The semantics are httpcore's: reads, writes, connects and TLS handshakes time out with
``ReadTimeout``/``WriteTimeout``/``ConnectTimeout``, a broken connection raises
``ReadError``/``WriteError``/``ConnectError``, a read at the end of the stream returns ``b""``,
and ``get_extra_info`` answers what httpcore asks (``ssl_object``, ``client_addr``,
``server_addr``, ``socket``, ``is_readable``). ``tests/test_streams.py`` holds them.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
import sys
from collections import deque
from collections.abc import Iterable
from typing import Any

import httpcore

__all__ = ["AsyncioBackend", "AsyncioStream", "SocketOption", "is_socket_readable"]

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]

#: bytes buffered ahead of the reader before the socket stops being read (a large download
#: read slowly must not pile up in memory)
_HIGH_WATER = 256 * 1024
#: anyio's happy-eyeballs delay, which httpcore's default backend connects with
_HAPPY_EYEBALLS_DELAY = 0.25


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


class _Connection(asyncio.Protocol):
    """The receiving side of one connection: what arrived, whether it ended, who waits for it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.ended = False  # EOF received or connection lost: no more data will arrive
        self.error: BaseException | None = None  # why the connection was lost, if not cleanly
        self.lost = False
        self.reading_paused = False
        self.writing_paused = False
        self._readable: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _HIGH_WATER and not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake_reader()
        return False  # close the transport: HTTP/1.1 has no use for a half-open connection

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = self.lost = True
        self.error = exc
        self._wake_reader()
        self._wake_writer()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake_writer()

    # -- waiting ------------------------------------------------------------------------------
    def _wake_reader(self) -> None:
        if self._readable is not None and not self._readable.done():
            self._readable.set_result(None)

    def _wake_writer(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    async def wait_readable(self, timeout: float | None) -> bool:
        """Wait for data or the end of the stream; False if ``timeout`` seconds passed first."""
        self._readable = waiter = self.loop.create_future()
        return await self._wait(waiter, timeout)

    async def wait_writable(self, timeout: float | None) -> bool:
        """Wait until the transport takes writes again (or the connection is lost); False on timeout."""
        self._writable = waiter = self.loop.create_future()
        return await self._wait(waiter, timeout)

    async def _wait(self, waiter: asyncio.Future[None], timeout: float | None) -> bool:
        if timeout is None:
            await waiter
            return True
        timer = self.loop.call_later(max(timeout, 0.0), _expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
        return waiter.result() is None  # the timer sets False


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_result(False)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection (plain or TLS) as httpcore reads and writes it."""

    def __init__(self, connection: _Connection, transport: asyncio.Transport) -> None:
        self._connection = connection
        self._transport = transport

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        conn = self._connection
        if not conn.chunks and not conn.ended and not await conn.wait_readable(timeout):
            raise httpcore.ReadTimeout("timed out while reading")
        if conn.chunks:
            chunk = conn.chunks.popleft()
            if len(chunk) > max_bytes:
                conn.chunks.appendleft(chunk[max_bytes:])
                chunk = chunk[:max_bytes]
            conn.buffered -= len(chunk)
            if conn.reading_paused and conn.buffered <= _HIGH_WATER // 4 and not conn.lost:
                conn.reading_paused = False
                self._transport.resume_reading()
            return chunk
        if conn.error is not None:
            raise httpcore.ReadError(str(conn.error) or type(conn.error).__name__)
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        conn = self._connection
        if conn.lost or self._transport.is_closing():
            raise httpcore.WriteError(str(conn.error) if conn.error is not None else "the connection is closed")
        self._transport.write(buffer)
        while conn.writing_paused and not conn.lost:
            if not await conn.wait_writable(timeout):
                raise httpcore.WriteTimeout("timed out while writing")
        if conn.lost and conn.error is not None:
            raise httpcore.WriteError(str(conn.error) or type(conn.error).__name__)

    async def aclose(self) -> None:
        if self._transport.get_write_buffer_size():
            self._transport.abort()  # bytes the peer is not reading: do not wait for them (anyio aborts too)
        else:
            self._transport.close()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        conn = self._connection
        try:
            try:
                transport = await asyncio.wait_for(conn.loop.start_tls(
                    self._transport, conn, ssl_context, server_hostname=server_hostname,
                    ssl_handshake_timeout=timeout), timeout)
            except asyncio.TimeoutError:
                raise httpcore.ConnectTimeout("timed out during the TLS handshake") from None
            except (OSError, ssl.SSLError, ConnectionError) as exc:
                raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
            if transport is None:  # the connection was lost during the handshake
                raise httpcore.ConnectError("the connection closed during the TLS handshake")
        except BaseException:
            self._transport.abort()
            raise
        conn.transport = transport
        return AsyncioStream(conn, transport)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            conn = self._connection
            return bool(conn.chunks) or conn.ended or is_socket_readable(self._transport.get_extra_info("socket"))
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Connects with ``loop.create_connection`` (happy eyeballs as anyio does) and streams as above."""

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[SocketOption] | None = None) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        conn = _Connection(loop)
        try:
            transport, _ = await asyncio.wait_for(loop.create_connection(
                lambda: conn, host, port, local_addr=(local_address, 0) if local_address else None,
                happy_eyeballs_delay=_HAPPY_EYEBALLS_DELAY), timeout)
        except asyncio.TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self._configured(conn, transport, socket_options)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[SocketOption] | None = None) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        conn = _Connection(loop)
        try:
            transport, _ = await asyncio.wait_for(loop.create_unix_connection(lambda: conn, path), timeout)
        except asyncio.TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {path}") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self._configured(conn, transport, socket_options)

    @staticmethod
    def _configured(conn: _Connection, transport: asyncio.BaseTransport,
                    socket_options: Iterable[SocketOption] | None) -> AsyncioStream:
        sock: socket.socket | None = transport.get_extra_info("socket")
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)  # type: ignore[union-attr]
        except (OSError, AttributeError) as exc:
            transport.abort()  # type: ignore[attr-defined]
            raise httpcore.ConnectError(f"cannot set a socket option: {exc}") from exc
        return AsyncioStream(conn, transport)  # type: ignore[arg-type]

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
