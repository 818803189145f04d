"""What a client settles before anything is sent: base URLs, keys, webhook URLs, the request's
own fields, proxies, and where each provider lives (its default base URL and key variables,
read from its registration in ``genwire.adapters.PROVIDERS``)."""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from .._transport.urls import (
    DOWNLOAD_EXTENSION,
    KEY_EXTENSION,
    Origin,
    check_download_url,
    download_url_problem,
    origin_of,
    url_origin,
)
from .._util.redact import redact_text
from .._version import __version__
from ..adapters import PROVIDERS
from ..errors import ConfigurationError, InvalidInputError, Violation
from ..models import GenerationRequest

__all__ = ["DEFAULT_BASE_URLS", "DEFAULT_TIMEOUT", "DOWNLOAD_EXTENSION", "KEY_ENV_ALIASES", "KEY_ENV_VARS",
           "KEY_EXTENSION", "MAX_IDEMPOTENCY_KEY_LENGTH", "SANDBOX_KEY_PREFIXES", "USER_AGENT", "Keys", "Origin",
           "check_base_url", "check_download_url", "check_keys", "check_request", "download_url_problem",
           "origin_of", "proxy_secrets", "shown_proxy", "under_path", "url_origin"]

# views of the provider registry (genwire.adapters.PROVIDERS), by provider
DEFAULT_BASE_URLS: dict[str, str] = {p: e.base_url for p, e in PROVIDERS.items()}
KEY_ENV_VARS: dict[str, str] = {p: e.key_env[0] for p, e in PROVIDERS.items()}
#: further variables read when the first is unset (Clipia's quickstart and SDK use CLIPIA_API_KEY)
KEY_ENV_ALIASES: dict[str, tuple[str, ...]] = {p: e.key_env[1:] for p, e in PROVIDERS.items() if e.key_env[1:]}
#: keys with this prefix run in the provider's sandbox: fixed results, cost shown but not charged
SANDBOX_KEY_PREFIXES: dict[str, str] = {p: e.sandbox_key_prefix for p, e in PROVIDERS.items()
                                        if e.sandbox_key_prefix is not None}
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


