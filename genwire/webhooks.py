"""Verify and read webhook deliveries, turning each into a ``Job``.

Clipia signs every delivery: ``X-Clipia-Signature: t=<unix>,v1=<hex>``, an
HMAC-SHA256 over ``"{t}.{raw body}"`` with your webhook signing secret.
Cliprise does not sign its callbacks, so genwire binds each callback URL to its
submit and checks that binding when the callback comes back::

    token = new_callback_token()             # keep it with your other secrets
    client = Client(callback_token=token)    # every Cliprise callback URL is bound to its submit
    job = client.submit(GenerationRequest(..., webhook_url="https://gw.example.com/hooks/cliprise"))
    # store job (its callback_ref is the submit's idempotency key); on delivery:
    job = parse_webhook("cliprise", headers, body, secret=token, url=url, expect=stored_job)

A gateway endpoint then looks like this (any framework; pass the *raw* body)::

    @app.post("/hooks/{provider}")
    async def hook(provider: str, request: Request) -> Response:
        body = await request.body()
        try:
            job = parse_webhook(provider, request.headers, body,
                                secret=SECRETS[provider], url=str(request.url))
        except WebhookVerificationError:
            return Response(status_code=400)
        # Deliveries repeat (the provider retries on timeouts and non-2xx, and
        # may send the same event twice). Record (provider, job.id, job.status)
        # under a unique constraint; a duplicate is acknowledged and ignored.
        if await store.insert_if_absent(job.provider, job.id, job.status.value):
            await queue.put(job.model_dump_json())   # do the slow work elsewhere
        return Response(status_code=204)             # within the provider's 10 s

Answer 2xx quickly and do the work after (downloads, notifications): a slow
handler looks like a failure and earns a redelivery. Reply 2xx to duplicates
too, or the provider keeps retrying them. A ``Job`` is plain JSON, so the
worker that picks it up need not be the process that received it.

Passing ``secret=None`` for Cliprise accepts unverified callbacks: anyone who
learns the callback URL can then forge one.

Binding. A ``Client`` made with ``callback_token=`` binds each Cliprise callback URL
to one submit: the URL carries ``genwire_ref=<the submit's idempotency key>`` and
``genwire_token=<HMAC(token, ref)>``, and the returned ``Job`` records the reference
in ``callback_ref``. A captured URL then authenticates deliveries for that submit
only; pass the job you stored as ``expect=`` and a delivery naming another
``taskId`` is refused, and so is one arriving with an unbound token (the deprecated
``add_callback_token``) for a job that was submitted bound. (Outside a ``Client``,
``bind_callback_url(url, token, ref)`` makes such a URL.)

Confirm (the safe default for unsigned providers). A Cliprise delivery is still
unsigned: its status, outputs and error are a hint, and it can be replayed. Act on
the provider's own word instead, one status poll::

    job = parse_webhook("cliprise", headers, body, secret=TOKEN, url=url, expect=stored)
    job = client.confirm(job)        # or: await async_client.confirm(job)
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, cast

from ._callbacks import (
    CALLBACK_REF_PARAM,
    CALLBACK_TOKEN_PARAM,
    add_callback_token,
    bind_callback_url,
    callback_signature,
    new_callback_token,
    secret_list,
    verify_callback_token,
)
from ._stdwebhooks import sign_standard_webhook, verify_standard_webhook
from ._util.json import loads
from ._util.redact import redact_text
from .errors import (
    ConfigurationError,
    MalformedResponseError,
    WebhookVerificationError,
)
from .models import Job

if TYPE_CHECKING:
    from .catalog import Catalog

__all__ = [
    "VERIFIERS",
    "CALLBACK_REF_PARAM",
    "CALLBACK_TOKEN_PARAM",
    "CLIPIA_SIGNATURE_HEADER",
    "DEFAULT_TOLERANCE",
    "HeadersLike",
    "add_callback_token",
    "bind_callback_url",
    "callback_signature",
    "new_callback_token",
    "parse_webhook",
    "sign_clipia",
    "sign_standard_webhook",
    "verify_callback_token",
    "verify_clipia_signature",
    "verify_standard_webhook",
]

CLIPIA_SIGNATURE_HEADER = "X-Clipia-Signature"
DEFAULT_TOLERANCE = 300
#: Providers whose deliveries ``parse_webhook`` knows how to verify.


class _SupportsItems(Protocol):
    def items(self) -> Iterable[tuple[Any, Any]]: ...


#: A dict (any case), an httpx/Starlette/Werkzeug headers object, or a list of
#: ``(name, value)`` pairs, as ``str`` or raw ``bytes`` (ASGI).
HeadersLike = _SupportsItems | Iterable[tuple[str | bytes, str | bytes]]


class _WebhookAdapter(Protocol):  # the part of adapters.base.Adapter used here
    signs_webhooks: bool
    webhook_scheme: str | None

    def parse_webhook(self, payload: dict[str, Any], headers: Mapping[str, str]) -> Job: ...


_MAX_HEADER_LENGTH = 8192
_MAX_SIGNATURES = 16
_BODY_EXCERPT = 2000
_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def _webhook_adapter(provider: str, catalog: Catalog | None = None) -> _WebhookAdapter:
    """The provider's adapter, imported on first use (adapters import the models).

    Raises ``NotFoundError`` for a provider genwire does not know: a routing
    mistake in the caller, not a bad delivery.
    """
    adapters = importlib.import_module(f"{__package__}.adapters")
    return cast(_WebhookAdapter, adapters.get_adapter(provider, catalog))


def _fail(message: str, code: str, provider: str | None = None) -> NoReturn:
    raise WebhookVerificationError(message, provider=provider, code=code)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")  # raw HTTP header bytes; never fails
    raise TypeError(f"header name or value of type {type(value).__name__}")


def _collect_headers(headers: HeadersLike, provider: str | None) -> dict[str, list[str]]:
    """Header values by lower-cased name, duplicates kept."""
    try:
        pairs = headers.items() if hasattr(headers, "items") else headers
        collected: dict[str, list[str]] = {}
        for name, value in cast(Iterable[tuple[object, object]], pairs):
            collected.setdefault(_text(name).lower(), []).append(_text(value))
    except Exception as exc:  # headers we cannot read make a bad delivery, not a crash
        raise WebhookVerificationError(
            "the request headers could not be read", provider=provider, code="invalid_headers"
        ) from exc
    return collected


def _body_bytes(body: bytes | str, provider: str | None) -> bytes:
    """The raw body as bytes; it must be UTF-8."""
    if isinstance(body, str):
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:
            _fail("the body is not valid UTF-8", "invalid_body_encoding", provider)
    if isinstance(body, (bytes, bytearray, memoryview)):
        raw = bytes(body)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            _fail("the body is not valid UTF-8", "invalid_body_encoding", provider)
        return raw
    _fail(f"the body must be bytes or str, not {type(body).__name__}", "invalid_body", provider)


def _check_clock(tolerance: float, now: float | None) -> float:
    if not (isinstance(tolerance, (int, float)) and math.isfinite(tolerance) and tolerance >= 0):
        raise ConfigurationError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    current = time.time() if now is None else now
    if not math.isfinite(current):
        raise ConfigurationError(f"now must be a finite number, got {now!r}")
    return current


def _malformed(message: str) -> NoReturn:
    _fail(message, "malformed_signature", "clipia")


def _parse_signature_header(value: str) -> tuple[str, list[bytes]]:
    if len(value) > _MAX_HEADER_LENGTH:
        _malformed("the signature header is too long")
    timestamp: str | None = None
    signatures: list[bytes] = []
    for part in value.split(","):
        name, sep, field = part.partition("=")
        name, field = name.strip(" \t"), field.strip(" \t")
        if not sep or not name:
            _malformed("the signature header is not of the form t=<unix>,v1=<hex>")
        if name == "t":
            if timestamp is not None:
                _malformed("the signature header has more than one t")
            if not _TIMESTAMP.fullmatch(field):
                _malformed("the signature timestamp is not a plain unsigned integer")
            timestamp = field
        elif name == "v1":
            if not _HEX_SHA256.fullmatch(field):
                _malformed("a v1 signature is not 64 hex digits")
            signatures.append(bytes.fromhex(field))
        # other fields (future schemes) are ignored
    if timestamp is None or not signatures:
        _malformed("the signature header needs a t and at least one v1")
    if len(signatures) > _MAX_SIGNATURES:
        _malformed("the signature header has too many v1 entries")
    return timestamp, signatures


def verify_clipia_signature(
    headers: HeadersLike,
    body: bytes | str,
    secret: str | Sequence[str],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check a Clipia delivery's ``X-Clipia-Signature`` against the raw ``body``.

    ``secret`` may be several secrets (during rotation); a delivery signed with
    any of them passes, as does a header carrying several ``v1`` entries of which
    one matches. The timestamp must be within ``tolerance`` seconds of ``now``
    in either direction. Every problem with the delivery raises
    ``WebhookVerificationError`` (``code`` says which); a bad ``secret``,
    ``tolerance`` or ``now`` is a setup mistake and raises ``ConfigurationError``.
    """
    keys = [s.encode("utf-8") for s in secret_list(secret, "the Clipia webhook secret")]
    current = _check_clock(tolerance, now)
    values = _collect_headers(headers, "clipia").get(CLIPIA_SIGNATURE_HEADER.lower(), [])
    if not values:
        _fail(f"the {CLIPIA_SIGNATURE_HEADER} header is missing", "missing_signature", "clipia")
    if len(values) > 1:
        _malformed(f"the {CLIPIA_SIGNATURE_HEADER} header is repeated")
    timestamp, signatures = _parse_signature_header(values[0])
    if abs(current - int(timestamp)) > tolerance:
        _fail("the signature timestamp is outside the tolerance window",
              "timestamp_out_of_tolerance", "clipia")
    signed = timestamp.encode("ascii") + b"." + _body_bytes(body, "clipia")
    matched = False
    for key in keys:  # no early exit: the work done does not depend on which secret matched
        expected = hmac.new(key, signed, hashlib.sha256).digest()
        for candidate in signatures:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        _fail("the signature does not match", "signature_mismatch", "clipia")


def sign_clipia(body: bytes | str, secret: str, timestamp: int) -> str:
    """The ``X-Clipia-Signature`` value Clipia would send (for fakes and tests)."""
    if not secret:
        raise ValueError("secret must be non-empty")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError(f"timestamp must be a non-negative int, got {timestamp!r}")
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    digest = hmac.new(secret.encode("utf-8"), b"%d." % timestamp + raw, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _payload_error(
    reason: str, provider: str, text: str, secrets: Sequence[str]
) -> WebhookVerificationError:
    return WebhookVerificationError(
        reason, provider=provider, code="malformed_payload",
        body=redact_text(text[:_BODY_EXCERPT], secrets),
    )


def _decode_payload(raw: bytes, provider: str, secrets: Sequence[str]) -> dict[str, Any]:
    text = raw.decode("utf-8")  # _body_bytes checked it
    reason: str | None = None
    try:
        payload = loads(text)
    except ValueError as exc:
        reason = f"the body is not valid JSON ({exc})"
    # raised outside the except block: the parser's error (holding the whole body) is not chained
    if reason is not None:
        raise _payload_error(reason, provider, text, secrets)
    if not isinstance(payload, dict):
        raise _payload_error("the body is not a JSON object", provider, text, secrets)
    return payload


def parse_webhook(
    provider: str,
    headers: HeadersLike,
    body: bytes | str,
    *,
    secret: str | Sequence[str] | None,
    url: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
    catalog: Catalog | None = None,
    expect: Job | None = None,
) -> Job:
    """Verify a delivery, then read it into a ``Job``.

    ``expect``: the job the caller stored at submit (looked up by the callback URL's
    ``genwire_ref``, which is the submit's idempotency key, or by ``job.id``). The
    delivery must then be about that job id and, for a bound Cliprise callback URL,
    carry that job's ``callback_ref``; otherwise ``WebhookVerificationError``
    (``code="callback_mismatch"``). A bound URL's reference lands on ``Job.callback_ref``.

    ``catalog`` names models the way the client that submitted them did (default: bundled).

    ``secret`` must always be passed, so skipping verification is a visible choice:

    * ``"clipia"``: the webhook signing secret(s); ``None`` is a ``ConfigurationError``.
    * ``"cliprise"``: the callback token(s) from ``new_callback_token``, checked
      against ``url`` (the URL the callback arrived on, query included); or
      ``None`` to accept the unsigned callback as is (see the module docs).

    The adapter receives the decoded payload and the headers as a dict with
    lower-case names (repeated headers joined with ``", "``).

    The body is verified before it is parsed. A delivery that fails
    verification, is not a JSON object, or has a shape the adapter cannot read
    raises ``WebhookVerificationError`` (``body`` holds a redacted excerpt).
    A provider without webhook support here raises ``NotFoundError``: that is
    a mistake in the caller's routing, not a bad delivery.
    """
    adapter = _webhook_adapter(provider, catalog)
    secrets: list[str] = []
    ref: str | None = None
    if adapter.signs_webhooks:
        if secret is None:
            raise ConfigurationError(
                f"{provider} deliveries need the webhook signing secret", provider=provider
            )
        secrets = secret_list(secret, "the webhook signing secret")
        verify = VERIFIERS.get(adapter.webhook_scheme or "")
        if verify is None:
            raise ConfigurationError(f"{provider} signs with {adapter.webhook_scheme!r}, which genwire cannot verify",
                                     provider=provider)
        try:
            verify(headers, body, secrets, tolerance=tolerance, now=now)
        except (WebhookVerificationError, ConfigurationError) as exc:
            exc.provider = provider  # a scheme's verifier may serve several providers
            raise
    elif secret is not None:
        secrets = secret_list(secret, "the callback token")
        if url is None:
            raise ConfigurationError(
                "pass url= (the URL the callback arrived on) to check its token",
                provider=provider,
            )
        try:
            ref = verify_callback_token(url, secrets)
        except WebhookVerificationError as exc:
            exc.provider = provider
            raise
    raw = _body_bytes(body, provider)
    flat = {name: ", ".join(vals) for name, vals in _collect_headers(headers, provider).items()}
    payload = _decode_payload(raw, provider, secrets)
    try:
        job = adapter.parse_webhook(payload, flat)
    except MalformedResponseError as exc:
        reason = f"the payload could not be read: {exc.message}"
        raise _payload_error(reason, provider, raw.decode("utf-8"), secrets) from exc
    if ref is not None:
        job = job.model_copy(update={"callback_ref": ref})
    if expect is not None:
        _check_expected(provider, job, expect)
    return job


def _check_expected(provider: str, job: Job, expect: Job) -> None:
    """A delivery must be about the job the caller stored for that callback URL."""
    if expect.provider != provider or expect.id != job.id:
        _fail(f"the delivery is for job {job.id!r}, not the expected {expect.id!r}", "callback_mismatch", provider)
    if expect.callback_ref is not None and job.callback_ref is None:
        _fail("the job was submitted with a bound callback URL, but the delivery carries an unbound token",
              "callback_mismatch", provider)
    if expect.callback_ref is not None and job.callback_ref != expect.callback_ref:
        _fail("the callback URL was issued for another submit", "callback_mismatch", provider)


class _Verifier(Protocol):
    def __call__(self, headers: HeadersLike, body: bytes | str, secret: Sequence[str], *, tolerance: float,
                 now: float | None) -> object: ...


#: how each signing scheme (an adapter's ``webhook_scheme``) is verified
VERIFIERS: dict[str, _Verifier] = {
    "clipia": verify_clipia_signature,
    "standard-webhooks": verify_standard_webhook,
}
