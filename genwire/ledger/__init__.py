"""A durable job ledger in the caller's own database: no accepted job lost, statuses applied once.

    from genwire.ledger import open_ledger
    ledger = open_ledger("sqlite:///jobs.db")          # or "postgresql://user@host/db"
    with Client(ledger=ledger) as client:
        job = client.submit(request)                   # intent written before the wire, id after
    ledger.reconcile(client, older_than=60)            # from cron, on any number of hosts

The schema is created and migrated on open (``genwire_schema`` holds its version).
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigurationError
from ._entries import TERMINAL_STATES, LedgerEntry, LedgerEvent, LedgerState
from ._ledger import ApplyOutcome, Ledger
from ._reconcile import Change, Leased, ReconcileReport, reconcile
from ._schema import SCHEMA_VERSION

__all__ = [
    "ApplyOutcome",
    "Change",
    "Leased",
    "Ledger",
    "LedgerEntry",
    "LedgerEvent",
    "LedgerState",
    "ReconcileReport",
    "SCHEMA_VERSION",
    "TERMINAL_STATES",
    "open_ledger",
    "reconcile",
]


def open_ledger(url: str, **options: Any) -> Ledger:
    """Open (creating or migrating its tables) the ledger at ``url``:
    ``sqlite:///relative/jobs.db``, ``sqlite:////absolute/jobs.db`` or ``postgresql://...``.

    ``options`` go to the backend: ``intent_lease=`` seconds (both; default 120): how long a
    submit this ledger records is left to the process making it before reconcile may take it
    over (a process killed mid-submit is picked up after that; ``ReconcileReport.leased`` names
    the entries still held and until when); ``max_size=`` for the PostgreSQL pool;
    ``busy_timeout=`` for SQLite.
    """
    scheme = url.partition(":")[0].lower() if isinstance(url, str) else ""
    if scheme == "sqlite":
        from .sqlite import SQLiteLedger

        return SQLiteLedger(url, **options)
    if scheme in ("postgresql", "postgres"):
        from .postgres import PostgresLedger

        return PostgresLedger(url, **options)
    raise ConfigurationError(f"a ledger URL starts with sqlite:/// or postgresql://, not {scheme or '?'}:",
                             code="bad_ledger_url")
