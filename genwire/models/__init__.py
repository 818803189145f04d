"""The normalized request and job model (public): ``GenerationRequest``, ``Job``, ``Media``,
``Cost`` (``_job``), and what a provider says about an account: ``Account``, ``Estimate``,
``RateLimit`` (``_account``, loaded on first use). May import ``_util`` and ``errors``."""

from typing import TYPE_CHECKING, Any

from ._job import (
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
from ._job import (
    Unsupported as Unsupported,  # the type of GenerationRequest.unsupported, for the clients
)

if TYPE_CHECKING:
    from ._account import Account, Estimate, RateLimit

__all__ = [
    "Account",
    "Cost",
    "Estimate",
    "GenerationRequest",
    "InputWarning",
    "Job",
    "JobError",
    "JobMetrics",
    "JobStatus",
    "Media",
    "MediaKind",
    "RateLimit",
    "TERMINAL_STATUSES",
]


def __getattr__(name: str) -> Any:
    if name in ("Account", "Estimate", "RateLimit"):
        from . import _account

        value = globals()[name] = getattr(_account, name)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
