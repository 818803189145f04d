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
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..errors import ConfigurationError, UnknownNameError
from ..models import GenerationRequest, Job
from ._entries import RANK, TERMINAL_RANK, ApplyOutcome, LedgerEntry, LedgerEvent, LedgerState, state_of
from ._group import GroupCommit, Op, Result, Write
from ._schema import COLUMNS, MIGRATIONS, SCHEMA_VERSION

if TYPE_CHECKING:
    from .._policy.driver import Driver
    from ._reconcile import ReconcileReport

__all__ = ["ApplyOutcome", "DEFAULT_INTENT_LEASE", "Ledger", "Tx"]

#: how long a submitting process owns its intent row before reconcile may take it over
DEFAULT_INTENT_LEASE = 120.0
_SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM genwire_jobs"
_OPEN = f"rank < {TERMINAL_RANK} AND state <> 'uncertain'"
_EVENT = "INSERT INTO genwire_events (ref, state, source, at) VALUES (?, ?, ?, ?)"
#: ``apply``: the forward compare-and-set, and the snapshot of a repeated open state
_APPLY_FORWARD = ("UPDATE genwire_jobs SET state = ?, rank = ?, job = ?, cost = COALESCE(?, cost), updated_at = ?, "
                  "version = version + 1 WHERE provider = ? AND provider_id = ? AND rank < ?")
_APPLY_SNAPSHOT = ("UPDATE genwire_jobs SET job = ?, updated_at = ? "
                   "WHERE provider = ? AND provider_id = ? AND state = ?")
#: the sources of statuses this process polled itself (applied without waiting for the disk)
_POLLED = frozenset({"poll", "wait", "reconcile"})
R = TypeVar("R")


def _one(sql: str, params: Sequence[Any]) -> Op[Result]:
    """An op of one statement; its value is the statement's ``Result``."""
    return (yield sql, params)


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
        #: the group commit every write goes through (``transactions`` / ``writes`` count them)
        self._group = GroupCommit(self._run_batch)

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

    # -- durable writes ------------------------------------------------------------------------
    @abstractmethod
    def _run_batch(self, batch: list[Write[Any]]) -> None:
        """Run every write of ``batch`` in one transaction, each isolated from the others, and
        commit it once, synchronously if any write is durable; then set each write's outcome
        (``done`` only after the COMMIT returned). See ``_group``."""

    def _write(self, op: Op[R], *, durable: bool = True) -> R:
        """Run ``op`` in the next group commit; return once its transaction committed."""
        return self._group.commit(op, durable=durable)

    def _update_event(self, sql: str, params: Sequence[Any], state: LedgerState, source: str,
                      now: float) -> Op[list[tuple[Any, ...]]]:
        """``sql`` (an ``UPDATE ... RETURNING ref``), then the event of each row it changed; the
        rows. (PostgreSQL: one statement, see ``PostgresLedger``.)"""
        hit = yield sql, params
        for row in hit.rows:
            yield _EVENT, (row[0], state.value, source, now)
        return hit.rows

    # -- write-ahead submit -------------------------------------------------------------------
    def record_intent(self, request: GenerationRequest, *, provider: str, model: str, task: str | None,
                      idempotency_key: str) -> str:
        """Record a submit about to go on the wire; return its local reference.

        The row is leased to this ledger's owner for ``intent_lease`` seconds, so
        reconcile leaves an in-flight submit alone until its process has had time.
        """
        ref = uuid.uuid4().hex
        now = self._clock()
        # durable: the write-ahead record itself. Its request goes out only after this returns,
        # so a crash after the send always finds the row (and reconcile finds the job).
        self._write(_one(
            "INSERT INTO genwire_jobs (ref, provider, model, task, request, idempotency_key, state, rank, "
            "created_at, updated_at, lease_owner, lease_until, version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            (ref, provider, model, task, request.model_dump_json(), idempotency_key, LedgerState.SUBMITTING.value,
             RANK[LedgerState.SUBMITTING], now, now, self.owner, now + self.intent_lease)))
        return ref

    def mark_sent(self, ref: str) -> bool:
        """Record that the submit's first request to a provider without idempotency is about to
        go out. False when this ledger's owner no longer holds the entry (reconcile took it
        over): the caller must not send."""
        # durable: this is what keeps reconcile from sending a submit without idempotency twice
        return self._write(_one("UPDATE genwire_jobs SET sent_at = COALESCE(sent_at, ?) "
                                "WHERE ref = ? AND state = 'submitting' AND lease_owner = ?",
                                (self._clock(), ref, self.owner))).count == 1

    def retarget(self, ref: str, *, provider: str, model: str, task: str | None) -> bool:
        """A family submit moved on to another provider (the last one certainly created no job).
        False when this ledger's owner no longer holds the entry (nothing is changed)."""
        # durable: written ahead of the request to the next provider, like the intent
        return self._write(_one("UPDATE genwire_jobs SET provider = ?, model = ?, task = ?, updated_at = ?, "
                                "version = version + 1 WHERE ref = ? AND state = 'submitting' AND lease_owner = ?",
                                (provider, model, task, self._clock(), ref, self.owner))).count == 1

    def renew(self, ref: str, lease: float) -> bool:
        """Extend this ledger's owner's lease on ``ref`` to ``lease`` seconds from now. False when
        it no longer holds it (another worker took it over, or it was given back): the caller
        must stop touching the entry and record nothing."""
        # not waited for on disk: a renewal can only be lost with the machine (SQLite; its holder
        # dies with it) or the database server (PostgreSQL). Then the entry's lease looks older
        # than it is and another worker may take it over early; every write of the holder names
        # it in its compare-and-set, and the one that prevents a double send (``mark_sent``) is
        # durable, so the worst case is one job polled twice. Any later durable write makes it
        # durable too (SQLite's WAL and PostgreSQL's are flushed in order).
        return self._write(_one("UPDATE genwire_jobs SET lease_until = ? WHERE ref = ? AND lease_owner = ?",
                                (self._clock() + lease, ref, self.owner)), durable=False).count == 1

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
            # durable: the provider's id of a (possibly paid) job is never lost once the client
            # has been told about it
            hit = self._write(self._update_event(
                "UPDATE genwire_jobs SET provider = ?, model = ?, task = COALESCE(?, task), provider_id = ?, "
                "state = ?, rank = ?, job = ?, cost = COALESCE(?, cost), error = NULL, updated_at = ?, "
                "lease_owner = NULL, lease_until = NULL, version = version + 1 "
                "WHERE ref = ? AND rank < ? AND (provider_id IS NULL OR provider_id = ?) RETURNING ref",
                (job.provider, job.model, job.task, job.id, state.value, RANK[state], _job_json(job), cost, now,
                 ref, RANK[state], job.id), state, source, now))
            if hit:
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
        # durable (as every end of a submit): what an operator is asked to resolve
        return bool(self._write(self._update_event(
            "UPDATE genwire_jobs SET state = 'uncertain', rank = ?, error = ?, updated_at = ?, "
            "lease_owner = NULL, lease_until = NULL, version = version + 1 "
            "WHERE ref = ? AND rank < ? AND lease_owner = ? RETURNING ref",
            (RANK[LedgerState.UNCERTAIN], error, now, ref, RANK[LedgerState.UNCERTAIN], self.owner),
            LedgerState.UNCERTAIN, source, now)))

    def note_error(self, ref: str, error: str) -> bool:
        """Keep the last error of a submit that stays open (reconcile will resubmit it) and give
        the entry back. Only by its lease holder (False otherwise: nothing changed)."""
        return self._write(_one("UPDATE genwire_jobs SET error = ?, lease_owner = NULL, lease_until = NULL "
                                "WHERE ref = ? AND state = 'submitting' AND lease_owner = ?",
                                (error, ref, self.owner))).count == 1

    def _end(self, ref: str, state: LedgerState, error: str, source: str, *, held: bool) -> bool:
        """Close the entry; with ``held``, only if this ledger's owner holds its lease."""
        now = self._clock()
        owned = " AND lease_owner = ?" if held else ""
        return bool(self._write(self._update_event(
            "UPDATE genwire_jobs SET state = ?, rank = ?, error = ?, updated_at = ?, lease_owner = NULL, "
            f"lease_until = NULL, version = version + 1 WHERE ref = ? AND rank < ?{owned} RETURNING ref",
            (state.value, RANK[state], error, now, ref, RANK[state], *((self.owner,) if held else ())),
            state, source, now)))

    # -- applying what was seen afterwards ------------------------------------------------------
    def apply(self, job: Job, *, source: str = "poll", held: bool = False) -> ApplyOutcome:
        """Apply a status seen for a job (poll, wait, webhook), found by provider and id.

        Only forward: a repeat, an older state or anything after a terminal state is
        ``STALE`` and changes nothing but the snapshot of a still-open job. ``held``
        (reconcile): only while this ledger's owner holds the entry's lease (else ``STALE``).
        """
        state = state_of(job.status)
        cost = job.cost.credits if job.cost is not None else None
        # What this process polled (poll, wait, reconcile) is committed but not waited for on
        # disk: it is lost only with the machine (SQLite: a killed process loses nothing, the
        # WAL is in the OS's cache) or the database server, and then the entry is simply still
        # open at its last durable state, and reconcile asks the provider again and applies the
        # same answer. Any later durable write makes it durable too (WALs are flushed in order).
        # A webhook's or an operator's word is durable before it is acknowledged: a provider
        # answered 2xx does not deliver again.
        return self._write(self._apply_op(job, state, self._clock(), cost, source, held),
                           durable=source not in _POLLED)

    def _apply_op(self, job: Job, state: LedgerState, now: float, cost: float | None, source: str,
                  held: bool) -> Op[ApplyOutcome]:
        rank = RANK[state]
        snapshot = _job_json(job)
        owned, owner = (" AND lease_owner = ?", (self.owner,)) if held else ("", ())
        hit = yield from self._update_event(
            f"{_APPLY_FORWARD}{owned} RETURNING ref",
            (state.value, rank, snapshot, cost, now, job.provider, job.id, rank, *owner), state, source, now)
        if hit:
            return ApplyOutcome.APPLIED
        if rank < TERMINAL_RANK:  # same open state again: keep the newer snapshot (progress)
            seen = yield _APPLY_SNAPSHOT + owned, (snapshot, now, job.provider, job.id, state.value, *owner)
            if seen.count:
                return ApplyOutcome.STALE
        found = yield "SELECT ref FROM genwire_jobs WHERE provider = ? AND provider_id = ?", (job.provider, job.id)
        return ApplyOutcome.STALE if found.rows else ApplyOutcome.UNKNOWN

    # -- operators -------------------------------------------------------------------------------
    def attach(self, ref: str, provider_id: str) -> LedgerEntry:
        """Resolve an uncertain (or still submitting) entry: the operator found the provider's job.
        Reconcile then polls it like any other."""
        now = self._clock()
        self._write(self._update_event(
            "UPDATE genwire_jobs SET provider_id = ?, state = 'queued', rank = ?, error = NULL, "
            "updated_at = ?, lease_owner = NULL, lease_until = NULL, version = version + 1 "
            "WHERE ref = ? AND rank < ? RETURNING ref",
            # updated_at 0: due for the next reconcile at once
            (provider_id, RANK[LedgerState.QUEUED], 0.0, ref, RANK[LedgerState.QUEUED]),
            LedgerState.QUEUED, "operator", now))
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
        # one statement (one round trip on PostgreSQL, where the rows are locked SKIP LOCKED);
        # durable: a claim is what keeps two reconcilers off one entry
        found = self._write(_one(
            "UPDATE genwire_jobs SET lease_owner = ?, lease_until = ? WHERE ref IN (SELECT ref FROM genwire_jobs "
            f"WHERE {_OPEN} AND updated_at < ? AND (lease_until IS NULL OR lease_until < ?) "
            f"ORDER BY updated_at LIMIT ?{self._claim_lock}) RETURNING {', '.join(COLUMNS)}",
            (self.owner, now + lease, updated_before, now, limit)))
        return sorted((_entry(row) for row in found.rows), key=lambda e: (e.updated_at, e.ref))

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
        # not waited for on disk: lost only with the machine or the database server, and then
        # the entry stays leased until its lease runs out and is looked at again: one more poll
        return self._write(_one("UPDATE genwire_jobs SET lease_owner = NULL, lease_until = NULL, updated_at = ? "
                                "WHERE ref = ? AND lease_owner = ?", (self._clock(), ref, self.owner)),
                           durable=False).count == 1

    def give_back(self, refs: Sequence[str]) -> None:
        """Give back claimed entries untouched (not counted as looked at): another worker may
        take them at once."""
        for at in range(0, len(refs), 500):
            chunk = list(refs[at:at + 500])
            self._write(_one("UPDATE genwire_jobs SET lease_owner = NULL, lease_until = NULL "
                             f"WHERE ref IN ({', '.join('?' * len(chunk))}) AND lease_owner = ?",
                             (*chunk, self.owner)), durable=False)

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
