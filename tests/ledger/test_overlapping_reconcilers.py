"""Reconcilers that overlap never undo each other (issue 17, item 2).

Leases are per row, renewed while the work on a row goes on, and every write that marks,
ends or gives back a row names its holder: a worker whose lease was lost (it ran out and
another took the row over) records nothing. Checked on SQLite and PostgreSQL with two and
four reconcilers whose provider answers slower than the lease: every intent is sent
exactly once and recorded with its provider id; and, deterministically, the case of the
issue (a batch outlasting its lease while a second reconciler takes its tail).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from genwire import Client, GenerationRequest, Job, JobStatus, RetryPolicy
from genwire.ledger import Ledger, LedgerState, open_ledger
from genwire.ledger._reconcile import reconcile
from genwire.testing import FakeClipia, FakeCliprise, FakeProviders

HOOK = "https://gw.example.com/hooks/x"
TOKEN = "overlap-callback-token"
MODELS = {"cliprise": "nano-banana", "clipia": "nano-banana-2"}
RETRY = RetryPolicy(max_retries=0)


class Clock:
    """Wall time plus a shift a test can add (a lease running out without waiting for it)."""

    def __init__(self) -> None:
        self.shift = 0.0

    def __call__(self) -> float:
        return time.time() + self.shift


def _intents(url: str, providers: list[str], clock: Callable[[], float] = time.time) -> list[str]:
    """Submit intents whose submitting process died before sending (reconcile must send them)."""
    with open_ledger(url, intent_lease=0.0, clock=clock) as ledger:
        return [ledger.record_intent(
            GenerationRequest(provider=p, model=MODELS[p], input={"prompt": f"fox {i}"}, webhook_url=HOOK),
            provider=p, model=MODELS[p], task="text-to-image", idempotency_key=f"key-{i}-{p}")
            for i, p in enumerate(providers)]


class Slow:
    """The fakes, answering each submit ``delay`` seconds after creating its job; ``during_submit``
    runs (once per submit) while the reply is on its way."""

    def __init__(self, fakes: FakeProviders, delay: float, during_submit: Callable[[], None] | None = None) -> None:
        self.fakes, self.delay, self.during_submit = fakes, delay, during_submit

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = self.fakes(request)
        if request.method == "POST":
            if self.during_submit is not None:
                self.during_submit()
            time.sleep(self.delay)
        return response


def _client(fakes: FakeProviders, transport: Callable[[httpx.Request], httpx.Response]) -> Client:
    return Client(api_keys=fakes.api_keys, base_urls=fakes.base_urls, catalog=fakes.catalog, retry=RETRY,
                  callback_token=TOKEN, transport=httpx.MockTransport(transport))


def _job_keys(fakes: FakeProviders) -> dict[tuple[str, str], str]:
    """(provider, job id) -> the idempotency key of the submit that created it."""
    keys = {("clipia", j.id): j.idempotency_key or "" for j in fakes.clipia.jobs.values()}
    for job in fakes.cliprise.jobs.values():
        ref = parse_qs(urlsplit(job.webhook_url or "").query).get("genwire_ref", [""])
        keys[("cliprise", job.id)] = ref[0]
    return keys


def _check_sent_once(url: str, refs: list[str], fakes: FakeProviders) -> None:
    stats = fakes.stats()
    with open_ledger(url) as ledger:
        entries = {e.ref: e for e in ledger.entries()}
    keys = _job_keys(fakes)
    wrong = [(e.ref, e.state.value, e.provider_id, e.error) for e in entries.values()
             if e.provider_id is None or e.state in (LedgerState.REJECTED, LedgerState.UNCERTAIN)]
    assert wrong == [], f"entries not recorded with their provider id: {wrong}"
    recorded = {(e.provider, e.provider_id): e.idempotency_key for e in entries.values()}
    assert recorded == keys, "every job the fakes created is recorded, on the entry of the submit that made it"
    sent = {p: stats[p]["submits"] for p in stats}
    want = {p: sum(1 for e in entries.values() if e.provider == p) for p in stats}
    assert sent == want, f"submits sent {sent}, intents {want}"
    assert sorted(entries) == sorted(refs)


def _run_reconcilers(url: str, fakes: FakeProviders, count: int, *, lease: float, delay: float,
                     timeout: float = 60.0) -> list[Any]:
    """``count`` reconcilers (threads, each its own ledger and client) in rounds until every
    intent has a provider id."""
    failures: list[BaseException] = []
    reports: list[Any] = []
    start = threading.Barrier(count)

    def work() -> None:
        try:
            with open_ledger(url) as ledger, _client(fakes, Slow(fakes, delay)) as client:
                start.wait()
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    reports.append(reconcile(ledger, client, older_than=0, lease=lease))
                    if all(e.provider_id is not None or e.done for e in ledger.entries()):
                        return
                    time.sleep(0.01)
        except BaseException as exc:  # reported by the test
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    return reports


@pytest.mark.slow
@pytest.mark.parametrize("count", [2, 4])
def test_overlapping_reconcilers_with_a_provider_slower_than_the_lease_send_each_intent_once(
        ledger_url: str, count: int) -> None:
    """Two and four reconcilers, one database, a provider that answers each submit after 0.9 s
    (the lease is 0.6 s): every intent is sent exactly once and recorded with its provider id."""
    fakes = FakeProviders(FakeClipia(steps=1, credits=1e9), FakeCliprise(steps=1))
    refs = _intents(ledger_url, ["cliprise", "clipia"] * 6)
    reports = _run_reconcilers(ledger_url, fakes, count, lease=0.6, delay=0.9)
    stats = fakes.stats()
    print(f"\noverlap ({count} reconcilers): intents {len(refs)}, submits sent "
          f"{sum(s['submits'] for s in stats.values())}, jobs {sum(s['jobs'] for s in stats.values())}, "
          f"rows left to another worker {sum(len(r.lost) for r in reports)}")
    _check_sent_once(ledger_url, refs, fakes)
    assert not any(r.errors for r in reports), [r.errors for r in reports]


def test_a_batch_that_outlasts_its_lease_leaves_the_rows_another_reconciler_took(ledger_url: str) -> None:
    """The case of the issue, step by step: A claims a batch of four intents (its claims have
    grown over three quick polls); while A's first submit is on the wire A's lease on the rest
    runs out and B takes them and sends them. A must then leave them alone: no `rejected`,
    nothing sent twice, every entry with its provider id."""
    clock = Clock()
    fakes = FakeProviders(FakeClipia(steps=1), FakeCliprise(steps=1))
    with open_ledger(ledger_url, clock=clock) as setup, \
            Client(api_keys=fakes.api_keys, base_urls=fakes.base_urls, catalog=fakes.catalog, retry=RETRY,
                   callback_token=TOKEN, transport=httpx.MockTransport(fakes), ledger=setup) as recording:
        polled = [recording.submit(GenerationRequest(provider="cliprise", model=MODELS["cliprise"],
                                                     input={"prompt": f"quick {i}"}, webhook_url=HOOK))
                  for i in range(3)]
    submitted = [e.ref for e in _entries(ledger_url) if e.provider_id in {j.id for j in polled}]
    intents = _intents(ledger_url, ["cliprise"] * 4, clock)
    with open_ledger(ledger_url, clock=clock) as a, open_ledger(ledger_url, clock=clock) as b, \
            _client(fakes, fakes) as b_client:
        reports: dict[str, Any] = {}

        def b_takes_the_tail() -> None:
            if "b" not in reports:
                clock.shift += 100  # A's lease on its batch (60 s) runs out ...
                assert a.renew(intents[0], 60)  # ... but for the row A is on, which its heartbeat keeps
                reports["b"] = reconcile(b, b_client, older_than=0, lease=60)

        with _client(fakes, Slow(fakes, 0, b_takes_the_tail)) as a_client:
            reports["a"] = reconcile(a, a_client, older_than=0, lease=60)
    _check_sent_once(ledger_url, submitted + intents, fakes)
    assert reports["a"].claimed == 7 and sorted(reports["a"].lost) == sorted(intents[1:])
    assert not reports["a"].errors and len(reports["b"].changes) == 3


def _entries(url: str) -> list[Any]:
    with open_ledger(url) as ledger:
        return ledger.entries()


@pytest.fixture
def two(ledger_url: str) -> Iterator[tuple[Ledger, Ledger, Clock, str]]:
    clock = Clock()
    (ref,) = _intents(ledger_url, ["cliprise"], clock)
    with open_ledger(ledger_url, clock=clock) as a, open_ledger(ledger_url, clock=clock) as b:
        yield a, b, clock, ref


def test_a_worker_whose_lease_was_taken_over_changes_nothing(two: tuple[Ledger, Ledger, Clock, str]) -> None:
    a, b, clock, ref = two
    assert [e.ref for e in a.claim(updated_before=clock(), limit=5, lease=10)] == [ref]
    clock.shift += 11
    assert [e.ref for e in b.claim(updated_before=clock(), limit=5, lease=10)] == [ref]
    assert b.mark_sent(ref)
    job = Job(provider="cliprise", model="nano-banana", id="task-b", status=JobStatus.QUEUED)
    # A, no longer the holder: every write that marks, ends, renews or gives back the row is refused
    assert not a.renew(ref, 10) and not a.mark_sent(ref)
    assert not a.record_rejected(ref, "429 rate limited") and not a.note_error(ref, "timeout")
    assert not a.record_uncertain(ref, "?") and not a.release(ref)
    assert not a.retarget(ref, provider="clipia", model="nano-banana-2", task="text-to-image")
    entry = a.get(ref)
    assert entry is not None and (entry.state, entry.lease_owner) == (LedgerState.SUBMITTING, b.owner)
    b.record_accepted(ref, job, source="reconcile")
    assert not a.record_rejected(ref, "late refusal")
    entry = a.get(ref)
    assert entry is not None and (entry.state, entry.provider_id) == (LedgerState.QUEUED, "task-b")


def test_an_accepted_job_is_recorded_even_by_a_worker_that_lost_its_lease(
        two: tuple[Ledger, Ledger, Clock, str]) -> None:
    """The provider's id is the one thing a late worker may write: it only raises the state."""
    a, b, clock, ref = two
    a.claim(updated_before=clock(), limit=5, lease=10)
    assert a.mark_sent(ref)
    clock.shift += 11
    b.claim(updated_before=clock(), limit=5, lease=10)
    assert b.record_uncertain(ref, "sent, no reply yet")  # B: the submit went out and nothing names a job
    job = Job(provider="cliprise", model="nano-banana", id="task-a", status=JobStatus.QUEUED)
    a.record_accepted(ref, job)  # A's reply arrives after all
    entry = b.get(ref)
    assert entry is not None and (entry.state, entry.provider_id) == (LedgerState.QUEUED, "task-a")


def test_a_reconciler_keeps_its_lease_while_a_slow_provider_answers(ledger_url: str) -> None:
    """While A's submit is on the wire its lease would run out; A's heartbeat renews it, so B,
    arriving after the lease would have ended, takes nothing."""
    clock = Clock()
    fakes = FakeProviders(FakeClipia(steps=1), FakeCliprise(steps=1))
    (ref,) = _intents(ledger_url, ["cliprise"], clock)
    seen: list[Any] = []
    with open_ledger(ledger_url, clock=clock) as a, open_ledger(ledger_url, clock=clock) as b, \
            _client(fakes, fakes) as b_client:
        def b_tries() -> None:
            clock.shift += 100  # far past the 0.3 s lease
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # A's heartbeat (every 0.1 s) renews it from the new now
                entry = a.get(ref)
                if entry is not None and (entry.lease_until or 0) > clock():
                    break
                time.sleep(0.01)
            seen.append(reconcile(b, b_client, older_than=0, lease=0.3))

        with _client(fakes, Slow(fakes, 0, b_tries)) as a_client:
            report = reconcile(a, a_client, older_than=0, lease=0.3)
    assert seen[0].claimed == 0 and report.lost == [] and len(report.changes) == 1
    _check_sent_once(ledger_url, [ref], fakes)


def test_the_lease_heartbeat_leaves_no_sqlite_connection_behind(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path}/jobs.db"
    fakes = FakeProviders(FakeClipia(steps=1), FakeCliprise(steps=1))
    _intents(url, ["cliprise", "cliprise"])
    with open_ledger(url) as ledger, _client(fakes, Slow(fakes, 0.25)) as client:
        ledger.entries()  # this thread's connection
        for _ in range(2):  # each run's heartbeat renews during the slow submit, from its own thread
            assert len(reconcile(ledger, client, older_than=0, lease=0.15, limit=1).changes) == 1
        assert len(ledger._all) == 1  # type: ignore[attr-defined]
