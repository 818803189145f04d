"""Client(ledger=...) and AsyncClient(ledger=...): write-ahead submits and every status seen
afterwards, against the in-process fake providers, on both databases."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from genwire import (
    AsyncClient,
    Client,
    GenerationRequest,
    InsufficientCreditsError,
    InvalidInputError,
    Job,
    JobFailedError,
    SubmissionUncertainError,
)
from genwire._policy.retry import PollPolicy, RetryPolicy
from genwire.ledger import Ledger, LedgerState
from genwire.testing import FakeProviders

pytestmark = pytest.mark.anyio

POLL = PollPolicy(initial_interval=0.001, max_interval=0.002)
RETRY = RetryPolicy(initial_delay=0.001, max_delay=0.002)
ONE_RETRY = RetryPolicy(max_retries=1, initial_delay=0.001, max_delay=0.002)
IMAGE = {"clipia": GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"}),
         "cliprise": GenerationRequest(provider="cliprise", model="nano-banana", task="text-to-image",
                                       input={"prompt": "a fox"})}
PROVIDERS = list(IMAGE)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Driver:
    def __init__(self, client: Client | AsyncClient) -> None:
        self.client = client

    async def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, name)(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result


@pytest.fixture(params=["sync", "async"])
async def make(request: pytest.FixtureRequest) -> AsyncIterator[Callable[..., Driver]]:
    made: list[Client | AsyncClient] = []

    def build(fakes: FakeProviders, **kwargs: Any) -> Driver:
        options = {"poll": POLL, "retry": RETRY, **kwargs}
        client = fakes.client(**options) if request.param == "sync" else fakes.async_client(**options)
        made.append(client)
        return Driver(client)

    yield build
    for client in made:
        if isinstance(client, AsyncClient):
            await client.aclose()
        else:
            client.close()


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_submit_records_the_intent_then_the_provider_id(
        make: Callable[..., Driver], ledger: Ledger, provider: str) -> None:
    job: Job = await make(FakeProviders(), ledger=ledger)("submit", IMAGE[provider])
    [entry] = ledger.entries()
    assert (entry.provider, entry.provider_id, entry.state) == (provider, job.id, LedgerState.QUEUED)
    assert entry.request == IMAGE[provider] and entry.lease_owner is None
    assert [(e.state.value, e.source) for e in ledger.events(entry.ref)] == [("queued", "submit")]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_wait_applies_every_status_it_sees(make: Callable[..., Driver], ledger: Ledger, provider: str) -> None:
    driver = make(FakeProviders(), ledger=ledger)
    job = await driver("run", IMAGE[provider], timeout=30)
    entry = ledger.find(provider, job.id)
    assert entry is not None and entry.state is LedgerState.SUCCEEDED and entry.job == job
    assert [e.state.value for e in ledger.events(entry.ref)] == ["queued", "running", "succeeded"]


async def test_status_applies_one_poll(make: Callable[..., Driver], ledger: Ledger) -> None:
    driver = make(FakeProviders(), ledger=ledger)
    job = await driver("submit", IMAGE["clipia"])
    polled = await driver("status", job)
    entry = ledger.find("clipia", job.id)
    assert entry is not None and entry.state.value == polled.status.value == "running"


async def test_a_failed_job_is_recorded_failed(make: Callable[..., Driver], ledger: Ledger) -> None:
    fakes = FakeProviders()
    fakes.clipia.script_outcome("fail", message="nsfw")
    with pytest.raises(JobFailedError) as info:
        await make(fakes, ledger=ledger)("run", IMAGE["clipia"], timeout=30)
    entry = ledger.find("clipia", info.value.job.id if info.value.job else "")
    assert entry is not None and entry.state is LedgerState.FAILED


async def test_invalid_input_records_nothing(make: Callable[..., Driver], ledger: Ledger) -> None:
    with pytest.raises(InvalidInputError):
        await make(FakeProviders(), ledger=ledger)("submit", GenerationRequest(
            provider="clipia", model="nano-banana-2", input={"prompt": 5}))
    assert ledger.entries() == []


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_refused_submit_is_recorded_rejected(
        make: Callable[..., Driver], ledger: Ledger, provider: str) -> None:
    fakes = FakeProviders()
    fakes.fakes[provider].fail_next(402)
    with pytest.raises(InsufficientCreditsError):
        await make(fakes, ledger=ledger)("submit", IMAGE[provider])
    [entry] = ledger.entries()
    assert entry.state is LedgerState.REJECTED and entry.provider_id is None and "402" in (entry.error or "")


async def test_an_unanswered_cliprise_submit_is_recorded_uncertain_for_an_operator(
        make: Callable[..., Driver], ledger: Ledger) -> None:
    fakes = FakeProviders()
    fakes.cliprise.disconnect_next(before_send=False, path="/generate")
    with pytest.raises(SubmissionUncertainError):
        await make(fakes, ledger=ledger)("submit", IMAGE["cliprise"])
    [entry] = ledger.entries()
    assert entry.state is LedgerState.UNCERTAIN and entry.provider_id is None
    assert f"genwire jobs attach {entry.ref}" in (entry.error or "")


async def test_an_unanswered_clipia_submit_stays_open_and_reconcile_finds_the_same_job(
        make: Callable[..., Driver], ledger: Ledger) -> None:
    fakes = FakeProviders()
    fakes.clipia.disconnect_next(before_send=False, path="/v1/models", times=10)
    with pytest.raises(SubmissionUncertainError):
        await make(fakes, ledger=ledger, retry=ONE_RETRY)("submit", IMAGE["clipia"])
    [entry] = ledger.entries()
    assert entry.state is LedgerState.SUBMITTING and entry.lease_owner is None
    [created] = fakes.clipia.jobs
    fakes.clipia._disconnects.clear()
    with fakes.client(poll=POLL, retry=RETRY) as client:
        report = ledger.reconcile(client, older_than=0)
    again = ledger.get(entry.ref)
    assert again is not None and again.provider_id == created and list(fakes.clipia.jobs) == [created]
    assert [c.action for c in report.changes] == ["resubmit"]


def test_a_ledger_url_is_opened_and_closed_by_the_client(tmp_path: Any) -> None:
    fakes = FakeProviders()
    with fakes.client(ledger=f"sqlite:///{tmp_path}/jobs.db") as client:
        assert client.ledger is not None
        client.submit(IMAGE["clipia"])
        assert len(client.ledger.entries()) == 1


@pytest.mark.parametrize(("sent", "state", "jobs"), [(False, LedgerState.QUEUED, 1), (True, LedgerState.UNCERTAIN, 0)],
                         ids=["never-sent", "sent"])
def test_reconcile_sends_a_cliprise_submit_only_if_it_never_went_out(
        ledger_url: str, sent: bool, state: LedgerState, jobs: int) -> None:
    from genwire.ledger import open_ledger

    fakes = FakeProviders()
    with open_ledger(ledger_url, intent_lease=0) as dead, open_ledger(ledger_url) as ledger:
        ref = dead.record_intent(IMAGE["cliprise"], provider="cliprise", model="nano-banana", task="text-to-image",
                                 idempotency_key="k")
        if sent:
            dead.mark_sent(ref)
        with fakes.client(poll=POLL, retry=RETRY) as client:
            ledger.reconcile(client, older_than=0)
        entry = ledger.get(ref)
        assert entry is not None and entry.state is state and len(fakes.cliprise.jobs) == jobs
