"""The ``Ledger`` interface, written once over a small database seam.

Every write is one short transaction; every transition is a compare-and-set on
the row's rank (``UPDATE ... WHERE rank < new``), so concurrent appliers in
threads, processes or hosts cannot lose an update or apply one twice: the
database re-checks the condition under the row lock, and the (ref, state) key
of ``genwire_events`` refuses a second apply of the same state even if that
check were ever bypassed.

Leases. A row is driven by whoever holds its lease (``lease_owner``): the submitting
process (``record_intent``) or a reconciler (``claim``), renewed while its work goes on
(``renew``). Every write that marks, ends or gives back a row names the holder in its
compare-and-set (``... AND lease_owner = ?``), so a worker whose lease was lost (taken over
after it ran out) changes nothing: it can neither lower nor replace the new holder's state.
The one write anyone may make is the provider's word, an accepted job's id
(``record_accepted``): it only raises the state and never replaces another id, so a paid
job a late worker was told about is never dropped.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ConfigurationError, UnknownNameError
from ..models import GenerationRequest, Job
from ._entries import RANK, TERMINAL_RANK, ApplyOutcome, LedgerEntry, LedgerEvent, LedgerState, state_of
from ._schema import COLUMNS, MIGRATIONS, SCHEMA_VERSION

if TYPE_CHECKING:
    from .._policy.driver import Driver
    from ._reconcile import ReconcileReport

__all__ = ["ApplyOutcome", "DEFAULT_INTENT_LEASE", "Ledger", "Tx"]

#: how long a submitting process owns its intent row before reconcile may take it over
DEFAULT_INTENT_LEASE = 120.0
_SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM genwire_jobs"
_OPEN = f"rank < {TERMINAL_RANK} AND state <> 'uncertain'"


class Tx(Protocol):
    """One open transaction. SQL uses ``?`` placeholders on every backend."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _job_json(job: Job) -> str:
    return job.model_dump_json()


class Ledger(ABC):
    """A durable record of jobs in the caller's own database (``sqlite:///`` or ``postgresql://``).

    Open one with ``open_ledger(url)``; share it between threads. The schema is
    created and migrated on open.
    """

    #: the backend's exception for a unique-key violation
    _integrity_errors: tuple[type[Exception], ...] = ()

    def __init__(self, url: str, *, intent_lease: float = DEFAULT_INTENT_LEASE,
                 clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self.intent_lease = intent_lease
        #: who holds the leases this ledger takes (host:pid:random)
        self.owner = _owner()
        self._clock = clock

    # -- the database seam (per backend) ------------------------------------------------
    @abstractmethod
    def _transaction(self, write: bool = True) -> AbstractContextManager[Tx]:
        """A transaction, committed on success and rolled back on error. A ``write``
        transaction takes the write lock up front on SQLite (``BEGIN IMMEDIATE``)."""

    #: appended to the claim query (PostgreSQL: ``FOR UPDATE SKIP LOCKED``)
    _claim_lock = ""

    def _lock_schema(self, tx: Tx) -> None:  # noqa: B027 (optional hook)
        """Serialize concurrent migrations (PostgreSQL: an advisory lock)."""

    def _thread_done(self) -> None:  # noqa: B027 (optional hook)
        """The calling thread will not use the ledger again (SQLite: close its connection)."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._display_url()!r})"

    def _display_url(self) -> str:
        return self.url

    # -- schema ----------------------------------------------------------------------------
    def _migrate(self) -> None:
        with self._transaction() as tx:
            self._lock_schema(tx)
            tx.execute("CREATE TABLE IF NOT EXISTS genwire_schema (version INTEGER NOT NULL)")
            found = tx.rows("SELECT version FROM genwire_schema")
            current = int(found[0][0]) if found else 0
            if current > SCHEMA_VERSION:
                raise ConfigurationError(
                    f"the ledger at {self._display_url()} has schema version {current}; this genwire knows "
                    f"up to {SCHEMA_VERSION}: upgrade genwire", code="ledger_schema_too_new")
            for statements in MIGRATIONS[current:]:
                for sql in statements:
                    tx.execute(sql)
            if not found:
                tx.execute("INSERT INTO genwire_schema (version) VALUES (?)", (SCHEMA_VERSION,))
            elif current < SCHEMA_VERSION:
                tx.execute("UPDATE genwire_schema SET version = ?", (SCHEMA_VERSION,))

    def schema_version(self) -> int:
        with self._transaction(write=False) as tx:
            return int(tx.rows("SELECT version FROM genwire_schema")[0][0])

    # -- write-ahead submit -------------------------------------------------------------------
    def record_intent(self, request: GenerationRequest, *, provider: str, model: str, task: str | None,
                      idempotency_key: str) -> str:
        """Record a submit about to go on the wire; return its local reference.

        The row is leased to this ledger's owner for ``intent_lease`` seconds, so
        reconcile leaves an in-flight submit alone until its process has had time.
        """
        ref = uuid.uuid4().hex
        now = self._clock()
        with self._transaction() as tx:
            tx.execute(
                "INSERT INTO genwire_jobs (ref, provider, model, task, request, idempotency_key, state, rank, "
                "created_at, updated_at, lease_owner, lease_until, version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (ref, provider, model, task, request.model_dump_json(), idempotency_key, LedgerState.SUBMITTING.value,
                 RANK[LedgerState.SUBMITTING], now, now, self.owner, now + self.intent_lease))
        return ref

    def mark_sent(self, ref: str) -> bool:
        """Record that the submit's first request to a provider without idempotency is about to
        go out. False when this ledger's owner no longer holds the entry (reconcile took it
        over): the caller must not send."""
        with self._transaction() as tx:
            return tx.execute("UPDATE genwire_jobs SET sent_at = COALESCE(sent_at, ?) "
                              "WHERE ref = ? AND state = 'submitting' AND lease_owner = ?",
                              (self._clock(), ref, self.owner)) == 1

    def retarget(self, ref: str, *, provider: str, model: str, task: str | None) -> bool:
        """A family submit moved on to another provider (the last one certainly created no job).
        False when this ledger's owner no longer holds the entry (nothing is changed)."""
        with self._transaction() as tx:
            return tx.execute("UPDATE genwire_jobs SET provider = ?, model = ?, task = ?, updated_at = ?, "
                              "version = version + 1 WHERE ref = ? AND state = 'submitting' AND lease_owner = ?",
                              (provider, model, task, self._clock(), ref, self.owner)) == 1

    def renew(self, ref: str, lease: float) -> bool:
        """Extend this ledger's owner's lease on ``ref`` to ``lease`` seconds from now. False when
        it no longer holds it (another worker took it over, or it was given back): the caller
        must stop touching the entry and record nothing."""
        with self._transaction() as tx:
            return tx.execute("UPDATE genwire_jobs SET lease_until = ? WHERE ref = ? AND lease_owner = ?",
                              (self._clock() + lease, ref, self.owner)) == 1

    def holds(self, ref: str) -> bool:
        """Whether this ledger's owner holds the entry's lease (reading; ``renew`` to keep it)."""
        with self._transaction(write=False) as tx:
            return bool(tx.rows("SELECT 1 FROM genwire_jobs WHERE ref = ? AND lease_owner = ?", (ref, self.owner)))

    def record_accepted(self, ref: str, job: Job, *, source: str = "submit") -> ApplyOutcome:
        """The provider accepted the submit: attach its id and the job's state."""
        state = state_of(job.status)
        now = self._clock()
        cost = job.cost.credits if job.cost is not None else None
        try:
            with self._transaction() as tx:
                hit = tx.rows(
                    "UPDATE genwire_jobs SET provider = ?, model = ?, task = COALESCE(?, task), provider_id = ?, "
                    "state = ?, rank = ?, job = ?, cost = COALESCE(?, cost), error = NULL, updated_at = ?, "
                    "lease_owner = NULL, lease_until = NULL, version = version + 1 "
                    "WHERE ref = ? AND rank < ? AND (provider_id IS NULL OR provider_id = ?) RETURNING ref",
                    (job.provider, job.model, job.task, job.id, state.value, RANK[state], _job_json(job), cost, now,
                     ref, RANK[state], job.id))
                if hit:
                    self._event(tx, ref, state, source, now)
                    return ApplyOutcome.APPLIED
        except self._integrity_errors:
            other = self.find(job.provider, job.id)
            self._end(ref, LedgerState.REJECTED,
                      f"the provider returned job {job.id}, already recorded as {other.ref if other else '?'} "
                      "(the same idempotency key was submitted twice)", "submit", held=False)
            return ApplyOutcome.STALE
        return ApplyOutcome.STALE if self.get(ref) is not None else ApplyOutcome.UNKNOWN

    def record_rejected(self, ref: str, error: str, *, source: str = "submit") -> bool:
        """The submit certainly created no job (a refusal the provider answered). Only by the
        entry's lease holder: False (nothing changed) when this ledger's owner no longer holds it."""
        return self._end(ref, LedgerState.REJECTED, error, source, held=True)

    def record_uncertain(self, ref: str, error: str, *, source: str = "submit") -> bool:
        """A submit that may have created a job no reply named, on a provider that cannot be asked
        again safely. Reconcile never resends it; ``attach`` or ``abandon`` resolves it. Only by
        the entry's lease holder (False otherwise: nothing changed)."""
        now = self._clock()
        with self._transaction() as tx:
            hit = tx.rows("UPDATE genwire_jobs SET state = 'uncertain', rank = ?, error = ?, updated_at = ?, "
                          "lease_owner = NULL, lease_until = NULL, version = version + 1 "
                          "WHERE ref = ? AND rank < ? AND lease_owner = ? RETURNING ref",
                          (RANK[LedgerState.UNCERTAIN], error, now, ref, RANK[LedgerState.UNCERTAIN], self.owner))
            if hit:
                self._event(tx, ref, LedgerState.UNCERTAIN, source, now)
        return bool(hit)

    def note_error(self, ref: str, error: str) -> bool:
        """Keep the last error of a submit that stays open (reconcile will resubmit it) and give
        the entry back. Only by its lease holder (False otherwise: nothing changed)."""
        with self._transaction() as tx:
            return tx.execute("UPDATE genwire_jobs SET error = ?, lease_owner = NULL, lease_until = NULL "
                              "WHERE ref = ? AND state = 'submitting' AND lease_owner = ?",
                              (error, ref, self.owner)) == 1

    def _end(self, ref: str, state: LedgerState, error: str, source: str, *, held: bool) -> bool:
        """Close the entry; with ``held``, only if this ledger's owner holds its lease."""
        now = self._clock()
        owned = " AND lease_owner = ?" if held else ""
        with self._transaction() as tx:
            hit = tx.rows("UPDATE genwire_jobs SET state = ?, rank = ?, error = ?, updated_at = ?, lease_owner = NULL, "
                          f"lease_until = NULL, version = version + 1 WHERE ref = ? AND rank < ?{owned} RETURNING ref",
                          (state.value, RANK[state], error, now, ref, RANK[state], *((self.owner,) if held else ())))
            if hit:
                self._event(tx, ref, state, source, now)
        return bool(hit)

    @staticmethod
    def _event(tx: Tx, ref: str, state: LedgerState, source: str, now: float) -> None:
        tx.execute("INSERT INTO genwire_events (ref, state, source, at) VALUES (?, ?, ?, ?)",
                   (ref, state.value, source, now))

    # -- applying what was seen afterwards ------------------------------------------------------
    def apply(self, job: Job, *, source: str = "poll", held: bool = False) -> ApplyOutcome:
        """Apply a status seen for a job (poll, wait, webhook), found by provider and id.

        Only forward: a repeat, an older state or anything after a terminal state is
        ``STALE`` and changes nothing but the snapshot of a still-open job. ``held``
        (reconcile): only while this ledger's owner holds the entry's lease (else ``STALE``).
        """
        state = state_of(job.status)
        rank = RANK[state]
        now = self._clock()
        cost = job.cost.credits if job.cost is not None else None
        owned, owner = (" AND lease_owner = ?", (self.owner,)) if held else ("", ())
        with self._transaction() as tx:
            hit = tx.rows(
                "UPDATE genwire_jobs SET state = ?, rank = ?, job = ?, cost = COALESCE(?, cost), updated_at = ?, "
                f"version = version + 1 WHERE provider = ? AND provider_id = ? AND rank < ?{owned} RETURNING ref",
                (state.value, rank, _job_json(job), cost, now, job.provider, job.id, rank, *owner))
            if hit:
                self._event(tx, str(hit[0][0]), state, source, now)
                return ApplyOutcome.APPLIED
            if rank < TERMINAL_RANK:  # same open state again: keep the newer snapshot (progress)
                seen = tx.execute("UPDATE genwire_jobs SET job = ?, updated_at = ? "
                                  f"WHERE provider = ? AND provider_id = ? AND state = ?{owned}",
                                  (_job_json(job), now, job.provider, job.id, state.value, *owner))
                if seen:
                    return ApplyOutcome.STALE
            found = tx.rows("SELECT ref FROM genwire_jobs WHERE provider = ? AND provider_id = ?",
                            (job.provider, job.id))
        return ApplyOutcome.STALE if found else ApplyOutcome.UNKNOWN

    # -- operators -------------------------------------------------------------------------------
    def attach(self, ref: str, provider_id: str) -> LedgerEntry:
        """Resolve an uncertain (or still submitting) entry: the operator found the provider's job.
        Reconcile then polls it like any other."""
        now = self._clock()
        with self._transaction() as tx:
            hit = tx.rows("UPDATE genwire_jobs SET provider_id = ?, state = 'queued', rank = ?, error = NULL, "
                          "updated_at = ?, lease_owner = NULL, lease_until = NULL, version = version + 1 "
                          "WHERE ref = ? AND rank < ? RETURNING ref",
                          # updated_at 0: due for the next reconcile at once
                          (provider_id, RANK[LedgerState.QUEUED], 0.0, ref, RANK[LedgerState.QUEUED]))
            if hit:
                self._event(tx, ref, LedgerState.QUEUED, "operator", now)
        return self._require(ref)

    def abandon(self, ref: str, reason: str = "abandoned by an operator") -> LedgerEntry:
        """Close an uncertain entry the operator found created no job."""
        self._end(ref, LedgerState.REJECTED, reason, "operator", held=False)
        return self._require(ref)

    def _require(self, ref: str) -> LedgerEntry:
        entry = self.get(ref)
        if entry is None:
            raise UnknownNameError(f"no ledger entry {ref!r}", code="not_found")
        return entry

    # -- reading -------------------------------------------------------------------------------
    def get(self, ref: str) -> LedgerEntry | None:
        with self._transaction(write=False) as tx:
            found = tx.rows(_SELECT + " WHERE ref = ?", (ref,))
        return _entry(found[0]) if found else None

    def find(self, provider: str, provider_id: str) -> LedgerEntry | None:
        with self._transaction(write=False) as tx:
            found = tx.rows(_SELECT + " WHERE provider = ? AND provider_id = ?", (provider, provider_id))
        return _entry(found[0]) if found else None

    def entries(self, *, state: LedgerState | str | None = None, provider: str | None = None,
                limit: int | None = None, since: float | None = None, idempotency_key: str | None = None,
                newest_first: bool = False) -> list[LedgerEntry]:
        """Entries, oldest first (or ``newest_first``), optionally of one state, provider or idempotency
        key, or created at or after ``since`` (Unix seconds)."""
        where: list[str] = []
        params: list[Any] = []
        if state is not None:
            where.append("state = ?")
            params.append(LedgerState(state).value)
        if provider is not None:
            where.append("provider = ?")
            params.append(provider)
        if since is not None:
            where.append("created_at >= ?")
            params.append(float(since))
        if idempotency_key is not None:
            where.append("idempotency_key = ?")
            params.append(idempotency_key)
        order = " ORDER BY created_at DESC, ref DESC" if newest_first else " ORDER BY created_at, ref"
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + order
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._transaction(write=False) as tx:
            return [_entry(row) for row in tx.rows(sql, params)]

    def events(self, ref: str | None = None) -> list[LedgerEvent]:
        """Applied transitions, oldest first (of one entry, or all)."""
        sql = "SELECT ref, state, source, at FROM genwire_events"
        params: tuple[str, ...] = ()
        if ref is not None:
            sql += " WHERE ref = ?"
            params = (ref,)
        with self._transaction(write=False) as tx:
            rows = tx.rows(sql + " ORDER BY at, ref", params)
        return [LedgerEvent(str(r[0]), LedgerState(r[1]), str(r[2]), float(r[3])) for r in rows]

    def counts(self) -> dict[str, int]:
        """How many entries are in each state."""
        with self._transaction(write=False) as tx:
            return {str(s): int(n) for s, n in tx.rows("SELECT state, COUNT(*) FROM genwire_jobs GROUP BY state")}

    # -- claims for reconcile -------------------------------------------------------------------
    def claim(self, *, updated_before: float, limit: int, lease: float) -> list[LedgerEntry]:
        """Take up to ``limit`` open entries last heard of before ``updated_before`` (Unix seconds)
        that nobody holds, leasing them to this ledger's owner for ``lease`` seconds."""
        now = self._clock()
        with self._transaction() as tx:
            rows = tx.rows(_SELECT + f" WHERE {_OPEN} AND updated_at < ? AND (lease_until IS NULL OR lease_until < ?) "
                           "ORDER BY updated_at LIMIT ?" + self._claim_lock, (updated_before, now, limit))
            for row in rows:
                tx.execute("UPDATE genwire_jobs SET lease_owner = ?, lease_until = ? WHERE ref = ?",
                           (self.owner, now + lease, row[0]))
        return [_entry(row) for row in rows]

    def leased(self, *, updated_before: float) -> list[LedgerEntry]:
        """Open entries last heard of before ``updated_before`` that someone holds now: a submit in
        flight (its intent lease, ``intent_lease``) or another reconciler's claim; soonest free first."""
        with self._transaction(write=False) as tx:
            rows = tx.rows(_SELECT + f" WHERE {_OPEN} AND updated_at < ? AND lease_until >= ? ORDER BY lease_until",
                           (updated_before, self._clock()))
        return [_entry(row) for row in rows]

    def release(self, ref: str) -> bool:
        """Give back a claimed entry; it counts as looked at now. False when this ledger's owner
        no longer held it (nothing changed)."""
        with self._transaction() as tx:
            return tx.execute("UPDATE genwire_jobs SET lease_owner = NULL, lease_until = NULL, updated_at = ? "
                              "WHERE ref = ? AND lease_owner = ?", (self._clock(), ref, self.owner)) == 1

    def give_back(self, refs: Sequence[str]) -> None:
        """Give back claimed entries untouched (not counted as looked at): another worker may
        take them at once."""
        with self._transaction() as tx:
            for ref in refs:
                tx.execute("UPDATE genwire_jobs SET lease_owner = NULL, lease_until = NULL "
                           "WHERE ref = ? AND lease_owner = ?", (ref, self.owner))

    def reconcile(self, client: Driver, *, older_than: float = 60.0, limit: int = 500,
                  lease: float = 300.0) -> ReconcileReport:
        """Drive every open entry not heard of for ``older_than`` seconds (see ``genwire.ledger.reconcile``)."""
        from ._reconcile import reconcile

        return reconcile(self, client, older_than=older_than, limit=limit, lease=lease)


def _entry(row: Sequence[Any]) -> LedgerEntry:
    values = dict(zip(COLUMNS, row, strict=True))
    job = values["job"]
    return LedgerEntry(
        ref=str(values["ref"]), provider=str(values["provider"]), model=str(values["model"]),
        task=values["task"], request=GenerationRequest.model_validate_json(values["request"]),
        idempotency_key=str(values["idempotency_key"]), provider_id=values["provider_id"],
        state=LedgerState(values["state"]), job=Job.model_validate_json(job) if job else None,
        cost=None if values["cost"] is None else float(values["cost"]), error=values["error"],
        created_at=float(values["created_at"]), updated_at=float(values["updated_at"]),
        lease_owner=values["lease_owner"],
        lease_until=None if values["lease_until"] is None else float(values["lease_until"]),
        version=int(values["version"]),
        sent_at=None if values["sent_at"] is None else float(values["sent_at"]),
    )
