"""Group commit: writers that arrive together share one transaction and one durable commit.

A write is a small generator (an ``Op``): it yields each statement, ``(sql, params)``, and is
sent back its ``Result``; what it returns is the write's value. A writer hands its op to
``GroupCommit.commit`` and blocks until the transaction holding it has committed; the first
writer to find no commit in progress leads: it takes every op queued so far, runs them all in
one transaction (the backend's ``run_batch``) and wakes the others. While its commit (an
fsync, a round trip) is in flight, the next writers queue up and become the next batch, so a
busy ledger commits in batches as wide as its concurrency and an idle one commits each write
at once, never waiting for company (no timer, nothing to tune).

Nothing is acknowledged early: ``commit`` returns only once the batch's COMMIT has returned,
and for a ``durable`` write that COMMIT is synchronous (fsync'd on SQLite ``synchronous=FULL``,
flushed on PostgreSQL with ``synchronous_commit`` on). A batch of only non-durable writes
commits without waiting for the disk (see ``Ledger``: which writes may, and why).

Each op runs isolated from the others in its batch: the backend runs it under a savepoint (or,
on PostgreSQL, retries the batch one op per transaction when any op fails), so one op's error
(a unique-key violation) goes to its own writer only.

The asyncio side (``acommit``) queues the same way and awaits a future; a batch it starts runs
in a worker thread, off the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Sequence
from typing import Any, Generic, TypeVar

__all__ = ["GroupCommit", "Op", "Result", "Stmt", "Write", "drive_op"]

R = TypeVar("R")

#: one statement: SQL with ``?`` placeholders and its parameters
Stmt = tuple[str, Sequence[Any]]


class Result:
    """What a statement gave: its rows (RETURNING or SELECT; empty otherwise) and row count."""

    __slots__ = ("count", "rows")

    def __init__(self, rows: list[tuple[Any, ...]], count: int) -> None:
        self.rows = rows
        self.count = count


#: a write: yields statements, is sent their results, returns its value
Op = Generator[Stmt, Result, R]


class Write(Generic[R]):
    """One queued op and, once its batch committed (or failed), its value or error."""

    __slots__ = ("done", "durable", "error", "op", "value", "wake")

    def __init__(self, op: Op[R], durable: bool) -> None:
        self.op = op
        self.durable = durable
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None
        #: held until its writer is to wake: its batch is done, or it is to lead the next one
        self.wake = threading.Lock()
        self.wake.acquire()

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[no-any-return]


def drive_op(op: Op[R], execute: Callable[[str, Sequence[Any]], Result]) -> R:
    """Run ``op`` to its end, executing each statement it yields with ``execute``."""
    try:
        sql, params = next(op)
        while True:
            sql, params = op.send(execute(sql, params))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


class GroupCommit:
    """The queue and the leader hand-off (one per ledger, shared by its threads). Each writer
    waits on a lock of its own, woken by name (never all at once): when its batch is done, or,
    the first of those queued meanwhile, to lead the next batch."""

    def __init__(self, run_batch: Callable[[list[Write[Any]]], None]) -> None:
        #: runs the batch in one transaction and sets ``done`` and ``value``/``error`` on each write
        self._run_batch = run_batch
        self._lock = threading.Lock()
        self._queue: list[Write[Any]] = []
        self._leading = False
        #: transactions committed and writes they held (for tests and operators; not a lock)
        self.transactions = 0
        self.writes = 0

    def pending(self) -> int:
        """Writes queued behind the commit in progress."""
        with self._lock:
            return len(self._queue)

    def commit(self, op: Op[R], *, durable: bool = True) -> R:
        """Run ``op`` in the next batch; return its value once that batch has committed."""
        write: Write[R] = Write(op, durable)
        with self._lock:
            self._queue.append(write)
            lead = not self._leading
            self._leading = True
        if not lead:
            write.wake.acquire()  # done, or the next leader
            if write.done:
                return write.outcome()
        with self._lock:
            batch, self._queue = self._queue, []
        try:
            self._run(batch)
        finally:
            for other in batch:
                if other is not write:
                    other.wake.release()
            with self._lock:
                following = self._queue[0] if self._queue else None
                self._leading = following is not None
            if following is not None:
                following.wake.release()  # not done: it leads the writes queued meanwhile
        return write.outcome()

    def _run(self, batch: list[Write[Any]]) -> None:
        try:
            self._run_batch(batch)
        except BaseException as exc:  # the commit itself failed: every write in the batch did
            for write in batch:
                if not write.done:
                    write.error, write.done = exc, True
            if not isinstance(exc, Exception):
                raise
        else:
            self.transactions += 1
            self.writes += len(batch)
        finally:
            for write in batch:
                if not write.done:  # a backend bug: never leave a writer waiting forever
                    write.error = RuntimeError("the ledger's batch ended without this write's outcome")
                    write.done = True
                write.op.close()

    async def acommit(self, op: Op[R], *, durable: bool = True) -> R:
        """``commit`` for a coroutine: the waiting (and any batch it leads) happens in a worker
        thread, so the event loop never blocks on the database."""
        import asyncio

        return await asyncio.to_thread(self.commit, op, durable=durable)
