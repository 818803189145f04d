"""URLs as the transport sends them: origins ("same origin" is what the key is bound to), the
request extensions the key-carrying transport reads, and download URLs checked on every hop."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from urllib.parse import urlsplit
from urllib.request import getproxies

import httpx

from .._util.redact import redact_text, strip_query_secrets
from ..errors import ConfigurationError

__all__ = ["DOWNLOAD_EXTENSION", "KEY_EXTENSION", "Origin", "check_download_url", "download_url_problem",
           "environment_proxies", "origin_of", "url_origin"]

#: request extension naming the query parameter that carries the key, added at send time
KEY_EXTENSION = "genwire_query_key"
#: request extension of a download: every hop (redirects too) is checked as the first URL was
DOWNLOAD_EXTENSION = "genwire_download"

#: (scheme, host as sent: IDNA A-labels in lower case, port with the default filled in)
Origin = tuple[str, str, int | None]
_DEFAULT_PORTS = {"https": 443, "http": 80}


def url_origin(url: httpx.URL) -> Origin:
    """The origin a parsed URL is sent to: what "same origin" compares (never raises)."""
    return (url.scheme, url.raw_host.decode("ascii", "replace").lower(), url.port or _DEFAULT_PORTS.get(url.scheme))


def origin_of(url: str) -> Origin:
    """``url_origin`` of a URL string, parsed as httpx parses what it sends (``httpx.InvalidURL``
    or ``ValueError`` for a URL it cannot parse)."""
    return url_origin(httpx.URL(url))


def check_download_url(url: object, redact: Callable[[str], str] = redact_text) -> tuple[httpx.URL, Origin]:
    """A download URL parsed once, the way it will be sent, and its origin; or a
    ``ConfigurationError`` (``bad_url``) saying what is wrong (``redact`` masks secrets in it).
    Total: no input raises anything else (IDNA, Unicode and port errors of the parsers included)."""
    if not isinstance(url, str):
        raise ConfigurationError(f"cannot download a {type(url).__name__}: a URL is a string", code="bad_url")
    parsed = _parse_download_url(url)
    if isinstance(parsed, str):
        raise ConfigurationError(f"cannot download {strip_query_secrets(redact(url))!r}: {redact(parsed)}",
                                 code="bad_url")
    return parsed, url_origin(parsed)


def download_url_problem(url: httpx.URL) -> str:
    """What is wrong with a URL a download is about to be sent to (a redirect's), or ''."""
    parsed = _parse_download_url(str(url))
    return parsed if isinstance(parsed, str) else ""


def _parse_download_url(url: str) -> httpx.URL | str:
    """The parsed URL, or what is wrong with it."""
    if any(c.isspace() or not c.isprintable() for c in url):
        return "whitespace or control characters"
    try:
        parsed = httpx.URL(url)
        host = parsed.host  # decodes IDNA: an invalid A-label (xn--...) raises here
        port = parsed.port
        split = urlsplit(url)
        split_host, split_port = split.hostname or "", split.port
    except (httpx.InvalidURL, ValueError) as exc:  # idna.IDNAError and UnicodeError are ValueErrors
        return f"not a valid URL ({type(exc).__name__}: {exc})"
    default = _DEFAULT_PORTS.get(parsed.scheme)
    if default is None or not host:
        return "not an absolute http(s) URL with a host"
    if parsed.userinfo or "@" in split.netloc:
        return "credentials (user info) in the URL"
    if "%" in split.netloc:
        return "a percent-escape in the host"
    if port is not None and not 1 <= port <= 65535:
        return f"port {port} out of range"
    # both parsers must agree on where it goes, or a check made with one is void for the other
    if split_host not in (host.lower(), parsed.raw_host.decode("ascii", "replace").lower()):
        return "the host is ambiguous"
    if (split_port or default) != (port or default):
        return "the port is ambiguous"
    return parsed


def environment_proxies() -> dict[str, str | None]:
    """The proxy mounts ``httpx.Client(trust_env=True)`` reads from HTTP_PROXY, HTTPS_PROXY,
    ALL_PROXY and NO_PROXY (``None``: that pattern goes direct). httpx's own function is private
    (``httpx._utils.get_environment_proxies``), so this is its logic, held equal to it by
    ``tests/test_proxy.py`` (which fails, loudly, when httpx moves or changes it)."""
    found = getproxies()  # also the system settings on Windows and macOS, as httpx reads them
    mounts: dict[str, str | None] = {}
    for scheme in ("http", "https", "all"):
        if found.get(scheme):
            url = found[scheme]
            mounts[f"{scheme}://"] = url if "://" in url else f"http://{url}"
    for host in (h.strip() for h in found.get("no", "").split(",")):
        # NO_PROXY as curl reads it: "*" turns every proxy off; ".example.com" and "example.com"
        # both match subdomains, the latter the domain itself too
        if host == "*":
            return {}
        if not host:
            continue
        if "://" in host:
            mounts[host] = None
        elif _is_ip(host, ipaddress.IPv4Address) or host.lower() == "localhost":
            mounts[f"all://{host}"] = None
        elif _is_ip(host, ipaddress.IPv6Address):
            mounts[f"all://[{host}]"] = None
        else:
            mounts[f"all://*{host}"] = None
    return mounts


def _is_ip(host: str, kind: type[ipaddress.IPv4Address] | type[ipaddress.IPv6Address]) -> bool:
    try:
        kind(host.split("/")[0])
    except ValueError:
        return False
    return True
