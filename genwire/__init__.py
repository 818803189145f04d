"""genwire: one normalized request and job model for generative-media providers."""

from .catalog import Catalog, Resolved
from .errors import (
    AuthenticationError,
    CatalogError,
    ConfigurationError,
    GenwireError,
    IdempotencyConflictError,
    InsufficientCreditsError,
    InvalidInputError,
    JobFailedError,
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
from .models import Cost, GenerationRequest, Job, JobError, JobStatus, Media
from .specs import ModelChoice, ModelSpec, ParamSpec, Price, TaskSpec

__version__ = "0.1.0"

__all__ = [
    "AuthenticationError",
    "Catalog",
    "CatalogError",
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
    "MalformedResponseError",
    "Media",
    "ModelChoice",
    "ModelSpec",
    "NotFoundError",
    "ParamSpec",
    "Price",
    "ProviderError",
    "RateLimitError",
    "Resolved",
    "SubmissionUncertainError",
    "TaskSpec",
    "UnsupportedParameterError",
    "Violation",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "__version__",
]
