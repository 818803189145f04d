"""The httpx layer under the clients: no cookie jar, the API key added to the query at send
time (never on the request httpx logs), replies read against a deadline, downloads written
to a ``.part`` file first."""

from __future__ import annotations

import http.cookiejar
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlencode

import httpx

from .._policy.flows import TransportFailure
from .._util.redact import strip_query_secrets
from ..errors import ConfigurationError
from .urls import DOWNLOAD_EXTENSION, KEY_EXTENSION, download_url_problem, url_origin

__all__ = ["SPENT", "AsyncHTTPClient", "AsyncKeyQueryTransport", "HTTPClient", "KeyQueryTransport", "aread_by",
           "partial_file", "read_by"]

# httpx's read timeout bounds each read, not the reply: a reply trickled out slowly enough would
# outlast any deadline, so inside a wait the body is read chunk by chunk against the deadline
_TRICKLE_TIMEOUT = "the reply was still arriving at the deadline"

#: what a read reply's ``stream`` becomes: httpx binds each response and its stream in a reference
#: cycle, which otherwise lives on until a garbage collection (thousands of them at fan-out)
SPENT = httpx.ByteStream(b"")


def read_by(resp: httpx.Response, deadline: float) -> bytes:
    """The body of a streamed reply, given up (``TransportFailure``, a timeout) once the
    ``time.monotonic()`` deadline has passed while it was still arriving."""
    chunks: list[bytes] = []
    late = False
    try:
        for chunk in resp.iter_bytes():
            chunks.append(chunk)
            if time.monotonic() > deadline:
                late = True
                break
    finally:
        resp.close()
    if late:
        raise TransportFailure(_TRICKLE_TIMEOUT, reached=True, timeout=True)
    return b"".join(chunks)


async def aread_by(resp: httpx.Response, deadline: float) -> bytes:
    """``read_by`` for an async reply."""
    chunks: list[bytes] = []
    late = False
    try:
        async for chunk in resp.aiter_bytes():
            chunks.append(chunk)
            if time.monotonic() > deadline:
                late = True
                break
    finally:
        await resp.aclose()
    if late:
        raise TransportFailure(_TRICKLE_TIMEOUT, reached=True, timeout=True)
    return b"".join(chunks)


@contextmanager
def partial_file(target: Path) -> Iterator[BinaryIO]:
    """Write to ``<name>.part`` and rename on success, so a failed download leaves no half file."""
    part = target.with_name(target.name + ".part")
    try:
        with part.open("wb") as out:
            yield out
        part.replace(target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise



# -- no cookie jar ----------------------------------------------------------------------------

class _NoJar(http.cookiejar.CookieJar):
    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        return None


class _NoCookies(httpx.Cookies):
    """Never stores a cookie: provider APIs authenticate by key, and a client shared by
    many callers must not carry one reply's cookies into the next request. It also spares
    every reply httpx's cookie parsing (urllib request and email.Message adapters), a
    sizeable share of a mocked round trip."""

    def __init__(self) -> None:
        super().__init__(_NoJar())

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


_NO_COOKIES = _NoCookies()


class _KeepsNoCookies:
    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise ConfigurationError("genwire clients keep no cookies", code="no_cookies")


class HTTPClient(_KeepsNoCookies, httpx.Client):
    pass


class AsyncHTTPClient(_KeepsNoCookies, httpx.AsyncClient):
    pass


# -- adding the key at send time ---------------------------------------------------------------

def _with_key(request: httpx.Request) -> httpx.Request:
    """A copy of the request with the API key in its query, for the wire only.

    httpx logs and reports the request it was given, which never holds the key.
    httpx carries extensions over to redirects, so the key is added only while
    the request still goes to the provider's own origin.
    """
    name, key, origin = request.extensions[KEY_EXTENSION]
    extensions = {k: v for k, v in request.extensions.items() if k != KEY_EXTENSION}
    url = request.url
    if url_origin(url) != origin:
        # a redirect leaving the provider's origin keeps its query string: drop the key from it,
        # in place, so neither the other origin nor httpx's log line of this request sees it
        stripped = strip_query_secrets(str(url), (key,))
        if stripped != str(url):
            request.url = url = httpx.URL(stripped)
    else:
        if url.fragment:
            url = url.copy_add_param(name, key)
        else:  # append, leaving the rest of the query byte for byte (signed URLs); one parse, not three
            url = httpx.URL(f"{url}{'&' if url.query else '?'}{urlencode({name: key})}")
    return httpx.Request(request.method, url, headers=request.headers, stream=request.stream,
                         extensions=extensions)


def _prepared(request: httpx.Request) -> httpx.Request:
    """The request as it goes on the wire: a download's hop (a redirect target) checked like its
    first URL (an ``httpx.InvalidURL`` the download turns into a typed error), the key added."""
    if DOWNLOAD_EXTENSION in request.extensions:
        problem = download_url_problem(request.url)
        if problem:
            raise httpx.InvalidURL(f"cannot follow the download to {strip_query_secrets(str(request.url))}: "
                                   f"{problem}")
    if KEY_EXTENSION in request.extensions:
        request = _with_key(request)
    return request


class KeyQueryTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(_prepared(request))

    def close(self) -> None:
        self._inner.close()


class AsyncKeyQueryTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(_prepared(request))

    async def aclose(self) -> None:
        await self._inner.aclose()

