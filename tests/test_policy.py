"""The shared request/poll policy, driven by hand: effects out, replies in."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from support import Clock, drive, reply

from genwire import (
    Catalog,
    GenerationRequest,
    JobFailedError,
    JobStatus,
    PollPolicy,
    ProviderError,
    RateLimitError,
    RetryPolicy,
    SubmissionUncertainError,
    WaitTimeoutError,
)
from genwire._policy.flows import Notify, Send, Sleep, TransportFailure, submit_flow, wait_flow
from genwire.adapters import get_adapter
from genwire.models import Job

CATALOG = Catalog.default()
RETRY = RetryPolicy(max_retries=2, initial_delay=1.0, max_delay=4.0)


def sends(effects: list[Any]) -> list[Any]:
    return [e.request for e in effects if isinstance(e, Send)]


def submit(provider: str, model: str, **values: Any) -> Generator[Any, Any, Any]:
    resolved = CATALOG.resolve(GenerationRequest(provider=provider, model=model, input=values))[0]
    return submit_flow(get_adapter(provider), resolved, CATALOG.envelope(provider), None, "idem-1", RETRY,
                       lambda: 0.5)


CLIPIA_OK = reply(200, {"request_id": "r1", "status": "IN_QUEUE"})
CLIPRISE_OK = reply(200, [{"code": 200, "taskId": "t1"}])
WAN = {"prompt": "x", "resolution": "720p", "duration": 5}


def test_clipia_submit_retries_a_503_with_the_same_request_and_key() -> None:
    effects, job = drive(submit("clipia", "nano-banana-2", prompt="x"),
                         [reply(503, {"error": {"code": "internal_error"}}), CLIPIA_OK])
    first, second = sends(effects)
    assert first == second and first.headers["Idempotency-Key"] == "idem-1"
    assert job.id == "r1"


def test_clipia_submit_retries_after_a_lost_reply() -> None:
    effects, job = drive(submit("clipia", "nano-banana-2", prompt="x"),
                         [TransportFailure("read timeout", reached=True), CLIPIA_OK])
    assert len(sends(effects)) == 2 and job.id == "r1"


def test_retry_after_wins_over_backoff() -> None:
    effects, _ = drive(submit("clipia", "nano-banana-2", prompt="x"),
                       [reply(429, {"error": {"code": "rate_limit_exceeded"}}, retry_after="3"), CLIPIA_OK])
    assert [e.seconds for e in effects if isinstance(e, Sleep)] == [3.0]


def test_retry_after_beyond_the_cap_is_raised_not_waited() -> None:
    with pytest.raises(RateLimitError) as info:
        drive(submit("clipia", "nano-banana-2", prompt="x"),
              [reply(429, {"error": {"code": "rate_limit_exceeded"}}, retry_after="3600")])
    assert info.value.retry_after == 3600


def test_retries_stop_after_max_retries() -> None:
    busy = reply(503, {"error": {"code": "internal_error"}})
    with pytest.raises(ProviderError):
        drive(submit("clipia", "nano-banana-2", prompt="x"), [busy, busy, busy])


def test_cliprise_generate_is_never_resent_after_a_lost_reply() -> None:
    flow = submit("cliprise", "wan-2-5", **WAN)
    replies: list[Any] = [TransportFailure("read timeout", reached=True), CLIPRISE_OK]
    with pytest.raises(SubmissionUncertainError, match="not resent"):
        drive(flow, replies)
    assert replies == [CLIPRISE_OK]


def test_cliprise_generate_is_resent_when_the_connection_never_opened() -> None:
    effects, job = drive(submit("cliprise", "wan-2-5", **WAN),
                         [TransportFailure("connection refused", reached=False), CLIPRISE_OK])
    assert len(sends(effects)) == 2 and job.id == "t1"


def test_cliprise_generate_5xx_is_not_resent_and_says_why() -> None:
    replies: list[Any] = [reply(502, {"msg": "bad gateway"}), CLIPRISE_OK]
    with pytest.raises(ProviderError, match="no idempotency") as info:
        drive(submit("cliprise", "wan-2-5", **WAN), replies)
    assert not info.value.retryable and replies == [CLIPRISE_OK]


def test_cliprise_generate_429_is_retried_because_it_was_refused() -> None:
    effects, job = drive(submit("cliprise", "wan-2-5", **WAN),
                         [reply(429, {"code": 429, "error": {"code": "rate_limit_exceeded", "message": "m"}}),
                          CLIPRISE_OK])
    assert len(sends(effects)) == 2 and job.id == "t1"


# -- waiting ---------------------------------------------------------------------------------
def wait(job: Job, clock: Clock, timeout: float = 100.0) -> Generator[Any, Any, Any]:
    return wait_flow(get_adapter(job.provider), job, timeout=timeout, poll=PollPolicy(1.0, 2.0),
                     retry=RetryPolicy(max_retries=0), clock=clock, random=lambda: 0.0)


CLIPRISE_JOB = Job(provider="cliprise", model="wan-2-5", task="text-to-video", id="t1", status=JobStatus.QUEUED)
FILE = "https://business.api.cliprise.app/app/cliprise/status?taskId=t1&download=true"


def test_wait_survives_failed_polls_and_returns_the_finished_job() -> None:
    clock = Clock()
    effects, job = drive(wait(CLIPRISE_JOB, clock), [
        reply(500, {"msg": "oops"}), TransportFailure("reset", reached=True),
        reply(200, [{"status": "processing"}]), reply(200, [{"status": "success", "fileURL": FILE}]),
    ], clock)
    assert job.status is JobStatus.SUCCEEDED and job.outputs[0].url == FILE
    assert [e.job.status for e in effects if isinstance(e, Notify)] == [JobStatus.RUNNING, JobStatus.SUCCEEDED]


def test_wait_gives_up_after_consecutive_poll_failures_keeping_the_job() -> None:
    clock = Clock()
    with pytest.raises(ProviderError) as info:
        drive(wait(CLIPRISE_JOB, clock), [reply(500, {"msg": "down"})] * 5, clock)
    assert info.value.job is not None and info.value.job.id == "t1"


def test_wait_raises_job_failed_with_the_job() -> None:
    clock = Clock()
    with pytest.raises(JobFailedError) as info:
        drive(wait(CLIPRISE_JOB, clock), [reply(200, {"status": "fail", "failMsg": "nsfw"})], clock)
    assert info.value.job is not None and info.value.job.error is not None
    assert info.value.job.error.message == "nsfw"


def test_wait_deadline_ends_an_endless_job_with_the_job_attached() -> None:
    clock = Clock()
    with pytest.raises(WaitTimeoutError) as info:
        drive(wait(CLIPRISE_JOB, clock, timeout=10), [reply(200, [{"status": "processing"}])] * 50, clock)
    assert info.value.job is not None and info.value.job.status is JobStatus.RUNNING
    assert clock.now == pytest.approx(10)


def test_wait_fetches_the_result_of_an_already_completed_clipia_job() -> None:
    clock = Clock()
    done = Job(provider="clipia", model="nano-banana-2", id="r1", status=JobStatus.SUCCEEDED)
    effects, job = drive(wait(done, clock), [
        reply(200, {"request_id": "r1", "status": "COMPLETED", "output": {"images": [{"url": "https://m/a.png"}]}}),
    ], clock)
    assert [r.path for r in sends(effects)] == ["/v1/requests/r1"]
    assert job.outputs[0].url == "https://m/a.png"


def test_submit_without_a_provider_cost_carries_the_catalog_price_labelled_as_such() -> None:
    _, job = drive(submit("clipia", "nano-banana-2", prompt="x"), [reply(200, {"request_id": "r1",
                                                                               "status": "IN_QUEUE"})])
    assert job.cost is not None and (job.cost.credits, job.cost.source) == (12, "catalog")


def test_a_provider_cost_wins_over_the_catalog_price() -> None:
    _, job = drive(submit("clipia", "nano-banana-2", prompt="x"),
                   [reply(200, {"request_id": "r1", "status": "IN_QUEUE", "cost": 15})])
    assert job.cost is not None and (job.cost.credits, job.cost.source) == (15, "provider")


def test_a_model_without_price_or_provider_cost_has_no_cost() -> None:
    _, job = drive(submit("cliprise", "wan-2-5", **WAN), [CLIPRISE_OK])
    assert job.cost is None
