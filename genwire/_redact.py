"""Secret removal for every string or JSON value genwire emits.

Two kinds of secret are removed:

* literal secrets the caller knows (API keys, webhook secrets, callback
  tokens), wherever they appear, also in their percent-encoded form;
* values of credential-named query parameters (``apiKey=...``, ``token=...``),
  whose value genwire may not know — Cliprise echoes its key inside ``fileURL``.

Only exactly named parameters are touched (``SECRET_QUERY_PARAMS``, compared
case-insensitively with ``-`` and ``_`` ignored), so signed storage URLs keep
``X-Amz-Signature`` and ``X-Amz-Security-Token`` and still download.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar, cast
from urllib.parse import quote, unquote_plus

__all__ = [
    "MASK",
    "MIN_SECRET_LENGTH",
    "SECRET_JSON_KEYS",
    "SECRET_QUERY_PARAMS",
    "is_secret_param",
    "redact_json",
    "redact_reply",
    "redact_text",
    "strip_query_secrets",
]

MASK = "***"
#: Query parameter names (normalized: lower case, no ``-``/``_``) that carry credentials.
SECRET_QUERY_PARAMS = frozenset(
    {
        "apikey", "xapikey", "key", "token", "accesstoken", "authtoken", "auth",
        "secret", "clientsecret", "password", "genwiretoken",
    }
)
#: JSON object keys (normalized likewise) whose values are masked whatever they hold.
#: Narrower than the query list: ``key`` and ``token`` are ordinary JSON field names.
SECRET_JSON_KEYS = frozenset(
    {
        "apikey", "xapikey", "accesstoken", "authtoken", "authorization", "secret",
        "clientsecret", "password", "genwiretoken", "webhooksecret",
    }
)
#: Literal secrets shorter than this are not replaced: masking "ab" everywhere
#: would mangle text and reveal the secret's length and position anyway.
MIN_SECRET_LENGTH = 4

_J = TypeVar("_J")

_NAMES = "|".join(
    sorted(
        {
            "api[-_]?key", "x[-_]api[-_]key", "key", "token", "access[-_]?token",
            "auth[-_]?token", "auth", "secret", "client[-_]?secret", "password",
            "genwire[-_]?token",
        },
        key=len,
        reverse=True,
    )
)
# A credential parameter inside free text: plain (?apiKey=v, &token=v) or
# percent-encoded inside another URL (%3FapiKey%3Dv%26...). Group 1 keeps the
# name, the value up to the next separator is masked.
_EMBEDDED = re.compile(
    rf"((?:[?&;]|%3[fF]|%26)(?:{_NAMES})(?:=|%3[dD]))((?:(?!%26)[^&#\s\"'<>\\])*)",
    re.IGNORECASE,
)
_NORMALIZE = str.maketrans("", "", "-_")


def _normalize(name: str) -> str:
    return name.lower().translate(_NORMALIZE)


def is_secret_param(name: str) -> bool:
    """Whether a query parameter name (raw or percent-encoded) carries a credential."""
    return _normalize(unquote_plus(name)) in SECRET_QUERY_PARAMS


def strip_query_secrets(url: str) -> str:
    """``url`` without credential query parameters; everything else is kept
    byte for byte and in order (``?`` is dropped if no parameter remains)."""
    start = url.find("?")
    if start < 0:
        return url
    end = url.find("#", start)
    if end < 0:
        end = len(url)
    pieces = url[start + 1 : end].split("&")
    kept = [p for p in pieces if not is_secret_param(p.partition("=")[0])]
    if len(kept) == len(pieces):
        return url
    query = "&".join(kept)
    return url[:start] + ("?" + query if query else "") + url[end:]


def _literal_forms(secrets: Iterable[str]) -> list[str]:
    forms: set[str] = set()
    for secret in secrets:
        if isinstance(secret, str) and len(secret) >= MIN_SECRET_LENGTH:
            forms.add(secret)
            forms.add(quote(secret, safe=""))
    # Longest first, so a secret that contains another is masked whole.
    return sorted(forms, key=len, reverse=True)


def _redact(text: str, forms: list[str]) -> str:
    for form in forms:
        if form in text:
            text = text.replace(form, MASK)
    if "=" in text or "%3" in text:
        text = _EMBEDDED.sub(lambda m: m.group(1) + MASK, text)
    return text


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret (length >= 4) replaced by ``***`` and
    the values of credential query parameters in embedded URLs masked."""
    return _redact(text, _literal_forms(secrets))


def redact_json(value: _J, secrets: Iterable[str] = ()) -> _J:
    """A copy of a JSON value (dict / list / tuple / str / scalar) with
    ``redact_text`` applied to every string, keys included, and the values of
    credential-named keys (``SECRET_JSON_KEYS``) replaced by ``***``.

    Returns the same object when nothing needed changing.
    """
    return cast(_J, _walk(value, _literal_forms(secrets)))


def _walk(value: object, forms: list[str]) -> object:
    if isinstance(value, str):
        new = _redact(value, forms)
        return value if new == value else new
    if isinstance(value, dict):
        changed = False
        out: dict[object, object] = {}
        for key, item in value.items():
            new_key = _walk(key, forms) if isinstance(key, str) else key
            if isinstance(key, str) and _normalize(key) in SECRET_JSON_KEYS and item:
                new_item: object = MASK
            else:
                new_item = _walk(item, forms)
            changed = changed or new_key is not key or new_item is not item
            out[new_key] = new_item
        return out if changed else value
    if isinstance(value, (list, tuple)):
        items = [_walk(item, forms) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return items if isinstance(value, list) else tuple(items)
    return value


#: every name in SECRET_JSON_KEYS contains one of these (tests/test_redact_reply.py checks)
_KEY_ANCHORS = (b"key", b"token", b"secret", b"password", b"auth")


def _plainly_clean(raw: bytes) -> bool:
    """Whether a JSON document, judged from its bytes, holds nothing ``redact_json`` (no
    literal secrets) would change: nothing like a credential-named key and no ``=`` or
    ``%3`` for a query parameter. Conservative: escapes (``\\``) or non-ASCII bytes,
    which could spell either in disguise, answer False. Must follow ``_walk``'s rules."""
    if not raw.isascii() or b"\\" in raw or b"=" in raw or b"%3" in raw:
        return False
    squashed = raw.lower().translate(None, b"-_")
    return not any(anchor in squashed for anchor in _KEY_ANCHORS)


def redact_reply(value: _J, raw: bytes) -> _J:
    """``redact_json(value)`` for a value just parsed from ``raw``; the walk is skipped
    when the bytes show there is nothing to mask (the common reply)."""
    if _plainly_clean(raw):
        return value
    return redact_json(value)

