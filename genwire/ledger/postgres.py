"""The PostgreSQL ledger: for gateways on many hosts (``pip install 'genwire[postgres]'``).

psycopg 3 with its connection pool; each write is one READ COMMITTED transaction
whose compare-and-set ``UPDATE`` PostgreSQL re-checks under the row lock. Reconcile
claims rows with ``FOR UPDATE SKIP LOCKED``, so workers on many hosts each take
different jobs. Migrations run under an advisory lock.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConfigurationError
from ._ledger import DEFAULT_INTENT_LEASE, Ledger, Tx

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
        self._integrity_errors = (psycopg.IntegrityError,)
        self._pool = psycopg_pool.ConnectionPool(url, min_size=min_size, max_size=max_size, open=False,
                                                 kwargs={"autocommit": False}, name="genwire-ledger")
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
        with self._pool.connection() as conn:  # commits on success, rolls back on error
            yield _PgTx(conn)

    def _lock_schema(self, tx: Tx) -> None:
        tx.rows("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))

    def close(self) -> None:
        self._pool.close()
