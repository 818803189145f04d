"""The genwire error hierarchy.

Every error carries ``provider``, HTTP ``status`` (0 when there was no reply),
``code`` (normalized: the same word for the same failure on every provider),
``provider_code`` (the provider's own word, when it gave one), ``message``,
``retryable`` and, when the provider said so, ``retry_after`` (seconds). Errors
raised after a job was accepted carry it in ``job``, so its id is never lost.

    GenwireError
    ├── UsageError                  refused before anything was sent
    │   ├── ConfigurationError          bad client setup: missing key, non-https base URL
    │   ├── CatalogError                a catalog YAML file breaks the format (file, model, field)
    │   ├── InvalidInputError           input violates the model's schema (``violations``);
    │   │   └── UnsupportedParameterError   a parameter the model does not take
    │   ├── UnknownNameError            no such provider, model, family or ledger entry (a NotFoundError)
    │   └── UnsupportedOperationError   the provider does not offer this operation (e.g. Cliprise balance)
    ├── ProviderError               anything that went wrong talking to the provider
    │   ├── APIStatusError              the provider answered with an error status
    │   │   ├── BadRequestError             400/422 (also an InvalidInputError)
    │   │   ├── AuthenticationError         401 invalid key, 403 missing scope
    │   │   ├── InsufficientCreditsError    402
    │   │   ├── ProviderNotFoundError       404 unknown model or job (a NotFoundError)
    │   │   ├── IdempotencyConflictError    409 the Idempotency-Key was reused with another body
    │   │   ├── RateLimitError              429
    │   │   └── ServerError                 5xx
    │   ├── NetworkError                no reply (transport): refused, reset, DNS, TLS, proxy
    │   │   └── NetworkTimeoutError         the connection or the reply timed out
    │   ├── MalformedResponseError      reply not JSON / wrong shape / missing ids (``body`` attached)
    │   └── SubmissionUncertainError    a submit may have created a job (``idempotency_key``, ``model``)
    ├── JobOutcomeError             the job was accepted; its outcome is not what you waited for (``job``)
    │   ├── JobFailedError              the job ended failed or canceled
    │   └── WaitTimeoutError            ``wait`` passed its deadline
    ├── WebhookVerificationError    a delivery failed verification or could not be read
    └── LedgerError                 the job ledger's database failed (``job`` when one was accepted)

``NotFoundError`` is the base of both ``UnknownNameError`` (genwire's own lookup) and
``ProviderNotFoundError`` (the provider's 404), so ``except NotFoundError`` catches either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._util.record import record

if TYPE_CHECKING:
    from .models import Job
    from .models._account import RateLimit

__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "CatalogError",
    "ConfigurationError",
    "GenwireError",
    "IdempotencyConflictError",
    "InsufficientCreditsError",
    "InvalidInputError",
    "JobFailedError",
    "JobOutcomeError",
    "LedgerError",
    "MalformedResponseError",
    "NetworkError",
    "NetworkTimeoutError",
    "NotFoundError",
    "ProviderError",
    "ProviderNotFoundError",
    "RateLimitError",
    "ServerError",
    "SubmissionUncertainError",
    "UnknownNameError",
    "UnsupportedOperationError",
    "UnsupportedParameterError",
    "UsageError",
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
        provider_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        #: normalized: the same word for the same failure on every provider
        self.code = code
        #: the provider's own word for it (``None`` when it gave none)
        self.provider_code = provider_code
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
        if self.provider_code and self.provider_code != self.code:
            head.append(f"({self.provider_code})")
        prefix = f"[{' '.join(head)}] " if head else ""
        suffix = f" (job {self.job.id})" if self.job is not None and self.job.id else ""
        return f"{prefix}{self.message}{suffix}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, provider={self.provider!r}, "
            f"status={self.status}, code={self.code!r}, provider_code={self.provider_code!r}, "
            f"retryable={self.retryable})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[GenwireError], message: str, state: dict[str, Any]) -> GenwireError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class UsageError(GenwireError):
    """genwire refused before anything was sent: setup, catalog, input or a name it does not know."""


class ProviderError(GenwireError):
    """Anything that went wrong talking to the provider: an error status it answered
    (``APIStatusError``), no reply (``NetworkError``), a reply we cannot read, an uncertain submit."""


class APIStatusError(ProviderError):
    """The provider answered with an error status (``status``, ``code``, ``provider_code``)."""


class JobOutcomeError(GenwireError):
    """The provider accepted the job, but it did not end as waited for; ``job`` holds it."""


class NotFoundError(GenwireError):
    """Unknown model, task or job: ``UnknownNameError`` (genwire's own lookup) or
    ``ProviderNotFoundError`` (the provider's 404)."""


class ConfigurationError(UsageError):
    """The client or catalog was set up wrongly (missing key, insecure base URL)."""


class CatalogError(UsageError):
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


class InvalidInputError(UsageError):
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


class BadRequestError(APIStatusError, InvalidInputError):
    """The provider refused the input (400/422); ``except InvalidInputError`` catches it too."""


class AuthenticationError(APIStatusError):
    """The key is missing, invalid, revoked or lacks the scope."""


class InsufficientCreditsError(APIStatusError):
    """The account has too few credits."""


class UnknownNameError(UsageError, NotFoundError):
    """No such provider, model, family or ledger entry: found out before anything was sent."""


class ProviderNotFoundError(APIStatusError, NotFoundError):
    """The provider answered 404: it knows no such model, task or job."""


class UnsupportedOperationError(UsageError):
    """The provider does not offer this operation (a price estimate, a balance, ...)."""


class IdempotencyConflictError(APIStatusError):
    """The same Idempotency-Key was used for a different request."""


class RateLimitError(APIStatusError):
    """The provider throttled the request; see ``retry_after``."""

    default_retryable = True


class ServerError(APIStatusError):
    """The provider failed (5xx)."""


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


class JobFailedError(JobOutcomeError):
    """The job reached ``failed`` or ``canceled``; ``job.error`` says why."""


class WaitTimeoutError(JobOutcomeError):
    """``wait`` reached its deadline; the job (``job``) may still finish."""

    default_retryable = True


class WebhookVerificationError(GenwireError):
    """A webhook delivery could not be verified or read."""


class LedgerError(GenwireError):
    """The job ledger could not be read or written. Raised after the provider accepted
    a job, it carries that job (``job``): its id is never lost."""
