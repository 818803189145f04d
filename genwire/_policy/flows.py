"""The policy's flows: sending with retries, submitting, polling and waiting, written once as
generators (the settings and backoff arithmetic they apply are in ``retry``).

A flow yields effects (``Send``, ``Sleep``, ``Notify``, and ``Record`` for the ledger's
writes) and receives their results; the sync and async clients are thin drivers that execute them, the way
httpx drives ``Auth.auth_flow``. Nothing here does I/O, sleeps or reads a
global clock: the clock and the random source are passed in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._util.record import record
from ..adapters.base import Adapter, WireRequest, WireResponse, cost_of
from ..catalog import Resolved
from ..errors import (
    ConfigurationError,
    GenwireError,
    IdempotencyConflictError,
    InvalidInputError,
    JobFailedError,
    MalformedResponseError,
    NetworkError,
    NetworkTimeoutError,
    NotFoundError,
    ProviderError,
    SubmissionUncertainError,
    UnsupportedOperationError,
    WaitTimeoutError,
)
from ..models import Job, JobStatus
from .retry import PollPolicy, RetryPolicy, is_retryable_status

if TYPE_CHECKING:
    from .ratelimit import RateLimits

__all__ = [
    "Attempts",
    "Notify",
    "Pace",
    "Record",
    "Send",
    "Sleep",
    "SubmitPlan",
    "SYNC_WAIT_MARGIN",
    "TransportFailure",
    "cancel_flow",
    "confirm_flow",
    "may_fall_back",
    "refresh_flow",
    "send_flow",
    "submit_any_flow",
    "submit_flow",
    "wait_flow",
]

T = TypeVar("T")


_set = object.__setattr__


@record
class Send:
    """Effect: send ``request`` to ``provider``; the flow receives the ``WireResponse``."""

    provider: str
    request: WireRequest
    #: seconds this request may take at most (the time left in a wait); ``None``: the client's timeout
    timeout: float | None = None

    def __init__(self, provider: str, request: WireRequest, timeout: float | None = None) -> None:
        _set(self, "provider", provider)
        _set(self, "request", request)
        _set(self, "timeout", timeout)


@record
class Sleep:
    """Effect: wait ``seconds`` (on the driver's clock)."""

    seconds: float

    def __init__(self, seconds: float) -> None:
        _set(self, "seconds", seconds)


@record
class Notify:
    """Effect: hand the caller's ``on_update`` a new state of the job."""

    job: Job

    def __init__(self, job: Job) -> None:
        _set(self, "job", job)


@record
class Pace:
    """Asks the driver for its ``RateLimits`` (the provider's last ``RateLimit-*`` state), or None."""

    provider: str

    def __init__(self, provider: str) -> None:
        _set(self, "provider", provider)


@record
class Record:
    """Effect: run ``call`` (a write to, or read of, the client's ledger) and answer its value;
    its error is thrown back into the flow. It blocks on the database (a commit it may share
    with other writers, see ``genwire.ledger``): the async driver runs it in a worker thread."""

    call: Callable[[], Any]

    def __init__(self, call: Callable[[], Any]) -> None:
        _set(self, "call", call)


Effect = Send | Sleep | Notify | Pace | Record
Flow = Generator[Effect, Any, T]


class TransportFailure(Exception):
    """Thrown into a flow when a request got no reply; ``reached`` says whether it may have arrived."""

    def __init__(self, message: str, *, reached: bool, timeout: bool = False) -> None:
        super().__init__(message)
        self.reached = reached
        self.timeout = timeout


_NOT_RESENT = ("; not resent automatically: {provider} has no idempotency keys, so a second "
               "request could start a second paid job")


class Attempts:
    """What the attempts of one logical submit have shown so far, shared by every send of it
    (retries, replays of an unreadable accept, every provider of a family)."""

    __slots__ = ("may_have_created",)

    def __init__(self, *, may_have_created: bool = False) -> None:
        #: an attempt may have created a job (no reply after sending, a 5xx, an unreadable 2xx):
        #: from then on no outcome but the job itself may read as "nothing was created"
        self.may_have_created = may_have_created


def send_flow(adapter: Adapter, request: WireRequest, retry: RetryPolicy, random: Callable[[], float],
              job: Job | None = None, *, creates_job: bool = False, deadline: float | None = None,
              clock: Callable[[], float] | None = None, attempts: Attempts | None = None,
              timeout: float | None = None) -> Flow[WireResponse]:
    """Send one request, retrying what is safe; return a reply below 400 or raise a typed error.

    ``creates_job``: the request is a submit, so a failure after an attempt that may
    have been accepted (no reply, or a 5xx: a gateway timeout can follow a created
    job) is ``SubmissionUncertainError`` (never a reason to try elsewhere).
    ``attempts``: the state of the logical submit this send is part of (earlier sends of
    it count: a 429 after an accept that could not be read is uncertain, not a refusal).
    ``deadline`` (on ``clock``): no request may take, and no retry sleep run, past it.
    ``timeout``: without a deadline, the seconds each attempt may take (a held sync wait).
    """
    attempt = 0
    fixed_timeout = timeout
    seen = attempts if attempts is not None else Attempts()
    limits: RateLimits | None = yield Pace(adapter.name)
    while True:
        if limits is not None:
            # the window is used up: wait for its reset rather than provoke a 429
            wait = limits.pause(adapter.name)
            if 0 < wait <= retry.max_retry_after and (
                    deadline is None or clock is None or clock() + wait < deadline):
                yield Sleep(wait)
        timeout = fixed_timeout
        if deadline is not None and clock is not None:
            timeout = deadline - clock()
            if timeout <= 0:
                late = ProviderError("the deadline passed before the request was sent", provider=adapter.name,
                                     code="deadline_exceeded", retryable=True, job=job)
                raise _uncertain(late, job) if creates_job and seen.may_have_created else late
        failure: TransportFailure | None = None
        try:
            resp: WireResponse = yield Send(adapter.name, request, timeout)
        except TransportFailure as exc:
            failure = exc
        # (errors are raised outside the except block, so none keeps another in __context__)
        if failure is not None:
            if creates_job and failure.reached:
                seen.may_have_created = True
            if failure.reached and not request.replay_safe:
                raise SubmissionUncertainError(
                    f"no reply to the request ({failure}); it may have been accepted"
                    + _NOT_RESENT.format(provider=adapter.name),
                    provider=adapter.name, code="outcome_unknown", job=job,
                )
            err: GenwireError = (NetworkTimeoutError if failure.timeout else NetworkError)(
                f"network error: {failure}", provider=adapter.name,
                code="network_error" if failure.reached else "connect_error", retryable=True, job=job,
            )
        else:
            rate = limits.observe(adapter.name, resp.headers) if limits is not None else None
            if resp.status < 400:
                return resp
            err = adapter.parse_error(resp, job)
            err.rate_limit = rate
            if creates_job and resp.status >= 500:
                seen.may_have_created = True
                if not request.replay_safe:
                    err.message += _NOT_RESENT.format(provider=adapter.name)
                    err.retryable = False
                    raise _uncertain(err, job, "the provider may have created the job before failing")
            # A 429 is a refusal, so even a non-idempotent submit can be repeated.
            if not is_retryable_status(resp.status) or not (request.replay_safe or resp.status == 429):
                if is_retryable_status(resp.status):
                    err.message += _NOT_RESENT.format(provider=adapter.name)
                    err.retryable = False
                raise _uncertain(err, job) if creates_job and seen.may_have_created else err
        delay = retry.delay(attempt, err.retry_after, random()) if retry.should_retry(attempt, err.retry_after) \
            else None
        if delay is None or (deadline is not None and clock is not None and clock() + delay >= deadline):
            raise _uncertain(err, job) if creates_job and seen.may_have_created else err
        yield Sleep(delay)
        attempt += 1


def _uncertain(err: GenwireError, job: Job | None,
               why: str = "an earlier attempt of this submit may have been accepted") -> SubmissionUncertainError:
    """The last error of a submit that may have created a job (``submit_flow`` adds how to recover)."""
    return SubmissionUncertainError(
        f"{err.message}; {why}", provider=err.provider, status=err.status, code="outcome_unknown",
        retry_after=err.retry_after, job=job, body=err.body,
    )


#: how many times a Clipia submit whose 2xx reply could not be read is resent (same key, same job)
UNREADABLE_SUBMIT_REPLAYS = 2


def _recoverable(err: SubmissionUncertainError, request: WireRequest, idempotency_key: str,
                 resolved: Resolved) -> SubmissionUncertainError:
    """``err`` naming the submit it was (key, provider, model) and how to recover."""
    if request.replay_safe:
        hint = (f"; submit again with idempotency_key={idempotency_key!r} to get that job "
                "rather than start a second one")
    else:
        hint = (f"; check the provider's dashboard or your callback endpoint before submitting again "
                f"(this submit's idempotency_key={idempotency_key!r})")
    if "idempotency_key=" not in err.message:
        err.message += hint
        err.args = (err.message,)
    err.idempotency_key = idempotency_key
    err.provider = resolved.spec.provider
    err.model = resolved.spec.id
    return err


#: seconds a held create may take beyond the ``Prefer: wait`` it asked for (the reply's way back)
SYNC_WAIT_MARGIN = 2.0


def submit_flow(adapter: Adapter, resolved: Resolved, envelope: Mapping[str, Any], webhook_url: str | None,
                idempotency_key: str, retry: RetryPolicy, random: Callable[[], float], *,
                callback_ref: str | None = None, attempts: Attempts | None = None,
                sync_wait: float | None = None) -> Flow[Job]:
    """Submit once (retrying what is safe). Every failure that may have left a job behind is a
    ``SubmissionUncertainError`` carrying ``idempotency_key``, ``provider`` and ``model``.

    The rule, held here for every mix of faults: once any attempt of the logical submit
    (``attempts``, shared across a family's providers) may have created a job, it ends as
    the job or as ``SubmissionUncertainError``; never as a refusal, never a fallback.

    ``sync_wait``: seconds the caller can let the create be held open; a provider with a sync
    mode (``adapter.max_sync_wait``) is asked to hold it that long at most, so the reply may
    already carry the finished job."""
    request = adapter.build_submit(resolved, envelope, webhook_url, idempotency_key)
    hold = min(adapter.max_sync_wait, math.floor(sync_wait)) if sync_wait is not None else 0
    timeout = None
    if hold >= 1:
        request = adapter.with_sync_wait(request, hold)
        timeout = hold + SYNC_WAIT_MARGIN
    seen = attempts if attempts is not None else Attempts()
    try:
        return (yield from _submit_attempts(adapter, resolved, request, retry, random, callback_ref, seen, timeout))
    except SubmissionUncertainError as err:
        raise _recoverable(err, request, idempotency_key, resolved) from None
    except GenwireError as err:
        if not seen.may_have_created:
            raise
        failed = _uncertain(err, err.job)
    raise _recoverable(failed, request, idempotency_key, resolved)


def _submit_attempts(adapter: Adapter, resolved: Resolved, request: WireRequest, retry: RetryPolicy,
                     random: Callable[[], float], callback_ref: str | None, seen: Attempts,
                     timeout: float | None = None) -> Flow[Job]:
    replays = 0
    while True:
        resp = yield from send_flow(adapter, request, retry, random, creates_job=True, attempts=seen,
                                    timeout=timeout)
        unreadable: MalformedResponseError | None = None
        try:
            job = adapter.parse_submit(resolved, resp)
        except MalformedResponseError as err:
            if not 200 <= resp.status < 300:
                raise
            unreadable = err
        if unreadable is None:
            if callback_ref is not None:
                job = job.model_copy(update={"callback_ref": callback_ref})
            price = resolved.spec.price
            if job.cost is None and price is not None:
                # the provider did not say; the catalog's list price is an estimate, labelled as such
                job = job.model_copy(update={"cost": cost_of(price.credits, "catalog")})
            return job
        # An accepted reply we cannot read: the provider may have created a paid job.
        seen.may_have_created = True
        if request.replay_safe and replays < UNREADABLE_SUBMIT_REPLAYS:
            replays += 1
            yield Sleep(retry.delay(replays - 1, None, random()))
            continue
        raise SubmissionUncertainError(
            f"{unreadable.message}; the reply was a {resp.status}, so a job may have been created",
            provider=adapter.name, status=resp.status, code="outcome_unknown", body=unreadable.body,
        )


@record
class SubmitPlan:
    """One provider to try for a submit: its adapter, the validated request and where results go."""

    adapter: Adapter
    resolved: Resolved
    envelope: Mapping[str, Any]
    webhook_url: str | None
    #: the per-submit reference the callback URL is bound to (unsigned providers)
    callback_ref: str | None = None

    def __init__(self, adapter: Adapter, resolved: Resolved, envelope: Mapping[str, Any], webhook_url: str | None,
                 callback_ref: str | None = None) -> None:
        _set(self, "adapter", adapter)
        _set(self, "resolved", resolved)
        _set(self, "envelope", envelope)
        _set(self, "webhook_url", webhook_url)
        _set(self, "callback_ref", callback_ref)


def submit_any_flow(plans: Sequence[SubmitPlan], idempotency_key: str, retry: RetryPolicy,
                    random: Callable[[], float], *, fallback: bool, attempts: Attempts | None = None,
                    sync_wait: float | None = None) -> Flow[Job]:
    """Submit to the first plan that accepts; with ``fallback`` (a family request), move on
    only after a failure that certainly created no job. ``attempts``: what earlier sends of
    this logical submit showed (reconcile resending a submit that may already have gone out)."""
    errors: list[GenwireError] = []
    attempts = attempts if attempts is not None else Attempts()  # one logical submit, whichever provider takes it
    for plan in plans:
        try:
            return (yield from submit_flow(plan.adapter, plan.resolved, plan.envelope, plan.webhook_url,
                                           idempotency_key, retry, random, callback_ref=plan.callback_ref,
                                           attempts=attempts, sync_wait=sync_wait))
        except GenwireError as err:
            if attempts.may_have_created or not (fallback and may_fall_back(err)):
                raise
            errors.append(err)
    last = errors[-1]
    tried = "; ".join(f"{e.provider}: {e.message}" for e in errors)
    last.message = f"every provider failed before accepting the job ({tried})"
    raise last


def refresh_flow(adapter: Adapter, job: Job, retry: RetryPolicy, random: Callable[[], float], *,
                 deadline: float | None = None, clock: Callable[[], float] | None = None) -> Flow[Job]:
    """Poll once (status, then the result when the provider keeps it apart)."""
    try:
        new = job
        if not job.done:
            resp = yield from send_flow(adapter, adapter.build_status(job), retry, random, job,
                                        deadline=deadline, clock=clock)
            new = adapter.parse_status(job, resp)
        result = adapter.build_result(new)
        if result is not None:
            resp = yield from send_flow(adapter, result, retry, random, new, deadline=deadline, clock=clock)
            new = adapter.parse_result(new, resp)
    except GenwireError as err:
        if err.job is None:
            err.job = job
        raise
    return new


def cancel_flow(adapter: Adapter, job: Job, retry: RetryPolicy, random: Callable[[], float]) -> Flow[Job]:
    """Ask the provider to cancel ``job``; return the job as the provider reports it after.

    A job that already ended is returned as it is (nothing to cancel). A provider without
    cancel raises ``UnsupportedOperationError`` before anything is sent. The cancel request
    is replay-safe: repeating it cannot start or stop anything else.
    """
    request = adapter.build_cancel(job)
    if request is None:
        raise UnsupportedOperationError(f"{adapter.name} jobs cannot be canceled through its API",
                                        provider=adapter.name, code="unsupported_operation", job=job)
    if job.done:
        return job
    resp = yield from send_flow(adapter, request, retry, random, job)
    try:
        new = adapter.parse_cancel(job, resp)
    except GenwireError as err:
        if err.job is None:
            err.job = job
        raise
    if new != job:
        yield Notify(new)
    return new


def confirm_flow(adapter: Adapter, job: Job, retry: RetryPolicy, random: Callable[[], float]) -> Flow[Job]:
    """The provider's own word on a job: one status poll (and its result), whatever ``job`` claims.

    For a delivery from a provider that does not sign its webhooks, the status,
    outputs and error it carries are only a hint until confirmed this way.
    """
    claimless = job.model_copy(update={"status": JobStatus.QUEUED, "outputs": (), "error": None,
                                       "progress": None, "raw": None})
    return (yield from refresh_flow(adapter, claimless, retry, random))


def _finish(job: Job) -> Job:
    if job.status is JobStatus.SUCCEEDED:
        return job
    error = job.error
    raise JobFailedError(
        error.message if error else f"the job ended {job.status.value}",
        provider=job.provider, code=error.code if error else job.status.value, job=job,
        provider_code=error.provider_code if error else None,
    )


def _transient(err: GenwireError) -> bool:
    """A poll failure worth polling again: network, 429/5xx, or a reply we could not read."""
    return err.retryable or isinstance(err, MalformedResponseError)


def wait_flow(adapter: Adapter, job: Job, *, timeout: float, poll: PollPolicy, retry: RetryPolicy,
              clock: Callable[[], float], random: Callable[[], float]) -> Flow[Job]:
    """Poll until the job ends or ``timeout`` seconds pass.

    Transient poll failures (network, 429, 5xx, an unreadable status reply or an
    unknown status) are retried: a failed poll is not a failed job;
    ``poll.max_consecutive_failures`` in a row end the wait with the last error,
    which carries the job. No request runs past the deadline (``Send.timeout``).
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or math.isnan(timeout):
        raise ConfigurationError(f"timeout must be a number of seconds, got {timeout!r}", code="invalid_timeout")
    deadline = clock() + timeout
    polls = failures = 0
    while True:
        pause: float | None = None
        if not job.done or adapter.build_result(job) is not None:
            failed: GenwireError | None = None
            try:
                new = yield from refresh_flow(adapter, job, retry, random, deadline=deadline, clock=clock)
            except GenwireError as err:
                failed = err
                new = job
            if failed is not None:
                failures += 1
                if clock() >= deadline and _transient(failed):
                    raise WaitTimeoutError(f"the job did not finish within {timeout:g}s (last poll: "
                                           f"{failed.message})", provider=job.provider, code="wait_timeout",
                                           job=job)
                if not _transient(failed) or poll.gives_up(failures):
                    raise failed
                pause = failed.retry_after
            else:
                failures = 0
            if new != job:
                yield Notify(new)
            job = new
        if job.done and adapter.build_result(job) is None:
            return _finish(job)
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeoutError(f"the job did not finish within {timeout:g}s", provider=job.provider,
                                   code="wait_timeout", job=job)
        interval = poll.interval(polls, random())
        yield Sleep(min(max(interval, pause or 0.0), remaining))
        polls += 1


def may_fall_back(err: GenwireError) -> bool:
    """Whether a failed submit certainly created no job, so another provider may be tried."""
    if isinstance(err, (SubmissionUncertainError, MalformedResponseError)) or err.status >= 500:
        return False
    # the provider refused the request itself (bad input, no such model, a reused key): so would the next
    if isinstance(err, (InvalidInputError, NotFoundError, IdempotencyConflictError)):
        return False
    return isinstance(err, ProviderError)
