"""Standard Webhooks (standardwebhooks.com) signatures, as Replicate signs its deliveries.

A delivery carries ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and
``webhook-signature``: space-separated ``v1,<base64>`` entries, each an HMAC-SHA256 over
``"{id}.{timestamp}.{raw body}"`` keyed with the base64 part of a ``whsec_...`` secret.
One matching ``v1`` entry is enough (senders list several while rotating keys); entries of
other versions are skipped. Pure functions: no I/O, the clock is read only when ``now`` is None.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import time
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn, cast

from .errors import ConfigurationError, WebhookVerificationError

__all__ = ["DEFAULT_TOLERANCE", "ID_HEADER", "SECRET_PREFIX", "SIGNATURE_HEADER", "TIMESTAMP_HEADER",
           "decode_secret", "sign_standard_webhook", "verify_standard_webhook"]

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"
#: seconds a delivery's timestamp may be off from now, either way (the spec's 5 minutes)
DEFAULT_TOLERANCE = 300

#: a scheme any provider may sign with: ``parse_webhook`` names the provider on its errors
_PROVIDER: str | None = None
_MAX_HEADER_LENGTH = 8192
_MAX_SIGNATURES = 16
_MAX_ID_LENGTH = 256
_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def _fail(message: str, code: str) -> NoReturn:
    raise WebhookVerificationError(message, provider=_PROVIDER, code=code)


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret (the prefix is optional, as in the spec's
    libraries); anything else is a ``ConfigurationError``, never a delivery's fault."""
    if not isinstance(secret, str) or not secret:
        raise ConfigurationError("the webhook signing secret must be a non-empty string", provider=_PROVIDER,
                                 code="invalid_webhook_secret")
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise ConfigurationError("the webhook signing secret is not whsec_ followed by base64", provider=_PROVIDER,
                                 code="invalid_webhook_secret")
    return key


def _keys(secret: str | Sequence[str]) -> list[bytes]:
    candidates = [secret] if isinstance(secret, str) else list(secret) if isinstance(secret, (list, tuple)) else []
    if not candidates:
        raise ConfigurationError("give at least one webhook signing secret", provider=_PROVIDER,
                                 code="invalid_webhook_secret")
    return [decode_secret(s) for s in candidates]


def _header_values(headers: Any) -> dict[str, list[str]]:
    """Values by lower-cased name, duplicates kept; unreadable headers are a bad delivery."""
    try:
        pairs = headers.items() if hasattr(headers, "items") else headers
        out: dict[str, list[str]] = {}
        for name, value in cast(Iterable[tuple[object, object]], pairs):
            key = name.decode("latin-1") if isinstance(name, (bytes, bytearray)) else name
            val = value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else value
            if not isinstance(key, str) or not isinstance(val, str):
                raise TypeError("header names and values are str or bytes")
            out.setdefault(key.lower(), []).append(val)
    except Exception as exc:
        raise WebhookVerificationError("the request headers could not be read", provider=_PROVIDER,
                                       code="invalid_headers") from exc
    return out


def _one(values: dict[str, list[str]], name: str) -> str:
    found = values.get(name, [])
    if not found or not found[0]:
        _fail(f"the {name} header is missing", "missing_signature")
    if len(found) > 1:
        _fail(f"the {name} header is repeated", "malformed_signature")
    if len(found[0]) > _MAX_HEADER_LENGTH:
        _fail(f"the {name} header is too long", "malformed_signature")
    return found[0]


def _body(body: bytes | str) -> bytes:
    if isinstance(body, str):
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:
            _fail("the body is not valid UTF-8", "invalid_body_encoding")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    _fail(f"the body must be bytes or str, not {type(body).__name__}", "invalid_body")


def _signatures(value: str) -> list[bytes]:
    """The ``v1`` signatures of a ``webhook-signature`` value (other versions skipped)."""
    found: list[bytes] = []
    for entry in value.split(" "):
        if not entry:
            continue
        version, comma, encoded = entry.partition(",")
        if not comma or not version:
            _fail("a webhook-signature entry is not <version>,<signature>", "malformed_signature")
        if version != "v1":
            continue
        if not _BASE64.fullmatch(encoded) or len(encoded) % 4:
            _fail("a v1 signature is not base64", "malformed_signature")
        found.append(base64.b64decode(encoded))
    if not found:
        _fail("the webhook-signature header has no v1 signature", "malformed_signature")
    if len(found) > _MAX_SIGNATURES:
        _fail("the webhook-signature header has too many v1 entries", "malformed_signature")
    return found


def verify_standard_webhook(
    headers: Any,
    body: bytes | str,
    secret: str | Sequence[str],
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> str:
    """Check a Standard Webhooks delivery against its raw ``body``; return its ``webhook-id``.

    ``secret``: one ``whsec_...`` secret or several (rotation); a delivery signed with any
    passes. ``tolerance`` seconds bound how far the timestamp may be from ``now`` either way
    (the replay window; ``None`` turns it off, a visible choice). Every problem with the
    delivery raises ``WebhookVerificationError`` (``code`` says which); a bad secret,
    tolerance or ``now`` is a ``ConfigurationError``. Comparisons run in constant time and
    every candidate is compared, whichever matches.
    """
    keys = _keys(secret)
    if tolerance is not None and not (
            isinstance(tolerance, (int, float)) and not isinstance(tolerance, bool)
            and math.isfinite(tolerance) and tolerance >= 0):
        raise ConfigurationError(f"tolerance must be a finite number >= 0 or None, got {tolerance!r}",
                                 provider=_PROVIDER, code="invalid_option")
    current = time.time() if now is None else now
    if not isinstance(current, (int, float)) or not math.isfinite(current):
        raise ConfigurationError(f"now must be a finite number, got {now!r}", provider=_PROVIDER,
                                 code="invalid_option")
    values = _header_values(headers)
    msg_id = _one(values, ID_HEADER)
    stamp = _one(values, TIMESTAMP_HEADER)
    signature = _one(values, SIGNATURE_HEADER)
    if len(msg_id) > _MAX_ID_LENGTH or not msg_id.isprintable():
        _fail("the webhook-id header is not a plain message id", "malformed_signature")
    if not _TIMESTAMP.fullmatch(stamp):
        _fail("the webhook-timestamp header is not a plain unsigned integer", "malformed_signature")
    candidates = _signatures(signature)
    if tolerance is not None and abs(current - int(stamp)) > tolerance:
        _fail("the webhook timestamp is outside the tolerance window", "timestamp_out_of_tolerance")
    signed = f"{msg_id}.{stamp}.".encode() + _body(body)
    matched = False
    for key in keys:  # no early exit: the work done does not depend on which secret matched
        expected = hmac.new(key, signed, hashlib.sha256).digest()
        for candidate in candidates:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        _fail("no webhook signature matches", "signature_mismatch")
    return msg_id


def sign_standard_webhook(msg_id: str, timestamp: int, body: bytes | str, secret: str) -> str:
    """The ``webhook-signature`` value a sender holding ``secret`` would send (fakes and tests)."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError(f"timestamp must be a non-negative int, got {timestamp!r}")
    if not msg_id:
        raise ValueError("msg_id must be non-empty")
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    digest = hmac.new(decode_secret(secret), f"{msg_id}.{timestamp}.".encode() + raw, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")
