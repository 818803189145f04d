"""The SQLite ledger: the embedded default, safe for several processes on one host.

WAL mode (readers never block the writer); every batch of writes (the group commit,
``_group``) is one ``BEGIN IMMEDIATE`` transaction, each write under its own savepoint, so
writers queue on the database lock (``busy_timeout``) instead of failing half way. One
connection per thread. ``synchronous`` is ``FULL`` by default (a committed write survives
power loss: the WAL is fsync'd at each commit, one fsync per batch); ``?synchronous=normal``
trades that for speed and still survives a killed process. A batch of only writes that need
not wait for the disk (``Ledger``) commits as ``NORMAL``: survives a killed process, and the
next ``FULL`` commit's fsync of the WAL covers it too.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..errors import ConfigurationError
from ._group import Result, Write, drive_op
from ._ledger import DEFAULT_INTENT_LEASE, Ledger, Tx

__all__ = ["SQLiteLedger"]

_SYNCHRONOUS = ("full", "normal", "extra")


def _setup(conn: sqlite3.Connection, synchronous: str, busy_timeout: float) -> None:
    """Per-connection settings. Switching to (or confirming) WAL can report "database is locked"
    without consulting the busy handler while another process opens, converts or recovers the
    same file, so that step is retried until ``busy_timeout`` runs out."""
    deadline = time.monotonic() + busy_timeout
    pause = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
    conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
    conn.execute("PRAGMA foreign_keys=ON")


class _SQLiteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, tuple(params)).rowcount

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._conn.execute(sql, tuple(params)).fetchall())


def _path_of(url: str) -> tuple[Path, dict[str, str]]:
    """``sqlite:///jobs.db`` (relative) or ``sqlite:////var/lib/gw/jobs.db`` (absolute)."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or parts.netloc or not parts.path.startswith("/") or len(parts.path) < 2:
        raise ConfigurationError(f"a SQLite ledger URL looks like sqlite:///path/jobs.db, got {url!r}",
                                 code="bad_ledger_url")
    raw = parts.path[1:]
    if raw == ":memory:":
        raise ConfigurationError("an in-memory SQLite ledger would not be durable; name a file",
                                 code="bad_ledger_url")
    return Path(raw), dict(parse_qsl(parts.query))


class SQLiteLedger(Ledger):
    """A ledger in one SQLite file. ``open_ledger("sqlite:///jobs.db")``."""

    _integrity_errors = (sqlite3.IntegrityError,)

    def __init__(self, url: str, *, intent_lease: float = DEFAULT_INTENT_LEASE, busy_timeout: float = 60.0,
                 clock: Callable[[], float] | None = None) -> None:
        super().__init__(url, intent_lease=intent_lease, **({"clock": clock} if clock else {}))
        self.path, options = _path_of(url)
        unknown = set(options) - {"synchronous"}
        if unknown:
            raise ConfigurationError(f"unknown SQLite ledger option(s): {', '.join(sorted(unknown))}",
                                     code="bad_ledger_url")
        self._synchronous = options.get("synchronous", "full").lower()
        if self._synchronous not in _SYNCHRONOUS:
            raise ConfigurationError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}", code="bad_ledger_url")
        if not self.path.parent.is_dir():
            raise ConfigurationError(f"the directory of the ledger {str(self.path)!r} does not exist",
                                     code="bad_ledger_url")
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._migrate()

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise ConfigurationError("the ledger is closed", code="closed")
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None,
                               check_same_thread=False)
        try:
            _setup(conn, self._synchronous, self._busy_timeout)
        except BaseException:
            conn.close()
            raise
        self._local.conn = conn
        self._local.level = self._synchronous
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def _transaction(self, write: bool = True) -> Iterator[Tx]:
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield _SQLiteTx(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _run_batch(self, batch: list[Write[Any]]) -> None:
        conn = self._connect()
        level = self._synchronous if any(w.durable for w in batch) else "normal"
        if level != getattr(self._local, "level", self._synchronous):
            conn.execute(f"PRAGMA synchronous={level.upper()}")
        self._local.level = level

        def execute(sql: str, params: Sequence[Any]) -> Result:
            cur = conn.execute(sql, tuple(params))
            return Result(cur.fetchall() if cur.description is not None else [], cur.rowcount)

        outcomes: list[tuple[Any, BaseException | None]] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            if len(batch) == 1:  # alone: its error rolls the transaction back
                outcomes.append((drive_op(batch[0].op, execute), None))
            else:
                for write in batch:
                    conn.execute("SAVEPOINT gw")
                    try:
                        outcomes.append((drive_op(write.op, execute), None))
                    except Exception as exc:  # this write's error is its own: undo it alone
                        conn.execute("ROLLBACK TO gw")
                        outcomes.append((None, exc))
                    conn.execute("RELEASE gw")
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if len(batch) == 1 and isinstance(exc, Exception):
                batch[0].error, batch[0].done = exc, True
                return
            raise
        conn.execute("COMMIT")
        for write, (value, error) in zip(batch, outcomes, strict=True):
            write.value, write.error, write.done = value, error, True

    def _thread_done(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            return
        self._local.conn = None
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
