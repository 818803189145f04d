"""genwire: one normalized request and job model for generative-media providers."""

from ._retry import PollPolicy, RetryPolicy
from ._version import __version__
from .adapters import WireRequest, WireResponse, get_adapter
from .catalog import Catalog, Resolved
from .client import AsyncClient, Client
from .errors import (
    AuthenticationError,
    CatalogError,
    ConfigurationError,
    GenwireError,
    IdempotencyConflictError,
    InsufficientCreditsError,
    InvalidInputError,
    JobFailedError,
    LedgerError,
    MalformedResponseError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    SubmissionUncertainError,
    UnsupportedParameterError,
    Violation,
    WaitTimeoutError,
    WebhookVerificationError,
)
from .models import TERMINAL_STATUSES, Cost, GenerationRequest, Job, JobError, JobStatus, Media, MediaKind
from .specs import ModelChoice, ModelSpec, ParamSpec, Price, TaskSpec

__all__ = [
    "AsyncClient",
    "AuthenticationError",
    "Catalog",
    "CatalogError",
    "Client",
    "ConfigurationError",
    "Cost",
    "GenerationRequest",
    "GenwireError",
    "IdempotencyConflictError",
    "InsufficientCreditsError",
    "InvalidInputError",
    "Job",
    "JobError",
    "JobFailedError",
    "JobStatus",
    "LedgerError",
    "MalformedResponseError",
    "Media",
    "MediaKind",
    "ModelChoice",
    "ModelSpec",
    "NotFoundError",
    "ParamSpec",
    "PollPolicy",
    "Price",
    "ProviderError",
    "RateLimitError",
    "Resolved",
    "RetryPolicy",
    "SubmissionUncertainError",
    "TERMINAL_STATUSES",
    "TaskSpec",
    "UnsupportedParameterError",
    "Violation",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "WireRequest",
    "WireResponse",
    "__version__",
    "get_adapter",
]
