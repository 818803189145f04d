"""Checks of the ``Client``/``AsyncClient`` arguments: every problem at once, as one ``ConfigurationError``.

Type hints say what each argument takes; these checks make a wrong value fail
when the client is made (``timeout="10"``, ``api_keys={"clippia": ...}``), not
on the first request or, worse, never.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..errors import ConfigurationError

__all__ = ["check_options", "check_transport"]


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _providers() -> list[str]:
    from ..adapters import ADAPTERS

    return sorted(ADAPTERS)


def _check_names(problems: list[str], name: str, value: object, known: list[str]) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        problems.append(f"{name} must be a mapping of provider name to string, not {type(value).__name__}")
        return
    for provider, item in value.items():
        if provider not in known:
            problems.append(f"{name}: unknown provider {provider!r}; known: {', '.join(known)}")
        if item is not None and not isinstance(item, str):
            problems.append(f"{name}[{provider!r}] must be a string, not {type(item).__name__}")


def check_options(**options: Any) -> None:
    """Raise ``ConfigurationError`` listing every argument that cannot work."""
    from .._policy.retry import PollPolicy, RetryPolicy
    from ..catalog import Catalog

    problems: list[str] = []
    known = _providers()
    _check_names(problems, "api_keys", options["api_keys"], known)
    _check_names(problems, "base_urls", options["base_urls"], known)
    providers = options["providers"]
    if providers is not None:
        if isinstance(providers, (str, bytes)) or not hasattr(providers, "__iter__"):
            problems.append(f"providers must be a list of provider names, not {type(providers).__name__}")
        else:
            names = list(providers)
            problems += [f"providers: unknown provider {p!r}; known: {', '.join(known)}"
                         for p in names if p not in known]
            if len(set(map(str, names))) != len(names):
                problems.append("providers: a provider is named twice")
    kinds: tuple[tuple[str, type, str], ...] = (
        ("catalog", Catalog, "a genwire.Catalog"), ("retry", RetryPolicy, "a genwire.RetryPolicy"),
        ("poll", PollPolicy, "a genwire.PollPolicy"))
    for name, cls, what in kinds:
        if options[name] is not None and not isinstance(options[name], cls):
            problems.append(f"{name} must be {what}, not {type(options[name]).__name__}")
    max_retries = options["max_retries"]
    if max_retries is not None and (not isinstance(max_retries, int) or isinstance(max_retries, bool)
                                    or max_retries < 0):
        problems.append(f"max_retries must be an integer >= 0, not {max_retries!r}")
    timeout = options["timeout"]
    if not (timeout is None or isinstance(timeout, httpx.Timeout) or (_number(timeout) and timeout > 0)):
        problems.append(f"timeout must be a number of seconds > 0, an httpx.Timeout or None, not {timeout!r}")
    connections = options["max_connections"]
    if not isinstance(connections, int) or isinstance(connections, bool) or connections < 1:
        problems.append(f"max_connections must be an integer >= 1, not {connections!r}")
    if not isinstance(options["trust_env"], bool):
        problems.append(f"trust_env must be True or False, not {options['trust_env']!r}")
    _check_proxy(problems, options["proxy"])
    token = options["callback_token"]
    if token is not None and not isinstance(token, (str, bool)):
        problems.append(f"callback_token must be a string, True or None, not {type(token).__name__}")
    for name in ("clock", "random"):
        if not callable(options[name]):
            problems.append(f"{name} must be callable")
    _raise(problems)


_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def _check_proxy(problems: list[str], proxy: object) -> None:
    if proxy is None:
        return
    if not isinstance(proxy, str):
        problems.append(f"proxy must be a URL string, not {type(proxy).__name__}")
        return
    try:
        parts = urlsplit(proxy)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts, host = urlsplit(""), None
    if parts.scheme.lower() not in _PROXY_SCHEMES or not host or "//" not in proxy \
            or any(c.isspace() for c in proxy):
        shown = f"{parts.scheme}://{host}" if parts.scheme and host else "(not a proxy URL)"  # never credentials
        problems.append(f"proxy must be an {'/'.join(_PROXY_SCHEMES)} URL with a host, like "
                        f"'http://proxy.internal:3128', not {shown!r}")


def check_transport(transport: object, expected: type, client: str, proxy: object = None) -> None:
    if transport is not None and proxy is not None:
        _raise(["proxy= cannot apply to a given transport: configure the proxy on the transport"])
    if transport is not None and not isinstance(transport, expected):
        hint = " (an async transport: use AsyncClient)" if isinstance(transport, httpx.AsyncBaseTransport) else \
            " (a sync transport: use Client)" if isinstance(transport, httpx.BaseTransport) else ""
        _raise([f"transport must be an httpx.{expected.__name__} for {client}, not "
                f"{type(transport).__name__}{hint}"])


def _raise(problems: list[str]) -> None:
    if len(problems) == 1:
        raise ConfigurationError(problems[0], code="invalid_option")
    if problems:
        raise ConfigurationError("invalid client options:\n" + "\n".join(f"  {p}" for p in problems),
                                 code="invalid_option")

