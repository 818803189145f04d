"""The PostgreSQL ledger: for gateways on many hosts (``pip install 'genwire[postgres]'``).

psycopg 3. Writes go through the group commit (``_group``) on one connection of their own:
each batch is one READ COMMITTED transaction sent in one pipeline (``BEGIN``, every write's
statement, ``COMMIT``: one round trip for the batch), each write a single statement (its
event in a data-modifying CTE) whose compare-and-set ``UPDATE`` PostgreSQL re-checks under
the row lock; the connection lives as long as the ledger, so psycopg prepares its statements.
Should any statement fail (a unique-key violation), the batch is rolled back and its writes
run again one per transaction, so the error reaches its own writer only. A batch of only
writes that need not wait for the disk (``Ledger``) goes on a second connection whose
session has ``synchronous_commit`` off; the server's setting holds for every other (a later
synchronous commit flushes the WAL up to itself, so it makes those durable too). Reads are single
autocommit statements on a pooled connection. Reconcile claims rows with
``FOR UPDATE SKIP LOCKED``, so workers on many hosts each take different jobs. Migrations
run under an advisory lock.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConfigurationError
from ._entries import RANK, TERMINAL_RANK, ApplyOutcome, LedgerState
from ._group import Op, Result, Stmt, Write
from ._ledger import _APPLY_FORWARD, _APPLY_SNAPSHOT, DEFAULT_INTENT_LEASE, Ledger, Tx, _job_json

__all__ = ["PostgresLedger"]

_MIGRATION_LOCK = 0x67656E77  # "genw": any constant shared by every genwire process
_SQL_CACHE: dict[str, str] = {}


def _pg(sql: str) -> str:
    converted = _SQL_CACHE.get(sql)
    if converted is None:
        converted = _SQL_CACHE[sql] = sql.replace("?", "%s")
    return converted


def _masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class _PgTx:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self._conn.execute(_pg(sql), tuple(params)).rowcount)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self._conn.execute(_pg(sql), tuple(params))
        return list(cur.fetchall()) if cur.description is not None else []


def _result(cur: Any) -> Result:
    return Result(cur.fetchall() if cur.description is not None else [], int(cur.rowcount))


def _import_psycopg() -> tuple[Any, Any]:
    try:
        return importlib.import_module("psycopg"), importlib.import_module("psycopg_pool")
    except ImportError:
        raise ConfigurationError("a PostgreSQL ledger needs psycopg 3 and psycopg_pool: "
                                 "pip install 'genwire[postgres]'", code="missing_dependency") from None


class PostgresLedger(Ledger):
    """A ledger in a PostgreSQL database. ``open_ledger("postgresql://user@host/db")``."""

    _claim_lock = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, *, intent_lease: float = DEFAULT_INTENT_LEASE, min_size: int = 1,
                 max_size: int = 10, connect_timeout: float = 10.0,
                 clock: Callable[[], float] | None = None) -> None:
        super().__init__(url, intent_lease=intent_lease, **({"clock": clock} if clock else {}))
        psycopg, psycopg_pool = _import_psycopg()
        self._psycopg = psycopg
        self._integrity_errors = (psycopg.IntegrityError,)
        self._connect_timeout = connect_timeout
        #: the group commit's connections (durable, lazy): only a batch's leader uses them
        self._writers: dict[bool, Any] = {}
        self._writer_lock = threading.Lock()
        self._pool = psycopg_pool.ConnectionPool(url, min_size=min_size, max_size=max_size, open=False,
                                                 kwargs={"autocommit": True}, name="genwire-ledger")
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except psycopg_pool.PoolTimeout:
            self._pool.close()
            raise ConfigurationError(f"cannot connect to the ledger database {_masked(url)}",
                                     code="ledger_unreachable") from None
        self._migrate()

    def _display_url(self) -> str:
        return _masked(self.url)

    @contextmanager
    def _transaction(self, write: bool = True) -> Iterator[Tx]:
        with self._pool.connection() as conn:
            if not write:  # every read is one statement: autocommit, one round trip
                yield _PgTx(conn)
                return
            with conn.transaction():  # commits on success, rolls back on error
                yield _PgTx(conn)

    # -- group commit ----------------------------------------------------------------------------
    def _update_event(self, sql: str, params: Sequence[Any], state: LedgerState, source: str,
                      now: float) -> Op[list[tuple[Any, ...]]]:
        hit = yield (f"WITH hit AS ({sql}), ev AS (INSERT INTO genwire_events (ref, state, source, at) "
                     "SELECT ref, ?, ?, ? FROM hit) SELECT ref FROM hit", (*params, state.value, source, now))
        return hit.rows

    def _apply_op(self, job: Any, state: LedgerState, now: float, cost: float | None, source: str,
                  held: bool) -> Op[ApplyOutcome]:
        """``Ledger._apply_op`` as one statement. The two UPDATEs cannot both match one row (the
        first needs a lower rank than the state the second needs) and both see the statement's
        snapshot, so this is the same three steps, in one round trip."""
        rank = RANK[state]
        snapshot = _job_json(job)
        owned, owner = (" AND lease_owner = ?", (self.owner,)) if held else ("", ())
        seen, seen_params = ((f"{_APPLY_SNAPSHOT}{owned} RETURNING ref",
                              (snapshot, now, job.provider, job.id, state.value, *owner)) if rank < TERMINAL_RANK
                             else ("SELECT ref FROM genwire_jobs WHERE false", ()))
        found = yield (
            f"WITH hit AS ({_APPLY_FORWARD}{owned} RETURNING ref), "
            "ev AS (INSERT INTO genwire_events (ref, state, source, at) SELECT ref, ?, ?, ? FROM hit), "
            f"seen AS ({seen}) SELECT (SELECT count(*) FROM hit), (SELECT count(*) FROM seen), "
            "EXISTS (SELECT 1 FROM genwire_jobs WHERE provider = ? AND provider_id = ?)",
            (state.value, rank, snapshot, cost, now, job.provider, job.id, rank, *owner,
             state.value, source, now, *seen_params, job.provider, job.id))
        hits, repeats, known = found.rows[0]
        if hits:
            return ApplyOutcome.APPLIED
        return ApplyOutcome.STALE if repeats or known else ApplyOutcome.UNKNOWN

    def _writer_connection(self, durable: bool) -> Any:
        """The connection for a durable batch (the server's ``synchronous_commit``) or for one of
        only writes that need not wait for the disk (``synchronous_commit`` off for its session:
        one statement is then one round trip, no ``SET LOCAL`` in a transaction around it)."""
        conn = self._writers.get(durable)
        if conn is None or conn.closed or conn.broken:
            conn = self._writers[durable] = self._psycopg.connect(
                self.url, autocommit=True, connect_timeout=max(1, int(self._connect_timeout)))
            if not durable:
                conn.execute("SET synchronous_commit TO OFF")
        return conn

    def _run_batch(self, batch: list[Write[Any]]) -> None:
        with self._writer_lock:
            conn = self._writer_connection(any(w.durable for w in batch))
            statements = [next(w.op) for w in batch]
            try:
                self._pipelined(conn, batch, statements)
            except self._psycopg.Error:
                if conn.broken:
                    raise
                if conn.info.transaction_status != 0:  # not idle: the failed transaction is still open
                    conn.execute("ROLLBACK")
                if len(batch) == 1:
                    raise
                for write, statement in zip(batch, statements, strict=True):  # each on its own: an error
                    try:                                                        # goes to its own writer
                        self._pipelined(conn, [write], [statement])
                    except self._psycopg.Error as exc:
                        if conn.broken:
                            raise
                        if conn.info.transaction_status != 0:
                            conn.execute("ROLLBACK")
                        write.error, write.done = exc, True

    def _pipelined(self, conn: Any, batch: list[Write[Any]], statements: list[Stmt]) -> None:
        """``batch`` in one transaction and one round trip; a write's op yields one statement."""
        results: list[Result | None] = [None] * len(batch)
        if len(statements) == 1:  # one statement needs no BEGIN/COMMIT: autocommit makes it atomic
            sql, params = statements[0]
            results[0] = _result(conn.execute(_pg(sql), tuple(params)))
        else:
            # the writes of a batch are concurrent, so any order is theirs: those of one SQL text go
            # as one executemany (prepared once, far less per statement than one execute each)
            groups: dict[str, list[int]] = {}
            for at, (sql, _) in enumerate(statements):
                groups.setdefault(sql, []).append(at)
            with conn.pipeline():
                conn.execute("BEGIN")
                sent = []
                for sql, ats in groups.items():
                    cur = conn.cursor()
                    cur.executemany(_pg(sql), [tuple(statements[at][1]) for at in ats], returning=True)
                    sent.append((cur, ats))
                conn.execute("COMMIT")
            for cur, ats in sent:
                for n, at in enumerate(ats):
                    if n:
                        cur.nextset()
                    results[at] = _result(cur)
        for write, result in zip(batch, results, strict=True):
            assert result is not None
            try:
                write.op.send(result)
            except StopIteration as stop:
                write.value, write.done = stop.value, True
            else:  # every PostgreSQL write is one statement; a second one would run after the COMMIT
                write.error, write.done = RuntimeError("a PostgreSQL ledger write yielded a second statement"), True

    def _lock_schema(self, tx: Tx) -> None:
        tx.rows("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))

    def close(self) -> None:
        with self._writer_lock:
            for conn in self._writers.values():
                conn.close()
            self._writers.clear()
        self._pool.close()
