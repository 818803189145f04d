"""Group commit: concurrent writers share one transaction, each write's error stays its own, and
write-ahead holds for every one of them (each intent committed before its request goes out,
and none lost when the process is killed in the middle of a burst of submits)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from genwire import GenerationRequest, Job, JobStatus
from genwire.ledger import ApplyOutcome, Ledger, LedgerState, open_ledger
from genwire.testing import FakeClipia, FakeProviders
from genwire.testing.server import FakeServer

from .test_crash import WORKER, _env, _reconcile_until_settled

REQUEST = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})
WRITERS = 8


def _intent(ledger: Ledger, key: str) -> str:
    return ledger.record_intent(REQUEST, provider="clipia", model="nano-banana-2", task=None, idempotency_key=key)


def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition`` (a state to reach, not a duration to check)."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.002)


@contextmanager
def _first_batch_held(ledger: Ledger) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Hold the first batch's leader before its transaction until ``held`` is set (``entered``:
    it has taken its batch): every write made meanwhile queues behind it. The database and the
    batch code are the real ones."""
    group = ledger._group
    run, held, entered = group._run_batch, threading.Event(), threading.Event()

    def gated(batch: list[Any]) -> None:
        if not entered.is_set():
            entered.set()
            held.wait()
        run(batch)

    group._run_batch = gated  # type: ignore[method-assign]
    try:
        yield held, entered
    finally:
        held.set()
        group._run_batch = run  # type: ignore[method-assign]


def _threads(targets: list[Callable[[], None]]) -> list[threading.Thread]:
    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    return threads


def test_concurrent_writers_share_one_transaction(ledger: Ledger) -> None:
    group = ledger._group
    before = (group.transactions, group.writes)
    refs: list[str] = []
    with _first_batch_held(ledger) as (held, entered):
        first = _threads([lambda: refs.append(_intent(ledger, "first"))])
        entered.wait()
        rest = _threads([lambda i=i: refs.append(_intent(ledger, f"k{i}")) for i in range(WRITERS)])  # type: ignore[misc]
        _until(lambda: group.pending() == WRITERS, "every other writer queued behind the first")
        assert refs == []  # nobody returned before its transaction committed
        held.set()
        for t in first + rest:
            t.join()
    # the first writer's transaction, then one for all the others
    assert (group.transactions - before[0], group.writes - before[1]) == (2, WRITERS + 1)
    assert sorted(e.ref for e in ledger.entries()) == sorted(refs) and len(set(refs)) == WRITERS + 1


def test_one_writers_error_in_a_batch_stays_its_own(ledger: Ledger) -> None:
    taken = _intent(ledger, "a")
    assert ledger.record_accepted(taken, Job(provider="clipia", model="nano-banana-2", id="job-1",
                                             status=JobStatus.QUEUED)) is ApplyOutcome.APPLIED
    twice = _intent(ledger, "b")
    group = ledger._group
    outcomes: dict[str, Any] = {}
    with _first_batch_held(ledger) as (held, entered):
        first = _threads([lambda: outcomes.setdefault("first", _intent(ledger, "c"))])
        entered.wait()
        rest = _threads([
            # the same provider id again: a unique-key violation inside the batch
            lambda: outcomes.setdefault("dup", ledger.record_accepted(
                twice, Job(provider="clipia", model="nano-banana-2", id="job-1", status=JobStatus.QUEUED))),
            *[lambda i=i: outcomes.setdefault(f"k{i}", _intent(ledger, f"k{i}")) for i in range(3)],  # type: ignore[misc]
        ])
        _until(lambda: group.pending() == 4, "the batch queued")
        held.set()
        for t in first + rest:
            t.join()
    assert outcomes["dup"] is ApplyOutcome.STALE
    entry = ledger.get(twice)
    assert entry is not None and entry.state is LedgerState.REJECTED and "submitted twice" in (entry.error or "")
    for key in ("first", "k0", "k1", "k2"):  # the others of its batch committed
        found = ledger.get(outcomes[key])
        assert found is not None and found.state is LedgerState.SUBMITTING


def test_every_concurrent_submit_is_committed_before_its_request_goes_out(ledger_url: str) -> None:
    fakes = FakeProviders(clipia=FakeClipia(credits=1e9))
    seen: list[str] = []
    missing: list[str] = []
    with open_ledger(ledger_url) as ledger, open_ledger(ledger_url) as reader:
        def provider(request: httpx.Request) -> httpx.Response:
            key = request.headers.get("Idempotency-Key")
            if request.method == "POST" and key is not None:
                # another connection sees only what was committed
                found = reader.entries(idempotency_key=key)
                (seen if len(found) == 1 and found[0].state is LedgerState.SUBMITTING else missing).append(key)
            return fakes(request)

        with fakes.client(ledger=ledger, transport=httpx.MockTransport(provider)) as client:
            threads = _threads([lambda: [client.submit(REQUEST) for _ in range(5)] for _ in range(WRITERS)])
            for t in threads:
                t.join()
        assert missing == [] and len(seen) == 5 * WRITERS
        assert ledger.counts() == {"queued": 5 * WRITERS}


@pytest.mark.slow
def test_a_worker_killed_in_a_burst_of_concurrent_submits_loses_no_job(ledger_url: str) -> None:
    """Threads submitting at once share commits; the process is killed while submits are on the
    wire. Every job the provider created must have had its intent on disk first: after
    reconcile each is recorded, and each was charged once."""
    with FakeServer() as server:
        config = {"db": ledger_url, "api_keys": server.api_keys, "base_urls": server.base_urls,
                  "threads": WRITERS, "intent_lease": 0.5}
        worker = subprocess.Popen([sys.executable, str(WORKER), "burst", json.dumps(config)], env=_env(server),
                                  stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                  cwd=Path(__file__).resolve().parents[2])
        try:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "GO"
            _until(lambda: server.stats()["clipia"]["charged"] >= 3 * WRITERS, "submits went out")
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(30)
            if worker.stdout is not None:
                worker.stdout.close()
        time.sleep(0.6)  # the dead worker's intent leases run out
        _reconcile_until_settled(server, ledger_url)
        fake = server.fakes.fakes["clipia"]
        with open_ledger(ledger_url) as ledger:
            recorded = {e.provider_id for e in ledger.entries() if e.provider_id}
            assert set(fake.jobs) - recorded == set()
            assert server.stats()["clipia"]["charged"] == len(recorded)
            assert all(e.state is LedgerState.SUCCEEDED for e in ledger.entries())
