"""Review findings: adapters, the shared policy and both drivers, each pinned by one test."""

from __future__ import annotations

import json
import math
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import Clock, call, drive, reply

from genwire import (
    AsyncClient,
    Catalog,
    Client,
    ConfigurationError,
    GenerationRequest,
    GenwireError,
    Job,
    JobStatus,
    MalformedResponseError,
    Media,
    PollPolicy,
    RetryPolicy,
    SubmissionUncertainError,
    WaitTimeoutError,
    WebhookVerificationError,
)
from genwire._policy.flows import TransportFailure, submit_flow, wait_flow
from genwire.adapters import get_adapter
from genwire.testing import FakeClipia, FakeCliprise, FakeProviders
from genwire.webhooks import parse_webhook, sign_clipia

CATALOG = Catalog.default()
FAST_POLL = PollPolicy(initial_interval=0.001, max_interval=0.002)
FAST_RETRY = RetryPolicy(initial_delay=0.001, max_delay=0.002)
CLIPIA_JOB = Job(provider="clipia", model="nano-banana-2", task="text-to-image", id="r1", status=JobStatus.QUEUED)
CLIPRISE_JOB = Job(provider="cliprise", model="nano-banana", task="text-to-image", id="t1", status=JobStatus.QUEUED)
IMAGE = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})
WEBHOOK_SECRET = "whsec_review_0123456789"


def clipia_delivery(payload: bytes) -> Job:
    headers = {"X-Clipia-Signature": sign_clipia(payload, WEBHOOK_SECRET, int(time.time()))}
    return parse_webhook("clipia", headers, payload, secret=WEBHOOK_SECRET)


def every_parser(body: bytes, status: int = 200) -> list[Callable[[], Any]]:
    """Every reply reader of both adapters, and both webhook entry points, fed the same body."""
    clipia, cliprise = get_adapter("clipia", CATALOG), get_adapter("cliprise", CATALOG)
    resolved = {p: CATALOG.resolve(GenerationRequest(provider=p, model=m, task="text-to-image",
                                                     input={"prompt": "x"}))[0]
                for p, m in (("clipia", "nano-banana-2"), ("cliprise", "nano-banana"))}
    resp = reply(status, body)
    return [
        lambda: clipia.parse_submit(resolved["clipia"], resp),
        lambda: clipia.parse_status(CLIPIA_JOB, resp),
        lambda: clipia.parse_result(CLIPIA_JOB, resp),
        lambda: clipia.parse_estimate(resp),
        lambda: clipia.parse_balance(resp),
        lambda: cliprise.parse_submit(resolved["cliprise"], resp),
        lambda: cliprise.parse_status(CLIPRISE_JOB, resp),
        lambda: clipia_delivery(body),
        lambda: parse_webhook("cliprise", {}, body, secret=None),
    ]


# -- adapters: every reply shape ends in a Job or a typed error ---------------------------------------

@pytest.mark.parametrize("status", [["COMPLETED"], {"x": 1}], ids=["list", "object"])
@pytest.mark.parametrize("case", ["clipia-status", "clipia-result", "clipia-webhook", "cliprise-status",
                                  "cliprise-webhook"])
def test_a_status_that_is_not_a_string_is_a_typed_error(case: str, status: Any) -> None:
    calls: dict[str, Callable[[], Any]] = {
        "clipia-status": lambda: get_adapter("clipia").parse_status(
            CLIPIA_JOB, reply(200, {"request_id": "r1", "status": status})),
        "clipia-result": lambda: get_adapter("clipia").parse_result(
            CLIPIA_JOB, reply(200, {"request_id": "r1", "status": status})),
        "clipia-webhook": lambda: clipia_delivery(json.dumps({"request_id": "r1", "status": status}).encode()),
        "cliprise-status": lambda: get_adapter("cliprise").parse_status(CLIPRISE_JOB, reply(200, [{"status": status}])),
        "cliprise-webhook": lambda: parse_webhook("cliprise", {}, json.dumps({"taskId": "t1", "status": status}),
                                                  secret=None),
    }
    with pytest.raises((MalformedResponseError, WebhookVerificationError)):
        calls[case]()


_KEYS = st.sampled_from(["status", "request_id", "taskId", "fileURL", "output", "images", "video", "url", "width",
                         "height", "duration", "progress", "queue_position", "cost", "error", "code", "msg",
                         "failMsg", "warnings", "model", "payload", "credits", "balance", "created_at"])
_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(max_size=8)
            | st.sampled_from(["IN_QUEUE", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELED", "OK", "ERROR",
                               "processing", "success", "fail", "failure", "r1", "https://m.example/a.png"]))
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=6),
                     max_leaves=16)
_BODIES = st.binary(max_size=40) | _JSON.map(lambda v: json.dumps(v).encode())


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=_BODIES, status=st.sampled_from([200, 202, 400, 429, 500]))
def test_adapter_parsers_raise_only_genwire_errors_on_arbitrary_replies(body: bytes, status: int) -> None:
    for parse in every_parser(body, status):
        try:
            out = parse()
        except GenwireError:
            continue
        if isinstance(out, Job):
            assert Job.model_validate_json(out.model_dump_json()) == out


def test_fractional_queue_position_and_width_leave_a_job_that_round_trips_through_json() -> None:
    clipia = get_adapter("clipia")
    queued = clipia.parse_status(CLIPIA_JOB, reply(200, {"request_id": "r1", "status": "IN_QUEUE",
                                                         "queue_position": 2.5}))
    done = clipia.parse_result(CLIPIA_JOB, reply(200, {
        "request_id": "r1", "status": "COMPLETED",
        "output": {"images": [{"url": "https://m.example/a.png", "width": 1024.5, "height": 768.0}]}}))
    assert (queued.queue_position, done.outputs[0].width, done.outputs[0].height) == (None, None, 768)
    for job in (queued, done):
        assert Job.model_validate_json(job.model_dump_json()) == job


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_non_finite_numbers_in_a_reply_are_malformed_not_stored(number: bytes) -> None:
    body = (b'{"request_id": "r1", "taskId": "t1", "status": "COMPLETED", "cost": ' + number
            + b', "output": {"video": {"url": "https://m.example/a.mp4", "duration": ' + number + b'}}}')
    for parse in every_parser(body):
        with pytest.raises(GenwireError):
            parse()


# -- the policy -------------------------------------------------------------------------------------

def test_wait_deadline_is_not_overrun_by_retry_after_sleeps_inside_one_poll() -> None:
    clock = Clock()
    throttled = reply(429, {"error": {"code": "rate_limit_exceeded"}}, retry_after="30")
    flow = wait_flow(get_adapter("clipia"), CLIPIA_JOB, timeout=10, poll=PollPolicy(1.0, 2.0),
                     retry=RetryPolicy(max_retries=2), clock=clock, random=lambda: 0.0)
    with pytest.raises(WaitTimeoutError) as info:
        drive(flow, [throttled] * 20, clock)
    assert clock.now <= 10 and info.value.job is not None


def test_wait_refuses_a_nan_timeout_instead_of_polling_forever() -> None:
    flow = wait_flow(get_adapter("clipia"), CLIPIA_JOB, timeout=math.nan, poll=PollPolicy(1.0, 2.0),
                     retry=RetryPolicy(max_retries=0), clock=Clock(), random=lambda: 0.0)
    with pytest.raises(ConfigurationError):
        drive(flow, [reply(200, {"request_id": "r1", "status": "IN_PROGRESS"})] * 1000)


def test_clipia_submit_failing_after_a_lost_reply_names_the_idempotency_key_to_reconcile() -> None:
    resolved = CATALOG.resolve(IMAGE)[0]
    flow = submit_flow(get_adapter("clipia"), resolved, CATALOG.envelope("clipia"), None, "idem-1",
                       RetryPolicy(max_retries=2), lambda: 0.0)
    busy = reply(503, {"error": {"code": "internal_error"}})
    with pytest.raises(SubmissionUncertainError, match="idem-1"):
        drive(flow, [TransportFailure("read timeout", reached=True), busy, busy])


# -- both drivers -----------------------------------------------------------------------------------

@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fakes() -> FakeProviders:
    return FakeProviders(FakeClipia(CATALOG, steps=10**6), FakeCliprise(CATALOG, steps=10**6))


MakeClient = Callable[..., Client | AsyncClient]


@pytest.fixture(params=["sync", "async"])
async def make(request: pytest.FixtureRequest, fakes: FakeProviders) -> AsyncIterator[MakeClient]:
    made: list[Client | AsyncClient] = []

    def build(**kwargs: Any) -> Client | AsyncClient:
        options = {"poll": FAST_POLL, "retry": FAST_RETRY, "catalog": CATALOG, **kwargs}
        client = fakes.client(**options) if request.param == "sync" else fakes.async_client(**options)
        made.append(client)
        return client

    yield build
    for client in made:
        await close(client)


async def close(client: Client | AsyncClient) -> None:
    if isinstance(client, AsyncClient):
        await client.aclose()
    else:
        client.close()


@pytest.mark.anyio
async def test_wait_with_a_long_retry_after_still_ends_at_its_deadline(
        make: MakeClient, fakes: FakeProviders) -> None:
    client = make()
    job = await call(client, "submit", IMAGE)
    fakes.clipia.fail_next(429, retry_after=1, times=100, path="/v1/requests")
    started = time.monotonic()
    with pytest.raises(WaitTimeoutError):
        await call(client, "wait", job, timeout=0.1)
    assert time.monotonic() - started < 0.9


@pytest.mark.anyio
async def test_family_submit_never_falls_back_after_a_submit_that_may_have_been_accepted(
        make: MakeClient, fakes: FakeProviders) -> None:
    client = make(providers=["clipia", "cliprise"])
    fakes.clipia.disconnect_next(times=3, before_send=False, path="/v1/models")
    with pytest.raises(SubmissionUncertainError):
        await call(client, "submit", GenerationRequest(family="nano-banana-2", task="text-to-image",
                                                       input={"prompt": "a fox"}))
    assert (len(fakes.clipia.jobs), len(fakes.cliprise.jobs)) == (1, 0)


@pytest.mark.anyio
async def test_polling_without_a_key_raises_an_error_carrying_the_job(
        make: MakeClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLIPIA_KEY", raising=False)
    client = make(api_keys={"cliprise": "cliprise_key_only"})
    with pytest.raises(ConfigurationError) as info:
        await call(client, "wait", CLIPIA_JOB, timeout=1)
    assert info.value.job is not None and info.value.job.id == "r1"


@pytest.mark.anyio
async def test_a_closed_client_raises_a_typed_error_carrying_the_job(make: MakeClient) -> None:
    client = make()
    await close(client)
    with pytest.raises(ConfigurationError):
        await call(client, "submit", IMAGE)
    with pytest.raises(ConfigurationError) as info:
        await call(client, "status", CLIPIA_JOB)
    assert info.value.code == "client_closed" and info.value.job is not None


def test_a_failed_download_leaves_no_partial_file(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        def chunks() -> Iterator[bytes]:
            yield b"first half"
            raise httpx.ReadError("connection reset", request=request)

        return httpx.Response(200, content=chunks())

    target = tmp_path / "out.mp4"
    with Client(transport=httpx.MockTransport(handler)) as client, pytest.raises(GenwireError):
        client.download(Media(url="https://cdn.example.net/out.mp4", kind="video"), target)
    assert list(tmp_path.iterdir()) == []


def test_a_sync_client_refuses_an_async_on_update_instead_of_dropping_it() -> None:
    fakes = FakeProviders(FakeClipia(), FakeCliprise())

    async def on_update(job: Job) -> None:
        return None

    with fakes.client(poll=PollPolicy(0.001, 0.002)) as client, pytest.raises(ConfigurationError) as info:
        client.run(GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "x"}),
                   on_update=on_update)
    assert info.value.job is not None and info.value.code == "async_callback"
