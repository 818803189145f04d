"""The genwire error hierarchy.

Every error carries ``provider``, HTTP ``status`` (0 when there was no reply),
the provider's ``code``, ``message``, ``retryable`` and, when the provider said
so, ``retry_after`` (seconds). Errors raised after a job was accepted carry it in
``job``, so its id is never lost.

    GenwireError
    ├── ConfigurationError          bad client setup: missing key, non-https base URL
    ├── CatalogError                a catalog YAML file breaks the format (file, model, field)
    ├── InvalidInputError           input violates the model's schema (``violations``); provider 400/422;
    │   │                           a malformed ``GenerationRequest`` (code ``invalid_request``)
    │   └── UnsupportedParameterError   a parameter the model does not take
    ├── AuthenticationError         401 invalid key, 403 missing scope
    ├── InsufficientCreditsError    402
    ├── NotFoundError               404 unknown model or job; unknown model in the catalog
    ├── UnsupportedOperationError   the provider does not offer this operation (e.g. Cliprise balance)
    ├── IdempotencyConflictError    409 the Idempotency-Key was reused with another body
    ├── RateLimitError              429
    ├── ProviderError               5xx, network failures, replies we cannot read
    │   ├── NetworkError                no reply: connection refused or reset, DNS, TLS, proxy
    │   │   └── NetworkTimeoutError         the connection or the reply timed out
    │   ├── MalformedResponseError      reply not JSON / wrong shape / missing ids (``body`` attached)
    │   └── SubmissionUncertainError    a submit may have created a job (``idempotency_key``, ``model``)
    ├── JobFailedError              the job ended failed or canceled (``job``)
    ├── WaitTimeoutError            ``wait`` passed its deadline (``job``)
    ├── WebhookVerificationError    a delivery failed verification or could not be read
    └── LedgerError                 the job ledger's database failed (``job`` when one was accepted)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._util.record import record

if TYPE_CHECKING:
    from .models import Job
    from .models._account import RateLimit

__all__ = [
    "AuthenticationError",
    "CatalogError",
    "ConfigurationError",
    "GenwireError",
    "IdempotencyConflictError",
    "InsufficientCreditsError",
    "InvalidInputError",
    "JobFailedError",
    "LedgerError",
    "MalformedResponseError",
    "NetworkError",
    "NetworkTimeoutError",
    "NotFoundError",
    "ProviderError",
    "RateLimitError",
    "SubmissionUncertainError",
    "UnsupportedOperationError",
    "UnsupportedParameterError",
    "Violation",
    "WaitTimeoutError",
    "WebhookVerificationError",
]


class GenwireError(Exception):
    """Base of every error genwire raises."""

    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status: int = 0,
        code: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        job: Job | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.code = code
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after
        self.job = job
        #: the raw reply body (secrets removed), for replies we could not read
        self.body = body
        #: the provider's ``RateLimit-*`` state on the reply that failed (``RateLimit``), when it sent one
        self.rate_limit: RateLimit | None = None

    def __str__(self) -> str:
        head = []
        if self.provider:
            head.append(self.provider)
        if self.status:
            head.append(str(self.status))
        if self.code:
            head.append(self.code)
        prefix = f"[{' '.join(head)}] " if head else ""
        suffix = f" (job {self.job.id})" if self.job is not None and self.job.id else ""
        return f"{prefix}{self.message}{suffix}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, provider={self.provider!r}, "
            f"status={self.status}, code={self.code!r}, retryable={self.retryable})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[GenwireError], message: str, state: dict[str, Any]) -> GenwireError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class ConfigurationError(GenwireError):
    """The client or catalog was set up wrongly (missing key, insecure base URL)."""


class CatalogError(GenwireError):
    """A catalog file breaks the format or a lint rule."""

    def __init__(
        self, message: str, *, file: str | None = None, model: str | None = None,
        field: str | None = None, line: int | None = None,
    ) -> None:
        where = ", ".join(
            f"{k} {v}" for k, v in (("file", file), ("line", line), ("model", model), ("field", field)) if v
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        #: 1-based line in ``file``, when known
        self.line = line
        self.model = model
        self.field = field


@record
class Violation:
    """One schema violation: where (a JSON path such as ``$.image_urls[0]``) and what."""

    path: str
    message: str

    def __init__(self, path: str, message: str) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "message", message)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class InvalidInputError(GenwireError):
    """The input does not fit the model; ``violations`` lists every problem."""

    def __init__(
        self,
        message: str,
        violations: Sequence[Violation] = (),
        **kwargs: Any,
    ) -> None:
        self.violations = list(violations)
        if self.violations:
            message = message + "\n" + "\n".join(f"  {v}" for v in self.violations)
        super().__init__(message, **kwargs)


class UnsupportedParameterError(InvalidInputError):
    """A parameter the model does not take (nothing is silently dropped)."""


class AuthenticationError(GenwireError):
    """The key is missing, invalid, revoked or lacks the scope."""


class InsufficientCreditsError(GenwireError):
    """The account has too few credits."""


class NotFoundError(GenwireError):
    """Unknown model, task or job."""


class UnsupportedOperationError(GenwireError):
    """The provider does not offer this operation (a price estimate, a balance, ...)."""


class IdempotencyConflictError(GenwireError):
    """The same Idempotency-Key was used for a different request."""


class RateLimitError(GenwireError):
    """The provider throttled the request; see ``retry_after``."""

    default_retryable = True


class ProviderError(GenwireError):
    """The provider failed (5xx), the network failed, or the reply was unreadable."""


class NetworkError(ProviderError):
    """The request got no reply: the connection was refused, reset or could not be made.

    Raised once the retries that are safe have run out; ``retryable``. A submit that
    may have reached the provider raises ``SubmissionUncertainError`` instead.
    """

    default_retryable = True


class NetworkTimeoutError(NetworkError):
    """Connecting, sending or reading the reply took longer than the client's ``timeout``."""


class MalformedResponseError(ProviderError):
    """A reply that is not JSON, has the wrong shape, or lacks an id; ``body`` holds it."""


class SubmissionUncertainError(ProviderError):
    """A submit may have been accepted, but no reply said so.

    Without idempotency (Cliprise) genwire does not resend it (that could start
    a second paid job): check the provider's dashboard or your callback endpoint
    before submitting again. With idempotency (Clipia) the retries ran out after
    an attempt that got no reply: submit again with ``idempotency_key`` to get
    that job rather than a second one. Either way a family request does not move
    on to another provider.

    ``idempotency_key`` (also when genwire generated it), ``provider`` and
    ``model`` say which submit this was, so a caller or a ledger can reconcile it.
    """

    def __init__(self, message: str, *, idempotency_key: str | None = None, model: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        #: the key the submit carried (Clipia: resend with it to get the same job)
        self.idempotency_key = idempotency_key
        #: the catalog model id the submit was for
        self.model = model


class JobFailedError(GenwireError):
    """The job reached ``failed`` or ``canceled``; ``job.error`` says why."""


class WaitTimeoutError(GenwireError):
    """``wait`` reached its deadline; the job (``job``) may still finish."""

    default_retryable = True


class WebhookVerificationError(GenwireError):
    """A webhook delivery could not be verified or read."""


class LedgerError(GenwireError):
    """The job ledger could not be read or written. Raised after the provider accepted
    a job, it carries that job (``job``): its id is never lost."""
