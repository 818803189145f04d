"""genwire: one normalized request and job model for generative-media providers.

Public names load on first use (PEP 562), so ``import genwire`` stays cheap and a
catalog lookup never pays for the HTTP client, pydantic or the catalog compiler.
New public names go in ``_WHERE`` (and the ``TYPE_CHECKING`` block, for type checkers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._policy.retry import (
        PollPolicy,
        RetryPolicy,
    )
    from .adapters import (
        WireRequest,
        WireResponse,
        get_adapter,
    )
    from .catalog import (
        Catalog,
        Resolved,
    )
    from .client import (
        AsyncClient,
        Client,
    )
    from .errors import (
        APIStatusError,
        AuthenticationError,
        BadRequestError,
        CatalogError,
        ConfigurationError,
        GenwireError,
        IdempotencyConflictError,
        InsufficientCreditsError,
        InvalidInputError,
        JobFailedError,
        JobOutcomeError,
        LedgerError,
        MalformedResponseError,
        NetworkError,
        NetworkTimeoutError,
        NotFoundError,
        ProviderError,
        ProviderNotFoundError,
        RateLimitError,
        ServerError,
        SubmissionUncertainError,
        UnknownNameError,
        UnsupportedOperationError,
        UnsupportedParameterError,
        UsageError,
        Violation,
        WaitTimeoutError,
        WebhookVerificationError,
    )
    from .models import (
        TERMINAL_STATUSES,
        Cost,
        GenerationRequest,
        InputWarning,
        Job,
        JobError,
        JobMetrics,
        JobStatus,
        Media,
        MediaKind,
    )
    from .models._account import (
        Account,
        Estimate,
        RateLimit,
    )
    from .specs import (
        ModelChoice,
        ModelSpec,
        ParamSpec,
        Price,
        TaskSpec,
    )

#: public name -> the module that defines it
_WHERE: dict[str, str] = {
    "Account": ".models._account",
    "AsyncClient": "._client.async_client",
    "AuthenticationError": ".errors",
    "Catalog": ".catalog",
    "CatalogError": ".errors",
    "Client": ".client",
    "ConfigurationError": ".errors",
    "Cost": ".models",
    "Estimate": ".models._account",
    "GenerationRequest": ".models",
    "GenwireError": ".errors",
    "IdempotencyConflictError": ".errors",
    "InputWarning": ".models",
    "InsufficientCreditsError": ".errors",
    "InvalidInputError": ".errors",
    "Job": ".models",
    "JobError": ".models",
    "JobMetrics": ".models",
    "JobFailedError": ".errors",
    "JobStatus": ".models",
    "LedgerError": ".errors",
    "APIStatusError": ".errors",
    "BadRequestError": ".errors",
    "JobOutcomeError": ".errors",
    "ProviderNotFoundError": ".errors",
    "ServerError": ".errors",
    "UnknownNameError": ".errors",
    "UsageError": ".errors",
    "MalformedResponseError": ".errors",
    "Media": ".models",
    "MediaKind": ".models",
    "ModelChoice": ".specs",
    "ModelSpec": ".specs",
    "NetworkError": ".errors",
    "NetworkTimeoutError": ".errors",
    "NotFoundError": ".errors",
    "ParamSpec": ".specs",
    "PollPolicy": "._policy.retry",
    "Price": ".specs",
    "ProviderError": ".errors",
    "RateLimit": ".models._account",
    "RateLimitError": ".errors",
    "Resolved": ".catalog",
    "RetryPolicy": "._policy.retry",
    "SubmissionUncertainError": ".errors",
    "TERMINAL_STATUSES": ".models",
    "TaskSpec": ".specs",
    "UnsupportedOperationError": ".errors",
    "UnsupportedParameterError": ".errors",
    "Violation": ".errors",
    "WaitTimeoutError": ".errors",
    "WebhookVerificationError": ".errors",
    "WireRequest": ".adapters",
    "WireResponse": ".adapters",
    "get_adapter": ".adapters",
}

__all__ = [
    "Account",
    "AsyncClient",
    "AuthenticationError",
    "Catalog",
    "CatalogError",
    "Client",
    "ConfigurationError",
    "Cost",
    "Estimate",
    "GenerationRequest",
    "GenwireError",
    "IdempotencyConflictError",
    "InputWarning",
    "InsufficientCreditsError",
    "InvalidInputError",
    "Job",
    "JobError",
    "JobFailedError",
    "JobMetrics",
    "JobStatus",
    "LedgerError",
    "MalformedResponseError",
    "Media",
    "MediaKind",
    "ModelChoice",
    "ModelSpec",
    "NetworkError",
    "NetworkTimeoutError",
    "NotFoundError",
    "ParamSpec",
    "PollPolicy",
    "Price",
    "ProviderError",
    "RateLimit",
    "RateLimitError",
    "Resolved",
    "RetryPolicy",
    "SubmissionUncertainError",
    "TERMINAL_STATUSES",
    "TaskSpec",
    "UnsupportedOperationError",
    "UnsupportedParameterError",
    "Violation",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "WireRequest",
    "WireResponse",
    "__version__",
    "get_adapter",
    "APIStatusError",
    "BadRequestError",
    "JobOutcomeError",
    "ProviderNotFoundError",
    "ServerError",
    "UnknownNameError",
    "UsageError",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'genwire' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
