"""``genwire._transport.streams``: the asyncio network backend keeps httpcore's contract (reads, writes,
timeouts, errors, the end of a stream, TLS, what ``get_extra_info`` answers), over real sockets."""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpcore
import httpx
import pytest

from genwire._transport import streams
from genwire._transport.sockets import async_transport
from genwire._transport.streams import AsyncioBackend, AsyncioStream

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(main())  # type: ignore[arg-type]


async def _serve(handler: Handler, ssl_context: ssl.SSLContext | None = None) -> asyncio.Server:
    async def closing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        finally:  # also when the test ends first and the handler is cancelled
            writer.transport.abort()

    return await asyncio.start_server(closing, "127.0.0.1", 0, ssl=ssl_context)


def _port(server: asyncio.Server) -> int:
    return int(server.sockets[0].getsockname()[1])


def test_reads_return_what_arrived_in_pieces_of_at_most_max_bytes_then_the_end() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"0123456789")
        await writer.drain()
        writer.close()

    async def main() -> None:
        async with await _serve(handler) as server:
            stream = await AsyncioBackend().connect_tcp("127.0.0.1", _port(server), timeout=5)
            got = b""
            while chunk := await stream.read(4, timeout=5):
                assert len(chunk) <= 4
                got += chunk
            assert got == b"0123456789"
            assert await stream.read(4, timeout=5) == b""  # the end stays the end
            assert stream.get_extra_info("is_readable") is True  # a read would return at once
            await stream.aclose()

    _run(main)


def test_a_read_with_nothing_arriving_times_out_and_the_stream_still_works() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(2)
        writer.write(b"hi")
        await writer.drain()
        await reader.read()

    async def main() -> None:
        async with await _serve(handler) as server:
            stream = await AsyncioBackend().connect_tcp("127.0.0.1", _port(server), timeout=5)
            with pytest.raises(httpcore.ReadTimeout):
                await stream.read(100, timeout=0.05)
            assert stream.get_extra_info("is_readable") is False
            await stream.write(b"go", timeout=5)
            assert await stream.read(100, timeout=5) == b"hi"
            await stream.aclose()

    _run(main)


def test_a_cancelled_read_leaves_the_stream_usable() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(1)
        writer.write(b"late")
        await writer.drain()
        await reader.read()

    async def main() -> None:
        async with await _serve(handler) as server:
            stream = await AsyncioBackend().connect_tcp("127.0.0.1", _port(server), timeout=5)
            reading = asyncio.create_task(stream.read(100))
            await asyncio.sleep(0.01)
            reading.cancel()
            with pytest.raises(asyncio.CancelledError):
                await reading
            await stream.write(b"x")
            assert await stream.read(100, timeout=5) == b"late"
            await stream.aclose()

    _run(main)


def test_a_reset_connection_is_a_read_error_and_then_a_write_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
        await reader.readexactly(1)
        writer.transport.abort()

    async def main() -> None:
        async with await _serve(handler) as server:
            stream = await AsyncioBackend().connect_tcp("127.0.0.1", _port(server), timeout=5)
            await stream.write(b"x", timeout=5)
            with pytest.raises(httpcore.ReadError):
                await stream.read(100, timeout=5)
            with pytest.raises(httpcore.WriteError):
                await stream.write(b"more", timeout=5)
            await stream.aclose()

    _run(main)


def test_a_write_the_peer_never_reads_times_out() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(10)  # holds the connection open without reading

    async def main() -> None:
        async with await _serve(handler) as server:
            stream = await AsyncioBackend().connect_tcp("127.0.0.1", _port(server), timeout=5)
            with pytest.raises(httpcore.WriteTimeout):
                for _ in range(64):  # far more than the socket buffers hold
                    await stream.write(b"x" * (1 << 20), timeout=0.2)
            await stream.aclose()

    _run(main)


def test_a_large_reply_read_slowly_is_not_buffered_whole() -> None:
    size = 8 * streams._HIGH_WATER
    payload = bytes(range(256)) * (size // 256)
    peak = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(payload)
        await writer.drain()
        writer.close()

    async def main() -> None:
        nonlocal peak
        async with await _serve(handler) as server:
            stream = await AsyncioBackend().connect_tcp("127.0.0.1", _port(server), timeout=5)
            assert isinstance(stream, AsyncioStream)
            got = bytearray()
            while chunk := await stream.read(65536, timeout=5):
                got += chunk
                peak = max(peak, stream._connection.buffered)
                await asyncio.sleep(0.001)  # a slow consumer
            assert bytes(got) == payload
            await stream.aclose()

    _run(main)
    assert peak <= 2 * streams._HIGH_WATER  # paused at the high-water mark, give or take a socket read


def test_connect_failures_are_httpcores_connect_errors() -> None:
    async def main() -> None:
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]  # nothing listens here
        with pytest.raises(httpcore.ConnectError):
            await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        with pytest.raises(httpcore.ConnectTimeout):
            await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=0)

    _run(main)


def test_socket_options_and_addresses_are_httpcores() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async def main() -> None:
        async with await _serve(handler) as server:
            port = _port(server)
            stream = await AsyncioBackend().connect_tcp(
                "127.0.0.1", port, timeout=5, socket_options=[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)])
            sock = stream.get_extra_info("socket")
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            assert stream.get_extra_info("server_addr") == ("127.0.0.1", port)
            assert stream.get_extra_info("client_addr")[0] == "127.0.0.1"
            assert stream.get_extra_info("ssl_object") is None
            assert stream.get_extra_info("no such thing") is None
            await stream.aclose()

    _run(main)


def _self_signed(tmp: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh certificate for 127.0.0.1, and a client context trusting it."""
    crypto = pytest.importorskip("cryptography")
    del crypto
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "genwire test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


def test_https_through_the_lanes_verifies_the_certificate(tmp_path: Path) -> None:
    server_ctx, client_ctx = _self_signed(tmp_path)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    pass
                if not line:
                    return
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecure")
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            return

    async def main() -> None:
        async with await _serve(handler, server_ctx) as server:
            url = f"https://127.0.0.1:{_port(server)}/"
            async with httpx.AsyncClient(transport=async_transport(verify=client_ctx)) as client:
                first = await client.get(url)
                second = await client.get(url)  # the same connection, kept alive
                assert first.text == second.text == "secure"
                assert first.extensions["network_stream"].get_extra_info("ssl_object") is not None
            # a client that does not trust the certificate refuses it, as httpx's own transport does
            async with httpx.AsyncClient(transport=async_transport()) as client:
                with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                    await client.get(url)

    _run(main)
