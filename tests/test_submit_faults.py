"""One logical submit, any mix of faults across its attempts: never two paid jobs, never a lost one.

The rule (README, guarantees): once any attempt of a submit may have created a job, no later
outcome of it reads as a refusal, falls back to another provider or drops the key; it ends as
the job or as ``SubmissionUncertainError`` carrying the idempotency key. A property test draws
a fault for each attempt the fakes receive (lost reply, reset mid-reply, unreadable 2xx, 5xx
before or after the job was made, 429, timeouts, refused connections) and checks, per submit:
the fakes created at most one job, and that job is reachable from what the caller got.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from genwire import (
    AsyncClient,
    Catalog,
    Client,
    GenerationRequest,
    GenwireError,
    Job,
    RetryPolicy,
    SubmissionUncertainError,
)
from genwire.adapters import ADAPTERS
from genwire.ledger import Ledger, LedgerState, open_ledger
from genwire.testing import FakeProviders, sample_request
from genwire.testing.fakes import FAKES

CATALOG = Catalog.default()
RETRY = RetryPolicy(max_retries=2, initial_delay=0.0005, max_delay=0.001)
HOOK = "https://gw.example.com/hooks"
TOKEN = "callback-token-for-the-fault-property"

#: what happens to one attempt (one submit request) on its way to the fake and back
FAULTS = ("ok", "lost", "reset", "refused", "connect-timeout", "truncated", "5xx", "5xx-after", "429", "402")
#: what each target asks for: (provider order, request); every registered provider, and a family
TARGETS = {
    **{p: ((), {"provider": p, "model": sample_request(p).model}) for p in FAKES},
    "family, cliprise first": (("cliprise", "clipia"), {"family": "nano-banana-2", "task": "text-to-image"}),
    "family, clipia first": (("clipia", "cliprise"), {"family": "nano-banana-2", "task": "text-to-image"}),
}


class Faulty:
    """The fakes, with the next fault of a provider's list applied to each submit it receives,
    scripted on the fake itself just before it sees the request."""

    def __init__(self, fakes: FakeProviders, faults: dict[str, list[str]]) -> None:
        self.fakes = fakes
        self.faults = {name: list(queue) for name, queue in faults.items()}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        fake = self.fakes._route(request.url)
        name = fake.provider if fake is not None else ""
        queue = self.faults.get(name, [])
        if request.method == "POST" and fake is not None and queue:
            fault = queue.pop(0)
            if fault == "connect-timeout":  # the connection never opened: the fake sees nothing
                raise httpx.ConnectTimeout("connect timed out (scripted)", request=request)
            {
                "ok": lambda: None,
                "lost": lambda: fake.disconnect_next(before_send=False),
                "reset": lambda: fake.disconnect_next(before_send=False, reset=True),
                "refused": lambda: fake.disconnect_next(),
                "truncated": lambda: fake.truncate_next(),
                "5xx": lambda: fake.fail_next(503),
                "5xx-after": lambda: fake.fail_next(502, processed=True),
                "429": lambda: fake.fail_next(429, code="rate_limited"),
                "402": lambda: fake.fail_next(402, code="insufficient_credits"),
            }[fault]()
        return self.fakes(request)


@dataclass
class Outcome:
    job: Job | None = None
    error: GenwireError | None = None
    again: Job | None = None  # a provider with idempotency only: what a resubmit with the error's key returned
    created: list[tuple[str, Any]] = field(default_factory=list)


def _client(mode: str, faulty: Faulty, providers: tuple[str, ...], ledger: Ledger | None) -> Client | AsyncClient:
    options: dict[str, Any] = {
        "api_keys": faulty.fakes.api_keys, "base_urls": faulty.fakes.base_urls, "catalog": CATALOG,
        "retry": RETRY, "callback_token": TOKEN, "ledger": ledger, **({"providers": providers} if providers else {})}
    if mode == "sync":
        return Client(transport=httpx.MockTransport(faulty), **options)
    return AsyncClient(transport=httpx.MockTransport(faulty), **options)


async def _call(client: Client | AsyncClient, request: GenerationRequest) -> Job:
    if isinstance(client, AsyncClient):
        return await client.submit(request)
    return client.submit(request)


async def _submit(mode: str, target: str, faults: dict[str, list[str]], ledger: Ledger | None,
                  key: str) -> Outcome:
    fakes = FakeProviders(*(cls(CATALOG, steps=1) for cls in FAKES.values()))  # type: ignore[call-arg]
    faulty = Faulty(fakes, faults)
    providers, fields = TARGETS[target]
    request = GenerationRequest(**fields, input={"prompt": "a fox"}, webhook_url=f"{HOOK}/x",
                                idempotency_key=key)
    client = _client(mode, faulty, providers, ledger)
    out = Outcome()
    try:
        try:
            out.job = await _call(client, request)
        except GenwireError as err:
            out.error = err
        out.created = [(name, job) for name, fake in fakes.fakes.items() for job in fake.jobs.values()]
        made = [(name, job) for name, job in out.created if ADAPTERS[name].submit_replay_safe]
        if isinstance(out.error, SubmissionUncertainError) and len(out.created) == 1 and made:
            faulty.faults = {}  # the faults are over: recover the way the error says
            [(name, job)] = made
            again = GenerationRequest(provider=name, model=job.spec_id, task=job.task, input={"prompt": "a fox"},
                                      webhook_url=f"{HOOK}/x", idempotency_key=out.error.idempotency_key)
            out.again = await _call(client, again)
    finally:
        if isinstance(client, AsyncClient):
            await client.aclose()
        else:
            client.close()
    return out


def _check(out: Outcome, key: str, ledger: Ledger | None) -> None:
    created = out.created
    assert len(created) <= 1, f"{len(created)} paid jobs for one logical submit: {created}"
    if out.job is not None:
        assert [(name, job.id) for name, job in created] == [(out.job.provider, out.job.id)]
    elif isinstance(out.error, SubmissionUncertainError):
        assert out.error.idempotency_key == key
        for name, job in created:
            assert out.error.provider == name, f"the error names {out.error.provider}; the job is on {name}"
            if ADAPTERS[name].submit_replay_safe:  # the key finds the job: a resubmit returns it, no second one
                assert job.idempotency_key == key
                assert out.again is not None and out.again.id == job.id
            elif not ADAPTERS[name].signs_webhooks:  # no idempotency: the bound callback names the key
                assert job.webhook_url is not None
                assert parse_qs(urlsplit(job.webhook_url).query)["genwire_ref"] == [key]
            # else (Replicate): no idempotency and signed deliveries: the error names the provider and
            # the key, and with a ledger the intent stays open for reconcile (below)
    else:
        assert created == [], f"{type(out.error).__name__} reads as a refusal, but a job was created: {out.error}"
    if ledger is not None:
        entry = next(e for e in ledger.entries() if e.idempotency_key == key)
        if out.job is not None:
            assert entry.provider_id == out.job.id
        elif created:
            assert entry.state in (LedgerState.SUBMITTING, LedgerState.UNCERTAIN), entry
        else:
            assert entry.state in (LedgerState.REJECTED, LedgerState.SUBMITTING, LedgerState.UNCERTAIN), entry


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    path: Path = tmp_path_factory.mktemp("faults") / "jobs.db"
    with open_ledger(f"sqlite:///{path}?synchronous=normal") as opened:
        yield opened


# runs of one fault (a provider that keeps answering 429 answers it to every resend)
faults = st.lists(st.tuples(st.sampled_from(FAULTS), st.integers(1, 4)), max_size=3).map(
    lambda runs: [fault for fault, times in runs for _ in range(times)])
cases = st.fixed_dictionaries({
    "mode": st.sampled_from(["sync", "async"]),
    "target": st.sampled_from(sorted(TARGETS)),
    "with_ledger": st.booleans(),
    "faults": st.fixed_dictionaries(dict.fromkeys(FAKES, faults)),
})


def _run(case: dict[str, Any], ledger: Ledger) -> None:
    key = str(uuid.uuid4())
    used = ledger if case["with_ledger"] else None
    out = asyncio.run(_submit(case["mode"], case["target"], case["faults"], used, key))
    _check(out, key, used)


def _case(target: str, clipia: list[str], cliprise: list[str], mode: str = "sync",
          with_ledger: bool = False, **others: list[str]) -> dict[str, Any]:
    return {"mode": mode, "target": target, "with_ledger": with_ledger,
            "faults": {**{p: [] for p in FAKES}, "clipia": clipia, "cliprise": cliprise, **others}}


@settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=cases)
@example(case=_case("clipia", ["truncated", "429", "429", "429"], []))
@example(case=_case("family, clipia first", ["truncated", "402"], [], mode="async", with_ledger=True))
@example(case=_case("family, cliprise first", [], ["lost"], with_ledger=True))
@example(case=_case("replicate", [], [], with_ledger=True, replicate=["5xx-after"]))
@example(case=_case("replicate", [], [], mode="async", replicate=["429", "truncated"]))
def test_no_mix_of_faults_across_attempts_loses_or_duplicates_a_paid_job(case: dict[str, Any],
                                                                         ledger: Ledger) -> None:
    _run(case, ledger)


@pytest.mark.slow
@settings(max_examples=1500, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=cases)
def test_no_mix_of_faults_across_attempts_loses_or_duplicates_a_paid_job_exhaustively(
        case: dict[str, Any], ledger: Ledger) -> None:
    _run(case, ledger)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("with_ledger", [False, True], ids=["no-ledger", "ledger"])
def test_a_429_after_an_unreadable_clipia_accept_is_uncertain_with_the_key(mode: str, with_ledger: bool,
                                                                           ledger: Ledger) -> None:
    """The case of issue 17: the accept is cut short, every resend is answered 429."""
    key = str(uuid.uuid4())
    used = ledger if with_ledger else None
    out = asyncio.run(_submit(mode, "clipia", {"clipia": ["truncated", "429", "429", "429"]}, used, key))
    assert isinstance(out.error, SubmissionUncertainError) and out.error.idempotency_key == key
    _check(out, key, used)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_family_submit_never_falls_back_after_an_unreadable_accept_then_429s(mode: str,
                                                                                ledger: Ledger) -> None:
    key = str(uuid.uuid4())
    faults = {"clipia": ["truncated", "429", "429", "429", "429", "429"]}
    out = asyncio.run(_submit(mode, "family, clipia first", faults, ledger, key))
    assert isinstance(out.error, SubmissionUncertainError) and out.error.provider == "clipia"
    assert [name for name, _ in out.created] == ["clipia"]
    _check(out, key, ledger)
