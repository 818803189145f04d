"""Clipia in full: final results of every end, structured warnings, account, status by id, keys, sandbox.

Each behaviour runs on a real ``Client`` and ``AsyncClient`` against the fake Clipia.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from support import Call, clients_over, reply

from genwire import (
    Account,
    AsyncClient,
    Client,
    ConfigurationError,
    Cost,
    Estimate,
    GenerationRequest,
    InputWarning,
    Job,
    JobFailedError,
    JobStatus,
    NotFoundError,
    RateLimit,
    RateLimitError,
    UnsupportedOperationError,
)
from genwire._policy.flows import Pace, Send, Sleep, send_flow
from genwire._policy.ratelimit import RateLimits, parse_rate_limit
from genwire._policy.retry import PollPolicy, RetryPolicy
from genwire.adapters import get_adapter
from genwire.testing import FakeClipia, FakeProviders
from genwire.webhooks import parse_webhook

pytestmark = pytest.mark.anyio

POLL = PollPolicy(initial_interval=0.001, max_interval=0.002)
RETRY = RetryPolicy(initial_delay=0.001, max_delay=0.002)
IMAGE = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fakes() -> FakeProviders:
    return FakeProviders(FakeClipia(keys=("clipia_live_fake", "clipia_test_fake")))


@pytest.fixture(params=["sync", "async"])
async def make(request: pytest.FixtureRequest, fakes: FakeProviders) -> AsyncIterator[Callable[..., Call]]:
    async with clients_over(fakes, request.param, poll=POLL, retry=RETRY) as build:
        yield build


def result_reads(fake: FakeClipia, job_id: str) -> int:
    return sum(1 for r in fake.requests if r.method == "GET" and r.path == f"/v1/requests/{job_id}")


# -- 1. failed and canceled jobs read their final result -------------------------------------------

@pytest.mark.parametrize(("outcome", "status", "code"), [("fail", JobStatus.FAILED, "generation_failed"),
                                                          ("cancel", JobStatus.CANCELED, "canceled")])
async def test_a_job_that_ends_without_success_takes_cost_and_error_from_its_final_result(
        make: Callable[..., Call], fakes: FakeProviders, outcome: Any, status: JobStatus, code: str) -> None:
    fakes.clipia.script_outcome(outcome, message="safety filter")
    call = make()
    submitted = await call("submit", IMAGE)
    assert submitted.cost == Cost(credits=12, source="provider")  # the reserve
    with pytest.raises(JobFailedError) as info:
        await call("wait", submitted)
    job = info.value.job
    assert job is not None and job.status is status
    assert job.cost == Cost(credits=0, source="provider")  # refunded, as the result says
    assert job.error is not None and job.error.code == code
    assert info.value.code == code
    assert result_reads(fakes.clipia, job.id) == 1


async def test_the_fake_status_reply_of_a_failed_job_names_the_state_only(fakes: FakeProviders) -> None:
    fakes.clipia.script_outcome("fail", message="nsfw")
    fakes.clipia.steps = 0
    with httpx.Client(transport=fakes.transport(), base_url=fakes.base_urls["clipia"],
                      headers={"Authorization": "Key clipia_live_fake"}) as api:
        rid = api.post("/v1/models/nano-banana-2", json={"input": {"prompt": "x"}}).json()["request_id"]
        assert api.get(f"/v1/requests/{rid}/status").json() == {"request_id": rid, "status": "FAILED"}
        result = api.get(f"/v1/requests/{rid}").json()
    assert (result["cost"], result["error"]) == (0, {"code": "generation_failed", "message": "nsfw"})


def test_a_failed_status_asks_for_the_result_and_the_result_settles_it() -> None:
    adapter = get_adapter("clipia")
    job = Job(provider="clipia", model="nano-banana-2", id="r1", status=JobStatus.RUNNING,
              cost=Cost(credits=12))
    failed = adapter.parse_status(job, reply(200, {"request_id": "r1", "status": "FAILED"}))
    assert failed.error is None
    request = adapter.build_result(failed)
    assert request is not None and request.path == "/v1/requests/r1"
    final = adapter.parse_result(failed, reply(200, {"request_id": "r1", "status": "FAILED", "cost": 0,
                                                     "error": {"code": "timeout", "message": "too slow"}}))
    assert (final.cost, final.error and final.error.message) == (Cost(credits=0), "too slow")
    assert adapter.build_result(final) is None


def test_a_failed_result_without_an_error_object_still_ends_with_an_error() -> None:
    adapter = get_adapter("clipia")
    job = Job(provider="clipia", model="nano-banana-2", id="r1", status=JobStatus.CANCELED)
    final = adapter.parse_result(job, reply(200, {"request_id": "r1", "status": "CANCELED", "cost": 0}))
    assert final.error is not None and final.error.code == "canceled"
    assert adapter.build_result(final) is None


# -- 4. structured warnings -----------------------------------------------------------------------

WARN = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox", "seed": 3},
                         unsupported="warn")


async def test_unsupported_warn_lists_a_structured_warning_on_the_job(make: Callable[..., Call]) -> None:
    job = await make()("submit", WARN)
    assert [(w.code, w.parameter) for w in job.warnings] == [("unsupported_parameter", "seed")]
    assert "'seed'" in job.warnings[0].message


async def test_estimate_returns_cost_and_warnings(make: Callable[..., Call]) -> None:
    est = await make()("estimate", WARN)
    assert isinstance(est, Estimate) and isinstance(est, Cost)
    assert (est.credits, est.cost) == (12, Cost(credits=12))
    assert [w.parameter for w in est.warnings] == ["seed"]


def test_clipia_warnings_keep_code_parameter_and_message() -> None:
    adapter = get_adapter("clipia")
    body = {"credits": 40, "warnings": [
        {"code": "unknown_parameter", "parameter": "aspect_ration", "message": "not recognized"},
        {"code": "unsupported_parameter", "parameter": "seed"}, "junk"]}
    est = adapter.parse_estimate(reply(200, body))
    assert est.warnings == (
        InputWarning(code="unknown_parameter", parameter="aspect_ration", message="not recognized"),
        InputWarning(code="unsupported_parameter", parameter="seed", message="parameter seed: unsupported_parameter"),
    )


def test_a_job_serialized_with_plain_string_warnings_still_loads() -> None:
    raw = Job(provider="clipia", model="m", id="r", status=JobStatus.QUEUED).model_dump(mode="json")
    job = Job.model_validate({**raw, "warnings": ["seed: not used"]})
    assert job.warnings == (InputWarning(code="warning", message="seed: not used"),)
    assert Job.model_validate_json(job.model_dump_json()) == job


# -- 5. account ---------------------------------------------------------------------------------

async def test_account_gives_balance_and_usage_as_the_api_does(make: Callable[..., Call]) -> None:
    call = make()
    await call("run", IMAGE)
    account = await call("account", "clipia")
    assert isinstance(account, Account)
    assert account.credits == 10_000 - 12 and account.balance == {"credits": 10_000 - 12}
    assert account.usage_30d == {"credits_spent": 12, "requests": 1}
    assert await call("balance", "clipia") == account.credits


async def test_account_of_a_provider_without_one_is_unsupported(make: Callable[..., Call]) -> None:
    with pytest.raises(UnsupportedOperationError):
        await make()("account", "cliprise")


# -- 6. status by id; typed fields -------------------------------------------------------------

async def test_status_and_wait_work_from_a_provider_and_an_id(make: Callable[..., Call]) -> None:
    call = make()
    rid = (await call("submit", IMAGE)).id
    polled = await call("status", "clipia", rid)
    assert (polled.provider, polled.id, polled.status) == ("clipia", rid, JobStatus.RUNNING)
    done = await call("wait", "clipia", rid)
    assert done.status is JobStatus.SUCCEEDED and done.outputs
    assert (done.model, done.task) == ("nano-banana-2", None)  # named by the result; two tasks fit it


async def test_status_by_id_needs_both_a_provider_and_an_id(make: Callable[..., Call]) -> None:
    call = make()
    with pytest.raises(ConfigurationError):
        await call("status", "clipia")
    with pytest.raises(NotFoundError):
        await call("status", "nope", "r1")


async def test_submit_and_status_fill_the_typed_queue_fields(make: Callable[..., Call], fakes: FakeProviders) -> None:
    call = make()
    job = await call("submit", IMAGE)
    base = fakes.base_urls["clipia"]
    assert (job.status_url, job.response_url) == (f"{base}/v1/requests/{job.id}/status",
                                                  f"{base}/v1/requests/{job.id}")
    assert job.queue_position == 0
    running = await call("status", job)
    assert running.status is JobStatus.RUNNING and running.logs == ({"message": "step 1 of 2"},)


# -- 9. keys and sandbox --------------------------------------------------------------------------

async def test_the_quickstart_variable_clipia_api_key_is_read(
        make: Callable[..., Call], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLIPIA_KEY", raising=False)
    monkeypatch.setenv("CLIPIA_API_KEY", "clipia_live_fake")
    job = await make(api_keys={})("submit", IMAGE)
    assert job.status is JobStatus.QUEUED


def test_a_missing_key_names_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLIPIA_KEY", raising=False)
    monkeypatch.delenv("CLIPIA_API_KEY", raising=False)
    with Client() as client, pytest.raises(ConfigurationError) as info:
        client.submit(IMAGE)
    assert "CLIPIA_KEY or CLIPIA_API_KEY" in str(info.value)


async def test_a_sandbox_key_marks_its_jobs(make: Callable[..., Call], fakes: FakeProviders) -> None:
    call = make(api_keys={"clipia": "clipia_test_fake"})
    job = await call("run", IMAGE)
    assert job.sandbox and job.status is JobStatus.SUCCEEDED
    assert (await call("status", "clipia", job.id)).sandbox
    assert fakes.clipia.balance == 10_000
    live = await make()("submit", IMAGE)
    assert not live.sandbox


# -- 7. webhooks ----------------------------------------------------------------------------------

def _delivered(fake: FakeClipia) -> Job:
    (delivery,) = fake.deliveries
    return parse_webhook("clipia", delivery.headers, delivery.body, secret=fake.webhook_secret)


async def test_a_signed_ok_without_output_is_a_success_whose_outputs_are_fetched(
        make: Callable[..., Call], fakes: FakeProviders) -> None:
    fake = fakes.clipia
    fake.webhook_output = False
    call = make()
    job = await call("submit", IMAGE.model_copy(update={"webhook_url": "https://hooks.example.com/c"}))
    fake.finish(job.id)
    assert json.loads(fake.deliveries[0].body) == {"request_id": job.id, "status": "OK"}
    hooked = _delivered(fake)
    assert (hooked.id, hooked.status, hooked.outputs, hooked.outputs_pending) == (
        job.id, JobStatus.SUCCEEDED, (), True)
    done = await call("status", hooked)
    assert not done.outputs_pending and done.outputs[0].kind == "image"
    assert done.model == "nano-banana-2"


def test_an_error_delivery_carries_the_error_when_present() -> None:
    fake = FakeClipia(keys=("clipia_live_fake",), webhook_output=False, steps=0)
    fake.script_outcome("fail", message="nsfw")
    with FakeProviders(fake).client(poll=POLL, retry=RETRY) as client:
        client.submit(IMAGE.model_copy(update={"webhook_url": "https://hooks.example.com/c"}))
    job = _delivered(fake)
    assert job.status is JobStatus.FAILED and job.error is not None and job.error.message == "nsfw"


def test_an_error_delivery_without_an_error_leaves_it_to_the_result() -> None:
    job = get_adapter("clipia").parse_webhook({"request_id": "r1", "status": "ERROR"}, {})
    assert job.status is JobStatus.FAILED and job.error is None
    request = get_adapter("clipia").build_result(job)
    assert request is not None and request.path == "/v1/requests/r1"


# -- 8. retries ---------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [501, 505, 520])
async def test_every_5xx_on_a_read_is_retried(make: Callable[..., Call], fakes: FakeProviders, status: int) -> None:
    fakes.clipia.fail_next(status, path="/v1/requests", times=2)
    job = await make()("run", IMAGE)
    assert job.status is JobStatus.SUCCEEDED
    polls = [r for r in fakes.clipia.requests if r.path.startswith("/v1/requests")]
    assert len(polls) >= 4  # two refused, then the real ones


# -- 8. RateLimit-* headers ---------------------------------------------------------------------

def test_rate_limit_headers_parse_as_delta_seconds_or_a_unix_time() -> None:
    delta = parse_rate_limit({"ratelimit-limit": "60", "ratelimit-remaining": "0", "ratelimit-reset": "7"}, 1e9 + 5)
    assert delta == RateLimit(limit=60, remaining=0, reset=7.0)
    epoch = parse_rate_limit({"ratelimit-remaining": "3", "ratelimit-reset": "1800000010"}, 1_800_000_000.0)
    assert epoch == RateLimit(remaining=3, reset=10.0)
    assert parse_rate_limit({"ratelimit-reset": "soon"}, 0.0) is None
    assert parse_rate_limit({}, 0.0) is None


def _drive_with(limits: RateLimits, flow: Any, replies: list[Any], clock: list[float]) -> list[Any]:
    effects = []
    try:
        effect = next(flow)
        while True:
            effects.append(effect)
            if isinstance(effect, Pace):
                effect = flow.send(limits)
            elif isinstance(effect, Send):
                effect = flow.send(replies.pop(0))
            else:
                if isinstance(effect, Sleep):
                    clock[0] += effect.seconds
                effect = flow.send(None)
    except StopIteration:
        return effects


def test_the_policy_waits_for_the_reset_when_nothing_remains() -> None:
    clock = [0.0]
    limits = RateLimits(lambda: clock[0], lambda: 1e9)
    adapter = get_adapter("clipia")
    request = adapter.build_status(Job(provider="clipia", model="m", id="r1", status=JobStatus.QUEUED))
    spent = reply(200, {"request_id": "r1", "status": "IN_QUEUE"}, ratelimit_limit="2", ratelimit_remaining="0",
                  ratelimit_reset="5")
    first = _drive_with(limits, send_flow(adapter, request, RETRY, lambda: 0.5), [spent], clock)
    assert not [e for e in first if isinstance(e, Sleep)]
    clock[0] += 1.0
    second = _drive_with(limits, send_flow(adapter, request, RETRY, lambda: 0.5), [spent], clock)
    kinds = [type(e).__name__ for e in second]
    assert kinds == ["Pace", "Sleep", "Send"] and second[1].seconds == 4.0
    clock[0] += 10.0
    third = _drive_with(limits, send_flow(adapter, request, RETRY, lambda: 0.5),
                        [reply(200, {"request_id": "r1", "status": "IN_QUEUE"})], clock)
    assert [type(e).__name__ for e in third] == ["Pace", "Send"]  # the window reset


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_used_up_window_is_waited_out_instead_of_provoking_429s(kind: str) -> None:
    fake = FakeClipia(keys=("clipia_live_fake",), rate_limit=2, rate_window=1.0, steps=1)
    fakes = FakeProviders(fake)
    options: dict[str, Any] = {"poll": POLL, "retry": RetryPolicy(max_retries=0)}
    client = fakes.client(**options) if kind == "sync" else fakes.async_client(**options)
    result = client.run(IMAGE)
    job = await result if inspect.isawaitable(result) else result
    assert job.status is JobStatus.SUCCEEDED and fake.throttled == 0
    assert len([r for r in fake.requests if r.path.startswith("/v1/")]) >= 3  # more than one window's worth
    seen = client.rate_limit("clipia")
    assert seen is not None and seen.limit == 2
    if isinstance(client, AsyncClient):
        await client.aclose()
    else:
        client.close()


async def test_a_refused_reply_carries_its_rate_limit_state(make: Callable[..., Call], fakes: FakeProviders) -> None:
    fakes.clipia.fail_next(429, retry_after=120)
    with pytest.raises(RateLimitError) as info:
        await make()("submit", IMAGE)
    assert info.value.rate_limit is not None and info.value.rate_limit.limit == 600
