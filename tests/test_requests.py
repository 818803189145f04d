"""``genwire._transport.requests``: requests built the cheap way are the requests ``httpx.Request`` builds."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from genwire._transport.requests import FixedHeaders, URLCache, build_request

FIXED = {"User-Agent": "genwire/test", "Accept": "application/json", "Authorization": "Bearer k-123"}
json_bodies = st.none() | st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3), max_leaves=10)
header_names = st.sampled_from(["Idempotency-Key", "X-Trace", "accept", "Accept", "Host", "content-type",
                                "Content-Length", "Transfer-Encoding", "User-Agent"])
headers = st.dictionaries(header_names, st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=8),
                          max_size=3)
queries = st.dictionaries(st.sampled_from(["taskId", "a b", "é"]), st.text(max_size=5), max_size=2)
urls = st.sampled_from(["https://api.clipia.ai/v1/models/nano-banana-2", "http://127.0.0.1:8000/app/generate",
                        "https://h.example/p?x=1", "https://h.example:8443/a%20b"])


def seen(request: httpx.Request) -> dict[str, Any]:
    return {"method": request.method, "url": str(request.url), "headers": request.headers.raw,
            "content": request.content, "extensions": request.extensions,
            "stream": b"".join(request.stream)}  # type: ignore[arg-type]


@given(st.sampled_from(["GET", "POST", "put", "DELETE"]), urls, queries, headers, json_bodies,
       st.sampled_from([{}, {"Host": "other"}, {"accept": "text/plain"}]))
def test_a_built_request_is_the_one_httpx_builds(method: str, text: str, query: dict[str, str],
                                                 given_headers: dict[str, str], body: Any,
                                                 extra_fixed: dict[str, str]) -> None:
    fixed = {**FIXED, **extra_fixed}
    extensions = {"timeout": {"connect": 1.0, "read": 1.0, "write": 1.0, "pool": 1.0}}
    ours = build_request(method, URLCache().get(text, query), FixedHeaders(fixed), given_headers, body,
                         dict(extensions))
    theirs = httpx.Request(method, text, params=query or None, headers={**fixed, **given_headers}, json=body,
                           extensions=dict(extensions))
    assert seen(ours) == seen(theirs)


def test_a_cached_url_is_shared_and_the_cache_stays_bounded() -> None:
    cache = URLCache(size=2)
    first = cache.get("https://h.example/a", {})
    assert cache.get("https://h.example/a", {}) is first
    assert cache.get("https://h.example/a", {"q": "1"}) == httpx.URL("https://h.example/a?q=1")
    for i in range(5):
        cache.get(f"https://h.example/{i}", {})
    assert len(cache._urls) <= 2


def test_a_header_httpx_cannot_encode_fails_as_it_does() -> None:
    with pytest.raises(UnicodeEncodeError):
        build_request("POST", httpx.URL("https://h.example/"), FixedHeaders(FIXED), {"X-Name": "é"}, {}, {})
