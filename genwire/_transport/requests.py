"""``httpx.Request`` objects built the cheap way, equal to what ``httpx.Request(...)`` builds.

``httpx.Request(method, url, headers=..., json=...)`` parses the URL (much of
its cost: bench/README.md), normalizes every header and then merges its own (``Host``,
``Content-Length``, ``Content-Type``) one ``setdefault`` at a time. A client sends
to a few URLs over and over with the same few headers, so here URLs are parsed
once and kept, the fixed headers are encoded once, and the request is assembled
from its finished header list and body. ``tests/test_requests.py`` holds the
result equal to httpx's own, header list, body and all; a request with a header
httpx would merge with its own goes the ordinary way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

__all__ = ["FixedHeaders", "URLCache", "build_request"]

#: headers httpx sets itself; a request that names one is built by httpx, so it merges them its way
_OWN = frozenset({"host", "content-length", "content-type", "transfer-encoding"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_JSON = b"application/json"
_NO_BODY = (b"Content-Length", b"0")


class URLCache:
    """Parsed ``httpx.URL`` per URL text and query (``httpx.URL`` is immutable, so one serves all)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._urls: dict[Any, httpx.URL] = {}

    def get(self, text: str, query: Mapping[str, str]) -> httpx.URL:
        key: Any = (text, tuple(query.items())) if query else text
        url = self._urls.get(key)
        if url is None:
            url = httpx.URL(text, params=dict(query)) if query else httpx.URL(text)
            if len(self._urls) >= self._size:
                self._urls.clear()  # a client polling many jobs: start over rather than grow
            self._urls[key] = url
        return url


class FixedHeaders:
    """The headers every request to one provider carries, as given and encoded the way httpx does."""

    __slots__ = ("headers", "plain", "raw")

    def __repr__(self) -> str:
        return f"<FixedHeaders {sorted(self.headers)}>"  # names only: one holds the key

    def __init__(self, headers: Mapping[str, str]) -> None:
        self.headers = dict(headers)
        self.raw = [(k.encode("ascii"), v.encode("ascii")) for k, v in self.headers.items()]
        self.plain = not any(k.lower() in _OWN for k in self.headers)


def build_request(method: str, url: httpx.URL, fixed: FixedHeaders, headers: Mapping[str, str], body: Any,
                  extensions: dict[str, Any]) -> httpx.Request:
    """``httpx.Request(method, url, headers={**fixed.headers, **headers}, json=body, extensions=extensions)``."""
    method = method.upper()
    netloc = url.netloc
    if not netloc or not fixed.plain or (headers and (not fixed.headers.keys().isdisjoint(headers)
                                                      or any(k.lower() in _OWN for k in headers))):
        return httpx.Request(method, url, headers={**fixed.headers, **headers}, json=body, extensions=extensions)
    raw = [(b"Host", netloc), *fixed.raw]
    if headers:
        raw += [(k.encode("ascii"), v.encode("ascii")) for k, v in headers.items()]
    if body is not None:
        # what httpx (0.28 and later) sends for json=
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        raw += [(b"Content-Length", str(len(content)).encode("ascii")), (b"Content-Type", _JSON)]
    else:
        content = b""
        if method in _BODY_METHODS:
            raw.insert(1, _NO_BODY)  # httpx puts it beside Host, before the given headers
    request = httpx.Request(method, url, headers=raw, stream=httpx.ByteStream(content), extensions=extensions)
    request.read()  # as httpx does for a body given whole: .content is there at once
    return request
