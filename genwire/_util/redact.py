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

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from typing import TypeVar, cast
from urllib.parse import quote, quote_plus, unquote, unquote_plus, unquote_to_bytes, urlsplit, urlunsplit

from .json import loads

__all__ = [
    "MASK",
    "MIN_SECRET_LENGTH",
    "ReplyScrubber",
    "SECRET_JSON_KEYS",
    "SECRET_QUERY_PARAMS",
    "is_secret_param",
    "redact_json",
    "redact_reply",
    "redact_text",
    "scrub_reply",
    "secret_forms",
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
# name, the value up to the next separator is masked. Compiled on first use
# (it is a large pattern): most processes never see a string with "=" in it.
@cache
def _embedded() -> re.Pattern[str]:
    return re.compile(rf"((?:[?&;]|%3[fF]|%26)(?:{_NAMES})(?:=|%3[dD]))((?:(?!%26)[^&#\s\"'<>\\])*)",
                      re.IGNORECASE)


_NORMALIZE = str.maketrans("", "", "-_")


def _normalize(name: str) -> str:
    return name.lower().translate(_NORMALIZE)


def is_secret_param(name: str) -> bool:
    """Whether a query parameter name (raw or percent-encoded) carries a credential."""
    return _normalize(unquote_plus(name)) in SECRET_QUERY_PARAMS


def _strip_params(query: str, secrets: Iterable[str] = ()) -> str | None:
    """``query`` without credential parameters (by name, or whose value is a known secret),
    separators kept; ``None`` when nothing was removed."""
    pieces = re.split(r"([&;])", query)
    values = {s for s in secrets if s}
    kept: list[str] = []
    removed = False
    for i in range(0, len(pieces), 2):
        name, _, value = pieces[i].partition("=")
        if is_secret_param(name) or (values and unquote_plus(value) in values):
            removed = True
            continue
        if kept:
            kept.append(pieces[i - 1])
        kept.append(pieces[i])
    return "".join(kept) if removed else None


def strip_query_secrets(url: str, secrets: Iterable[str] = ()) -> str:
    """``url`` without credential query parameters (``apiKey=...``, or any whose decoded
    value is one of ``secrets``); the URL is parsed, everything else is kept as it was."""
    if "?" not in url and "#" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # unparsable (an unbalanced "["): fall back to splitting the text
        head, hash_, fragment = url.partition("#")
        base, q, query = head.partition("?")
        stripped = _strip_params(query, secrets) if q else None
        return url if stripped is None else base + ("?" + stripped if stripped else "") + hash_ + fragment
    new_query = _strip_params(parts.query, secrets) if parts.query else None
    # a fragment shaped like a query (#apiKey=...) is not sent, but it is shown and stored
    new_fragment = _strip_params(parts.fragment, secrets) if "=" in parts.fragment else None
    if new_query is None and new_fragment is None:
        return url
    return urlunsplit(parts._replace(query=parts.query if new_query is None else new_query,
                                     fragment=parts.fragment if new_fragment is None else new_fragment))


def secret_forms(secret: str) -> set[str]:
    """The spellings of a secret a reply, URL or log line may carry: literal, percent-encoded
    (either case of hex, ``+`` for space), JSON-escaped (``\\/``) and as Python's bytes repr."""
    forms = {secret, quote(secret, safe=""), quote(secret, safe="/"), quote_plus(secret, safe="")}
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), f) for f in forms}
    escaped = secret.replace("\\", "\\\\").replace('"', '\\"')
    forms |= {escaped, escaped.replace("/", "\\/")}
    # httpcore logs headers as bytes
    forms.add(repr(secret.encode("utf-8", "surrogatepass"))[2:-1])
    return forms


def _literal_forms(secrets: Iterable[str]) -> list[str]:
    return list(_forms_of(tuple(s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH)))


@lru_cache(maxsize=64)  # a client's keys are few and fixed; every reply asks again
def _forms_of(secrets: tuple[str, ...]) -> tuple[str, ...]:
    forms: set[str] = set()
    for secret in secrets:
        forms |= secret_forms(secret)
    # Longest first, so a secret that contains another is masked whole.
    return tuple(sorted(forms, key=len, reverse=True))


@lru_cache(maxsize=64)
def _patterns(forms: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[bytes]]:
    """One search for any form, in text and in bytes."""
    return (re.compile("|".join(map(re.escape, forms))),
            re.compile(b"|".join(re.escape(f.encode("utf-8", "surrogatepass")) for f in forms)))


_ESCAPE = r"\\u([0-9a-fA-F]{4})|\\(/)"


def _unescape(text: str) -> str:
    """``text`` with JSON escapes (``\\uXXXX``, ``\\/``) and percent-encoding decoded."""
    text = re.sub(_ESCAPE, lambda m: chr(int(m.group(1), 16)) if m.group(1) else "/", text)
    return unquote(text, errors="replace")


def _redact(text: str, forms: list[str]) -> str:
    for form in forms:
        if form in text:
            text = text.replace(form, MASK)
    if forms and ("\\" in text or "%" in text):
        # a secret spelled with escapes a form list cannot enumerate (\u0041BC, %41BC)
        decoded = _unescape(text)
        if any(form in decoded for form in forms):
            text = decoded
            for form in forms:
                text = text.replace(form, MASK)
    if "=" in text or "%3" in text:
        text = _embedded().sub(lambda m: m.group(1) + MASK, text)
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
    forms = _literal_forms(secrets)
    if not forms and type(value) is dict:
        # no secret to look for: only a credential-named key or an ``=`` / ``%3`` in a string
        # (a credential query parameter) can change anything; the value's JSON text (written in
        # C) shows both, and an escape, a non-JSON type or a non-string key means the walk
        try:
            text = json.dumps(value, ensure_ascii=False, check_circular=False)
        except (TypeError, ValueError, RecursionError):
            text = "\\"
        if "=" not in text and "\\" not in text and "%3" not in text and _plain_keys(value):
            return value
    return cast(_J, _walk(value, forms))


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


#: dict keys already found not credential-named (replies reuse a small vocabulary)
_PLAIN_KEYS: set[str] = set()
_PLAIN_KEYS_MAX = 4096
_SCALARS = frozenset({str, int, float, bool, type(None)})
# byte values to look for: ``61 in data`` is a memchr, where ``b"=" in data`` first tries to read
# b"=" as an integer and pays for the failure
_EQ, _BACKSLASH, _NUL, _PERCENT = b"=\\\x00%"


def _plain_keys(value: object) -> bool:
    """Whether a parsed JSON value holds no credential-named dict key (``_walk``'s test) at any
    depth; anything but JSON's own types answers False. A loop, not recursion: a reply may nest
    as deep as the parser allows."""
    if type(value) is dict and _PLAIN_KEYS.issuperset(value):
        if _SCALARS.issuperset(map(type, value.values())):
            return True  # the common flat reply, checked in C
        stack = [v for v in value.values() if type(v) not in _SCALARS]  # its keys are checked
    else:
        stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            if not _PLAIN_KEYS.issuperset(item):
                for key in item:
                    if key not in _PLAIN_KEYS:
                        if type(key) is not str or _normalize(key) in SECRET_JSON_KEYS:
                            return False
                        if len(_PLAIN_KEYS) < _PLAIN_KEYS_MAX and len(key) <= 64:
                            _PLAIN_KEYS.add(key)
            stack.extend(v for v in item.values() if type(v) not in _SCALARS)
        elif type(item) is list:
            if item:
                stack.extend(v for v in item if type(v) not in _SCALARS)
        elif type(item) not in _SCALARS:
            return False
    return True


def redact_reply(value: _J, raw: bytes) -> _J:
    """``redact_json(value)`` for a value just parsed from ``raw`` (or a part of it).

    The walk is skipped when it has nothing to change: no string can hold ``=`` or ``%3``
    (a credential query parameter) because the bytes hold neither, no escape that could
    spell one and no NUL (UTF-16 and UTF-32 spell them apart), and no key anywhere is
    credential-named. Must follow ``_walk``'s rules.
    """
    if (_EQ not in raw and _BACKSLASH not in raw and _NUL not in raw and (_PERCENT not in raw or b"%3" not in raw)
            and _plain_keys(value)):
        return value
    return redact_json(value)


def _decode(body: bytes) -> str:
    try:
        return body.decode(json.detect_encoding(body))
    except (UnicodeDecodeError, LookupError):
        return body.decode("utf-8", errors="replace")


def scrub_reply(body: bytes, headers: Mapping[str, str], secrets: Iterable[str]) -> tuple[bytes, dict[str, str]]:
    """A reply with ``secrets`` removed in every spelling it can carry them: literal bytes,
    JSON escapes (checked on the parsed values), percent-encoding, UTF-16/32 bodies, headers.

    A body that needed changing is re-encoded as UTF-8 JSON (or text, when it is not JSON).
    """
    return ReplyScrubber(secrets)(body, dict(headers))


class ReplyScrubber:
    """``scrub_reply`` for one fixed set of secrets (a client's keys), their spellings worked out once."""

    __slots__ = ("_forms", "_patterns")

    def __repr__(self) -> str:
        return "<ReplyScrubber>"  # the forms are the secrets

    def __init__(self, secrets: Iterable[str]) -> None:
        cached = _forms_of(tuple(s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH))
        self._forms = list(cached)
        self._patterns = _patterns(cached) if cached else None

    def __call__(self, body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        """``scrub_reply(body, headers, secrets)``; ``headers`` is the caller's to give: changed in place."""
        if self._patterns is None:
            return body, headers
        forms = self._forms
        text_pattern, bytes_pattern = self._patterns
        joined = "\n".join(headers.values())
        if "%" in joined or "\\" in joined or text_pattern.search(joined):
            for name, value in headers.items():
                headers[name] = _redact(value, forms)
        # no escapes and no UTF-16: a secret can only be spelled literally or percent-encoded
        if _BACKSLASH not in body and _NUL not in body and not bytes_pattern.search(body) and (
                _PERCENT not in body or not bytes_pattern.search(unquote_to_bytes(body))):
            return body, headers
        text = _decode(body)
        try:
            value = loads(text)  # the strict reader: nothing nested too deep to walk
        except ValueError:
            new = _redact(text, forms)
            return (body if new == text else new.encode("utf-8", "replace")), headers
        clean = _walk(value, forms)
        if clean is value and text.encode("utf-8", "surrogatepass") == body:
            return body, headers
        return json.dumps(clean).encode("ascii"), headers
