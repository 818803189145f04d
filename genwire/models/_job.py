"""The normalized request and job model shared by every provider.

No ``from __future__ import annotations`` here: pydantic reads real annotation objects
at class creation faster than it evaluates strings (a first import pays for it).
``Account``, ``Estimate`` and ``RateLimit`` live in ``_account`` and load on first use
(``genwire.models`` re-exports them lazily), so a process that only submits never builds them.
"""

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import InvalidInputError, Violation

__all__ = [
    "Cost",
    "GenerationRequest",
    "InputWarning",
    "Job",
    "JobError",
    "JobMetrics",
    "JobStatus",
    "Media",
    "MediaKind",
    "TERMINAL_STATUSES",
]

if TYPE_CHECKING:
    from pydantic import JsonValue
else:
    # pydantic's JsonValue (and any Field constraint) imports pydantic.types and annotated_types,
    # a large share of a cold start's pydantic cost (bench/README.md). Every JSON value on a Job comes from genwire's
    # strict reader (genwire/_util/json.py), so validation has nothing to check that it did not.
    JsonValue = Any

MediaKind = Literal["image", "video", "audio", "text"]
#: what to do with input parameters a model does not take
Unsupported = Literal["error", "warn"]


class JobStatus(str, Enum):
    """Where a job is in its life. ``succeeded``, ``failed`` and ``canceled`` are final."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED})

# validators are built on first use: a process pays only for the models it touches
_FROZEN = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Media(BaseModel):
    """One output file. ``url`` never carries a provider key."""

    model_config = _FROZEN

    url: str
    kind: MediaKind
    format: str | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None


class Cost(BaseModel):
    """What a job costs in provider credits, and who said so."""

    model_config = _FROZEN

    credits: float
    source: Literal["provider", "catalog"] = "provider"


class InputWarning(BaseModel):
    """An input parameter that was accepted but not applied.

    ``code`` is the provider's (Clipia: ``unknown_parameter``, ``unsupported_parameter``)
    or genwire's own ``unsupported_parameter`` for ``unsupported="warn"``.
    """

    model_config = _FROZEN

    code: str
    parameter: str | None = None
    message: str

    def __str__(self) -> str:
        return self.message


class JobError(BaseModel):
    """Why a job failed: ``code`` is normalized (``generation_failed`` on every provider),
    ``provider_code`` the provider's own word for it."""

    model_config = _FROZEN

    code: str | None = None
    provider_code: str | None = None
    message: str
    retryable: bool = False


class JobMetrics(BaseModel):
    """What the provider measured of a run, in seconds; ``None`` where it did not say.
    Replicate reports both; Clipia and Cliprise report none (``Job.metrics`` stays ``None``)."""

    model_config = _FROZEN

    #: time the model itself ran (Replicate ``metrics.predict_time``)
    predict_time: float | None = None
    #: time from creation to the end, queueing included (Replicate ``metrics.total_time``)
    total_time: float | None = None


class Job(BaseModel):
    """A generation job at one point in time. Round-trips through JSON unchanged."""

    model_config = _FROZEN

    provider: str
    model: str
    task: str | None = None
    id: str
    status: JobStatus
    progress: float | None = None
    queue_position: int | None = None
    #: where the provider says to poll and read the result (informational; genwire builds
    #: its URLs from the configured base, so a key never follows these)
    status_url: str | None = None
    response_url: str | None = None
    #: the provider's progress log lines, as given
    logs: tuple[JsonValue, ...] = ()
    #: the provider's measurements of the run, where it gives any (``None`` otherwise)
    metrics: JobMetrics | None = None
    #: run with a sandbox key (Clipia ``clipia_test_``): a fixed sample, cost shown but not charged
    sandbox: bool = False
    outputs: tuple[Media, ...] = ()
    error: JobError | None = None
    cost: Cost | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    #: the per-submit reference its callback URL is bound to (providers that do not sign
    #: webhooks); ``parse_webhook(..., expect=job)`` checks a delivery against it and ``id``
    callback_ref: str | None = None
    #: parameters the provider or genwire reported as not applied
    warnings: tuple[InputWarning, ...] = ()
    #: the last wire payload, secrets removed
    raw: JsonValue = None

    @field_validator("progress")
    @classmethod
    def _percent(cls, value: float | None) -> float | None:
        if value is not None and not 0 <= value <= 100:
            raise ValueError("progress is a percentage: between 0 and 100")
        return value

    @field_validator("warnings", mode="before")
    @classmethod
    def _plain_warnings(cls, value: Any) -> Any:
        # jobs serialized before warnings were structured hold plain strings
        if isinstance(value, (list, tuple)):
            return tuple({"code": "warning", "message": w} if isinstance(w, str) else w for w in value)
        return value

    @property
    def done(self) -> bool:
        return self.status.is_terminal

    @property
    def outputs_pending(self) -> bool:
        """Succeeded, but the outputs are not read yet (a webhook that said only "OK"):
        ``client.status(job)`` reads them from the provider's result endpoint."""
        return self.status is JobStatus.SUCCEEDED and not self.outputs

    def __repr_args__(self) -> Any:
        # raw payloads can be large; the repr names the job, not its payload.
        return [(k, v) for k, v in super().__repr_args__() if k != "raw"]


class GenerationRequest(BaseModel):
    """One normalized generation request.

    Name a provider model (``provider`` + ``model``) or a ``family`` that several
    providers offer. ``task`` may be omitted when the input makes it unambiguous.
    ``unsupported="warn"`` drops parameters the model does not take and lists
    them on ``Job.warnings``; the default refuses them. A malformed request (no
    target, a wrong type, an unknown field) raises ``InvalidInputError``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    provider: str | None = None
    model: str | None = None
    family: str | None = None
    task: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    webhook_url: str | None = None
    idempotency_key: str | None = None
    unsupported: Unsupported = "error"

    if not TYPE_CHECKING:  # type checkers keep pydantic's signature, built from the fields
        def __init__(self, /, **data: Any) -> None:
            # A plainly valid request (exact types, nothing to coerce) is laid out as validation
            # would lay it out; anything else is validated. Building pydantic's validator (schema
            # generation, plugin discovery) is most of what a fresh process's first submit costs.
            # tests/test_models.py holds both paths to the same result.
            values = _plain_request(data)
            if values is None:
                super().__init__(**data)
                return
            _set(self, "__dict__", values)
            _set(self, "__pydantic_fields_set__", set(data))
            _set(self, "__pydantic_extra__", None)
            _set(self, "__pydantic_private__", None)

    @field_validator("idempotency_key")
    @classmethod
    def _key_length(cls, value: str | None) -> str | None:
        if value is not None and not 1 <= len(value) <= 255:
            raise ValueError("an idempotency key has 1 to 255 characters")
        return value

    @model_validator(mode="after")
    def _names_a_target(self) -> "GenerationRequest":
        if self.family is None and (self.provider is None or self.model is None):
            raise ValueError("name either provider and model, or a family")
        if self.family is not None and self.model is not None:
            raise ValueError("name a model or a family, not both")
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _as_genwire_error(cls, data: Any,
                          handler: "ModelWrapValidatorHandler[GenerationRequest]") -> "GenerationRequest":
        # a malformed request is bad input like any other: InvalidInputError, every problem with its path
        try:
            return handler(data)
        except ValidationError as exc:
            violations = [Violation(_path(e["loc"]), e["msg"].removeprefix("Value error, "))
                          for e in exc.errors(include_url=False, include_input=False)]
            raise InvalidInputError("malformed GenerationRequest", violations, code="invalid_request") from None


_set = object.__setattr__
_REQUEST_STRINGS = ("provider", "model", "family", "task", "webhook_url", "idempotency_key")
_REQUEST_FIELDS = frozenset((*_REQUEST_STRINGS, "input", "unsupported"))


def _plain_request(data: dict[str, Any]) -> dict[str, Any] | None:
    """The field values of ``GenerationRequest(**data)``, in field order, when validation would
    take them exactly as given (a copy of ``input``); None when anything needs validating."""
    if not _REQUEST_FIELDS_KNOWN or not data.keys() <= _REQUEST_FIELDS:
        return None
    for name in _REQUEST_STRINGS:
        value = data.get(name)
        if value is not None and type(value) is not str:
            return None
    given = data.get("input")
    if given is None:
        if "input" in data:
            return None
        given = {}
    elif type(given) is not dict or not all(type(k) is str for k in given):
        return None
    unsupported = data.get("unsupported", "error")
    key = data.get("idempotency_key")
    family, model = data.get("family"), data.get("model")
    if (type(unsupported) is not str or unsupported not in ("error", "warn")
            or (key is not None and not 1 <= len(key) <= 255)
            or (family is None and (data.get("provider") is None or model is None))
            or (family is not None and model is not None)):
        return None
    return {"provider": data.get("provider"), "model": model, "family": family, "task": data.get("task"),
            "input": dict(given), "webhook_url": data.get("webhook_url"), "idempotency_key": key,
            "unsupported": unsupported}


#: a field added to GenerationRequest but not to _plain_request sends every request through validation
_REQUEST_FIELDS_KNOWN = set(GenerationRequest.__pydantic_fields__) == _REQUEST_FIELDS


def _path(loc: tuple[int | str, ...]) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)

