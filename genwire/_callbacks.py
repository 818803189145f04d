"""Callback tokens for providers that do not sign their deliveries (Cliprise): the client adds
one to the callback URL it sends, bound to one submit (``bind_callback_url``; the unbound
``add_callback_token`` is deprecated), ``webhooks`` checks it on the way back
(``verify_callback_token``). Both sides read the same parameter names and the same HMAC,
here, so the client's submit path never imports the receiving side. May import ``errors``
only (``genwire.webhooks`` re-exports the public names).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _secrets
import warnings
from collections.abc import Sequence
from typing import NoReturn
from urllib.parse import parse_qsl, quote, unquote_plus

from .errors import ConfigurationError, WebhookVerificationError

__all__ = [
    "CALLBACK_REF_PARAM",
    "CALLBACK_TOKEN_PARAM",
    "add_callback_token",
    "bind_callback_url",
    "callback_signature",
    "new_callback_token",
    "secret_list",
    "verify_callback_token",
]

CALLBACK_TOKEN_PARAM = "genwire_token"
#: the per-submit reference a bound callback URL carries (its token is an HMAC over it)
CALLBACK_REF_PARAM = "genwire_ref"


def _fail(message: str, code: str) -> NoReturn:
    raise WebhookVerificationError(message, code=code)


def secret_list(secret: str | Sequence[str], what: str) -> list[str]:
    """The secrets as a list (a rotation passes several); ``ConfigurationError`` if none."""
    candidates = [secret] if isinstance(secret, str) else list(secret)
    if not candidates or not all(isinstance(s, str) and s for s in candidates):
        raise ConfigurationError(f"{what} must be a non-empty string or a list of them")
    return candidates


def new_callback_token() -> str:
    """A fresh random token (256 bits, URL-safe) for ``Client(callback_token=...)``."""
    return _secrets.token_urlsafe(32)


def add_callback_token(url: str, token: str) -> str:
    """Deprecated: ``url`` with the bare ``genwire_token=<token>`` set (an unbound URL: one that
    authenticates a delivery for any taskId). Use ``Client(callback_token=...)``, which binds each
    callback URL to its submit, or ``bind_callback_url``. A delivery on an unbound URL for a job
    that was submitted bound is refused."""
    warnings.warn("add_callback_token makes an unbound callback URL (it authenticates a delivery for any "
                  "taskId); use Client(callback_token=...) or bind_callback_url(url, token, ref)",
                  DeprecationWarning, stacklevel=2)
    return _with_token(url, token)


def _with_token(url: str, token: str) -> str:
    """``url`` with ``genwire_token=<token>`` set, replacing any earlier value;
    the other parameters and the fragment are kept as they were."""
    if not token:
        raise ValueError("token must be non-empty")
    head, hash_, fragment = url.partition("#")
    base, _, query = head.partition("?")
    piece = f"{CALLBACK_TOKEN_PARAM}={quote(token, safe='')}"
    kept: list[str] = []
    placed = False
    for part in query.split("&") if query else []:
        if unquote_plus(part.partition("=")[0]) == CALLBACK_TOKEN_PARAM:
            if not placed:
                kept.append(piece)
                placed = True
            continue
        kept.append(part)
    if not placed:
        kept.append(piece)
    return f"{base}?{'&'.join(kept)}{hash_}{fragment}"


def callback_signature(token: str, ref: str) -> str:
    """The value of ``genwire_token`` in a callback URL bound to the submit ``ref``:
    HMAC-SHA256 over the reference with the callback token, hex."""
    return hmac.new(token.encode("utf-8"), b"genwire-callback:" + ref.encode("utf-8", "surrogatepass"),
                    hashlib.sha256).hexdigest()


def bind_callback_url(url: str, token: str, ref: str) -> str:
    """``url`` with ``genwire_ref=<ref>`` and ``genwire_token=<HMAC(token, ref)>``: a callback URL
    that authenticates deliveries for that one submit only (``Client`` uses the idempotency key)."""
    if not token or not ref:
        raise ValueError("token and ref must be non-empty")
    head, hash_, fragment = url.partition("#")
    base, _, query = head.partition("?")
    kept = [part for part in (query.split("&") if query else [])
            if unquote_plus(part.partition("=")[0]) not in (CALLBACK_TOKEN_PARAM, CALLBACK_REF_PARAM)]
    kept += [f"{CALLBACK_REF_PARAM}={quote(ref, safe='')}",
             f"{CALLBACK_TOKEN_PARAM}={callback_signature(token, ref)}"]
    return f"{base}?{'&'.join(kept)}{hash_}{fragment}"


def _query_values(url: str, name: str) -> list[str]:
    head = url.partition("#")[0]
    query = head.partition("?")[2] if "?" in head else head
    return [value for key, value in parse_qsl(query, keep_blank_values=True) if key == name]


def verify_callback_token(url: str, token: str | Sequence[str]) -> str | None:
    """Check that the URL a callback arrived on (or its bare query string) carries one of
    the expected tokens; raises ``WebhookVerificationError``.

    A URL bound to a submit (``bind_callback_url``) must carry the HMAC of its
    ``genwire_ref`` under one of the tokens; its reference is returned. An unbound URL
    (the deprecated ``add_callback_token``) returns ``None``.
    """
    tokens = secret_list(token, "the callback token")
    if not isinstance(url, str):
        _fail("the callback URL must be a string", "missing_callback_token")
    received = _query_values(url, CALLBACK_TOKEN_PARAM)
    if not received:
        _fail(f"the callback URL has no {CALLBACK_TOKEN_PARAM}", "missing_callback_token")
    if len(received) > 1:
        _fail(f"the callback URL repeats {CALLBACK_TOKEN_PARAM}", "invalid_callback_token")
    refs = _query_values(url, CALLBACK_REF_PARAM)
    if len(refs) > 1:
        _fail(f"the callback URL repeats {CALLBACK_REF_PARAM}", "invalid_callback_token")
    ref = refs[0] if refs and refs[0] else None
    expected = [(callback_signature(t, ref) if ref is not None else t).encode("utf-8") for t in tokens]
    got = received[0].encode("utf-8", "surrogateescape")
    matched = False
    for candidate in expected:
        matched |= hmac.compare_digest(got, candidate)
    if not matched:
        _fail("the callback token does not match", "invalid_callback_token")
    return ref
