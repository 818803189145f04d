"""The ledger on its own, the same tests on SQLite and on PostgreSQL: schema, write-ahead
records, monotonic compare-and-set transitions, claims and operator actions."""

from __future__ import annotations

import random
import threading
from collections import Counter
from pathlib import Path

import pytest

from genwire import ConfigurationError, GenerationRequest, Job, JobStatus
from genwire.ledger import SCHEMA_VERSION, ApplyOutcome, Ledger, LedgerState, open_ledger

REQUEST = GenerationRequest(provider="clipia", model="nano-banana-2", input={"prompt": "a fox"})


def intent(ledger: Ledger, key: str = "key-1") -> str:
    return ledger.record_intent(REQUEST, provider="clipia", model="nano-banana-2", task="text-to-image",
                                idempotency_key=key)


def job(provider_id: str, status: JobStatus, **update: object) -> Job:
    return Job(provider="clipia", model="nano-banana-2", task="text-to-image", id=provider_id, status=status,
               **update)  # type: ignore[arg-type]


def accepted(ledger: Ledger, provider_id: str, key: str | None = None) -> str:
    ref = intent(ledger, key or f"key-{provider_id}")
    assert ledger.record_accepted(ref, job(provider_id, JobStatus.QUEUED)) is ApplyOutcome.APPLIED
    return ref


# -- schema ----------------------------------------------------------------------------------------

def test_opening_creates_the_schema_at_the_current_version(ledger: Ledger) -> None:
    assert ledger.schema_version() == SCHEMA_VERSION
    assert ledger.entries() == []


def test_reopening_keeps_the_entries_and_the_version(ledger_url: str) -> None:
    with open_ledger(ledger_url) as first:
        ref = intent(first)
    with open_ledger(ledger_url) as second:
        assert second.schema_version() == SCHEMA_VERSION
        assert [e.ref for e in second.entries()] == [ref]


def test_a_database_from_a_newer_genwire_is_refused(ledger: Ledger, ledger_url: str) -> None:
    with ledger._transaction() as tx:
        tx.execute("UPDATE genwire_schema SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(ConfigurationError, match="schema version") as info:
        open_ledger(ledger_url)
    assert info.value.code == "ledger_schema_too_new"


# -- write-ahead submit ------------------------------------------------------------------------------

def test_an_intent_is_recorded_submitting_and_leased_before_any_provider_id(ledger: Ledger) -> None:
    ref = intent(ledger)
    entry = ledger.get(ref)
    assert entry is not None
    assert (entry.state, entry.provider_id, entry.idempotency_key) == (LedgerState.SUBMITTING, None, "key-1")
    assert entry.request == REQUEST and entry.lease_owner == ledger.owner


def test_acceptance_attaches_the_provider_id_state_and_cost(ledger: Ledger) -> None:
    ref = intent(ledger)
    from genwire import Cost
    ledger.record_accepted(ref, job("req-1", JobStatus.QUEUED, cost=Cost(credits=4)))
    entry = ledger.find("clipia", "req-1")
    assert entry is not None and entry.ref == ref
    assert (entry.state, entry.cost, entry.lease_owner) == (LedgerState.QUEUED, 4.0, None)
    assert [(e.state, e.source) for e in ledger.events(ref)] == [(LedgerState.QUEUED, "submit")]


def test_entries_filter_by_key_and_creation_time_newest_first(ledger: Ledger) -> None:
    refs = [intent(ledger, key) for key in ("a", "b", "a")]
    newest = ledger.entries(newest_first=True)
    assert [e.ref for e in newest] == [e.ref for e in reversed(ledger.entries())]
    assert {e.ref for e in newest} == set(refs)
    assert {e.ref for e in ledger.entries(idempotency_key="a")} == {refs[0], refs[2]}
    later = newest[0].created_at
    assert [e.ref for e in ledger.entries(since=later)] == [e.ref for e in newest if e.created_at >= later]
    assert len(ledger.entries(newest_first=True, limit=2)) == 2


def test_a_refused_submit_is_rejected_and_final(ledger: Ledger) -> None:
    ref = intent(ledger)
    ledger.record_rejected(ref, "402 insufficient credits")
    ledger.record_accepted(ref, job("late", JobStatus.QUEUED))
    entry = ledger.get(ref)
    assert entry is not None and (entry.state, entry.provider_id) == (LedgerState.REJECTED, None)
    assert entry.error == "402 insufficient credits"


def test_the_same_provider_job_on_a_second_intent_rejects_that_intent(ledger: Ledger) -> None:
    first = accepted(ledger, "req-1", key="same")
    second = intent(ledger, "same")
    assert ledger.record_accepted(second, job("req-1", JobStatus.QUEUED)) is ApplyOutcome.STALE
    entry = ledger.get(second)
    assert entry is not None and entry.state is LedgerState.REJECTED and first in (entry.error or "")


# -- applying statuses -----------------------------------------------------------------------------------

def test_statuses_move_forward_and_each_is_recorded_once(ledger: Ledger) -> None:
    ref = accepted(ledger, "req-1")
    assert ledger.apply(job("req-1", JobStatus.RUNNING, progress=10), source="webhook") is ApplyOutcome.APPLIED
    assert ledger.apply(job("req-1", JobStatus.RUNNING, progress=50)) is ApplyOutcome.STALE
    assert ledger.apply(job("req-1", JobStatus.SUCCEEDED), source="poll") is ApplyOutcome.APPLIED
    assert [(e.state.value, e.source) for e in ledger.events(ref)] == [
        ("queued", "submit"), ("running", "webhook"), ("succeeded", "poll")]


def test_a_repeat_of_an_open_status_refreshes_the_snapshot_only(ledger: Ledger) -> None:
    accepted(ledger, "req-1")
    ledger.apply(job("req-1", JobStatus.RUNNING, progress=10))
    ledger.apply(job("req-1", JobStatus.RUNNING, progress=60))
    entry = ledger.find("clipia", "req-1")
    assert entry is not None and entry.job is not None and entry.job.progress == 60


@pytest.mark.parametrize("late", [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED, JobStatus.SUCCEEDED])
def test_nothing_replaces_a_terminal_status(ledger: Ledger, late: JobStatus) -> None:
    ref = accepted(ledger, "req-1")
    ledger.apply(job("req-1", JobStatus.SUCCEEDED, progress=100))
    assert ledger.apply(job("req-1", late)) is ApplyOutcome.STALE
    entry = ledger.get(ref)
    assert entry is not None and entry.state is LedgerState.SUCCEEDED
    assert entry.job is not None and entry.job.progress == 100


def test_a_status_for_a_job_the_ledger_never_saw_is_unknown(ledger: Ledger) -> None:
    assert ledger.apply(job("nobody", JobStatus.SUCCEEDED)) is ApplyOutcome.UNKNOWN


def test_concurrent_appliers_apply_each_status_once_and_end_terminal(ledger: Ledger) -> None:
    ids = [f"req-{i}" for i in range(40)]
    for provider_id in ids:
        accepted(ledger, provider_id)
    updates = [job(p, s) for p in ids for s in (JobStatus.RUNNING, JobStatus.SUCCEEDED) for _ in range(3)]
    random.Random(7).shuffle(updates)
    applied: Counter[tuple[str, str]] = Counter()
    lock = threading.Lock()

    def worker(share: list[Job]) -> None:
        for update in share:
            if ledger.apply(update, source="webhook") is ApplyOutcome.APPLIED:
                with lock:
                    applied[(update.id, update.status.value)] += 1

    threads = [threading.Thread(target=worker, args=(updates[i::6],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(e.state is LedgerState.SUCCEEDED for e in ledger.entries())
    assert {p: applied[(p, "succeeded")] for p in ids} == dict.fromkeys(ids, 1)
    assert max(applied.values()) == 1
    events = Counter((e.ref, e.state) for e in ledger.events())
    assert max(events.values()) == 1


# -- claims ----------------------------------------------------------------------------------------------------

def test_claims_by_two_owners_are_disjoint_and_leased(ledger_url: str) -> None:
    with open_ledger(ledger_url, intent_lease=0) as one, open_ledger(ledger_url) as two:
        refs = {accepted(one, f"req-{i}") for i in range(10)}
        far = one._clock() + 10
        first = one.claim(updated_before=far, limit=6, lease=60)
        second = two.claim(updated_before=far, limit=6, lease=60)
        assert len(first) == 6 and len(second) == 4
        assert {e.ref for e in first} | {e.ref for e in second} == refs
        assert not {e.ref for e in first} & {e.ref for e in second}
        assert one.claim(updated_before=far, limit=6, lease=60) == []
        for entry in first:
            one.release(entry.ref)
        assert len(two.claim(updated_before=two._clock() + 10, limit=10, lease=60)) == 6


def test_claims_skip_terminal_uncertain_recent_and_leased_entries(ledger_url: str) -> None:
    with open_ledger(ledger_url) as ledger:
        done = accepted(ledger, "req-done")
        ledger.apply(job("req-done", JobStatus.FAILED))
        unsure = intent(ledger, "k-unsure")
        ledger.record_uncertain(unsure, "no reply")
        intent(ledger, "k-in-flight")  # leased to its submitter
        open_one = accepted(ledger, "req-open")
        now = ledger._clock()
        assert ledger.claim(updated_before=now - 3600, limit=10, lease=60) == []
        assert [e.ref for e in ledger.claim(updated_before=now + 1, limit=10, lease=60)] == [open_one]
        assert done and unsure


# -- operators ----------------------------------------------------------------------------------------------------

def test_an_operator_attaches_the_provider_job_to_an_uncertain_entry(ledger: Ledger) -> None:
    ref = intent(ledger)
    ledger.record_uncertain(ref, "no reply")
    entry = ledger.attach(ref, "task-9")
    assert (entry.state, entry.provider_id) == (LedgerState.QUEUED, "task-9")
    assert ledger.apply(job("task-9", JobStatus.SUCCEEDED)) is ApplyOutcome.APPLIED
    assert [e.source for e in ledger.events(ref)] == ["submit", "operator", "poll"]


def test_an_operator_abandons_an_uncertain_entry(ledger: Ledger) -> None:
    ref = intent(ledger)
    ledger.record_uncertain(ref, "no reply")
    assert ledger.abandon(ref, "no task in the dashboard").state is LedgerState.REJECTED


# -- URLs ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite://", "sqlite:///:memory:", "sqlite://host/x.db", "jobs.db"])
def test_a_bad_ledger_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        open_ledger(url)
    assert info.value.code == "bad_ledger_url"


def test_a_sqlite_ledger_in_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        open_ledger(f"sqlite:///{tmp_path}/nowhere/jobs.db")


def test_an_unreachable_postgres_is_a_configuration_error_without_the_password() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(ConfigurationError) as info:
        open_ledger("postgresql://gw:hunter2secret@127.0.0.1:1/jobs", connect_timeout=0.5)
    assert info.value.code == "ledger_unreachable" and "hunter2secret" not in str(info.value)


def test_a_version_1_database_is_migrated_in_place(ledger_url: str) -> None:
    with open_ledger(ledger_url) as ledger:
        ref = accepted(ledger, "req-1")
        with ledger._transaction() as tx:
            tx.execute("ALTER TABLE genwire_jobs DROP COLUMN sent_at")
            tx.execute("UPDATE genwire_schema SET version = 1")
    with open_ledger(ledger_url) as migrated:
        entry = migrated.get(ref)
        assert migrated.schema_version() == SCHEMA_VERSION == 2
        assert entry is not None and entry.provider_id == "req-1" and entry.sent_at is None


def test_only_the_lease_holder_may_mark_a_submit_sent(ledger_url: str) -> None:
    with open_ledger(ledger_url, intent_lease=0) as submitter, open_ledger(ledger_url) as reconciler:
        ref = intent(submitter)
        [claimed] = reconciler.claim(updated_before=reconciler._clock() + 1, limit=1, lease=60)
        assert claimed.ref == ref
        assert submitter.mark_sent(ref) is False
        assert reconciler.mark_sent(ref) is True
        entry = reconciler.get(ref)
        assert entry is not None and entry.sent_at is not None
