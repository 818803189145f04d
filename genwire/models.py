"""The normalized request and job model shared by every provider."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)

from .errors import InvalidInputError, Violation

__all__ = [
    "Cost",
    "GenerationRequest",
    "Job",
    "JobError",
    "JobStatus",
    "Media",
    "MediaKind",
    "TERMINAL_STATUSES",
]

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

_FROZEN = ConfigDict(frozen=True, extra="forbid")


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


class JobError(BaseModel):
    """Why a job failed, as the provider reported it."""

    model_config = _FROZEN

    code: str | None = None
    message: str
    retryable: bool = False


class Job(BaseModel):
    """A generation job at one point in time. Round-trips through JSON unchanged."""

    model_config = _FROZEN

    provider: str
    model: str
    task: str | None = None
    id: str
    status: JobStatus
    progress: float | None = Field(default=None, ge=0, le=100)
    queue_position: int | None = None
    outputs: tuple[Media, ...] = ()
    error: JobError | None = None
    cost: Cost | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    #: parameters the provider or genwire reported as not applied
    warnings: tuple[str, ...] = ()
    #: the last wire payload, secrets removed
    raw: JsonValue = None

    @property
    def done(self) -> bool:
        return self.status.is_terminal

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

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str | None = None
    model: str | None = None
    family: str | None = None
    task: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    webhook_url: str | None = None
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=255)
    unsupported: Unsupported = "error"

    @model_validator(mode="after")
    def _names_a_target(self) -> GenerationRequest:
        if self.family is None and (self.provider is None or self.model is None):
            raise ValueError("name either provider and model, or a family")
        if self.family is not None and self.model is not None:
            raise ValueError("name a model or a family, not both")
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _as_genwire_error(cls, data: Any, handler: ModelWrapValidatorHandler[GenerationRequest]) -> GenerationRequest:
        # a malformed request is bad input like any other: InvalidInputError, every problem with its path
        try:
            return handler(data)
        except ValidationError as exc:
            violations = [Violation(_path(e["loc"]), e["msg"].removeprefix("Value error, "))
                          for e in exc.errors(include_url=False, include_input=False)]
            raise InvalidInputError("malformed GenerationRequest", violations, code="invalid_request") from None


def _path(loc: tuple[int | str, ...]) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
