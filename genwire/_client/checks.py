"""What a client settles before anything is sent: base URLs, keys, webhook URLs, the request's
own fields, proxies, and where each provider lives (its default base URL and key variables)."""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable, Mapping
from urllib.parse import unquote, urlsplit

import httpx

from .._util.redact import redact_text, strip_query_secrets
from .._version import __version__
from ..errors import ConfigurationError, InvalidInputError, Violation
from ..models import GenerationRequest

__all__ = ["DEFAULT_BASE_URLS", "DEFAULT_TIMEOUT", "DOWNLOAD_EXTENSION", "KEY_ENV_ALIASES", "KEY_ENV_VARS",
           "KEY_EXTENSION", "MAX_IDEMPOTENCY_KEY_LENGTH", "SANDBOX_KEY_PREFIXES", "USER_AGENT", "Keys", "Origin",
           "check_base_url", "check_download_url", "check_keys", "check_request", "download_url_problem",
           "origin_of", "proxy_secrets", "shown_proxy", "under_path", "url_origin"]

#: request extension naming the query parameter that carries the key, added at send time
KEY_EXTENSION = "genwire_query_key"
#: request extension of a download: every hop (redirects too) is checked as the first URL was
DOWNLOAD_EXTENSION = "genwire_download"

DEFAULT_BASE_URLS: dict[str, str] = {
    "clipia": "https://api.clipia.ai",
    "cliprise": "https://business.api.cliprise.app/app/cliprise",
}
KEY_ENV_VARS: dict[str, str] = {"clipia": "CLIPIA_KEY", "cliprise": "CLIPRISE_KEY"}
#: further variables read when the first is unset (Clipia's quickstart and SDK use CLIPIA_API_KEY)
KEY_ENV_ALIASES: dict[str, tuple[str, ...]] = {"clipia": ("CLIPIA_API_KEY",)}
#: keys with this prefix run in the provider's sandbox: fixed results, cost shown but not charged
SANDBOX_KEY_PREFIXES: dict[str, str] = {"clipia": "clipia_test_"}
DEFAULT_TIMEOUT = 60.0
USER_AGENT = f"genwire/{__version__}"


def check_base_url(provider: str, url: str) -> str:
    """https only, except loopback hosts (local fakes and proxies)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return url.rstrip("/")
    if parts.scheme == "http":
        if host == "localhost":
            return url.rstrip("/")
        try:
            if ipaddress.ip_address(host).is_loopback:
                return url.rstrip("/")
        except ValueError:
            pass
    raise ConfigurationError(
        f"base URL for {provider} must be https:// (http only for loopback hosts); got {redact_text(url)!r}",
        provider=provider, code="insecure_base_url",
    )


def check_keys(keys: Mapping[str, object]) -> None:
    """Keys go into headers and URLs: printable ASCII without spaces, or a ConfigurationError
    (never a UnicodeEncodeError whose args hold ``Bearer <key>``). The key is not quoted."""
    for provider, key in keys.items():
        if not isinstance(key, str) or not key.isascii() or not key.isprintable() or " " in key:
            raise ConfigurationError(
                f"the API key for {provider} must be a string of printable ASCII characters without spaces",
                provider=provider, code="invalid_key")


MAX_IDEMPOTENCY_KEY_LENGTH = 255


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _webhook_url_problem(url: object) -> str | None:
    if not isinstance(url, str):
        return "must be a string"
    if any(c.isspace() or not c.isprintable() for c in url):
        return "holds whitespace or control characters"
    try:
        url.encode("utf-8")
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except (UnicodeEncodeError, ValueError):
        return "is not a valid URL"
    if not host:
        return "must be an absolute URL with a host"
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host)):
        return None
    return "must be an https:// URL (http:// only on a loopback host)"


def check_request(request: GenerationRequest) -> None:
    """What the catalog's schemas do not cover: the callback URL and the idempotency key."""
    violations = []
    if request.webhook_url is not None:
        problem = _webhook_url_problem(request.webhook_url)
        if problem:
            violations.append(Violation("$.webhook_url", problem))
    key = request.idempotency_key
    if key is not None and (not isinstance(key, str) or not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH
                            or not key.isascii() or not key.isprintable() or key != key.strip()):
        violations.append(Violation("$.idempotency_key", f"must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable "
                                                         "ASCII characters, without leading or trailing spaces"))
    if violations:
        raise InvalidInputError("invalid request", violations, code="invalid_request")


def under_path(path: str, base_path: str) -> bool:
    return not base_path or path == base_path or path.startswith(base_path + "/")


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


class Keys(dict[str, str]):
    """API keys by provider; prints as provider names only (vars(), pprint, debuggers)."""

    def __repr__(self) -> str:
        return f"<API keys for: {', '.join(sorted(self)) or 'none'}>"

    __str__ = __repr__


def proxy_secrets(proxy: str | None) -> tuple[str, ...]:
    """A proxy URL's password in every spelling a reply or a message could carry it: as written,
    decoded, with the user name, and base64 as in ``Proxy-Authorization``."""
    if proxy is None:
        return ()
    parsed = urlsplit(proxy)
    try:
        raw = parsed.password
    except ValueError:
        return ()
    if not raw:
        return ()
    user, password = unquote(parsed.username or ""), unquote(raw)
    pair = f"{user}:{password}"
    return tuple(dict.fromkeys((password, raw, pair, f"{parsed.username}:{raw}",
                                base64.b64encode(pair.encode()).decode("ascii"))))


def shown_proxy(proxy: str) -> str:
    """A proxy URL as it may be shown: without its credentials."""
    parsed = urlsplit(proxy)
    return parsed._replace(netloc=parsed.netloc.rpartition("@")[2]).geturl() if "@" in parsed.netloc else proxy


