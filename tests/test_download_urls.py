"""Every download URL ends in a download or a typed genwire error, and no key goes to another origin.

The URL is parsed once, the way httpx sends it, and checked there (``check_download_url``):
IDNA hosts (``xn--`` labels that do not decode), ports, user info, percent-escapes, and hosts
the two parsers would read differently. Redirect targets are checked the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from genwire import AsyncClient, Client, ConfigurationError, GenwireError, Media
from genwire._client.checks import DEFAULT_BASE_URLS, check_download_url, origin_of, url_origin

KEYS = {"clipia": "clipia_live_download_key_1", "cliprise": "cliprise_download_key_2"}
PROVIDER_ORIGINS = {origin_of(url): provider for provider, url in DEFAULT_BASE_URLS.items()}
MALFORMED = [
    "https://xn--api.clipia.ai/x",  # the case of issue 17: idna.InvalidCodepoint from httpx
    "https://xn--/x",  # idna.IDNAError
    "https://api.clipia.ai:99999/x",
    "https://api.clipia.ai:0/x",
    "https://api.clipia.ai:+443/x",
    "https://user:pass@api.clipia.ai/x",
    "https://evil.example@api.clipia.ai/x",
    "https://%61pi.clipia.ai/x",
    "https://[::1/x",
    "https://a\u200b.example/x",
    "ftp://api.clipia.ai/x",
    "//api.clipia.ai/x",
    "",
]

# -- URLs, built from the pieces parsers disagree on ----------------------------------------------
label = st.text(st.sampled_from("abcxyz0-9"), min_size=1, max_size=6)
hosts = st.one_of(
    st.sampled_from(["api.clipia.ai", "API.Clipia.AI", "api.clipia.ai.", "business.api.cliprise.app",
                     "cdn.example.com", "127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "xn--bcher-kva.example",
                     "bücher.example", "straße.de", "\uff41\uff50\uff49.clipia.ai", "a..b", ""]),
    st.builds(lambda a: f"xn--{a}.clipia.ai", label),
    st.builds(lambda a, b: f"{a}.xn--{b}", label, label),
    st.builds(lambda a: f"{a}%2e.clipia.ai", label),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
)
ports = st.one_of(st.just(""), st.sampled_from([":", ":443", ":0443", ":0", ":65535", ":65536", ":99999", ":-1",
                                               ":+80", ": 80", ":8o"]),
                  st.integers(0, 10**6).map(lambda n: f":{n}"))
userinfo = st.sampled_from(["", "u@", "u:p@", "%40@", "evil.example@", "a:b@c@", ":@"])
paths = st.one_of(st.sampled_from(["/x.png", "/", "", "/app/cliprise/file.mp4", "/%2e%2e/x", "/%zz", "/a?b=%",
                                   "\\@evil.example/x", "#@evil.example", "?apiKey=leak"]),
                  st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=10).map(
                      lambda t: "/" + t))
schemes = st.sampled_from(["https://", "http://", "HTTPS://", "ftp://", "https:/", "", "//", "https:\\\\"])
urls = st.one_of(
    st.builds(lambda s, u, h, p, path: s + u + h + p + path, schemes, userinfo, hosts, ports, paths),
    st.text(max_size=30),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(url=urls)
@example(url="https://xn--api.clipia.ai/x")
@example(url="https://evil.example\\@api.clipia.ai/x")
def test_the_download_url_check_ends_in_a_parsed_url_or_a_typed_error(url: str) -> None:
    try:
        parsed, origin = check_download_url(url)
    except ConfigurationError as err:
        assert err.code == "bad_url"
        return
    # what passed is sendable as parsed, and the origin it was checked for is the one it goes to
    request = httpx.Request("GET", parsed)
    assert url_origin(request.url) == origin and origin[0] in ("http", "https") and origin[1]
    assert origin[2] is not None and 1 <= origin[2] <= 65535
    assert not request.url.userinfo


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_download_url_is_refused_as_bad_url(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        check_download_url(url)
    assert info.value.code == "bad_url"


# -- the whole download, sync and async: typed outcome, keys only to their own origin ----------------

class Recorder:
    """A transport answering every request: ``first`` gets a redirect to ``location`` (when set)."""

    def __init__(self, location: str | None) -> None:
        self.location = location
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if self.location is not None and len(self.seen) == 1:
            return httpx.Response(302, headers={"Location": self.location})
        return httpx.Response(200, content=b"media bytes")


def _leaks(recorder: Recorder) -> list[str]:
    """Requests that carried a provider's key to an origin other than that provider's."""
    found = []
    for request in recorder.seen:
        where = PROVIDER_ORIGINS.get(url_origin(request.url))
        wire = str(request.url) + " " + " ".join(f"{k}: {v}" for k, v in request.headers.items())
        for provider, key in KEYS.items():
            if key in wire and where != provider:
                found.append(f"{provider}'s key sent to {request.url}")
    return found


def _download(mode: str, url: str, location: str | None) -> tuple[Any, Recorder]:
    recorder = Recorder(location)
    transport: Callable[..., Any] = httpx.MockTransport(recorder)

    async def run() -> Any:
        if mode == "sync":
            with Client(api_keys=KEYS, transport=transport, max_retries=0) as client:
                return client.download(Media(url=url, kind="image"))
        async with AsyncClient(api_keys=KEYS, transport=transport, max_retries=0) as aclient:
            return await aclient.download(Media(url=url, kind="image"))

    try:
        outcome: Any = asyncio.run(run())
    except GenwireError as err:
        outcome = err
    return outcome, recorder


provider_media = st.sampled_from(["https://api.clipia.ai/v1/files/a.png",
                                  "https://business.api.cliprise.app/app/cliprise/files/a.png",
                                  "https://cdn.example.com/a.png"])


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(mode=st.sampled_from(["sync", "async"]), url=urls | provider_media,
       location=st.none() | urls | provider_media)
@example(mode="sync", url="https://xn--api.clipia.ai/x", location=None)
@example(mode="async", url="https://api.clipia.ai/v1/files/a.png", location="https://xn--api.clipia.ai/x")
@example(mode="sync", url="https://business.api.cliprise.app/app/cliprise/f.png",
         location="https://cdn.example.com/f.png")
def test_every_download_ends_in_bytes_or_a_typed_error_and_sends_no_key_elsewhere(
        mode: str, url: str, location: str | None) -> None:
    outcome, recorder = _download(mode, url, location)
    assert isinstance(outcome, (bytes, GenwireError)), f"{type(outcome).__name__}: {outcome!r}"
    assert _leaks(recorder) == []
    if isinstance(outcome, GenwireError):
        assert not any(key in repr(outcome) for key in KEYS.values())


@pytest.mark.slow
@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(mode=st.sampled_from(["sync", "async"]), url=urls | provider_media,
       location=st.none() | urls | provider_media)
def test_every_download_ends_in_bytes_or_a_typed_error_and_sends_no_key_elsewhere_exhaustively(
        mode: str, url: str, location: str | None) -> None:
    outcome, recorder = _download(mode, url, location)
    assert isinstance(outcome, (bytes, GenwireError)), f"{type(outcome).__name__}: {outcome!r}"
    assert _leaks(recorder) == []


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_provider_download_carries_its_key_to_its_own_origin_only(mode: str) -> None:
    outcome, recorder = _download(mode, "https://business.api.cliprise.app/app/cliprise/f.png",
                                  "https://cdn.example.com/f.png")
    assert outcome == b"media bytes"
    first, second = recorder.seen
    assert KEYS["cliprise"] in str(first.url) and first.headers["authorization"] == f"Bearer {KEYS['cliprise']}"
    assert KEYS["cliprise"] not in str(second.url) and "authorization" not in second.headers
