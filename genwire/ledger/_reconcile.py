"""Reconcile: bring every open ledger entry up to date, safely from many hosts at once.

Each round claims entries (leases), so one worker polls a job per round. What is
done with an entry:

* it has a provider id: poll it once with the client's shared retry policy and apply
  what the provider says;
* it has none and its submit never went out (the process died first): submit it now;
* it has none and the provider takes idempotency keys (Clipia): submit it again with
  the same key; the provider answers with the job the first attempt created, if it
  did, so nothing is charged twice;
* it has none, its submit went out, and the provider has no idempotency (Cliprise):
  mark it ``uncertain`` with what an operator needs to find the job; never resent.

Every send to a provider without idempotency is fenced: the first request of a
submit is recorded before it goes out, and only by whoever holds the entry's lease,
so a submitter and a reconciler never both send the same entry.

Leases are per row and kept while the work on a row goes on: before a claimed entry is
driven its lease is renewed (a compare-and-set naming this worker), and a heartbeat
thread renews it every third of ``lease`` while the provider is slow. A worker that
finds its lease lost (it ran out while the worker stalled, and another took the entry)
stops touching that entry and records nothing; every write it would make names it as
the holder, so none can lower or replace the new holder's state.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._policy.flows import Attempts, refresh_flow
from ..errors import GenwireError, MalformedResponseError, SubmissionUncertainError
from ..models import Job, JobStatus
from ._entries import ApplyOutcome, LedgerEntry, LedgerState, uncertain_message

if TYPE_CHECKING:
    from .._policy.driver import Driver
    from ._ledger import Ledger

__all__ = ["Change", "LeaseLost", "Leased", "ReconcileReport", "reconcile"]

_BATCH = 50


@dataclass(frozen=True)
class Change:
    """One entry reconcile moved: from which state to which, and how."""

    ref: str
    provider: str
    provider_id: str | None
    before: str
    after: str
    action: str  # "poll", "resubmit" or "uncertain"


@dataclass
class ReconcileReport:
    """What one reconcile run did."""

    claimed: int = 0
    unchanged: int = 0
    changes: list[Change] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    #: claimed entries this run let go untouched: another worker took them over after the lease ran out
    lost: list[str] = field(default_factory=list)
    #: entries old enough that this run left alone because someone holds them: a submit still in
    #: flight (the ledger's ``intent_lease``, 120 s by default) or another reconciler; with when
    #: their lease ends
    leased: list[Leased] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"claimed": self.claimed, "unchanged": self.unchanged,
                "changes": [vars(c) for c in self.changes],
                "errors": [{"ref": ref, "error": message} for ref, message in self.errors],
                "lost": list(self.lost), "leased": [vars(entry) for entry in self.leased]}

    def summary(self) -> str:
        actions: dict[str, int] = {}
        for change in self.changes:
            actions[change.action] = actions.get(change.action, 0) + 1
        done = ", ".join(f"{n} {a}" for a, n in sorted(actions.items())) or "nothing changed"
        lost = f", {len(self.lost)} taken over by another worker" if self.lost else ""
        leased = ""
        if self.leased:
            first = min(entry.until for entry in self.leased)
            leased = (f"; {len(self.leased)} still leased, left alone (the first free at "
                      f"{time.strftime('%H:%M:%S', time.gmtime(first))} UTC)")
        return f"claimed {self.claimed}: {done}, {self.unchanged} unchanged, {len(self.errors)} errors{lost}{leased}"


@dataclass
class Leased:
    """An entry reconcile left alone because someone holds it until ``until`` (Unix seconds):
    ``why`` says who (its submit in flight, or another reconciler)."""

    ref: str
    state: str
    until: float
    why: str


class LeaseLost(Exception):
    """This worker no longer holds the entry's lease: it stops and records nothing."""


class _Heartbeat:
    """Renews this worker's lease on the entry it is driving every third of ``lease``, in a
    thread, while a slow provider keeps the work going. (Whether the lease is still held is
    decided by the writes themselves: each names this worker, so a lost lease writes nothing.)"""

    def __init__(self, ledger: Ledger, lease: float) -> None:
        self._ledger = ledger
        self._lease = lease
        self._ref: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="genwire-reconcile-lease", daemon=True)
        self._thread.start()

    def hold(self, ref: str | None) -> None:
        with self._lock:
            self._ref = ref

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        every = max(self._lease / 3, 0.005)
        try:
            while not self._stop.wait(every):
                # a database hiccup: try again next beat (the writes stay fenced either way)
                with self._lock, contextlib.suppress(Exception):
                    if self._ref is not None:
                        self._ledger.renew(self._ref, self._lease)
        finally:
            self._ledger._thread_done()


def _poll(ledger: Ledger, client: Driver, entry: LedgerEntry, provider_id: str, report: ReconcileReport) -> None:
    job = entry.job or Job(provider=entry.provider, model=entry.model, task=entry.task, id=provider_id,
                           status=JobStatus(entry.state.value))
    adapter = client.adapter(entry.provider)
    new: Job = client.drive(refresh_flow(adapter, job, client.retry, client.random))
    if ledger.apply(new, source="reconcile", held=True) is ApplyOutcome.APPLIED:
        report.changes.append(Change(entry.ref, entry.provider, entry.provider_id, entry.state.value,
                                     new.status.value, "poll"))
    elif not ledger.holds(entry.ref):
        raise LeaseLost(entry.ref)
    else:
        report.unchanged += 1


def _resubmit(ledger: Ledger, client: Driver, entry: LedgerEntry, report: ReconcileReport) -> None:
    request = entry.request.model_copy(update={
        "provider": entry.provider, "model": entry.model, "family": None,
        "task": entry.task or entry.request.task, "idempotency_key": entry.idempotency_key})
    from ._seam import TakenOver, fenced

    replay_safe = client.adapter(entry.provider).submit_replay_safe
    # the first submit may have gone out (a provider with idempotency keys is resent without a
    # mark): a refusal of this resend then does not mean no job exists for the key
    attempts = Attempts(may_have_created=entry.sent_at is not None or entry.error is not None or replay_safe)
    try:
        job: Job = client.drive(fenced(ledger, entry.ref, client.submit_flow(request, record=False,
                                                                                attempts=attempts),
                                        lambda p: client.adapter(p).submit_replay_safe))
    except TakenOver:
        raise LeaseLost(entry.ref) from None
    except (SubmissionUncertainError, MalformedResponseError) as err:
        if not ledger.note_error(entry.ref, str(err)):
            raise LeaseLost(entry.ref) from None
        raise
    except GenwireError as err:
        if not ledger.record_rejected(entry.ref, str(err), source="reconcile"):
            raise LeaseLost(entry.ref) from None
        report.changes.append(Change(entry.ref, entry.provider, None, entry.state.value,
                                     LedgerState.REJECTED.value, "resubmit"))
        return
    if ledger.record_accepted(entry.ref, job, source="reconcile") is ApplyOutcome.APPLIED:
        report.changes.append(Change(entry.ref, entry.provider, job.id, entry.state.value, job.status.value,
                                     "resubmit"))
    else:
        report.unchanged += 1


def _drive_one(ledger: Ledger, client: Driver, entry: LedgerEntry, report: ReconcileReport) -> None:
    if entry.provider_id is not None:
        _poll(ledger, client, entry, entry.provider_id, report)
    elif entry.sent_at is None or client.adapter(entry.provider).submit_replay_safe:
        # never sent (so never charged), or sent with a key the provider deduplicates on
        _resubmit(ledger, client, entry, report)
    else:
        if not ledger.record_uncertain(entry.ref, uncertain_message(entry), source="reconcile"):
            raise LeaseLost(entry.ref)
        report.changes.append(Change(entry.ref, entry.provider, None, entry.state.value,
                                     LedgerState.UNCERTAIN.value, "uncertain"))


def reconcile(ledger: Ledger, client: Driver, *, older_than: float = 60.0, limit: int = 500,
              lease: float = 300.0) -> ReconcileReport:
    """Drive up to ``limit`` open entries not heard of for ``older_than`` seconds.

    Entries are claimed in batches and released as they are done, so several
    reconcilers (threads, processes, hosts) share the work without polling a job
    twice in a round. Claims are sized to the lease: they start at one entry and double
    while a batch takes under half the lease, and the part of a batch that would outlast
    it at the pace so far is given back untouched. Each entry's lease is renewed before it is driven and kept alive
    while it is (``lease`` seconds at a time); an entry whose lease was lost is left to
    its new holder (``ReconcileReport.lost``). A failure on one entry is reported and the
    run goes on.
    """
    report = ReconcileReport()
    before = ledger._clock() - older_than  # fixed for the run: a released entry is not taken again
    heartbeat = _Heartbeat(ledger, lease)
    size = 1  # claims sized to the lease: they grow while a batch takes under half of it
    try:
        while report.claimed < limit:
            batch = ledger.claim(updated_before=before, limit=min(size, limit - report.claimed), lease=lease)
            if not batch:
                break
            claimed_at = time.monotonic()
            done = 0
            for entry in batch:
                # at this pace the rest of the batch would outlast the lease: give it back untouched
                # for other workers (or this one's next, smaller claim)
                if done and (time.monotonic() - claimed_at) * (done + 1) / done > lease:
                    ledger.give_back([e.ref for e in batch[done:]])
                    break
                report.claimed += 1
                done += 1
                _drive_held(ledger, client, entry, report, heartbeat, lease)
            took = time.monotonic() - claimed_at
            size = min(size * 2, _BATCH) if done == len(batch) and took * 2 < lease else max(1, done // 2)
    finally:
        heartbeat.close()
    report.leased = [Leased(e.ref, e.state.value, float(e.lease_until or 0.0),
                            "its submit may still be in flight (the ledger's intent_lease)"
                            if e.state is LedgerState.SUBMITTING else "another reconciler holds it")
                     for e in ledger.leased(updated_before=before)]
    return report


def _drive_held(ledger: Ledger, client: Driver, entry: LedgerEntry, report: ReconcileReport,
                heartbeat: _Heartbeat, lease: float) -> None:
    """Drive one claimed entry while this worker holds its lease; touch nothing once it is lost."""
    fresh = ledger.get(entry.ref) if ledger.renew(entry.ref, lease) else None
    if fresh is None:  # the batch's lease ran out before this row, and another worker took it
        report.lost.append(entry.ref)
        return
    entry = fresh  # as it is now: what the claim read may have moved on (a webhook, a poll)
    heartbeat.hold(entry.ref)
    try:
        _drive_one(ledger, client, entry, report)
    except LeaseLost:
        report.lost.append(entry.ref)
    except GenwireError as err:
        report.errors.append((entry.ref, str(err)))
    finally:
        heartbeat.hold(None)
        ledger.release(entry.ref)
