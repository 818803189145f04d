"""The one request, retry and polling policy, written once as generators.

A flow yields effects (``Send``, ``Sleep``, ``Notify``) and receives their
results; the sync and async clients are thin drivers that execute them, the way
httpx drives ``Auth.auth_flow``. Nothing here does I/O, sleeps or reads a
global clock: the clock and the random source are passed in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ._retry import PollPolicy, RetryPolicy, is_retryable_status
from .adapters.base import Adapter, WireRequest, WireResponse
from .catalog import Resolved
from .errors import (
    AuthenticationError,
    ConfigurationError,
    GenwireError,
    InsufficientCreditsError,
    JobFailedError,
    MalformedResponseError,
    NetworkError,
    NetworkTimeoutError,
    ProviderError,
    RateLimitError,
    SubmissionUncertainError,
    WaitTimeoutError,
)
from .models import Cost, Job, JobStatus

__all__ = [
    "Notify",
    "Send",
    "Sleep",
    "SubmitPlan",
    "TransportFailure",
    "may_fall_back",
    "refresh_flow",
    "send_flow",
    "submit_any_flow",
    "submit_flow",
    "wait_flow",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Send:
    provider: str
    request: WireRequest


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Notify:
    job: Job


Effect = Send | Sleep | Notify
Flow = Generator[Effect, Any, T]


class TransportFailure(Exception):
    """Thrown into a flow when a request got no reply; ``reached`` says whether it may have arrived."""

    def __init__(self, message: str, *, reached: bool, timeout: bool = False) -> None:
        super().__init__(message)
        self.reached = reached
        self.timeout = timeout


_NOT_RESENT = ("; not resent automatically: {provider} has no idempotency keys, so a second "
               "request could start a second paid job")


def send_flow(adapter: Adapter, request: WireRequest, retry: RetryPolicy, random: Callable[[], float],
              job: Job | None = None, *, creates_job: bool = False, deadline: float | None = None,
              clock: Callable[[], float] | None = None) -> Flow[WireResponse]:
    """Send one request, retrying what is safe; return a reply below 400 or raise a typed error.

    ``creates_job``: the request is a submit, so a failure after an attempt that may
    have been accepted is ``SubmissionUncertainError`` (never a reason to try
    elsewhere). ``deadline`` (on ``clock``): no retry sleep runs past it.
    """
    attempt = 0
    uncertain = False  # an earlier attempt may have reached the provider and been accepted
    while True:
        try:
            resp: WireResponse = yield Send(adapter.name, request)
        except TransportFailure as failure:
            uncertain = uncertain or failure.reached
            if failure.reached and not request.replay_safe:
                raise SubmissionUncertainError(
                    f"no reply to the request ({failure}); it may have been accepted"
                    + _NOT_RESENT.format(provider=adapter.name),
                    provider=adapter.name, code="outcome_unknown", job=job,
                ) from None
            err: GenwireError = (NetworkTimeoutError if failure.timeout else NetworkError)(
                f"network error: {failure}", provider=adapter.name,
                code="network_error" if failure.reached else "connect_error", retryable=True, job=job,
            )
        else:
            if resp.status < 400:
                return resp
            err = adapter.parse_error(resp, job)
            # A 429 is a refusal, so even a non-idempotent submit can be repeated.
            if not is_retryable_status(resp.status) or not (request.replay_safe or resp.status == 429):
                if is_retryable_status(resp.status):
                    err.message += _NOT_RESENT.format(provider=adapter.name)
                    err.retryable = False
                raise _uncertain(err, request, job) if creates_job and uncertain else err
        delay = retry.delay(attempt, err.retry_after, random()) if retry.should_retry(attempt, err.retry_after) \
            else None
        if delay is None or (deadline is not None and clock is not None and clock() + delay >= deadline):
            raise _uncertain(err, request, job) if creates_job and uncertain else err
        yield Sleep(delay)
        attempt += 1


def _uncertain(err: GenwireError, request: WireRequest, job: Job | None) -> SubmissionUncertainError:
    """The last error of a submit one of whose attempts got no reply: that attempt may have created a job."""
    key = request.headers.get("Idempotency-Key")
    hint = (f"; submit again with idempotency_key={key!r} to get that job rather than start a second one"
            if key else "")
    return SubmissionUncertainError(
        f"{err.message}; an earlier attempt got no reply and may have been accepted{hint}",
        provider=err.provider, status=err.status, code="outcome_unknown", retry_after=err.retry_after, job=job,
    )


def submit_flow(adapter: Adapter, resolved: Resolved, envelope: Mapping[str, Any], webhook_url: str | None,
                idempotency_key: str, retry: RetryPolicy, random: Callable[[], float]) -> Flow[Job]:
    request = adapter.build_submit(resolved, envelope, webhook_url, idempotency_key)
    resp = yield from send_flow(adapter, request, retry, random, creates_job=True)
    job = adapter.parse_submit(resolved, resp)
    price = resolved.spec.price
    if job.cost is None and price is not None:
        # the provider did not say; the catalog's list price is an estimate, labelled as such
        job = job.model_copy(update={"cost": Cost(credits=price.credits, source="catalog")})
    return job


@dataclass(frozen=True)
class SubmitPlan:
    """One provider to try for a submit: its adapter, the validated request and where results go."""

    adapter: Adapter
    resolved: Resolved
    envelope: Mapping[str, Any]
    webhook_url: str | None


def submit_any_flow(plans: Sequence[SubmitPlan], idempotency_key: str, retry: RetryPolicy,
                    random: Callable[[], float], *, fallback: bool) -> Flow[Job]:
    """Submit to the first plan that accepts; with ``fallback`` (a family request), move on
    only after a failure that certainly created no job."""
    errors: list[GenwireError] = []
    for plan in plans:
        try:
            return (yield from submit_flow(plan.adapter, plan.resolved, plan.envelope, plan.webhook_url,
                                           idempotency_key, retry, random))
        except GenwireError as err:
            if not (fallback and may_fall_back(err)):
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


def _finish(job: Job) -> Job:
    if job.status is JobStatus.SUCCEEDED:
        return job
    error = job.error
    raise JobFailedError(
        error.message if error else f"the job ended {job.status.value}",
        provider=job.provider, code=error.code if error else job.status.value, job=job,
    )


def wait_flow(adapter: Adapter, job: Job, *, timeout: float, poll: PollPolicy, retry: RetryPolicy,
              clock: Callable[[], float], random: Callable[[], float]) -> Flow[Job]:
    """Poll until the job ends or ``timeout`` seconds pass.

    Transient poll failures are retried (a failed poll is not a failed job);
    ``poll.max_consecutive_failures`` in a row end the wait with the last error,
    which carries the job.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or math.isnan(timeout):
        raise ConfigurationError(f"timeout must be a number of seconds, got {timeout!r}", code="invalid_timeout")
    deadline = clock() + timeout
    polls = failures = 0
    while True:
        pause: float | None = None
        if not job.done or adapter.build_result(job) is not None:
            try:
                new = yield from refresh_flow(adapter, job, retry, random, deadline=deadline, clock=clock)
            except GenwireError as err:
                failures += 1
                if not err.retryable or poll.gives_up(failures):
                    raise
                pause = err.retry_after
                new = job
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
    if isinstance(err, (SubmissionUncertainError, MalformedResponseError)):
        return False
    return isinstance(err, (AuthenticationError, InsufficientCreditsError, RateLimitError, ProviderError))
