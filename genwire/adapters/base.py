"""What every adapter shares: the wire request/response records, the adapter
interface, and the pure helpers adapters use to read replies.

Adapters are sans-I/O: they turn normalized objects into ``WireRequest`` and
``WireResponse`` back into ``Job`` or a typed error. They never send, sleep or
read the clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, cast

from .._util.construct import trusted
from .._util.json import loads
from .._util.record import record
from .._util.redact import redact_text
from ..catalog import Resolved
from ..errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    GenwireError,
    IdempotencyConflictError,
    InsufficientCreditsError,
    MalformedResponseError,
    ProviderNotFoundError,
    RateLimitError,
    ServerError,
)
from ..models import Cost, Job

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..models._account import Account, Estimate

__all__ = [
    "Adapter",
    "LiveSource",
    "cost_of",
    "ERROR_BY_STATUS",
    "CODE_BY_STATUS",
    "NORMALIZED_CODES",
    "normalized_code",
    "WireRequest",
    "WireResponse",
    "error_for_status",
    "finite_number",
    "as_credits",
    "malformed",
    "parse_datetime",
    "raw_text",
    "read_json",
    "read_object",
]

MAX_RAW_BODY = 2000

_set = object.__setattr__


@record
class WireRequest:
    """One HTTP request an adapter wants sent, relative to the provider's base URL."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    #: query parameter that carries the API key; the client adds it at send time
    #: so the key never sits in a URL that httpx logs or puts in an exception
    key_query_param: str | None = None
    #: whether resending after an unknown outcome cannot start a second job
    replay_safe: bool = True

    def __init__(self, method: str, path: str, query: Mapping[str, str] | None = None,
                 headers: Mapping[str, str] | None = None, json: Any = None, key_query_param: str | None = None,
                 replay_safe: bool = True) -> None:
        _set(self, "method", method)
        _set(self, "path", path)
        _set(self, "query", {} if query is None else query)
        _set(self, "headers", {} if headers is None else headers)
        _set(self, "json", json)
        _set(self, "key_query_param", key_query_param)
        _set(self, "replay_safe", replay_safe)


@record
class WireResponse:
    """One HTTP reply: status, headers (lower-case names) and the raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        _set(self, "status", status)
        _set(self, "headers", headers)
        _set(self, "body", body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


ERROR_BY_STATUS: dict[int, type[GenwireError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: AuthenticationError,
    404: ProviderNotFoundError,
    409: IdempotencyConflictError,
    422: BadRequestError,
    429: RateLimitError,
}

#: the normalized code of an error status whose reply names no code (Clipia's table's words)
CODE_BY_STATUS: dict[int, str] = {
    400: "invalid_request", 401: "invalid_api_key", 402: "insufficient_credits", 403: "insufficient_scope",
    404: "not_found", 409: "idempotency_key_reuse", 422: "model_input_invalid", 429: "rate_limit_exceeded",
}


def error_for_status(status: int) -> type[GenwireError]:
    if status in ERROR_BY_STATUS:
        return ERROR_BY_STATUS[status]
    return ServerError if status >= 500 else APIStatusError


#: the normalized codes: Clipia's error table's words (the most complete), a 5xx's and a failed job's
NORMALIZED_CODES: frozenset[str] = frozenset({*CODE_BY_STATUS.values(), "internal_error", "generation_failed"})


def normalized_code(aliases: Mapping[str, str], provider_code: str | None, status: int) -> str | None:
    """The code every provider shares for this failure: the provider's word through its
    ``aliases`` table, or as is when it is a normalized word, else the word for the HTTP status,
    else the provider's word."""
    if provider_code is not None and provider_code in aliases:
        return aliases[provider_code]
    if provider_code in NORMALIZED_CODES:
        return provider_code
    if status >= 500:
        return "internal_error"
    return CODE_BY_STATUS.get(status, provider_code)


def raw_text(body: bytes) -> str:
    """A reply body for an error message: truncated, URLs stripped of keys."""
    return redact_text(body[:MAX_RAW_BODY].decode("utf-8", errors="replace"), ())


def read_json(resp: WireResponse, provider: str, what: str, job: Job | None = None) -> Any:
    """The reply body as JSON, or ``MalformedResponseError`` with the body attached.

    ``NaN``, ``Infinity``, numbers that overflow to it, and documents nested too
    deeply are refused; lone surrogates become U+FFFD (see ``genwire._util.json``): a
    ``Job`` holding either would not survive its own JSON round trip.
    """
    try:
        return loads(resp.body)
    except (ValueError, UnicodeDecodeError):
        pass
    # raised outside the except block: no parser error (which holds the whole body) is chained
    raise _not_json(provider, what, resp, job)


_NOT_JSON = object()


def read_object(resp: WireResponse, provider: str, what: str, job: Job | None = None) -> dict[str, Any]:
    """``read_json`` for a reply that must be a JSON object (``malformed`` when it is another value)."""
    try:
        body = loads(resp.body)
    except (ValueError, UnicodeDecodeError):
        body = _NOT_JSON
    if type(body) is dict:
        return cast("dict[str, Any]", body)
    if body is _NOT_JSON:
        raise _not_json(provider, what, resp, job)
    raise malformed(provider, what, resp, job)


def _not_json(provider: str, what: str, resp: WireResponse, job: Job | None = None) -> MalformedResponseError:
    return MalformedResponseError(
        f"{what}: the reply is not JSON", provider=provider, status=resp.status,
        code="malformed_response", body=raw_text(resp.body), job=job,
    )


def malformed(provider: str, what: str, resp: WireResponse, job: Job | None = None) -> MalformedResponseError:
    return MalformedResponseError(
        f"{what}: unexpected reply shape", provider=provider, status=resp.status,
        code="malformed_response", body=raw_text(resp.body), job=job,
    )


def parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def finite_number(value: Any) -> float | None:
    """A JSON number as a finite float; anything else (a bool, a string, an integer too
    large for a float) is unknown, not an error."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


# laid out without validation: building Cost's validator would be a first submit's only one
_cost = trusted(Cost, "credits", "source")


def cost_of(credits: float, source: Literal["provider", "catalog"]) -> Cost:
    """``Cost(credits=credits, source=source)`` for a finite number of credits."""
    return _cost(credits=float(credits), source=source)


#: Cost is frozen, so one instance per price serves every reply quoting it
_COSTS: dict[float, Cost] = {}


def as_credits(value: Any) -> Cost | None:
    """A provider-quoted price as a ``Cost``; anything but a finite number is unknown (None)."""
    if type(value) is int or type(value) is float:
        cost = _COSTS.get(value)
        if cost is not None:
            return cost
    credits = finite_number(value)
    if credits is None:
        return None
    cost = cost_of(credits, "provider")
    if credits and len(_COSTS) < 1024:  # not 0.0, which would also answer for -0.0
        _COSTS[credits] = cost
    return cost


class LiveSource(Protocol):
    """How one provider publishes its catalog: requests, replies, and the conversion to model data
    (``genwire.live`` drives it; an adapter's ``live_source``)."""

    provider: str

    def build_list(self) -> WireRequest: ...

    def parse_list(self, resp: WireResponse) -> list[dict[str, Any]]: ...

    def build_get(self, model: str) -> WireRequest: ...

    def parse_get(self, resp: WireResponse) -> dict[str, Any]: ...

    def slug(self, entry: Mapping[str, Any]) -> str | None: ...

    def complete(self, entry: Mapping[str, Any]) -> bool: ...

    def to_model_data(self, entry: Mapping[str, Any],
                      base: Catalog) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]: ...


class Adapter(Protocol):
    """The per-provider translation surface the clients drive."""

    name: ClassVar[str]
    #: a submit can be resent after an unknown outcome without creating a second job
    submit_replay_safe: ClassVar[bool]
    #: deliveries carry a signature; otherwise the client adds a callback token to the URL
    signs_webhooks: ClassVar[bool]
    #: query parameter that authorizes a media download on the provider's own origin
    download_key_param: ClassVar[str | None]
    #: how deliveries are signed: a key of ``genwire.webhooks.VERIFIERS`` (None: unsigned)
    webhook_scheme: ClassVar[str | None]
    #: seconds a create may be held open until the job ends (0: the provider has no sync mode)
    max_sync_wait: ClassVar[int]
    #: how the provider publishes its catalog at run time (None: it does not)
    live_source: ClassVar[LiveSource | None]

    def auth_headers(self, key: str) -> dict[str, str]: ...

    def with_sync_wait(self, request: WireRequest, seconds: int) -> WireRequest:
        """A create ``request`` asking to be held open up to ``seconds`` (1..``max_sync_wait``)."""
        ...

    def build_cancel(self, job: Job) -> WireRequest | None:
        """The request that cancels ``job``; None when the provider cannot cancel."""
        ...

    def parse_cancel(self, job: Job, resp: WireResponse) -> Job: ...

    def build_submit(self, resolved: Resolved, envelope: Mapping[str, Any], webhook_url: str | None,
                     idempotency_key: str) -> WireRequest: ...

    def parse_submit(self, resolved: Resolved, resp: WireResponse) -> Job: ...

    def build_status(self, job: Job) -> WireRequest: ...

    def parse_status(self, job: Job, resp: WireResponse) -> Job: ...

    def build_result(self, job: Job) -> WireRequest | None: ...

    def parse_result(self, job: Job, resp: WireResponse) -> Job: ...

    def parse_webhook(self, payload: dict[str, Any], headers: Mapping[str, str]) -> Job: ...

    def webhook_complete(self, job: Job) -> bool:
        """Whether a verified delivery read into ``job`` says all a poll would (else one poll
        completes it before it is applied)."""
        ...

    def parse_error(self, resp: WireResponse, job: Job | None = None) -> GenwireError: ...

    def build_estimate(self, resolved: Resolved, envelope: Mapping[str, Any]) -> WireRequest | None: ...

    def parse_estimate(self, resp: WireResponse) -> Estimate: ...

    def build_balance(self) -> WireRequest | None: ...

    def parse_balance(self, resp: WireResponse) -> float: ...

    def parse_account(self, resp: WireResponse) -> Account: ...
